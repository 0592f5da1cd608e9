"""Timing helpers of the bench_seq_* scripts (not collected by pytest).

The machine is shared, so every comparison alternates its contenders in the same run
and keeps each one's best repetition (the run least disturbed by other processes),
both in wall-clock and in process CPU time.
"""
from __future__ import annotations

import time
from typing import Callable


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
