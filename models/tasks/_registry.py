"""Tasks by name: :data:`TASKS`, :data:`CHOMSKY_TASKS`, :func:`make_task`, :func:`task_from_spec`.

A new task is one class (a :class:`~models.tasks.Task` subclass in a module of this
package) and one entry in :data:`TASKS`; no model code changes.

Names of the tasks of Delétang et al. 2023 are the paper's with underscores
(``even_pairs``, ``binary_addition``); the hyphen spellings are aliases (``even-pairs``),
except ``binary-addition``, which has long been an alias of Trask's ``add`` and stays one.
"""
from __future__ import annotations

from typing import Any

from ..core._errors import UnknownNameError
from ._addition import BinaryAddition
from ._base import Task
from ._context_sensitive import (
    BinaryMultiplication, BucketSort, ChomskyBinaryAddition, ComputeSqrt, DuplicateString, MissingDuplicateString,
    OddsFirst)
from ._context_free import ModularArithmeticBrackets, ReverseString, SolveEquation, StackManipulation
from ._regular import CycleNavigation, EvenPairs, ModularArithmetic, ParityCheck
from ._transduction import BigramFlip, Copy, Reverse

__all__ = ["TASKS", "TASK_ALIASES", "CHOMSKY_TASKS", "make_task", "task_from_spec", "task_names"]

#: The fifteen tasks of Delétang et al. 2023 in the order of the paper's table, each with
#: its level: "regular", "dcf" (deterministic context-free) or "cs" (context-sensitive).
CHOMSKY_TASKS: dict[str, str] = {
    "even_pairs": "regular", "modular_arithmetic": "regular", "parity_check": "regular",
    "cycle_navigation": "regular",
    "stack_manipulation": "dcf", "reverse_string": "dcf", "modular_arithmetic_brackets": "dcf",
    "solve_equation": "dcf",
    "duplicate_string": "cs", "missing_duplicate_string": "cs", "odds_first": "cs", "binary_addition": "cs",
    "binary_multiplication": "cs", "compute_sqrt": "cs", "bucket_sort": "cs",
}

_CHOMSKY_CLASSES: tuple[type[Task], ...] = (
    EvenPairs, ModularArithmetic, ParityCheck, CycleNavigation,
    StackManipulation, ReverseString, ModularArithmeticBrackets, SolveEquation,
    DuplicateString, MissingDuplicateString, OddsFirst, ChomskyBinaryAddition, BinaryMultiplication, ComputeSqrt,
    BucketSort)
assert [cls.name for cls in _CHOMSKY_CLASSES] == list(CHOMSKY_TASKS), "register every task of CHOMSKY_TASKS once"
assert all(cls.level == CHOMSKY_TASKS[cls.name] for cls in _CHOMSKY_CLASSES), "CHOMSKY_TASKS' levels"


#: Task classes by canonical name.
TASKS: dict[str, type[Task]] = {"add": BinaryAddition, "copy": Copy, "reverse": Reverse,
                                "bigram-flip": BigramFlip, **{cls.name: cls for cls in _CHOMSKY_CLASSES}}
#: Other accepted spellings.
TASK_ALIASES = {"addition": "add", "binary-addition": "add", "reversal": "reverse",
                "flip": "bigram-flip", "bigram_flip": "bigram-flip", "bigramflip": "bigram-flip"}
for _name in CHOMSKY_TASKS:
    TASK_ALIASES.setdefault(_name.replace("_", "-"), _name)      # binary-addition stays Trask's add


def task_names() -> list[str]:
    return list(TASKS)


def make_task(name: str, **options) -> Task:
    """A task by name (``add``, ``copy``, ``reverse``, ``bigram-flip`` and the names of
    :data:`CHOMSKY_TASKS`; a few aliases work).

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
