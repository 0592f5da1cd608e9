"""The registry of memory kinds: everything the rest of the package knows about each
memory, in one entry.

A kind is its class (which names its inputs and imports its numpy and Cython kernels,
:mod:`models.memory._memories`), the number of ends a controller pushes and pops, the
initial push and pop biases a controller starts from, and what the memory changes in the
training recipe of each task (:func:`models.memory_preset`). The compiled controller
kernel finds a kind's per-step C functions by its name in the ``MEMORY_OPS`` table of
``_memory.pyx``.

Adding a memory: its numpy reference (``_memory_ref.py``), its kernel and ``MEMORY_OPS``
entry (``_memory.pyx`` / ``_memory.pxd``), its class (``_memories.py``) and one
:func:`register_memory` call here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from ..core._backend import check_backend
from ..core._errors import UnknownNameError
from ._base import MemoryKernels, _Memory
from ._memories import NeuralDeque, NeuralQueue, NeuralStack

__all__ = ["MemoryKind", "MEMORY_KINDS", "MEMORIES", "register_memory", "memory_kind"]


@dataclass(frozen=True)
class MemoryKind:
    """One memory kind.

    Attributes
    ----------
    name : str
        The ``memory=`` value (``"stack"``).
    memory_class : type
        Its class (:class:`models.NeuralStack`, ...).
    push_bias, pop_bias : float or tuple of float
        Initial biases of the controller's push and pop strengths (one number, or one
        per end: (top, bottom) for the deque), used when ``MemoryRNN(push_bias=None)``.
    presets : mapping of str to mapping
        Per task name: the hyperparameters the memory recipe changes for this memory.
    """

    name: str
    memory_class: type[_Memory]
    push_bias: float | tuple[float, ...]
    pop_bias: float | tuple[float, ...]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def ends(self) -> int:
        """Ends the controller pushes, pops and reads (1; the deque 2)."""
        return self.memory_class._ENDS

    @property
    def cells_per_step(self) -> int:
        """Memory cells added per step (the deque pushes one at each end)."""
        return self.memory_class._CELLS_PER_STEP

    def layout(self, width: int) -> tuple[int, int]:
        """(P strengths of each of push and pop, R read width) for values of ``width``."""
        return self.ends, self.ends * int(width)

    def kernels(self, backend: str = "cython") -> MemoryKernels:
        """The four whole-sequence and per-step kernel functions from ``backend``."""
        return self.memory_class._load_kernels(check_backend(backend))


#: Memory kinds by name, in registration order (the ``memory=`` choices).
MEMORY_KINDS: dict[str, MemoryKind] = {}

#: Memory classes by name (kept with :data:`MEMORY_KINDS` by :func:`register_memory`).
MEMORIES: dict[str, type[_Memory]] = {}


def register_memory(kind: MemoryKind) -> MemoryKind:
    """Add ``kind`` to :data:`MEMORY_KINDS` (its presets frozen)."""
    if kind.name in MEMORY_KINDS:
        raise ValueError(f"memory kind {kind.name!r} is already registered")
    frozen = MappingProxyType({task: MappingProxyType(dict(p)) for task, p in kind.presets.items()})
    object.__setattr__(kind, "presets", frozen)
    MEMORY_KINDS[kind.name] = kind
    MEMORIES[kind.name] = kind.memory_class
    return kind


def memory_kind(name: str) -> MemoryKind:
    """The registered kind ``name``, or :class:`~models.UnknownNameError` listing them."""
    kind = MEMORY_KINDS.get(name)
    if kind is None:
        raise UnknownNameError(f"unknown memory {name!r}; choose one of {', '.join(MEMORY_KINDS)}")
    return kind


# Auxiliary losses (MemoryRNN aux_hidden, aux_memory) for copy and reversal with a queue or
# a deque. Without them, some deque seeds learn the shortest lengths only slowly
# (reversal, seed 1: three attempts in a row at per-symbol accuracy 0.5 after 32,000
# sequences), and copy generalises less well (65-128 coarse, deque seed 3: 0.974; queue
# seeds 2 and 3: 0.993, 0.989); with them: 0.999, 0.996, 0.998, 0.996. The hidden-state
# loss alone did not help (queue seed 3: 0.876); the read's loss is the one that matters.
_AUX = {"aux_hidden": 0.5, "aux_memory": 0.5}

# The deque sharpens its strengths in the final phase (``sharpen``): without it, copy
# with a deque missed on one seed of five (65-128 coarse 0.985: the bottom read drifts
# into the next value after about 110 steps, strengths near 0.96 that match for 64
# steps but not for 128); with it, every strength ends within 1e-3 of 0 or 1 and all
# five seeds are exact. (The queue gains nothing from it: see README "Memory models".)
_SHARPEN = {"sharpen": 0.1}

# The stack: pop bias -1 (the paper's appendix B), push bias 0 (strength 0.5).
register_memory(MemoryKind("stack", NeuralStack, push_bias=0.0, pop_bias=-1.0))

# The queue: pop bias -3, because leftover pop strength during the source eats the front
# of the queue, and the error grows with the length.
register_memory(MemoryKind("queue", NeuralQueue, push_bias=0.0, pop_bias=-3.0,
                           presets={"copy": _AUX, "reverse": _AUX}))

# The deque: pop bias -3 at both ends; push bias -6 at the bottom end: a deque pushed at
# both ends hides its oldest values in the middle, where neither read reaches them;
# pushed at the top only it is at once a stack (read the top) and a queue (read the
# bottom), and the controller only has to learn which read to use. -3 (a bottom push of
# 0.047 a step) was not closed enough: on copy, seed 0 was still at source length 12
# after 48,000 sequences; with -6 it passed length 64 within 24,000.
register_memory(MemoryKind("deque", NeuralDeque, push_bias=(0.0, -6.0), pop_bias=(-3.0, -3.0),
                           presets={"copy": {**_AUX, **_SHARPEN}, "reverse": {**_AUX, **_SHARPEN},
                                    "bigram-flip": _SHARPEN}))
