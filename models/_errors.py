"""Exceptions raised by :mod:`models`.

Every error the user can cause derives from :class:`ModelsError`; the ``wordstack``
command line turns it into a clean ``Error: ...`` line. Bad hyperparameters and bad
array shapes raise :class:`ValueError` (the scikit-learn convention), which the
command line treats the same way.
"""
from __future__ import annotations

__all__ = [
    "ModelsError",
    "KernelNotBuiltError",
    "MemoryStateError",
    "UnknownNameError",
]


class ModelsError(Exception):
    """Base class of every error raised by :mod:`models`."""


class KernelNotBuiltError(ModelsError, ImportError):
    """A compiled Cython kernel is missing: build it, or ask for ``backend="numpy"``."""


class MemoryStateError(ModelsError, RuntimeError):
    """A neural memory was used out of order (e.g. ``backward`` before ``forward``)."""


class UnknownNameError(ModelsError, ValueError):
    """An unknown task, model, optimizer, activation ... name; the message lists the valid ones."""
