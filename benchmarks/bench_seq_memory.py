"""Training throughput of the memory-augmented LSTM (MemoryRNN with a neural stack):
the fused Cython kernel against (a) the same model written with PyTorch ops and autograd
and (b) our numpy reference backend; one thread each, same run.

Against the numpy reference the comparison is made at three shapes: that of the torch
comparison, the one the training recipe spends its time in (batch 16, memory width 32,
source length 36, the middle of 8-64, so T = 73), and one sequence at a time (batch 1,
T = 73). The reference is vectorised over the batch: from batch 10 up both backends spend
most of their time in the same BLAS products of the controller, and the gap is the
reference's per-step Python overhead (about 5x); with one sequence that overhead is all
there is.

The model (issue 5's comparison shape): T = 20 steps, batch 10, one-hot inputs over 17
symbols embedded into 32, an LSTM controller of 64 units reading ``[embedding, r_{t-1}]``,
a neural stack of width 16 (push and pop sigmoids, values tanh, the paper's equations
1-3), a softmax output over 16 symbols; loss summed over steps and averaged over the
batch; one training step = forward, backward, gradient clipping to norm 1, Adam.

PyTorch side: ``torch.nn.LSTMCell`` (its own cell) with our weights (gate blocks
permuted), the stack written with torch ops as in ``bench_memory.py`` (running sums
by ``cumsum``, ``relu``/``minimum``), ``loss.backward()``, ``clip_grad_norm_``,
``torch.optim.Adam``. Before timing, the float64 version is checked to compute our loss
and our gradient on the first batch (so the two do the same work). PyTorch runs in
float32 (its default and fastest) and float64 (our precision); the 10x target is stated
against float32. Ours: the kernel's ``run_steps`` over a block of batches, which is what
``fit`` runs. Each contender is timed alternately, best of ``--repeats``.

Usage: python benchmarks/bench_seq_memory.py [--repeats 5] [--no-torch]
Needs torch for the PyTorch side (benchmark only): pip install torch==2.13.0
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

import models
from models import MemoryRNN, tasks

from _seq_timing import best_of, random_batches, training_run

T, BATCH, HIDDEN, WIDTH, EMBEDDING, VOCAB = 20, 10, 64, 16, 32, 16
TARGET_VS_TORCH, TARGET_VS_NUMPY = 10.0, 20.0


#: More shapes for the numpy comparison: the recipe's training batches (batch 16, width
#: 32, source length 36, so T = 73), and one sequence at a time (batch 1).
NUMPY_SHAPES = {"training_batch16_T73": {"T": 73, "batch": 16, "width": 32, "batches": 8},
                "one_sequence_T73": {"T": 73, "batch": 1, "width": 32, "batches": 24}}


def make_data(n_batches, seed=0, steps=T, batch=BATCH):
    return random_batches(np.random.default_rng(seed), n_batches, steps, batch, VOCAB)


def ours(backend, data, seed=0, width=WIDTH):
    """(run, model, kernel): ``run()`` trains one step per bound batch and returns the sequences."""
    batch = data[0].shape[2]
    model = MemoryRNN(memory="stack", hidden_size=HIDDEN, memory_width=width, embedding_size=EMBEDDING,
                      batch_size=batch, stop_gradient=False, backend=backend, seed=seed)
    model._setup(tasks.Copy(vocab_size=VOCAB))
    run, kernel = training_run(model, data, VOCAB)
    return run, model, kernel


def torch_model(params, dtype):
    """The same network in torch, initialised with our parameters (a dict of arrays)."""
    import torch

    H = HIDDEN
    t = {k: torch.tensor(v, dtype=dtype) for k, v in params.items()}
    perm = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    cell = torch.nn.LSTMCell(EMBEDDING + WIDTH, H).to(dtype)                 # gates [i, f, g, o]
    with torch.no_grad():
        cell.weight_ih.copy_(t["W_x"][:, perm].T)
        cell.weight_hh.copy_(t["W_h"][:, perm].T)
        cell.bias_ih.copy_(t["b"][perm])
        cell.bias_hh.zero_()
    leaves = {"E": t["E"], "W_mem": t["W_mem"], "b_mem": t["b_mem"], "W_hy": t["W_hy"], "b_y": t["b_y"]}
    for v in leaves.values():
        v.requires_grad_(True)
    return cell, leaves


def torch_loss(cell, leaves, x, y):
    """Forward of one batch: x (T, B, V+1), y (T*B,) -> loss (sum over steps / B)."""
    import torch

    def before(s):                      # running sum of the cells below (exclusive), along dim 1
        return torch.cumsum(s, 1) - s

    B = x.shape[1]
    emb = x @ leaves["E"]                                                   # (T, B, D)
    h = torch.zeros(B, HIDDEN, dtype=x.dtype)
    c = torch.zeros(B, HIDDEN, dtype=x.dtype)
    read = torch.zeros(B, WIDTH, dtype=x.dtype)
    s = torch.zeros(B, 0, dtype=x.dtype)                                    # strengths, oldest first
    values = []
    outputs = []
    for t in range(x.shape[0]):
        h, c = cell(torch.cat([emb[t], read], 1), (h, c))
        m = h @ leaves["W_mem"] + leaves["b_mem"]
        push, pop, v = torch.sigmoid(m[:, :1]), torch.sigmoid(m[:, 1:2]), torch.tanh(m[:, 2:])
        if t > 0:                                                           # eq 2: pop from the top
            top_first = s.flip(1)
            s = torch.relu(top_first - torch.relu(pop - before(top_first))).flip(1)
        s = torch.cat([s, push], 1)
        values.append(v)
        top_first = s.flip(1)                                               # eq 3: read from the top
        w = torch.minimum(top_first, torch.relu(1.0 - before(top_first))).flip(1)
        read = torch.einsum("bi,biw->bw", w, torch.stack(values, 1))
        outputs.append(h)
    logits = torch.stack(outputs) @ leaves["W_hy"] + leaves["b_y"]          # (T, B, O)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y, reduction="sum") / B


def pytorch(params, data, dtype):
    import torch

    inputs, targets, _ = data
    x = torch.tensor(inputs, dtype=dtype)
    y = torch.tensor(targets.reshape(len(targets), -1))
    cell, leaves = torch_model(params, dtype)
    weights = list(cell.parameters()) + list(leaves.values())
    opt = torch.optim.Adam(weights, lr=3e-3)

    def run():
        for k in range(len(x)):
            opt.zero_grad()
            loss = torch_loss(cell, leaves, x[k], y[k])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(weights, 1.0)
            opt.step()
        return len(x) * BATCH

    return run


def check_equivalence(model, kernel, data) -> float:
    """Max |difference| between our loss and gradient of batch 0 and torch float64's."""
    import torch

    kernel.loss_and_grad(0)
    ours_loss = kernel.loss_and_grad(0)
    grads = model.params_.grads
    cell, leaves = torch_model(model.params_.values, torch.float64)
    inputs, targets, _ = data
    loss = torch_loss(cell, leaves, torch.tensor(inputs[0]), torch.tensor(targets[0].reshape(-1)))
    loss.backward()
    H = HIDDEN
    perm = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    inverse = torch.argsort(perm)
    theirs = {"E": leaves["E"].grad, "W_mem": leaves["W_mem"].grad, "b_mem": leaves["b_mem"].grad,
              "W_hy": leaves["W_hy"].grad, "b_y": leaves["b_y"].grad,
              "W_x": cell.weight_ih.grad.T[:, inverse], "W_h": cell.weight_hh.grad.T[:, inverse],
              "b": cell.bias_ih.grad[inverse]}
    diff = abs(float(loss.detach()) - ours_loss)
    for name, g in theirs.items():
        diff = max(diff, float(np.abs(g.numpy() - grads[name]).max()))
    return diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="Skip the PyTorch side.")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    n_batches = 40
    data = make_data(n_batches)
    run_cython, model, kernel = ours("cython", data)
    contenders = {"ours_cython": run_cython}
    record = {"benchmark": "seq_memory_training", "T": T, "batch": BATCH, "hidden": HIDDEN, "width": WIDTH,
              "embedding": EMBEDDING, "vocabulary": VOCAB, "memory": "stack", "controller": "lstm",
              "threads": 1, "load_average": [round(x, 2) for x in os.getloadavg()]}
    if not args.no_torch:
        import torch

        torch.set_num_threads(1)
        record["torch"] = torch.__version__
        record["max_abs_difference_vs_torch_float64"] = check_equivalence(model, kernel, data)
        contenders["torch_float32"] = pytorch(model.params_.values, data, torch.float32)
        contenders["torch_float64"] = pytorch(model.params_.values, data, torch.float64)
    # the numpy reference is slow: time it on a quarter of the batches
    run_numpy, _, _ = ours("numpy", tuple(a[:n_batches // 4] for a in data))
    contenders["ours_numpy"] = run_numpy
    for run in contenders.values():
        run()                                                               # warm up
    speed = best_of(contenders, args.repeats)
    for name, v in speed.items():
        record[f"{name}_sequences_per_s"] = round(v["wall"], 1)
    ratio = speed["ours_cython"]["wall"] / speed["ours_numpy"]["wall"]
    record["speedup_vs_numpy_reference"] = round(ratio, 1)
    record["target_vs_numpy"] = TARGET_VS_NUMPY
    ok = ratio >= TARGET_VS_NUMPY
    if not args.no_torch:
        vs32 = speed["ours_cython"]["wall"] / speed["torch_float32"]["wall"]
        record["speedup_vs_torch_float32"] = round(vs32, 1)
        record["speedup_vs_torch_float64"] = round(speed["ours_cython"]["wall"] / speed["torch_float64"]["wall"], 1)
        record["speedup_vs_torch_float32_cpu_time"] = round(
            speed["ours_cython"]["cpu"] / speed["torch_float32"]["cpu"], 1)
        record["target_vs_torch_float32"] = TARGET_VS_TORCH
        ok = ok and vs32 >= TARGET_VS_TORCH
    # more shapes: Cython against the numpy reference only
    for name, shape in NUMPY_SHAPES.items():
        data2 = make_data(shape["batches"], steps=shape["T"], batch=shape["batch"])
        runs = {"cython": ours("cython", data2, width=shape["width"])[0],
                "numpy": ours("numpy", tuple(a[:max(1, shape["batches"] // 4)] for a in data2),
                              width=shape["width"])[0]}
        for run in runs.values():
            run()
        speed2 = best_of(runs, max(2, args.repeats // 2))
        ratio2 = speed2["cython"]["wall"] / speed2["numpy"]["wall"]
        record[name] = {**{k: v for k, v in shape.items() if k != "batches"}, "hidden": HIDDEN,
                        "ours_cython_sequences_per_s": round(speed2["cython"]["wall"], 1),
                        "ours_numpy_sequences_per_s": round(speed2["numpy"]["wall"], 1),
                        "speedup_vs_numpy_reference": round(ratio2, 1), "target_met": ratio2 >= TARGET_VS_NUMPY}
    record["targets_met"] = ok
    record["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(record))


if __name__ == "__main__":
    main()
