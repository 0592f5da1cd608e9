"""Reversal with a plain LSTM (no memory): the baseline of the memory models.

Protocol of Grefenstette et al. 2015: source lengths drawn uniformly from 8-64,
vocabulary 16; test on 1,000 sequences with lengths 8-64 (trained range) and 1,000 with
lengths 65-128 (never seen). The LSTM is the ``wordstack seq train reverse`` default
(hidden 64, Adam 3e-3, clipping 1.0, batches of 16). It trains for ``--minutes`` of wall
time in chunks (an exact resumption each time). A plain LSTM is expected to do well
only on lengths it was trained on and to fail beyond them. Prints one JSON line.

Usage: python benchmarks/bench_seq_reversal.py [--minutes 5] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import time

import models
from models import tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=200, help="steps between time checks")
    args = parser.parse_args()

    hyper, task_options = models.preset("reverse", "lstm")
    task = tasks.Reverse(**task_options)
    model = models.LSTM(**{**hyper, "n_steps": args.chunk, "seed": args.seed})
    start = time.perf_counter()
    model.fit(task)
    while time.perf_counter() - start < args.minutes * 60:
        model.set_params(n_steps=model.train_state_.step + args.chunk).fit(task, resume=True)
    wall = time.perf_counter() - start
    trained = model.evaluate((8, 64), n_sequences=1000, seed=1)
    unseen = model.evaluate((65, 128), n_sequences=1000, seed=2)
    last = model.history_[-1]

    def summary(ev):
        o = ev.overall
        return {"n": o.n_sequences, "per_symbol": round(o.per_symbol, 4), "fine": round(o.fine, 4),
                "coarse": round(o.coarse, 4)}

    print(json.dumps({
        "benchmark": "seq_reversal_lstm_baseline",
        "settings": {**{k: v for k, v in hyper.items() if k not in ("lengths", "n_steps")}, "lengths": "8:64",
                     **task_options,
                     "seed": args.seed},
        "n_parameters": model.n_parameters_, "steps": model.train_state_.step,
        "sequences": model.train_state_.step * model.batch_size, "train_seconds": round(wall, 1),
        "last_training_block": {k: round(last[k], 4) for k in ("loss_per_symbol", "per_symbol", "coarse", "fine")},
        "test_lengths_8_64": summary(trained), "test_lengths_65_128": summary(unseen),
    }))


if __name__ == "__main__":
    main()
