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

from ..estimators._base import SequenceModel
from ..estimators._results import EvalProgress, Evaluation, parse_lengths as _parse_lengths
from ..training._checkpoint import load_model
from ..core._errors import CheckpointError
from ..estimators._memory_model import MemoryRNN
from ..training._presets import default_model_kind, memory_preset, preset
from ..estimators._recurrent import MODELS, make_model
from ..training._loop import Progress
from ..tasks import make_task

__all__ = ["TrainOutcome", "train_checkpoint", "evaluate_checkpoint", "run_checkpoint", "plot_checkpoint",
           "default_plot_lengths", "compare_checkpoints", "ComparisonRow", "inspect_checkpoint", "MEMORY_OPTIONS"]

#: Hyperparameters only the memory models have (an error without ``memory``).
MEMORY_OPTIONS = ("memory_width", "embedding_size", "push_bias", "pop_bias", "controls", "stop_gradient", "aux_hidden",
                  "aux_memory", "restart_after", "final_learning_rate", "final_decay", "sharpen",
                  "final_phase_at", "inference_strengths")

logger = logging.getLogger(__name__)

# Hyperparameters a resumed run may change without breaking the data stream.
_RESUMABLE_CHANGES = {"n_steps", "backend", "n_threads", "divergence_factor", "inference_strengths"}


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
                "n_parameters": m.n_parameters_, "restarts": list(getattr(m, "restarts_", None) or []),
                "last_block": {k: last.get(k) for k in ("loss_per_symbol", "per_symbol", "coarse", "fine",
                                                         "max_length")}}


def _requested_kind(model: str | None, memory: str | None) -> str | None:
    """The ``kind`` a command line asks for (``lstm``, ``lstm+stack``...), None if unsaid."""
    if memory is not None:
        return f"{(model or 'lstm').lower()}+{memory}"
    return None if model is None else str(model).lower()


