"""Backend selection: the compiled Cython kernels (default) or the numpy references.

A missing compiled extension is an error that says how to build it; there is no
silent fallback to the (50x slower) numpy reference.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from ._errors import KernelNotBuiltError, UnknownNameError

__all__ = ["BACKENDS", "check_backend", "load_kernels", "simd_level"]

#: Valid values of every ``backend`` argument.
BACKENDS = ("cython", "numpy")

_BUILD_HINT = ("build the Cython kernels with `python setup.py build_ext --inplace` in the source "
               "checkout (or reinstall with `pip install -e .`), or pass backend='numpy' "
               "(--backend numpy) for the slow pure-numpy reference")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise UnknownNameError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    return backend


def load_kernels(name: str, backend: str) -> ModuleType:
    """The kernel module ``models._<name>`` (cython) or ``models._<name>_ref`` (numpy).

    Raises
    ------
    KernelNotBuiltError
        The compiled module is missing or was built for another Python/numpy.
    """
    check_backend(backend)
    if backend == "numpy":
        return importlib.import_module(f"models._{name}_ref")
    try:
        return importlib.import_module(f"models._{name}")
    except ImportError as exc:
        raise KernelNotBuiltError(f"the compiled kernel models._{name} is not available ({exc}); "
                                  f"{_BUILD_HINT}") from exc


def simd_level() -> str:
    """Which compiled variant of the small vectorized kernels runs here: "avx2" or "sse2"."""
    return "avx2" if load_kernels("rnn", "cython").simd_level() else "sse2"
