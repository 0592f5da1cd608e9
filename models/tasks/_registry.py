"""Tasks by name: :data:`TASKS`, :func:`make_task`, :func:`task_from_spec`.

A new task is one class (a :class:`~models.tasks.Task` subclass in a module of this
package) and one entry in :data:`TASKS`; no model code changes."""
from __future__ import annotations

from typing import Any

from ..core._errors import UnknownNameError
from ._addition import BinaryAddition
from ._base import Task
from ._transduction import BigramFlip, Copy, Reverse

__all__ = ["TASKS", "TASK_ALIASES", "make_task", "task_from_spec", "task_names"]

#: Task classes by canonical name.
TASKS: dict[str, type[Task]] = {"add": BinaryAddition, "copy": Copy, "reverse": Reverse,
                                "bigram-flip": BigramFlip}
#: Other accepted spellings.
TASK_ALIASES = {"addition": "add", "binary-addition": "add", "reversal": "reverse",
                "flip": "bigram-flip", "bigram_flip": "bigram-flip", "bigramflip": "bigram-flip"}


def task_names() -> list[str]:
    return list(TASKS)


def make_task(name: str, **options) -> Task:
    """A task by name (``add``, ``copy``, ``reverse``, ``bigram-flip``; a few aliases work).

    ``options`` go to the task's constructor; options a task does not take are an
    error only when not None (so a caller can pass ``vocab_size=None`` to any task).
    """
    key = TASK_ALIASES.get(str(name).lower(), str(name).lower())
    cls = TASKS.get(key)
    if cls is None:
        raise UnknownNameError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    options = {k: v for k, v in options.items() if v is not None}
    if cls is BinaryAddition and "vocab_size" in options:
        raise ValueError("binary addition has no vocabulary; drop vocab_size (--vocab)")
    return cls(**options)


def task_from_spec(spec: dict[str, Any]) -> Task:
    """Rebuild a task from :meth:`Task.spec`."""
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"a task spec is a dict with a 'name', got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "name"}
    return make_task(spec["name"], **options)
