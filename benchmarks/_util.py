"""Helpers shared by the benchmark scripts (not a test module; not collected by pytest)."""
from __future__ import annotations

import json
import statistics
import sys
import time


def emit(record: dict) -> None:
    """Print one JSON line (the benchmarks' output format)."""
    print(json.dumps(record, sort_keys=False), flush=True)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def python_info() -> dict:
    return {"python": sys.version.split()[0]}