def train_checkpoint(task_name: str, path: str | os.PathLike, *, model: str | None = None,
                     memory: str | None = None, task_options: dict[str, Any] | None = None, restart: bool = False,
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
        Default: the task's preset (``rnn`` for addition, ``lstm`` otherwise); with a
        ``memory``, the controller (default ``lstm``).
    memory : {"stack", "queue", "deque", "none"}, optional
        Train a :class:`models.MemoryRNN` with this memory, from the memory presets
        (:func:`models.memory_preset`: the configuration that reaches >= 0.99 coarse on
        lengths 65-128 for every seed we tried). "none" or None: the plain model.
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
    if memory is not None and str(memory).lower() == "none":
        memory = None
    if memory is not None:
        memory = str(memory).lower()
        memory_preset(task_name, memory)                     # validates the memory (and the task)
    if model is not None and str(model).lower() not in MODELS:
        make_model(model)                                    # raises the error that lists the models
    if memory is None:
        stray = [k for k in MEMORY_OPTIONS if k in given]
        if stray and not (path.exists() and not restart):
            raise ValueError(f"{', '.join(stray)} only apply to memory models: add --memory stack|queue|deque, "
                             f"or drop them")
    if memory is not None and "activation" in given:
        raise ValueError("--activation is for the plain RNN; the memory models' RNN controller uses tanh")
    task_probe = make_task(task_name, **task_options)          # validates the name and options
    if path.exists() and not restart:
        try:
            existing = load_model(path, backend=given.get("backend"))
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}; pass --restart to overwrite it, or choose another --out") from exc
        if existing.task_.name != task_probe.name:
            raise CheckpointError(f"{path} holds a model trained on {existing.task_.name!r}, not {task_probe.name!r}; "
                                  f"choose another --out, or pass --restart to overwrite it")
        asked = _requested_kind(model, memory)
        if asked is not None and existing.kind != asked:
            raise CheckpointError(f"{path} holds an {existing.kind} model, not {asked}; choose another --out, or "
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
    if memory is not None:
        hyper, preset_task_options = memory_preset(task_name, memory, controller=None if model is None
                                                   else str(model).lower())
        hyper.update(given)
        estimator: SequenceModel = MemoryRNN(**hyper)
    else:
        kind = (model or default_model_kind(task_name)).lower()
        hyper, preset_task_options = preset(task_name, kind)
        hyper.update(given)
        estimator = make_model(kind, **hyper)
    task = make_task(task_name, **{**preset_task_options, **task_options})
    estimator.fit(task, checkpoint=path, callback=callback, checkpoint_seconds=checkpoint_seconds)
    return TrainOutcome(estimator, path, None, estimator.train_state_.step, estimator.train_state_.seconds)


def evaluate_checkpoint(path: str | os.PathLike, lengths=None, *, n_sequences: int = 1000,
                        n_per_length: int | None = None, seed: int = 12345, backend: str | None = None,
                        callback: Callable[[EvalProgress], None] | None = None) -> tuple[SequenceModel, Evaluation]:
    """Load ``path`` and evaluate it by length (default: its training lengths); ``callback``
    receives the progress (see :meth:`models.SequenceModel.evaluate`)."""
    model = load_model(path, backend=backend)
    return model, model.evaluate(lengths, n_sequences=n_sequences, n_per_length=n_per_length, seed=seed,
                                 callback=callback)


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
    from ._plots import plot_training

    model = load_model(path, backend=backend)
    span = _parse_lengths(lengths) if lengths is not None else default_plot_lengths(model)
    evaluation = model.evaluate(span, n_per_length=n_per_length, seed=seed)
    return plot_training(model, evaluation, out), evaluation


@dataclass
class ComparisonRow:
    """One checkpoint in the side-by-side table of :func:`compare_checkpoints`."""

    checkpoint: str
    model: str                      # kind: lstm, lstm+stack, ...
    task: str
    n_parameters: int
    sequences: int                  # training sequences seen
    train_seconds: float            # time in the training loop
    train_lengths: tuple[int, int]
    train: Evaluation               # fresh sequences of the training lengths
    test_lengths: tuple[int, int]
    test: Evaluation                # fresh sequences of the test lengths

    def to_dict(self) -> dict[str, Any]:
        def brief(ev: Evaluation) -> dict[str, Any]:
            o = ev.overall
            return {"n": o.n_sequences, "per_symbol": o.per_symbol, "fine": o.fine, "coarse": o.coarse}

        return {"checkpoint": self.checkpoint, "model": self.model, "task": self.task,
                "n_parameters": self.n_parameters, "sequences": self.sequences,
                "train_seconds": round(self.train_seconds, 1), "train_lengths": list(self.train_lengths),
                "train": brief(self.train), "test_lengths": list(self.test_lengths), "test": brief(self.test)}


def _default_test_lengths(model: SequenceModel) -> tuple[int, int]:
    """Just beyond training: (high + 1, 2 * high) of the training lengths (65-128 after 8-64)."""
    cfg = model.train_state_.config if model.train_state_ else {}
    lo, hi = cfg.get("lengths") or list(model._train_lengths(model.task_)[[0, -1]])
    return int(hi) + 1, 2 * int(hi)


def compare_checkpoints(paths: Sequence[str | os.PathLike], test_lengths=None, *, n_sequences: int = 1000,
                        seed: int = 12345, backend: str | None = None,
                        callback: Callable[[EvalProgress], None] | None = None) -> list[ComparisonRow]:
    """Evaluate several checkpoints on their training lengths and on longer test lengths.

    Parameters
    ----------
    paths : sequence of path-like
    test_lengths : (low, high) or "low:high", optional
        Default, per checkpoint: from one past the longest training length to twice it
        (65-128 after training on 8-64: the protocol of Grefenstette et al. 2015).
    n_sequences : int
        Sequences per evaluation (train and test), spread evenly over the lengths.
    seed : int
        Seed of the evaluation data (the same sequences for every checkpoint of a task).
    callback : callable, optional
        The progress of each evaluation in turn (two per checkpoint: train, then test
        lengths), as :meth:`models.SequenceModel.evaluate` reports it.

    Returns
    -------
    list of ComparisonRow
        In the order of ``paths``.
    """
    if not paths:
        raise ValueError("give at least one checkpoint to compare")
    span = _parse_lengths(test_lengths, "test lengths") if test_lengths is not None else None
    rows = []
    for path in paths:
        model = load_model(path, backend=backend)
        state = model.train_state_
        cfg = state.config if state else {}
        train_span = tuple(cfg.get("lengths") or model._train_lengths(model.task_)[[0, -1]].tolist())
        test_span = span or _default_test_lengths(model)
        train = model.evaluate(train_span, n_sequences=n_sequences, seed=seed, callback=callback)
        test = model.evaluate(test_span, n_sequences=n_sequences, seed=seed, callback=callback)
        rows.append(ComparisonRow(str(path), model.kind, model.task_.name, model.n_parameters_,
                                  state.step * model.batch_size if state else 0, state.seconds if state else 0.0,
                                  (int(train_span[0]), int(train_span[1])), train,
                                  (int(test_span[0]), int(test_span[1])), test))
    return rows


def inspect_checkpoint(path: str | os.PathLike, tokens: Sequence[str], out: str | os.PathLike, *,
                       backend: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Draw the memory's behaviour on one input: push and pop strengths and the strength
    of every cell over time (a PNG at ``out``).

    Returns
    -------
    (Path, dict)
        The PNG, and ``{"input", "output", "target", "push", "pop", "strengths"}``
        (the arrays of :meth:`models.MemoryRNN.memory_trace`, the texts as strings).
    """
    from ._inspect import plot_memory_trace

    model = load_model(path, backend=backend)
    if not isinstance(model, MemoryRNN) or model.memory is None:
        raise ValueError(f"{path} holds a {model.kind} model without a memory: nothing to inspect (train one with "
                         f"--memory stack|queue|deque)")
    batch = model.task_.parse_input(tokens)
    trace = model.memory_trace(batch)
    task = model.task_
    predictions = trace["probs"].argmax(axis=1)[:, None]                     # (T, 1)
    info = {"input": " ".join(str(t) for t in tokens), "output": task.format_output(batch, predictions),
            "target": task.format_output(batch, batch.targets), **trace}
    return plot_memory_trace(model, batch, trace, info, out), info
