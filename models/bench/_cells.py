"""One cell of the benchmark grid: train a (task, model, seed) into its checkpoint (or
resume it), test it on every test length, and describe the outcome as a small JSON file.

A cell's files, under the results folder::

    <task>/<model>/seed<k>.ckpt    the checkpoint (zip, see models.training._checkpoint),
                                   saved every ``checkpoint_seconds`` and on SIGINT/SIGTERM
    <task>/<model>/seed<k>.json    the result, written once the cell is finished

The result (format ``wordstack-bench-cell``, version 1) holds the paper's score
(``score``: per-token accuracy of each test length, averaged over the lengths), the share
of test sequences entirely right (``whole_sequence``, averaged the same way), the curve
by length (``by_length``: ``lengths``, ``per_token``, ``whole_sequence``), the same on the
training lengths (``in_distribution``), the training time (seconds in the training loop,
summed over every session that trained the checkpoint), sequences seen and optimizer
steps, the recipe (every hyperparameter of the model and the task's options), the test
protocol (lengths, sequences per length, test seed), the versions, and the checkpoint's
file name. A run that diverged is finished too (``status: "diverged"``, no scores): it
is deterministic and would diverge again.
"""
from __future__ import annotations

import logging
import math
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from corpus_tools.atomic import atomic_path, read_small_json

from ..core._errors import CheckpointError, TrainingDivergedError
from ..estimators._memory_model import MemoryRNN
from ..estimators._results import Evaluation, blas_threads
from ..tasks import make_task
from ..training._checkpoint import is_checkpoint, load_model

__all__ = ["CELL_FORMAT", "CELL_VERSION", "CellSpec", "CellProgress", "CellState", "run_cell", "score_evaluation",
           "read_cell", "write_cell", "is_cell_result", "cell_files", "versions", "choose_strengths", "wants_retest",
           "wants_redraw", "draw_seed", "draw_checkpoint", "room_for_draw", "DRAW_SEED_STEP"]

logger = logging.getLogger(__name__)

CELL_FORMAT = "wordstack-bench-cell"
CELL_VERSION = 1
#: Largest result file read: a curve of 460 lengths takes about 40 KB.
MAX_CELL_BYTES = 2 << 20


@dataclass(frozen=True)
class CellSpec:
    """Everything a worker needs to run one cell (plain data: it travels to worker processes
    and Dask workers)."""

    task: str
    model: str
    seed: int
    hyper: dict                          # MemoryRNN hyperparameters (no seed)
    task_options: dict
    test_lengths: tuple[int, int]
    n_per_length: int
    test_seed: int
    checkpoint_seconds: float = 30.0
    strengths: str = "soft"              # the test's memory strengths: "soft" or "validated" (see _recipes)
    redraws: int = 0                     # fresh draws after a run whose hard strengths fail it (see _recipes)
    budget_seconds: float = math.inf     # training seconds of all its runs: see room_for_draw

    @property
    def name(self) -> str:
        return f"{self.task}/{self.model}/seed{self.seed}"


@dataclass
class CellProgress:
    """How far a running cell is: ``phase`` ``"train"`` (``done`` of ``total`` optimizer
    steps) or ``"eval"`` (sequence-steps of the test lengths)."""

    cell: str
    phase: str
    done: float
    total: float

    @property
    def fraction(self) -> float:
        """Share of the cell's work done: training counts 0.8, testing 0.2."""
        part = min(1.0, self.done / self.total) if self.total else 0.0
        return 0.8 * part if self.phase == "train" else 0.8 + 0.2 * part


def cell_files(out: str | Path, task: str, model: str, seed: int) -> tuple[Path, Path]:
    """(result JSON, checkpoint) of a cell under the results folder ``out``."""
    folder = Path(out) / task / model
    return folder / f"seed{seed}.json", folder / f"seed{seed}.ckpt"


