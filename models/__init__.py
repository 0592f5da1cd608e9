"""models: numpy sequence models with Cython inner loops (RNN, LSTM, neural stack/queue/deque).

Memories
    :class:`NeuralStack`, :class:`NeuralQueue`, :class:`NeuralDeque` (Grefenstette et
    al. 2015; ``forward``/``backward`` over whole sequences, ``start``/``step``/
    ``backward_step`` for controllers), :data:`MEMORIES`, :data:`MEMORY_BACKENDS`.
Errors
    :class:`ModelsError` and its subclasses.

Examples
--------
>>> import models                                                        # doctest: +SKIP
>>> reads = models.NeuralStack(width=3).forward(values, push, pop)       # doctest: +SKIP
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # errors
    "ModelsError": "_errors",
    "KernelNotBuiltError": "_errors",
    "MemoryStateError": "_errors",
    "UnknownNameError": "_errors",
    # memories
    "NeuralStack": "memory",
    "NeuralQueue": "memory",
    "NeuralDeque": "memory",
    "MEMORIES": "memory",
    "MEMORY_BACKENDS": "memory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
