"""Time to draw one training batch and one test batch of each Chomsky-hierarchy task.

Target: ``sample_block`` of 16 sequences at length 40 well under 10 ms for every task
(training draws one a step), and length-500 test batches cheap. Median of ``--repeats``
draws per task and length (the longest valid length <= the one asked for), in ms.

    python benchmarks/bench_chomsky_tasks.py [--batch 16] [--lengths 40,500] [--repeats 50]
"""
from __future__ import annotations

import argparse

import numpy as np

from models import tasks
from _util import emit, median_time, python_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lengths", default="40,500")
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    record = {"benchmark": "chomsky_task_sampling", "batch": args.batch, **python_info(), "ms": {}}
    for name in tasks.CHOMSKY_TASKS:
        task = tasks.make_task(name)
        times = {}
        for asked in (int(x) for x in args.lengths.split(",")):
            L = int(task.valid_lengths(1, asked)[-1])
            task.sample_block(rng, 1, args.batch, L)                 # warm up
            times[str(L)] = round(1e3 * median_time(lambda: task.sample_block(rng, 1, args.batch, L),
                                                    args.repeats), 3)
        record["ms"][name] = times
    emit(record)


if __name__ == "__main__":
    main()
