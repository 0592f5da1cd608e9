"""Default hyperparameters per task: what ``wordstack seq train TASK`` uses when an
option is not given.

- ``add``: Trask's tutorial setting: an RNN of 16 sigmoid units without biases,
  weights from U(-1, 1), plain SGD with learning rate 0.1, one sequence per update,
  8-bit sums, 10,000 sequences.
- ``copy``, ``reverse``, ``bigram-flip``: an LSTM of 64 units, Adam (3e-3) with
  gradient clipping at 1.0, batches of 16, source lengths 8-64 drawn uniformly,
  vocabulary 16.
- The same tasks with a memory (``--memory stack|queue|deque``, :data:`MEMORY_PRESETS`):
  the recipe that reaches the paper's generalisation (test lengths 65-128, >= 0.99
  coarse) for every seed we tried, in a few minutes of one core: an LSTM controller of
  64 units, symbol embeddings of 32, memory width 32, Adam 3e-3, clipping 1.0, batches
  of 16, the stop-gradient at the separator, pop bias -1 (stack) or -3 (queue, deque),
  the deque's bottom end closed at the start (push bias -6), a curriculum that starts at
  source length 12 and adds 4 whenever a block's training per-symbol accuracy reaches
  0.98, up to 64, 5,000 steps (80,000 sequences), the learning rate down to 3e-4 once
  a block has been trained at length 64, the auxiliary losses (0.5 each) for copy and
  reversal with a queue or a deque, strength sharpening (0.1) in that final phase for
  the deque, and the restart rule: a run that has not learned length 12 after 32,000
  sequences starts again from fresh weights (its steps count). README "Memory models" has the per-seed numbers and what made the
  difference.
- The tasks of Delétang et al. 2023 (:data:`models.tasks.CHOMSKY_TASKS`), for now one
  simple recipe for all fifteen: an LSTM of 64 units, Adam (3e-3), clipping at 1.0,
  batches of 16, input lengths 1-40 drawn uniformly (the paper's training range; each
  task keeps the lengths its rule allows), 3,000 steps, the paper's alphabets (no task
  options). With a memory: the memory recipe above with lengths 1-40 (no auxiliary
  losses: they were tuned on copy and reversal). These are starting points, not tuned
  per task.
"""
from __future__ import annotations

from typing import Any

from ..core._errors import UnknownNameError
from ..memory._kinds import MEMORY_KINDS
from ..tasks import CHOMSKY_TASKS, TASK_ALIASES, TASKS

__all__ = ["TASK_PRESETS", "MEMORY_PRESETS", "MEMORY_TASKS", "PLAIN_BASELINE", "preset", "memory_preset", "default_model_kind"]

TASK_PRESETS: dict[str, dict[str, Any]] = {
    "add": {"model": "rnn", "hidden_size": 16, "optimizer": "sgd", "learning_rate": 0.1, "batch_size": 1,
            "n_steps": 10_000, "lengths": (8, 8),
            "rnn": {"activation": "sigmoid", "bias": False, "init": "uniform", "init_scale": 1.0}},
    "copy": {"model": "lstm", "hidden_size": 64, "optimizer": "adam", "learning_rate": 3e-3, "clip_norm": 1.0,
             "batch_size": 16, "n_steps": 3000, "lengths": (8, 64), "task": {"vocab_size": 16}},
}
TASK_PRESETS["reverse"] = dict(TASK_PRESETS["copy"])
TASK_PRESETS["bigram-flip"] = dict(TASK_PRESETS["copy"])
#: One recipe for every task of Delétang et al. 2023 (see the module docstring).
_CHOMSKY_PRESET: dict[str, Any] = {"model": "lstm", "hidden_size": 64, "optimizer": "adam", "learning_rate": 3e-3,
                                   "clip_norm": 1.0, "batch_size": 16, "n_steps": 3000, "lengths": (1, 40),
                                   "curriculum": "uniform"}
