"""Default hyperparameters per task: what ``wordstack seq train TASK`` uses when an
option is not given.

- ``add``: Trask's tutorial setting: an RNN of 16 sigmoid units without biases,
  weights from U(-1, 1), plain SGD with learning rate 0.1, one sequence per update,
  8-bit sums, 10,000 sequences.
- ``copy``, ``reverse``, ``bigram-flip``: an LSTM of 64 units, Adam (3e-3) with
  gradient clipping at 1.0, batches of 16, source lengths 8-64 drawn uniformly,
  vocabulary 16 (the settings the memory models of the next chapter use too).
"""
from __future__ import annotations

from typing import Any

from ._errors import UnknownNameError
from .tasks import TASK_ALIASES, TASKS

__all__ = ["TASK_PRESETS", "preset", "default_model_kind"]

TASK_PRESETS: dict[str, dict[str, Any]] = {
    "add": {"model": "rnn", "hidden_size": 16, "optimizer": "sgd", "learning_rate": 0.1, "batch_size": 1,
            "n_steps": 10_000, "lengths": (8, 8),
            "rnn": {"activation": "sigmoid", "bias": False, "init": "uniform", "init_scale": 1.0}},
    "copy": {"model": "lstm", "hidden_size": 64, "optimizer": "adam", "learning_rate": 3e-3, "clip_norm": 1.0,
             "batch_size": 16, "n_steps": 3000, "lengths": (8, 64), "task": {"vocab_size": 16}},
}
TASK_PRESETS["reverse"] = dict(TASK_PRESETS["copy"])
TASK_PRESETS["bigram-flip"] = dict(TASK_PRESETS["copy"])


def _canonical(task_name: str) -> str:
    key = TASK_ALIASES.get(task_name.lower(), task_name.lower())
    if key not in TASKS:
        raise UnknownNameError(f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}")
    return key


def default_model_kind(task_name: str) -> str:
    """``rnn`` for addition, ``lstm`` for the symbol tasks."""
    return TASK_PRESETS[_canonical(task_name)]["model"]


def preset(task_name: str, model_kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model hyperparameters, task options) for a task and model kind."""
    p = TASK_PRESETS[_canonical(task_name)]
    hyper = {k: v for k, v in p.items() if k not in ("model", "task", "rnn", "lstm")}
    hyper.update(p.get(model_kind, {}))
    return hyper, dict(p.get("task", {}))
