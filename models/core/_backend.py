"""Backend selection: the compiled Cython kernels (default) or the numpy references.

Every wrapper imports its kernels by name, from the compiled module or from its numpy
twin, through :func:`compiled_kernels`::

    if check_backend(backend) == "numpy":
        from . import _rnn_ref as kernels
    else:
        with compiled_kernels("models.recurrent._rnn"):
            from . import _rnn as kernels

A missing compiled extension is an error that says how to build it
(:class:`~models.KernelNotBuiltError`); there is no silent fallback to the (50x slower)
numpy reference.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from ._errors import KernelNotBuiltError, UnknownNameError

__all__ = ["BACKENDS", "BUILD_HINT", "check_backend", "compiled_kernels"]

#: Valid values of every ``backend`` argument.
BACKENDS = ("cython", "numpy")

BUILD_HINT = ("build the Cython kernels with `python setup.py build_ext --inplace` in the source "
              "checkout (or reinstall with `pip install -e .`), or pass backend='numpy' "
              "(--backend numpy) for the slow pure-numpy reference")


def check_backend(backend: str) -> str:
    """``backend`` itself, or :class:`~models.UnknownNameError` naming the choices."""
    if backend not in BACKENDS:
        raise UnknownNameError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    return backend


@contextlib.contextmanager
def compiled_kernels(module: str) -> Iterator[None]:
    """Turn the ImportError of a compiled kernel module imported inside the block into
    :class:`~models.KernelNotBuiltError` that names ``module`` and says how to build it.

    Raises
    ------
    KernelNotBuiltError
        The compiled module is missing or was built for another Python/numpy.
    """
    try:
        yield
    except ImportError as exc:
        raise KernelNotBuiltError(f"the compiled kernel {module} is not available ({exc}); "
                                  f"{BUILD_HINT}") from exc