TASK_PRESETS.update({name: dict(_CHOMSKY_PRESET) for name in CHOMSKY_TASKS})

#: Shared by every memory model (``wordstack seq train TASK --memory M``).
_MEMORY_COMMON: dict[str, Any] = {
    "controller": "lstm", "hidden_size": 64, "embedding_size": 32, "memory_width": 32,
    "optimizer": "adam", "learning_rate": 3e-3, "clip_norm": 1.0, "batch_size": 16,
    "lengths": (8, 64), "curriculum": "grow", "curriculum_start": 12, "curriculum_step": 4,
    "curriculum_threshold": 0.98, "stop_gradient": True, "n_steps": 5000, "restart_after": 32_000,
    "final_learning_rate": 3e-4,
}

#: The tasks the memory recipe is for.
MEMORY_TASKS = ("copy", "reverse", "bigram-flip")

#: Per (task, memory): what differs from ``_MEMORY_COMMON``: each memory kind's presets
#: in the registry (:mod:`models.memory._kinds`, with the reasons): the auxiliary losses
#: for copy and reversal with a queue or a deque, strength sharpening for the deque.
#: (Push and pop biases are the model's per-memory defaults, see
#: :data:`models.DEFAULT_PUSH_BIAS` and :data:`models.DEFAULT_POP_BIAS`.)
MEMORY_PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    (task, memory): dict(kind.presets.get(task, {}))
    for task in MEMORY_TASKS for memory, kind in MEMORY_KINDS.items()
}
MEMORY_PRESETS.update({(task, memory): {"lengths": (1, 40)} for task in CHOMSKY_TASKS for memory in MEMORY_KINDS})

#: The plain LSTM of the side-by-side table: about the parameter count of the
#: LSTM+stack model (84 units: 35,632 parameters against 36,818), the same optimizer,
#: source lengths drawn uniformly from 8-64. (With the memory models' growing curriculum
#: it never passes length 12: a plain LSTM does not reach 0.98 per-symbol accuracy there
#: in 128,000 sequences, so it would never see the longer training lengths.)
PLAIN_BASELINE: dict[str, Any] = {
    "hidden_size": 84, "optimizer": "adam", "learning_rate": 3e-3, "clip_norm": 1.0, "batch_size": 16,
    "lengths": (8, 64), "curriculum": "uniform",
}


def _canonical(task_name: str) -> str:
    key = TASK_ALIASES.get(task_name.lower(), task_name.lower())
    if key not in TASKS:
        raise UnknownNameError(f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}")
    return key


def default_model_kind(task_name: str) -> str:
    """``rnn`` for addition, ``lstm`` for the other tasks."""
    return TASK_PRESETS[_canonical(task_name)]["model"]


def preset(task_name: str, model_kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model hyperparameters, task options) for a task and model kind (no memory)."""
    p = TASK_PRESETS[_canonical(task_name)]
    hyper = {k: v for k, v in p.items() if k not in ("model", "task", "rnn", "lstm")}
    hyper.update(p.get(model_kind, {}))
    return hyper, dict(p.get("task", {}))


def memory_preset(task_name: str, memory: str, controller: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(:class:`models.MemoryRNN` hyperparameters, task options) for a task and memory.

    Raises
    ------
    ValueError
        For binary addition (no separator, no symbols: the memory recipe does not apply).
    """
    task = _canonical(task_name)
    if task == "add":
        raise ValueError("the memory models are for the symbol tasks (copy, reverse, bigram-flip); binary addition "
                         "has no source/target phases; drop --memory")
    key = (task, memory)
    if key not in MEMORY_PRESETS:
        raise UnknownNameError(f"unknown memory {memory!r}; choose one of {', '.join(MEMORY_KINDS)}")
    hyper = {**_MEMORY_COMMON, **MEMORY_PRESETS[key], "memory": memory}
    if controller is not None:
        hyper["controller"] = controller
    return hyper, ({} if task in CHOMSKY_TASKS else {"vocab_size": 16})
