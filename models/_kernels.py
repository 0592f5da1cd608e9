"""Kernel modules by short name, for research code and benchmarks: ``load_kernels("rnn",
"cython")``. The package itself imports its kernels by name (each wrapper beside its
kernel; see :mod:`models.core._backend`); this is the one lookup by string, kept for
the public API.
"""
from __future__ import annotations

from types import ModuleType

from .core._backend import BACKENDS, check_backend, compiled_kernels
from .core._errors import UnknownNameError
from .core._optim import update_kernels
from .estimators._memory_model import memory_rnn_kernels
from .recurrent._kernels import lstm_kernels, rnn_kernels, simd_level

__all__ = ["BACKENDS", "KERNELS", "load_kernels", "simd_level"]


def _memory_kernels(backend: str) -> ModuleType:
    """All three memories' whole-sequence and step functions (one module per backend)."""
    if check_backend(backend) == "numpy":
        from .memory import _memory_ref as kernels
    else:
        with compiled_kernels("models.memory._memory"):
            from .memory import _memory as kernels
    return kernels


#: Short name -> the function that imports that kernel module for a backend.
KERNELS = {"rnn": rnn_kernels, "lstm": lstm_kernels, "updates": update_kernels,
           "memory": _memory_kernels, "memory_rnn": memory_rnn_kernels}


def load_kernels(name: str, backend: str) -> ModuleType:
    """The compiled kernel module ``name`` (``backend="cython"``) or its numpy twin.

    Parameters
    ----------
    name : {"rnn", "lstm", "updates", "memory", "memory_rnn"}
    backend : {"cython", "numpy"}

    Raises
    ------
    KernelNotBuiltError
        The compiled module is missing or was built for another Python/numpy.
    UnknownNameError
        An unknown ``name`` or ``backend``.
    """
    check_backend(backend)
    loader = KERNELS.get(name)
    if loader is None:
        raise UnknownNameError(f"unknown kernel {name!r}; choose one of {', '.join(KERNELS)}")
    return loader(backend)
