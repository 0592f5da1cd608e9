"""Timing helpers of the bench_seq_* scripts (not collected by pytest).

The machine is shared, so every comparison alternates its contenders in the same run
and keeps each one's best repetition (the run least disturbed by other processes),
both in wall-clock and in process CPU time.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def best_of(contenders: dict[str, Callable[[], int]], repeats: int) -> dict[str, dict[str, float]]:
    """Run each contender ``repeats`` times, alternating; each call returns the number of
    sequences it trained. Returns, per contender, the best sequences/s in wall-clock and
    in CPU time."""
    best = {name: {"wall": 0.0, "cpu": 0.0} for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            w0, c0 = time.perf_counter(), time.process_time()
            n = run()
            w1, c1 = time.perf_counter(), time.process_time()
            best[name]["wall"] = max(best[name]["wall"], n / max(w1 - w0, 1e-12))
            best[name]["cpu"] = max(best[name]["cpu"], n / max(c1 - c0, 1e-12))
    return best


def random_batches(rng: np.random.Generator, n_batches: int, steps: int, batch: int, vocab: int):
    """(inputs, targets, mask) of ``n_batches`` random batches: one-hot inputs over
    ``vocab + 1`` symbols (n, T, B, V+1), targets in ``[0, vocab)``, every step counted."""
    ids = rng.integers(0, vocab + 1, size=(n_batches, steps, batch))
    inputs = np.eye(vocab + 1)[ids]
    targets = rng.integers(0, vocab, size=(n_batches, steps, batch)).astype(np.int64)
    return inputs, targets, np.ones((n_batches, steps, batch))


def training_run(model, data, vocab: int, limit_threads: bool = True):
    """(run, kernel) for a set-up ``model``: its whole-model kernel bound to ``data``
    (inputs, targets, mask); ``run()`` takes one optimizer step per batch, one BLAS
    thread, as ``fit`` does, and returns the number of sequences trained.

    ``limit_threads=False``: the caller holds ``models.blas_threads(1)`` around all its
    timings (entering it costs milliseconds with torch loaded: threadpoolctl inspects
    every loaded library), so ``run()`` does not enter it on every call."""
    import contextlib

    import models

    inputs, targets, mask = data
    n, steps, batch = inputs.shape[:3]
    model.optimizer_ = model._make_optimizer().bind(model.params_)
    kernel = model._new_kernel(batch, steps)
    kernel.bind(inputs, targets, mask, np.zeros((n, steps, batch, vocab)))
    order = np.arange(n, dtype=np.int64)
    losses, norms = np.zeros(n), np.zeros(n)

    def run():
        with models.blas_threads(1) if limit_threads else contextlib.nullcontext():
            done = kernel.run_steps(model.optimizer_.kernel, order, losses, norms)
        assert done == n, "training diverged"
        return n * batch

    return run, kernel


def repeat_times(contenders: dict[str, Callable[[], int]], repeats: int,
                 primers: dict[str, Callable[[], object]] | None = None) -> dict[str, dict[str, list[float]]]:
    """Run each contender ``repeats`` times, alternating; each call returns the number of
    training steps it took. ``primers[name]``, if given, runs untimed right before each
    timed call (one training step: the caches hold what the other contender left there,
    and training runs its steps back to back). Returns, per contender, the seconds per
    step of every repetition, in wall-clock (``wall``) and in process CPU time (``cpu``)."""
    out = {name: {"wall": [], "cpu": []} for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            if primers and name in primers:
                primers[name]()
            w0, c0 = time.perf_counter(), time.process_time()
            n = run()
            w1, c1 = time.perf_counter(), time.process_time()
            out[name]["wall"].append((w1 - w0) / n)
            out[name]["cpu"].append((c1 - c0) / n)
    return out
