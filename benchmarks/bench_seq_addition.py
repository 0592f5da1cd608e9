"""Binary addition as in Trask's tutorial: an RNN of 16 sigmoid units, plain SGD with
learning rate 0.1, one sequence per update, 8-bit sums.

Prints one JSON line with, per seed: the first step (tested every 250) at which all of
1,000 held-out sums (operand pairs never generated in training) come out exact, the
exactness after 10,000
training sequences, and the exactness on 1,000 random 64-bit sums; and the training
throughput of the Cython backend against the numpy reference backend (same settings,
same run, best of alternating repetitions).

Usage: python benchmarks/bench_seq_addition.py [--seeds 5] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import platform

import numpy as np

import models
from models._kernels import simd_level
from models import tasks

from _seq_timing import best_of

SETTINGS = dict(hidden_size=16, activation="sigmoid", bias=False, init="uniform", init_scale=1.0,
                optimizer="sgd", learning_rate=0.1, batch_size=1, lengths=(8, 8))


def heldout_pairs(n: int, seed: int) -> np.ndarray:
    """``n`` distinct operand pairs (a, b), both below 2**7 (8-bit sums)."""
    codes = np.random.default_rng(seed).choice(128 * 128, size=n, replace=False)
    return np.stack([codes // 128, codes % 128], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sequences", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--every", type=int, default=250, help="test the held-out sums every N sequences")
    args = parser.parse_args()

    pairs = heldout_pairs(1000, seed=2015)
    task = tasks.BinaryAddition(exclude=pairs)
    heldout = task.batch_from_operands(pairs[:, 0], pairs[:, 1], bits=8)
    wide = task.sample(np.random.default_rng(64), 1000, 64)

    per_seed = []
    for seed in range(args.seeds):
        # Train in chunks of `--every` sequences (a resumed fit continues exactly as one
        # long fit would) and test the held-out sums after each chunk.
        model = models.RNN(n_steps=args.every, seed=seed, **SETTINGS).fit(task)
        first = None
        while True:
            if first is None and model.score(heldout) == 1.0:
                first = model.train_state_.step
            if model.train_state_.step >= args.sequences:
                break
            model.set_params(n_steps=model.train_state_.step + args.every).fit(task, resume=True)
        per_seed.append({"seed": seed, "first_all_exact_at": first,
                         "heldout_exact": model.score(heldout), "exact_64bit": model.score(wide)})

    # Throughput: the same 10,000-sequence training on both backends, alternating.
    def train(backend):
        def run():
            models.RNN(n_steps=args.sequences, seed=0, backend=backend, **SETTINGS).fit(task)
            return args.sequences
        return run

    train("cython")()                                    # warm up imports and caches
    speed = best_of({"cython": train("cython"), "numpy": train("numpy")}, args.repeats)
    ratio = speed["cython"]["wall"] / speed["numpy"]["wall"]
    ratio_cpu = speed["cython"]["cpu"] / speed["numpy"]["cpu"]
    a = models.RNN(n_steps=args.sequences, seed=0, **SETTINGS).fit(task)
    b = models.RNN(n_steps=args.sequences, seed=0, backend="numpy", **SETTINGS).fit(task)
    all_first = [s["first_all_exact_at"] for s in per_seed]
    print(json.dumps({
        "benchmark": "seq_addition", "settings": {**SETTINGS, "lengths": "8:8", "train_sequences": args.sequences},
        "heldout_sums": len(pairs), "per_seed": per_seed,
        "all_seeds_exact_within_budget": all(f is not None and f <= args.sequences for f in all_first)
        and all(s["heldout_exact"] == 1.0 for s in per_seed),
        "all_seeds_exact_64bit": all(s["exact_64bit"] == 1.0 for s in per_seed),
        "cython_sequences_per_s": round(speed["cython"]["wall"]), "numpy_sequences_per_s": round(speed["numpy"]["wall"]),
        "cython_sequences_per_cpu_s": round(speed["cython"]["cpu"]), "numpy_sequences_per_cpu_s": round(speed["numpy"]["cpu"]),
        "speedup": round(ratio, 1), "speedup_cpu_time": round(ratio_cpu, 1), "target_speedup": 50,
        "backends_max_weight_difference": float(np.abs(a.params_.theta - b.params_.theta).max()),
        "simd": simd_level(),
        "python": platform.python_version(), "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
