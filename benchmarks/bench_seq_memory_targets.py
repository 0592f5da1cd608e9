"""The paper protocol for the memory models (Grefenstette et al. 2015, issue 5's targets):
train on source lengths 8-64 with the ``wordstack seq train TASK --memory M`` defaults
(:func:`models.memory_preset`), test on 1,024 sequences of source lengths 65-128 (16 per
length), report coarse and fine accuracy, the training wall time and the sequences
trained, for every seed. Also the plain LSTM of about the same parameter count
(:data:`models.PLAIN_BASELINE`) on the same protocol.

One JSON line per run; ``--out DIR`` keeps each run's checkpoint (``DIR/<config>-s<seed>.ckpt``)
for ``wordstack seq eval DIR/*.ckpt`` and ``wordstack seq inspect``. Runs in parallel
with ``--jobs 2`` (one per core; BLAS threads 1 each). The target: every seed >= 0.99
coarse on 65-128 within 600 s of training (``target_met``); the machine is shared, so
each line carries the load average at its end.

Usage:
    python benchmarks/bench_seq_memory_targets.py                     # all configs, seeds 0-4
    python benchmarks/bench_seq_memory_targets.py --configs reverse-stack --seeds 0 1 --jobs 2
    python benchmarks/bench_seq_memory_targets.py --configs plain-reverse --out ckpts/
"""
from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

CONFIGS = {  # name: (task, memory or None for the plain LSTM)
    "reverse-stack": ("reverse", "stack"),
    "copy-queue": ("copy", "queue"),
    "reverse-deque": ("reverse", "deque"),
    "copy-deque": ("copy", "deque"),
    "bigram-flip-queue": ("bigram-flip", "queue"),
    "plain-reverse": ("reverse", None),
    "plain-copy": ("copy", None),
    "plain-bigram-flip": ("bigram-flip", None),
}
TARGET_COARSE, TARGET_SECONDS = 0.99, 600.0
PLAIN_STEPS = 8000            # twice the memory models' sequences: they still learn nothing past 64


def run_one(name: str, seed: int, out: str | None) -> dict:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    import models

    task_name, memory = CONFIGS[name]
    if memory is None:
        hyper = {**models.PLAIN_BASELINE, "n_steps": PLAIN_STEPS}
        task = models.tasks.make_task(task_name, vocab_size=16)
        model = models.LSTM(seed=seed, **hyper)
    else:
        hyper, task_options = models.memory_preset(task_name, memory)
        task = models.tasks.make_task(task_name, **task_options)
        model = models.MemoryRNN(seed=seed, **hyper)
    path = None if out is None else os.path.join(out, f"{name}-s{seed}.ckpt")
    start = time.monotonic()
    model.fit(task, checkpoint=path, checkpoint_seconds=60.0)
    wall = time.monotonic() - start
    test = model.evaluate((65, 128), n_sequences=1000, seed=12345).overall
    history = model.history_
    reached_64 = next((h["sequences"] for h in history if h["max_length"] >= 64), None)
    record = {"config": name, "task": task_name, "model": model.kind, "seed": seed,
              "n_parameters": model.n_parameters_, "train_wall_seconds": round(wall, 1),
              "train_loop_seconds": round(model.train_state_.seconds, 1),
              "sequences": model.train_state_.step * model.batch_size,
              "sequences_when_curriculum_reached_64": reached_64,
              "restarts_at_step": list(getattr(model, "restarts_", []) or []),
              "last_train_block": {k: history[-1][k] for k in ("per_symbol", "coarse", "fine")} if history else None,
              "test_lengths": [65, 128], "test_n": test.n_sequences,
              "test_coarse": round(test.coarse, 4), "test_fine": round(test.fine, 4),
              "test_per_symbol": round(test.per_symbol, 4),
              "load_average_1min": round(os.getloadavg()[0], 2), "checkpoint": path}
    if memory is not None:
        record["target_met"] = test.coarse >= TARGET_COARSE and wall <= TARGET_SECONDS
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=1, help="Runs at once (at most one per core).")
    parser.add_argument("--out", default=None, help="Folder for the checkpoints.")
    args = parser.parse_args()
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    runs = [(c, s) for c in args.configs for s in (args.seeds if not c.startswith("plain") else args.seeds[:1])]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for record in pool.map(run_one, *zip(*runs), [args.out] * len(runs)):
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
