"""One recipe probe for a Chomsky-hierarchy task: train one (task, model, seed) on lengths
1-40, test it on longer lengths, and append one JSON line to a results file.

The base recipe is the one of ``wordstack seq bench`` (branch chomsky-bench,
``models/bench/_recipes.py``: an LSTM controller of 64 units, embeddings and memory width
32, Adam 3e-3, clipping 1.0, batches of 16, lengths 1-40 drawn uniformly, the stop-gradient
at the output-phase flag, no restart rule, each memory's push/pop biases from the
registry); ``--set key=value`` overrides any :class:`models.MemoryRNN` hyperparameter
(values are read as JSON when they parse: ``--set curriculum_start=1``,
``--set lengths=[1,40]``). Models: rnn, lstm (a :class:`models.MemoryRNN` without a
memory, as in the bench), stack, queue, deque.

The score is the bench's: per-token accuracy of each test length averaged over the
lengths (``score``), and the whole-sequence accuracy averaged the same way
(``score_coarse``); ``n_per_length`` sequences a length, drawn from
``default_rng([12345, L])``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/probe_recipe.py reverse_string stack --steps 3000 \\
        --set curriculum=grow --set curriculum_start=1 --eval 41:120 --n-per-length 1
    python benchmarks/probe_recipe.py --recheck /tmp/probe/xyz.ckpt --eval 41:500 --n-per-length 4

``--recheck`` evaluates an existing probe checkpoint on other lengths and appends a line
that names it (the training fields are copied from the checkpoint).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import models
from models.tasks import make_task

BENCH_MODELS = {"rnn": ("rnn", None), "lstm": ("lstm", None), "stack": ("lstm", "stack"),
                "queue": ("lstm", "queue"), "deque": ("lstm", "deque")}
#: The bench's shared recipe (chomsky-bench: models/bench/_recipes.py, ``_COMMON``).
COMMON = {"hidden_size": 64, "embedding_size": 32, "memory_width": 32, "optimizer": "adam", "learning_rate": 3e-3,
          "clip_norm": 1.0, "batch_size": 16, "lengths": (1, 40), "curriculum": "uniform",
          "curriculum_start": None, "stop_gradient": True, "restart_after": None, "final_learning_rate": 3e-4,
          "n_threads": 1}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "recipe_probes.jsonl"
TEST_SEED = 12345


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_set(items) -> dict:
    out = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set wants key=value, got {item!r}")
        out[key.strip()] = _value(raw.strip())
    if "lengths" in out and isinstance(out["lengths"], list):
        out["lengths"] = tuple(out["lengths"])
    return out


def _span(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition(":")
    return int(lo), int(hi or lo)


def _scores(ev) -> dict:
    rows = ev.results
    n = len(rows)
    return {"score": sum(r.metrics.per_symbol for r in rows) / n,
            "score_coarse": sum(r.metrics.coarse for r in rows) / n,
            "min_length_score": min(r.metrics.per_symbol for r in rows),
            "overall_per_symbol": ev.overall.per_symbol, "overall_coarse": ev.overall.coarse,
            "n_sequences": ev.overall.n_sequences}


def _evaluate(model, span, n_per_length) -> tuple[dict, float]:
    start = time.perf_counter()
    ev = model.evaluate(span, n_per_length=n_per_length, seed=TEST_SEED)
    return _scores(ev), time.perf_counter() - start


def _train_fields(model) -> dict:
    last = model.history_[-1] if model.history_ else {}
    return {"train_seconds": round(model.train_state_.seconds, 1), "steps_done": int(model.train_state_.step),
            "last_block": {k: last.get(k) for k in ("per_symbol", "coarse", "max_length", "loss_per_symbol")},
            "restarts": list(getattr(model, "restarts_", None) or [])}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", nargs="?")
    parser.add_argument("model", nargs="?", choices=list(BENCH_MODELS))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="a MemoryRNN hyperparameter")
    parser.add_argument("--task-option", action="append", metavar="KEY=VALUE", help="e.g. vocab_size=2")
    parser.add_argument("--eval", default="41:120", help="test lengths LOW:HIGH (default 41:120)")
    parser.add_argument("--n-per-length", type=int, default=1)
    parser.add_argument("--note", default="", help="why this probe (stored in the line)")
    parser.add_argument("--ckpt-dir", default="/tmp/probe")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON-lines file to append to")
    parser.add_argument("--recheck", metavar="CKPT", help="evaluate this probe checkpoint instead of training")
    args = parser.parse_args(argv)
    span = _span(args.eval)

    if args.recheck:
        model = models.load(args.recheck)
        scores, eval_seconds = _evaluate(model, span, args.n_per_length)
        meta = json.loads(Path(args.recheck + ".json").read_text()) if Path(args.recheck + ".json").exists() else {}
        record = {**{k: v for k, v in meta.items() if k not in ("eval", "scores", "eval_seconds", "time")},
                  "recheck_of": args.recheck, "eval": {"lengths": list(span), "n_per_length": args.n_per_length},
                  "eval_seconds": round(eval_seconds, 1), **scores, "note": args.note or meta.get("note", ""),
                  "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    else:
        if not args.task or not args.model:
            parser.error("give TASK MODEL (or --recheck CKPT)")
        controller, memory = BENCH_MODELS[args.model]
        overrides = _parse_set(args.set)
        task_options = {k: v for k, v in _parse_set(args.task_option).items()}
        hyper = {**COMMON, "controller": controller, "memory": memory, **overrides,
                 "n_steps": args.steps, "seed": args.seed}
        task = make_task(args.task, **task_options)
        model = models.MemoryRNN(**hyper)
        tag = "-".join([args.task, args.model, f"s{args.seed}", f"n{args.steps}"]
                       + [f"{k}={v}" for k, v in sorted(overrides.items())]).replace("/", "_").replace(" ", "")
        os.makedirs(args.ckpt_dir, exist_ok=True)
        ckpt = str(Path(args.ckpt_dir) / (tag[:180] + ".ckpt"))
        wall = time.perf_counter()
        model.fit(task)
        wall = time.perf_counter() - wall
        models.save(model, ckpt)
        scores, eval_seconds = _evaluate(model, span, args.n_per_length)
        record = {"task": args.task, "model": args.model, "seed": args.seed, "steps": args.steps,
                  "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
                  "task_options": task_options, "wall_seconds": round(wall, 1), **_train_fields(model),
                  "steps_per_second": round(args.steps / max(wall, 1e-9), 1), "checkpoint": ckpt,
                  "eval": {"lengths": list(span), "n_per_length": args.n_per_length},
                  "eval_seconds": round(eval_seconds, 1), **scores, "note": args.note,
                  "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "load1": round(os.getloadavg()[0], 2)}
        Path(ckpt + ".json").write_text(json.dumps(record))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as fh:
        fh.write(json.dumps(record) + "\n")
    brief = {k: record.get(k) for k in ("task", "model", "seed", "steps", "overrides", "train_seconds", "eval",
                                         "score", "score_coarse", "min_length_score", "last_block", "eval_seconds")}
    print(json.dumps(brief), file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()
