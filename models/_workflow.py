"""Checkpoint-centred workflows behind ``wordstack seq``: train (or resume) into a
checkpoint file, evaluate by length, apply to user input, plot.

Each is one call for the command line; the logic lives here so that it is tested and
usable from Python too.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ._base import Evaluation, SequenceModel, _parse_lengths
from ._checkpoint import load_model
from ._errors import CheckpointError
from ._presets import default_model_kind, preset
from ._recurrent import MODELS, make_model
from ._training import Progress
from .tasks import make_task

__all__ = ["TrainOutcome", "train_checkpoint", "evaluate_checkpoint", "run_checkpoint", "plot_checkpoint",
           "default_plot_lengths"]

logger = logging.getLogger(__name__)

# Hyperparameters a resumed run may change without breaking the data stream.
_RESUMABLE_CHANGES = {"n_steps", "backend", "n_threads", "divergence_factor"}


@dataclass
class TrainOutcome:
    """What :func:`train_checkpoint` did."""

    model: SequenceModel
    path: Path
    resumed_from: int | None       # the step a resumed run started from (None: fresh)
    steps_this_run: int
    seconds_this_run: float        # time in the training loop (data, kernels, metrics)

    @property
    def sequences_per_second(self) -> float:
        return self.steps_this_run * self.model.batch_size / self.seconds_this_run if self.seconds_this_run else 0.0

    def summary(self) -> dict[str, Any]:
        m = self.model
        last = m.history_[-1] if m.history_ else {}
        return {"checkpoint": str(self.path), "task": m.task_.name, "model": m.kind,
                "steps": m.train_state_.step, "sequences": m.train_state_.step * m.batch_size,
                "resumed_from": self.resumed_from, "steps_this_run": self.steps_this_run,
                "seconds_this_run": round(self.seconds_this_run, 3),
                "sequences_per_second": round(self.sequences_per_second, 1),
                "n_parameters": m.n_parameters_,
                "last_block": {k: last.get(k) for k in ("loss_per_symbol", "per_symbol", "coarse", "fine",
                                                         "max_length")}}


def train_checkpoint(task_name: str, path: str | os.PathLike, *, model: str | None = None,
                     task_options: dict[str, Any] | None = None, restart: bool = False,
                     callback: Callable[[Progress], None] | None = None, checkpoint_seconds: float = 30.0,
                     **hyperparams) -> TrainOutcome:
    """Train a model on a task into the checkpoint ``path``, or resume the one there.

    Parameters
    ----------
    task_name : str
        ``add``, ``copy``, ``reverse`` or ``bigram-flip``.
    path : path-like
        The checkpoint file. When it exists (and ``restart`` is False) training
        resumes from it; hyperparameters given here must then match the checkpoint's,
        except ``n_steps`` (train further), ``backend``, ``n_threads``.
    model : {"rnn", "lstm"}, optional
        Default: the task's preset (``rnn`` for addition, ``lstm`` otherwise).
    task_options : dict, optional
        E.g. ``{"vocab_size": 16}``; None values are ignored.
    restart : bool
        Start afresh even if ``path`` exists (it is overwritten at the first save).
    callback, checkpoint_seconds
        Passed to ``fit``.
    **hyperparams
        Model hyperparameters overriding the task's preset; None values are ignored.
    """
    given = {k: v for k, v in hyperparams.items() if v is not None}
    task_options = {k: v for k, v in (task_options or {}).items() if v is not None}
    path = Path(path)
    if model is not None and str(model).lower() not in MODELS:
        make_model(model)                                    # raises the error that lists the models
    task_probe = make_task(task_name, **task_options)          # validates the name and options
    if path.exists() and not restart:
        try:
            existing = load_model(path, backend=given.get("backend"))
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}; pass --restart to overwrite it, or choose another --out") from exc
        if existing.task_.name != task_probe.name:
            raise CheckpointError(f"{path} holds a model trained on {existing.task_.name!r}, not {task_probe.name!r}; "
                                  f"choose another --out, or pass --restart to overwrite it")
        if model is not None and existing.kind != str(model).lower():
            raise CheckpointError(f"{path} holds an {existing.kind} model, not {model}; choose another --out, or "
                                  f"pass --restart to overwrite it")
        if task_options and existing.task_.spec() != {**existing.task_.spec(), **task_options}:
            raise CheckpointError(f"{path} was trained with task options {existing.task_.spec()}; pass --restart "
                                  f"to train with {task_options}")
        current = existing.get_params()
        if given.get("lengths") is not None:
            given["lengths"] = _parse_lengths(given["lengths"])
        conflicts = {k: (current.get(k), v) for k, v in given.items()
                     if k not in _RESUMABLE_CHANGES and current.get(k) != v}
        if conflicts:
            listing = ", ".join(f"{k}: {a!r} in the checkpoint, {b!r} asked" for k, (a, b) in conflicts.items())
            raise CheckpointError(f"cannot resume {path} with different settings ({listing}); drop those options "
                                  f"to continue training, or pass --restart to start over")
        existing.set_params(**{k: v for k, v in given.items() if k in _RESUMABLE_CHANGES})
        if existing.train_state_ is None:
            raise CheckpointError(f"{path} has no training state to resume; pass --restart to train afresh")
        start, seconds = existing.train_state_.step, existing.train_state_.seconds
        if start < existing.n_steps:
            existing.fit(existing.task_, checkpoint=path, resume=True, callback=callback,
                         checkpoint_seconds=checkpoint_seconds)
        return TrainOutcome(existing, path, start, existing.train_state_.step - start,
                            existing.train_state_.seconds - seconds)
    kind = (model or default_model_kind(task_name)).lower()
    hyper, preset_task_options = preset(task_name, kind)
    task = make_task(task_name, **{**preset_task_options, **task_options})
    hyper.update(given)
    estimator = make_model(kind, **hyper)
    estimator.fit(task, checkpoint=path, callback=callback, checkpoint_seconds=checkpoint_seconds)
    return TrainOutcome(estimator, path, None, estimator.train_state_.step, estimator.train_state_.seconds)


def evaluate_checkpoint(path: str | os.PathLike, lengths=None, *, n_sequences: int = 1000,
                        n_per_length: int | None = None, seed: int = 12345,
                        backend: str | None = None) -> tuple[SequenceModel, Evaluation]:
    """Load ``path`` and evaluate it by length (default: its training lengths)."""
    model = load_model(path, backend=backend)
    return model, model.evaluate(lengths, n_sequences=n_sequences, n_per_length=n_per_length, seed=seed)


def run_checkpoint(path: str | os.PathLike, tokens: Sequence[str], *, backend: str | None = None) -> str:
    """Apply the model in ``path`` to user input: two integers for addition
    (``["1234", "5678"]`` -> ``"6912"``), a symbol sequence for the other tasks."""
    model = load_model(path, backend=backend)
    batch = model.task_.parse_input(tokens)
    return model.task_.format_output(batch, model.predict(batch))


def default_plot_lengths(model: SequenceModel) -> tuple[int, int]:
    """Lengths for the accuracy-by-length panel: from the shortest valid length to twice
    the longest trained one (to 64 bits for addition)."""
    task = model.task_
    cfg = model.train_state_.config if model.train_state_ else {}
    lo, hi = cfg.get("lengths") or list(model._train_lengths(task)[[0, -1]])
    top = max(2 * hi, 64) if task.name == "add" else 2 * hi
    return task.min_length, top


def plot_checkpoint(path: str | os.PathLike, out: str | os.PathLike, lengths=None, *,
                    n_per_length: int = 32, seed: int = 12345, backend: str | None = None) -> tuple[Path, Evaluation]:
    """Write the learning curve and accuracy by length of the model in ``path`` to ``out``."""
    from ._plot import plot_training

    model = load_model(path, backend=backend)
    span = _parse_lengths(lengths) if lengths is not None else default_plot_lengths(model)
    evaluation = model.evaluate(span, n_per_length=n_per_length, seed=seed)
    return plot_training(model, evaluation, out), evaluation
