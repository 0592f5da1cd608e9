"""What one cell of ``wordstack seq bench`` costs on one core: training speed per model
(what the budget in models/bench/_recipes.py is planned from) and the test on lengths 41-500.

Targets (issue 13): training a cell <= 300 s, testing it <= 60 s, on one core.

- training: each model trains ``--steps`` optimizer steps (after a 20-step warm-up) on
  each task at lengths 1-40, the bench recipe; reports optimizer steps/s (what
  ``STEP_SECONDS`` is fitted to), sequence-steps/s, the recipe's budget and the seconds it
  would take at the measured speed (best of ``--repeats``);
- test: an untrained model of each ``--eval-models`` (the cost does not depend on the
  weights) evaluated on every length of ``--test-lengths``, ``--n-per-length`` each.

    python benchmarks/bench_seq_bench.py                         # full size: a few minutes
    python benchmarks/bench_seq_bench.py --steps 60 --repeats 1 --test-lengths 41:60   # a quick check
"""
from __future__ import annotations

import argparse
import os
import time

from models import MemoryRNN, bench_recipe, blas_threads
from models.tasks import make_task
from _util import emit, python_info


def _train_speed(task_name: str, model: str, steps: int, repeats: int) -> dict:
    hyper, task_options = bench_recipe(task_name, model)
    task = make_task(task_name, **task_options)
    budget = hyper["n_steps"]
    best = 0.0
    for _ in range(repeats):
        warm = MemoryRNN(seed=0, **{**hyper, "n_steps": 20})
        warm.fit(task)
        est = MemoryRNN(seed=1, **{**hyper, "n_steps": steps})
        t0 = time.perf_counter()
        est.fit(task)
        best = max(best, steps / (time.perf_counter() - t0))
    valid = task.valid_lengths(*hyper["lengths"])
    mean_t = sum(task.sequence_length(int(L)) for L in valid) / len(valid)
    return {"steps_per_second": round(best, 1), "time_steps_per_second": round(best * hyper["batch_size"] * mean_t),
            "budget_steps": budget, "budget_seconds_at_this_speed": round(budget / best, 1)}


def _test_cost(task_name: str, model: str, lengths: tuple[int, int], n: int) -> dict:
    hyper, task_options = bench_recipe(task_name, model, n_steps=1)
    task = make_task(task_name, **task_options)
    est = MemoryRNN(seed=0, **hyper).fit(task)
    t0 = time.perf_counter()
    est.evaluate(lengths, n_per_length=n, seed=12345)
    seconds = time.perf_counter() - t0
    steps = sum(n * task.sequence_length(int(L)) for L in task.valid_lengths(*lengths))
    return {"seconds": round(seconds, 2), "sequence_steps": steps, "sequence_steps_per_second": round(steps / seconds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="parity_check,reverse_string,duplicate_string")
    ap.add_argument("--models", default="rnn,lstm,stack,queue,deque")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eval-tasks", default="duplicate_string")
    ap.add_argument("--eval-models", default="lstm,stack,deque")
    ap.add_argument("--test-lengths", default="41:500")
    ap.add_argument("--n-per-length", type=int, default=None, help="default: the recipe's N_PER_LENGTH")
    args = ap.parse_args()
    from models.bench._recipes import N_PER_LENGTH

    lo, _, hi = args.test_lengths.partition(":")
    lengths = (int(lo), int(hi))
    n = args.n_per_length or N_PER_LENGTH
    record = {"benchmark": "seq_bench_cell", **python_info(), "load_1min": round(os.getloadavg()[0], 2),
              "train": {}, "test": {}, "test_lengths": list(lengths), "n_per_length": n}
    with blas_threads(1):
        for task in filter(None, args.tasks.split(",")):
            record["train"][task] = {m: _train_speed(task, m, args.steps, args.repeats)
                                     for m in args.models.split(",")}
        for task in filter(None, args.eval_tasks.split(",")):
            record["test"][task] = {m: _test_cost(task, m, lengths, n) for m in args.eval_models.split(",")}
    record["load_1min_end"] = round(os.getloadavg()[0], 2)
    emit(record)


if __name__ == "__main__":
    main()
