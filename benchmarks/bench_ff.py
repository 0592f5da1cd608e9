"""Speed of full-batch training on the XOR table: ``models.MLP.fit`` against the
tutorials' plain numpy loop (Trask 2015: ``np.dot``, fresh temporaries, no records), both
without biases, hidden 4, plain gradient descent with learning rate 1, in the same run.

``MLP.fit`` does more per epoch than the loop (it records the loss and the error of
every epoch and counts every weight's direction changes); the ratio says what that costs,
or saves. Both reach the same weights (checked). Also times a 7-rate sweep.

Prints one JSON line. Usage: python benchmarks/bench_ff.py [--epochs 60000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import models
from _seq_timing import best_of
from _util import emit, python_info


def tutorial_loop(X, y, W1, W2, epochs):
    """The 11-line network's loop (squared error, summed over rows, no biases)."""
    W1, W2 = W1.copy(), W2.copy()
    for _ in range(epochs):
        l1 = 1 / (1 + np.exp(-np.dot(X, W1)))
        l2 = 1 / (1 + np.exp(-np.dot(l1, W2)))
        l2_delta = (l2 - y) * (l2 * (1 - l2))
        l1_delta = l2_delta.dot(W2.T) * (l1 * (1 - l1))
        W2 -= l1.T.dot(l2_delta)
        W1 -= X.T.dot(l1_delta)
    return W1, W2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    xor = models.make_table("xor")
    X, y, E = xor.inputs, xor.targets, args.epochs
    settings = dict(layers=(3, 4, 1), bias=False, learning_rate=1.0, n_epochs=E, seed=0)
    init = models.MLP(**{**settings, "n_epochs": 0}).fit(X, y).params_
    W1, W2 = tutorial_loop(X, y, init["W1"], init["W2"], E)
    net = models.MLP(**settings).fit(X, y)
    same = bool(np.allclose(net.params_["W1"], W1, rtol=1e-8, atol=1e-10)
                and np.allclose(net.params_["W2"], W2, rtol=1e-8, atol=1e-10))

    def run_mlp():
        models.MLP(**settings).fit(X, y)
        return E

    def run_loop():
        tutorial_loop(X, y, init["W1"], init["W2"], E)
        return E

    best = best_of({"mlp_fit": run_mlp, "tutorial_loop": run_loop}, args.repeats)
    t0 = time.perf_counter()
    sweep = models.sweep_learning_rates("xor", hidden_sizes=(4,), n_epochs=E)
    sweep_s = time.perf_counter() - t0
    emit({"benchmark": "ff_xor_full_batch", **python_info(), "epochs": E, "same_weights": same,
          "mlp_fit_epochs_per_s": round(best["mlp_fit"]["wall"]),
          "tutorial_loop_epochs_per_s": round(best["tutorial_loop"]["wall"]),
          "mlp_fit_s": round(E / best["mlp_fit"]["wall"], 3),
          "ratio_mlp_over_loop_wall": round(best["mlp_fit"]["wall"] / best["tutorial_loop"]["wall"], 3),
          "ratio_mlp_over_loop_cpu": round(best["mlp_fit"]["cpu"] / best["tutorial_loop"]["cpu"], 3),
          "sweep_7_rates_hidden_4_s": round(sweep_s, 2),
          "sweep_status": {f"{r.learning_rate:g}": r.status for r in sweep.runs}})


if __name__ == "__main__":
    main()
