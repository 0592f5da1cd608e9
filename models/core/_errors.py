"""Exceptions raised by :mod:`models`.

Every error the user can cause derives from :class:`ModelsError`; the ``wordstack``
command line turns it into a clean ``Error: ...`` line. Bad hyperparameters and bad
array shapes raise :class:`ValueError` (the scikit-learn convention), which the
command line treats the same way.
"""
from __future__ import annotations

__all__ = [
    "ModelsError",
    "CheckpointError",
    "KernelNotBuiltError",
    "MemoryStateError",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "UnknownNameError",
    "VocabularyError",
]


class ModelsError(Exception):
    """Base class of every error raised by :mod:`models`."""


class CheckpointError(ModelsError):
    """A checkpoint file is missing pieces, corrupt, truncated, or not a wordstack checkpoint."""


class KernelNotBuiltError(ModelsError, ImportError):
    """A compiled Cython kernel is missing: build it, or ask for ``backend="numpy"``."""


class TrainingDivergedError(ModelsError):
    """Training stopped because the loss became NaN/inf or grew far beyond its starting value.

    Attributes
    ----------
    step : int
        The optimizer step at which divergence was detected.
    """

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT (Ctrl-C) or SIGTERM, after writing its checkpoint (when
    ``fit`` was given one). Not an error: a ``KeyboardInterrupt``, so that code catching
    Ctrl-C catches it too.

    Attributes
    ----------
    signum : int
        The signal received (``signal.SIGINT`` or ``signal.SIGTERM``).
    """

    def __init__(self, signum: int):
        import signal

        super().__init__(f"training stopped by {signal.Signals(signum).name}")
        self.signum = int(signum)


class MemoryStateError(ModelsError, RuntimeError):
    """A neural memory was used out of order (e.g. ``backward`` before ``forward``)."""


class UnknownNameError(ModelsError, ValueError):
    """An unknown task, model, optimizer, activation ... name; the message lists the valid ones."""


class VocabularyError(ModelsError, ValueError):
    """Input symbols outside a task's vocabulary."""
