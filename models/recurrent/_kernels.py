"""The recurrent kernels of a backend, imported by name: the compiled ``_rnn`` / ``_lstm``
(default) or their numpy twins ``_rnn_ref`` / ``_lstm_ref`` (same functions, same numbers
to 1e-10; see :mod:`models.core._backend`)."""
from __future__ import annotations

from types import ModuleType

from ..core._backend import check_backend, compiled_kernels

__all__ = ["rnn_kernels", "lstm_kernels", "simd_level"]


def rnn_kernels(backend: str) -> ModuleType:
    """RNN steps, BPTT and :class:`RNNKernel`: ``_rnn`` (cython) or ``_rnn_ref`` (numpy)."""
    if check_backend(backend) == "numpy":
        from . import _rnn_ref as kernels
    else:
        with compiled_kernels("models.recurrent._rnn"):
            from . import _rnn as kernels
    return kernels


def lstm_kernels(backend: str) -> ModuleType:
    """LSTM steps, BPTT and :class:`LSTMKernel`: ``_lstm`` (cython) or ``_lstm_ref`` (numpy)."""
    if check_backend(backend) == "numpy":
        from . import _lstm_ref as kernels
    else:
        with compiled_kernels("models.recurrent._lstm"):
            from . import _lstm as kernels
    return kernels


def simd_level() -> str:
    """Which compiled variant of the small vectorized kernels runs here: "avx512" (the AVX2
    kernels and the AVX-512 per-step products), "avx2" or "sse2"."""
    return ("sse2", "avx2", "avx512")[rnn_kernels("cython").simd_level()]