def versions() -> dict[str, str]:
    """The software that produced a result."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy

    try:
        mine = version("wordstack")
    except PackageNotFoundError:        # pragma: no cover - a checkout without an install
        mine = "unknown"
    return {"wordstack": mine, "numpy": numpy.__version__, "python": platform.python_version(),
            "platform": f"{sys.platform}-{platform.machine()}"}


def score_evaluation(evaluation: Evaluation) -> dict[str, Any]:
    """The paper's numbers from accuracy by length.

    Each length's per-token accuracy is its target symbols predicted right over its
    target symbols (all its sequences pooled, as the paper's ``accuracy_fn`` does per
    batch); ``score`` is the mean of those over the lengths, each length weighing the
    same however long its targets (``Evaluation.overall`` would weigh long lengths
    more). ``whole_sequence`` is the mean over lengths of the share of sequences whose
    every target symbol is right, ``fine`` that of the share right before the first error.

    Returns
    -------
    dict
        ``score``, ``whole_sequence``, ``fine`` (floats in [0, 1]) and ``by_length``
        (``lengths``, ``per_token``, ``whole_sequence``, ``n``: lists, one entry a length).
    """
    results = evaluation.results
    if not results:
        raise ValueError("an evaluation without lengths has no score")
    per_token = [r.metrics.per_symbol for r in results]
    whole = [r.metrics.coarse for r in results]
    fine = [r.metrics.fine for r in results]
    return {"score": math.fsum(per_token) / len(results), "whole_sequence": math.fsum(whole) / len(results),
            "fine": math.fsum(fine) / len(results),
            "by_length": {"lengths": [r.length for r in results], "per_token": per_token,
                          "whole_sequence": whole, "n": [r.metrics.n_sequences for r in results]}}


def _set_aside(path: Path, why: str) -> Path:
    """Rename a damaged file of a cell to ``<name>.damaged`` (``.damaged-2``, ...): nothing
    is deleted, and the cell can be run again."""
    k = 1
    while True:
        aside = path.with_name(f"{path.name}.damaged" + (f"-{k}" if k > 1 else ""))
        if not aside.exists():
            break
        k += 1
    path.rename(aside)
    logger.warning("%s %s; kept as %s and running the cell again", path, why, aside.name)
    return aside


#: The training seed of a cell's draw k > 0 is the cell's seed + k * DRAW_SEED_STEP (beyond any
#: grid's seeds, so no two cells share a run).
DRAW_SEED_STEP = 1000


def draw_seed(seed: int, draw: int) -> int:
    """The training seed of draw ``draw`` of the cell of seed ``seed`` (draw 0: the seed)."""
    return int(seed) + DRAW_SEED_STEP * int(draw)


def draw_checkpoint(checkpoint: str | Path, draw: int) -> Path:
    """The checkpoint of draw ``draw``: the cell's own for draw 0, ``seed<k>.draw<d>.ckpt`` after."""
    checkpoint = Path(checkpoint)
    return checkpoint if draw == 0 else checkpoint.with_name(f"{checkpoint.stem}.draw{draw}{checkpoint.suffix}")


def _resumable(model, spec: CellSpec, task, seed: int | None = None) -> str | None:
    """Why the checkpoint's model cannot be continued with this recipe (None: it can);
    ``seed``: the draw's training seed (default the cell's)."""
    if not isinstance(model, MemoryRNN):
        return f"it holds a {type(model).__name__}, not a MemoryRNN"
    if model.task_ != task:
        return f"it was trained on {model.task_!r}, not {task!r}"
    if model.train_state_ is None:
        return "it has no training state"
    params = model.get_params()
    wanted = {**spec.hyper, "seed": spec.seed if seed is None else int(seed)}
    for key, value in wanted.items():
        have = params.get(key)
        if key == "lengths":
            have, value = list(have or []), list(value)
        if key != "n_steps" and have != value:
            return f"its {key} is {have!r}, the recipe's {value!r}"
    if model.train_state_.step > int(spec.hyper["n_steps"]):
        return f"it has trained {model.train_state_.step} steps, more than the recipe's {spec.hyper['n_steps']}"
    return None


