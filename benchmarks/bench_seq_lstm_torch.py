"""LSTM training throughput: models.LSTM's Cython kernels against PyTorch's fused CPU
torch.nn.LSTM with autograd, one thread each, same run.

Both train the same model on the same batches: an LSTM, a linear output layer, softmax
cross-entropy summed over time steps and averaged over the batch, and a plain SGD update
(ours: the whole-model kernel's ``run_steps`` over a block of batches, which is what
``fit`` runs; torch: forward, loss, ``backward()``, ``optimizer.step()``). PyTorch runs in
float32 (its default, and its fastest path) and in float64 (the precision of our
kernels); the targets are stated against float32. Each contender is timed alternately,
best of ``--repeats``. Prints one JSON line.

Usage: python benchmarks/bench_seq_lstm_torch.py [--repeats 5]
Needs torch (benchmark only): pip install torch==2.13.0
"""
from __future__ import annotations

import argparse
import json

import numpy as np

import models
from models._kernels import simd_level
from models import LSTM, tasks

from _seq_timing import best_of, random_batches, training_run

CONFIGS = [  # (name, batch, hidden, T, vocabulary, target speed-up against torch float32)
    ("batch1_hidden16_T8", 1, 16, 8, 8, 10.0),
    ("batch10_hidden64_T20", 10, 64, 20, 16, 1.0),
]


def ours(batch, hidden, T, vocab, n_batches, seed=0):
    """A fitted-shape LSTM kernel bound to a block of random batches; returns run()."""
    model = LSTM(hidden_size=hidden, optimizer="sgd", learning_rate=0.05, batch_size=batch, n_steps=0, seed=seed)
    task = tasks.Copy(vocab_size=vocab)
    model._setup(task)
    inputs, targets, mask = random_batches(np.random.default_rng(seed), n_batches, T, batch, vocab)
    run, _ = training_run(model, (inputs, targets, mask), vocab)
    return run, (inputs, targets)


def pytorch(batch, hidden, T, vocab, data, dtype):
    import torch

    inputs, targets = data
    x = torch.tensor(inputs, dtype=dtype)                                   # (n, T, B, V+1)
    y = torch.tensor(targets.reshape(len(targets), -1))                     # (n, T*B)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(vocab + 1, hidden).to(dtype)
    head = torch.nn.Linear(hidden, vocab).to(dtype)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.05)

    def run():
        for k in range(len(x)):
            opt.zero_grad()
            out, _ = lstm(x[k])                                             # (T, B, H)
            logits = head(out).reshape(T * batch, vocab)
            loss = torch.nn.functional.cross_entropy(logits, y[k], reduction="sum") / batch
            loss.backward()
            opt.step()
        return len(x) * batch

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    results = {}
    for name, batch, hidden, T, vocab, target in CONFIGS:
        n_batches = max(20, 4000 // (batch * T))
        run_ours, data = ours(batch, hidden, T, vocab, n_batches)
        contenders = {"ours_float64": run_ours,
                      "torch_float32": pytorch(batch, hidden, T, vocab, data, torch.float32),
                      "torch_float64": pytorch(batch, hidden, T, vocab, data, torch.float64)}
        for run in contenders.values():
            run()                                                           # warm up
        speed = best_of(contenders, args.repeats)
        results[name] = {
            "batch": batch, "hidden": hidden, "T": T, "vocabulary": vocab,
            **{f"{k}_sequences_per_s": round(v["wall"]) for k, v in speed.items()},
            "speedup_vs_torch_float32": round(speed["ours_float64"]["wall"] / speed["torch_float32"]["wall"], 2),
            "speedup_vs_torch_float64": round(speed["ours_float64"]["wall"] / speed["torch_float64"]["wall"], 2),
            "speedup_vs_torch_float32_cpu_time": round(
                speed["ours_float64"]["cpu"] / speed["torch_float32"]["cpu"], 2),
            "target_vs_float32": target,
        }
        results[name]["target_met"] = results[name]["speedup_vs_torch_float32"] >= target
    print(json.dumps({"benchmark": "seq_lstm_vs_torch", "torch": torch.__version__, "threads": 1,
                      "simd": simd_level(),
                      "results": results}))


if __name__ == "__main__":
    main()
