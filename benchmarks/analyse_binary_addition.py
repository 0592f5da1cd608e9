"""Where a binary-addition model errs: per-token accuracy split by which operand is longer.

``binary_addition`` (``models.tasks.ChomskyBinaryAddition``) adds two little-endian
numbers ``a+b`` and answers the sum, least significant bit first, from the first output
step. The question this answers: does a queue or deque model fail on long inputs because
of the order of its memory, i.e. only when ``a`` is the longer operand (its top bits are
then still in front of the first sum bit when the answer starts)? If so, the ``a>b``
column falls to chance while ``b>=a`` stays high. On the bench's queue recipe it did not
(``benchmarks/results/recipe_probes.md``, session 6): both kinds are right or wrong alike.

    python benchmarks/analyse_binary_addition.py CHECKPOINT [--lengths 41:500] [--n 4] [--hard]

Per-token accuracy counts the positions the task scores: the sum's bits and the
terminator (the padding zeros after it are masked). The test data are the bench's
(``default_rng([12345, L])``), so the ``all`` column is the cell's score when ``--n`` is
the bench's 4 sequences per length and the strengths are the cell's.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

import models
from models.tasks import make_task
from models.training._metrics import correct_positions

TEST_SEED = 12345


def _span(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition(":")
    return int(lo), int(hi or lo)


def _share(right, counted) -> float:
    """Right positions over counted ones; NaN when a length drew no sequence of the kind."""
    total = counted.sum()
    return float(right.sum() / total) if total else float("nan")


def analyse(model, lengths, n_per_length: int, step: int = 1) -> dict:
    task = make_task("binary_addition")
    plus = task.input_symbols.index("+")
    rows = []
    for L in range(lengths[0], lengths[1] + 1, step):
        inputs, outputs, mask = task._generate(np.random.default_rng([TEST_SEED, L]), n_per_length, L)
        batch = models.tasks.Batch(*task.encode(inputs, outputs, mask), L)
        probs = model.predict_proba(batch)
        right = correct_positions(task.head, probs, batch.targets) * batch.mask      # (T, B)
        counted = batch.mask
        width_a = np.argmax(inputs == plus, axis=1)
        width_b = L - 1 - width_a
        a_longer = width_a > width_b
        rows.append({"length": L, "all": float(right.sum() / counted.sum()),
                     "a_longer": _share(right[:, a_longer], counted[:, a_longer]),
                     "b_as_long": _share(right[:, ~a_longer], counted[:, ~a_longer]),
                     "n_a_longer": int(a_longer.sum()), "n": int(n_per_length)})
    mean = {k: float(np.nanmean([r[k] for r in rows])) for k in ("all", "a_longer", "b_as_long")}
    return {"lengths": list(lengths), "n_per_length": n_per_length, "step": step, "mean": mean, "by_length": rows}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--lengths", default="41:500")
    parser.add_argument("--n", type=int, default=8, help="sequences per length")
    parser.add_argument("--step", type=int, default=1, help="every STEP-th length")
    parser.add_argument("--hard", action="store_true", help="test with hard memory strengths")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args(argv)
    model = models.load(args.checkpoint)
    if args.hard:
        model.set_params(inference_strengths="hard")
    if getattr(model, "memory", None) is not None:
        print(f"memory {model.memory}, strengths {model.inference_strengths}")
    result = analyse(model, _span(args.lengths), args.n, args.step)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'length':>6} {'all':>6} {'b>=a':>6} {'a>b':>6}")
    for r in result["by_length"][:: max(1, len(result["by_length"]) // 12)]:
        print(f"{r['length']:>6} {r['all']:6.3f} {r['b_as_long']:6.3f} {r['a_longer']:6.3f}")
    m = result["mean"]
    print(f"{'mean':>6} {m['all']:6.3f} {m['b_as_long']:6.3f} {m['a_longer']:6.3f}")


if __name__ == "__main__":
    main()