def run_cell(spec: CellSpec, checkpoint: str | Path, *,
             progress: Callable[[CellProgress], None] | None = None) -> dict[str, Any]:
    """Train (or resume) and test one cell; returns its result (see the module docstring).

    With ``spec.redraws`` > 0 (a recipe's choice, :data:`models.bench._recipes.REDRAWS`), a
    trained run whose hard strengths score below its soft ones on the training lengths
    (see :func:`choose_strengths`: it works with fractional memory operations) is not
    tested: a fresh run (seed :func:`draw_seed`, checkpoint :func:`draw_checkpoint`) is
    trained instead, up to ``redraws`` times and while :func:`room_for_draw` finds one more
    run within ``spec.budget_seconds``. The first run that passes is tested; if none
    does, the one with the best soft score on the training lengths (the earliest of
    equals). The decision uses the training lengths only; the result's ``draws`` lists
    every run, and its training time and sequences are the sums over them.

    Parameters
    ----------
    spec : CellSpec
    checkpoint : path
        The cell's checkpoint: resumed when it holds this recipe's model (a completed one
        is only tested again); a checkpoint of another recipe, or a damaged one, is
        renamed to ``<name>.damaged`` and the cell starts afresh.
    progress : callable, optional
        Receives :class:`CellProgress` after each learning-curve record and every few
        hundred steps of the test.

    Raises
    ------
    TrainingInterrupted
        SIGINT or SIGTERM while training (the checkpoint holds the last step).
    """
    checkpoint = Path(checkpoint)
    task = make_task(spec.task, **spec.task_options)
    train_lengths = tuple(spec.hyper["lengths"])
    redraws = int(spec.redraws)
    session_start = time.monotonic()
    runs: list[dict[str, Any]] = []
    with blas_threads(1):
        for draw in range(1 + redraws):
            if draw and not room_for_draw([r["seconds"] for r in runs], spec.budget_seconds):
                break
            run = _train_draw(spec, draw_checkpoint(checkpoint, draw), task, draw_seed(spec.seed, draw), progress)
            run["draw"] = draw
            if run["diverged"] is None and spec.strengths == "validated" and run["model"].memory is not None:
                run["inference"] = choose_strengths(run["model"], train_lengths, int(spec.n_per_length),
                                                    int(spec.test_seed))
            run["accepted"] = run["diverged"] is None and (redraws == 0 or _passes(run["inference"]))
            runs.append(run)
            if run["accepted"]:
                break
        chosen = runs[-1] if runs[-1]["accepted"] else _best_run(runs)
        model = chosen["model"]
        payload: dict[str, Any] = {
            "format": CELL_FORMAT, "version": CELL_VERSION, "status": "done" if chosen["diverged"] is None
            else "diverged", "task": spec.task, "model": spec.model, "kind": model.kind, "seed": int(spec.seed)}
        if chosen["diverged"] is None:
            payload.update(_test(model, spec, task, progress, chosen["inference"]))
        else:
            payload["diverged"] = chosen["diverged"]
    state = model.train_state_
    last = state.history[-1] if state is not None and state.history else {}
    payload["train"] = {
        "seconds": round(sum(r["seconds"] for r in runs), 3), "steps": sum(r["steps"] for r in runs),
        "sequences": sum(r["steps"] * int(r["model"].batch_size) for r in runs),
        "resumed_from_step": chosen["resumed_from"], "lengths": list(spec.hyper["lengths"]),
        "restarts": list(getattr(model, "restarts_", None) or []),
        "session_seconds": round(time.monotonic() - session_start, 3),
        "last_block": {k: last.get(k) for k in ("loss_per_symbol", "per_symbol", "coarse")}}
    if redraws > 0:
        payload["draws"] = [{"draw": r["draw"], "seed": r["seed"], "checkpoint": r["checkpoint"].name,
                             "seconds": round(r["seconds"], 3), "steps": r["steps"],
                             "in_distribution": (r["inference"] or {}).get("in_distribution"),
                             "accepted": bool(r["accepted"]), "tested": r is chosen} for r in runs]
        payload["draw"] = chosen["draw"]
    hyper = model.get_params()
    hyper["lengths"] = list(spec.hyper["lengths"])
    payload["recipe"] = {"hyperparameters": hyper, "task": task.spec(), "task_options": dict(spec.task_options)}
    payload["n_parameters"] = int(model.params_.size) if getattr(model, "params_", None) is not None else None
    payload["checkpoint"] = chosen["checkpoint"].name
    payload["versions"] = versions()
    payload["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return payload


def _train_draw(spec: CellSpec, checkpoint: Path, task, seed: int,
                progress: Callable[[CellProgress], None] | None) -> dict[str, Any]:
    """Train (or resume) one run of a cell into ``checkpoint`` with training seed ``seed``."""
    model, resumed_from = None, None
    if checkpoint.exists():
        try:
            existing = load_model(checkpoint)
        except CheckpointError as exc:
            why = f"is not a checkpoint that can be read ({exc})"
            existing = None
        else:
            why = _resumable(existing, spec, task, seed)
        if why is None:
            model = existing
            model.set_params(n_steps=int(spec.hyper["n_steps"]))
            resumed_from = int(model.train_state_.step)
        elif is_checkpoint(checkpoint) or existing is None:
            _set_aside(checkpoint, why if existing is None else f"holds another recipe's model ({why})")
    if model is None:
        model = MemoryRNN(seed=int(seed), **spec.hyper)

    def on_train(p) -> None:
        if progress is not None:
            progress(CellProgress(spec.name, "train", p.step, p.n_steps))

    diverged = None
    if resumed_from is None or model.train_state_.step < model.n_steps:
        try:
            model.fit(task, checkpoint=checkpoint, resume=resumed_from is not None, callback=on_train,
                      checkpoint_seconds=spec.checkpoint_seconds)
        except TrainingDivergedError as exc:
            diverged = {"step": exc.step, "message": str(exc)}
    state = model.train_state_
    return {"model": model, "seed": int(seed), "checkpoint": checkpoint, "resumed_from": resumed_from,
            "diverged": diverged, "inference": None, "seconds": state.seconds if state else 0.0,
            "steps": int(state.step) if state else 0}


def room_for_draw(seconds: list[float], budget_seconds: float) -> bool:
    """Whether a fresh run fits a cell's training budget: the seconds its runs have taken,
    plus their mean (what one more is expected to take), stay within ``budget_seconds``.
    Decided from the recorded training seconds, so a resumed cell decides the same way."""
    spent = float(sum(seconds))
    return not seconds or spent + spent / len(seconds) <= budget_seconds


def _passes(inference: dict | None) -> bool:
    """A run passes the redraw rule when its hard strengths score at least as well as its
    soft ones on the training lengths (the validated rule then tests it with hard ones)."""
    return inference is not None and inference.get("strengths") == "hard"


def _best_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Of runs none of which passed: the best soft score on the training lengths among those
    that did not diverge (the earliest of equals); the first run if all diverged."""
    scored = [r for r in runs if r["diverged"] is None and r["inference"] is not None]
    if not scored:
        return next((r for r in runs if r["diverged"] is None), runs[0])
    return max(scored, key=lambda r: (r["inference"]["in_distribution"]["soft"], -r["draw"]))


def _test(model, spec: CellSpec, task, progress, inference: dict | None = None) -> dict[str, Any]:
    """The scores on the test lengths and on the training lengths (``inference``: the
    strengths already chosen by :func:`choose_strengths`, if they were)."""
    def on_eval(p) -> None:
        if progress is not None:
            progress(CellProgress(spec.name, "eval", p.steps, p.total_steps))

    train_lengths = tuple(spec.hyper["lengths"])
    if inference is None and spec.strengths == "validated" and model.memory is not None:
        inference = choose_strengths(model, train_lengths, int(spec.n_per_length), int(spec.test_seed))
    t0 = time.monotonic()
    test = model.evaluate(tuple(spec.test_lengths), n_per_length=int(spec.n_per_length), seed=int(spec.test_seed),
                          callback=on_eval)
    test_seconds = time.monotonic() - t0
    t0 = time.monotonic()
    seen = model.evaluate(train_lengths, n_per_length=int(spec.n_per_length), seed=int(spec.test_seed))
    scores = score_evaluation(test)
    inside = score_evaluation(seen)
    result = {**{k: scores[k] for k in ("score", "whole_sequence", "fine")},
              "test": {"lengths": list(spec.test_lengths), "n_per_length": int(spec.n_per_length),
                       "seed": int(spec.test_seed), "seconds": round(test_seconds, 3)},
              "by_length": scores["by_length"],
              "in_distribution": {"lengths": list(train_lengths), "score": inside["score"],
                                  "whole_sequence": inside["whole_sequence"],
                                  "seconds": round(time.monotonic() - t0, 3)}}
    if inference is not None:
        result["inference"] = inference
    return result


def choose_strengths(model, train_lengths, n_per_length: int, seed: int) -> dict[str, Any]:
    """Set ``model.inference_strengths`` to "hard" when hard strengths score at least as well
    as soft ones on the training lengths (per token), else "soft"; returns the record of the
    choice: ``{"rule": "validated", "strengths", "in_distribution": {"soft", "hard"}}``."""
    found = {}
    for mode in ("soft", "hard"):
        model.set_params(inference_strengths=mode)
        found[mode] = score_evaluation(model.evaluate(tuple(train_lengths), n_per_length=n_per_length,
                                                      seed=seed))["score"]
    chosen = "hard" if found["hard"] >= found["soft"] else "soft"
    model.set_params(inference_strengths=chosen)
    return {"rule": "validated", "strengths": chosen, "in_distribution": found}


def wants_retest(result: dict, strengths: str) -> bool:
    """Whether a finished result was tested under another rule than ``strengths`` asks
    (its checkpoint is then tested again; training is not repeated)."""
    rule = (result.get("inference") or {}).get("rule", "soft")
    return rule != strengths


def wants_redraw(result: dict, redraws: int, budget_seconds: float = math.inf) -> bool:
    """Whether a finished result predates its recipe's redraw rule and did not pass it (see
    :func:`run_cell`): it had no fresh draw although its hard strengths failed, or fewer
    than ``redraws`` of them while one more fits ``budget_seconds``. The cell then runs
    again (its finished runs are not retrained when their checkpoints are there)."""
    if redraws < 1 or result.get("status") != "done":
        return False
    draws = result.get("draws")
    if not isinstance(draws, list):
        return not _passes(result.get("inference"))
    if any(isinstance(d, dict) and d.get("accepted") for d in draws) or len(draws) >= 1 + redraws:
        return False
    seconds = [float(d.get("seconds") or 0.0) for d in draws if isinstance(d, dict)]
    return room_for_draw(seconds, budget_seconds)


# ----------------------------------------------------------------------------- result files


@dataclass
class CellState:
    """What is on disk for a cell: ``status`` ``"done"`` (a finished result, ``result``),
    ``"damaged"`` (a file that is not a valid result of this cell, ``reason``), or
    ``"missing"``; ``checkpoint`` is whether a checkpoint file is there."""

    status: str
    result: dict | None = None
    reason: str = ""
    checkpoint: bool = False
    extra: dict = field(default_factory=dict)


def _number01(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def check_cell_result(data: dict | None, task: str | None = None, model: str | None = None,
                      seed: int | None = None) -> str | None:
    """Why ``data`` is not a finished result (of this cell, when named); None when it is."""
    if data is None:
        return "is not a JSON object (unreadable, truncated, or over 2 MB)"
    if data.get("format") != CELL_FORMAT:
        return f"does not carry the format tag {CELL_FORMAT!r}"
    if data.get("version") != CELL_VERSION:
        return f"is of version {data.get('version')!r}, this wordstack reads {CELL_VERSION}"
    for key, want in (("task", task), ("model", model), ("seed", seed)):
        if want is not None and data.get(key) != want:
            return f"is the result of {key} {data.get(key)!r}, not {want!r}"
    if data.get("status") == "diverged":
        return None if isinstance(data.get("diverged"), dict) else "says diverged without saying where"
    if data.get("status") != "done":
        return f"has status {data.get('status')!r}"
    if not all(_number01(data.get(k)) for k in ("score", "whole_sequence")):
        return "has no score and whole_sequence in [0, 1]"
    curve = data.get("by_length")
    if not isinstance(curve, dict):
        return "has no accuracy by length"
    columns = [curve.get(k) for k in ("lengths", "per_token", "whole_sequence")]
    if not all(isinstance(c, list) for c in columns) or len({len(c) for c in columns}) != 1 or not columns[0]:
        return "has an accuracy-by-length curve of mismatched lists"
    if not all(_number01(v) for v in columns[1] + columns[2]):
        return "has accuracies by length outside [0, 1]"
    if not isinstance(data.get("train"), dict) or not isinstance(data.get("test"), dict):
        return "lacks its training or test record"
    return None


def is_cell_result(path: str | Path) -> bool:
    """True for a result file wordstack wrote (what :func:`write_cell` may replace)."""
    return check_cell_result(read_small_json(path, MAX_CELL_BYTES)) is None


def read_cell(out: str | Path, task: str, model: str, seed: int) -> CellState:
    """What is on disk for a cell (see :class:`CellState`)."""
    result_path, ckpt = cell_files(out, task, model, seed)
    has_ckpt = ckpt.is_file()
    if not result_path.exists():
        return CellState("missing", checkpoint=has_ckpt)
    data = read_small_json(result_path, MAX_CELL_BYTES)
    why = check_cell_result(data, task, model, seed)
    if why is None:
        return CellState("done", result=data, checkpoint=has_ckpt)
    return CellState("damaged", reason=why, checkpoint=has_ckpt)


def set_aside_damaged(out: str | Path, task: str, model: str, seed: int, reason: str) -> Path:
    """Rename a damaged result file out of the cell's way (see :func:`_set_aside`)."""
    result_path, _ = cell_files(out, task, model, seed)
    return _set_aside(result_path, reason)


def write_cell(out: str | Path, payload: dict) -> Path:
    """Write a cell's result atomically; an existing file is replaced only if it is a result."""
    import json

    path, _ = cell_files(out, payload["task"], payload["model"], payload["seed"])
    with atomic_path(path, replace_if=is_cell_result, refusal="is not a wordstack bench result") as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, allow_nan=False)
            fh.write("\n")
    return path
