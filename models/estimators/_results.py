"""What evaluation returns (:class:`Evaluation`, :class:`LengthResult`, :class:`EvalProgress`),
the ``lengths`` argument's parser, and :func:`blas_threads` — shared by the estimators
and the checkpoint workflows."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..training._metrics import Metrics

__all__ = ["Evaluation", "LengthResult", "EvalProgress", "blas_threads", "parse_lengths"]

logger = logging.getLogger(__name__)


@contextmanager
def blas_threads(n_threads: int | None):
    """Limit BLAS (numpy's and scipy's OpenBLAS) to ``n_threads`` inside the block.

    The kernels' per-step products are small (batch x hidden); splitting them over
    threads costs more than it saves, and on a shared machine it can be several times
    slower. ``None`` leaves the libraries' own settings.
    """
    if n_threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        logger.warning("threadpoolctl is not installed: BLAS keeps its own thread count")
        yield
        return
    # threadpoolctl limits the BLAS libraries loaded when the block starts. The kernels call
    # scipy's OpenBLAS (through scipy.linalg.cython_blas), which numpy does not load: load it
    # first, or a process's first fit runs it with every thread (several times slower on a
    # busy machine).
    import scipy.linalg  # noqa: F401

    with threadpool_limits(limits=int(n_threads), user_api="blas"):
        yield


@dataclass
class LengthResult:
    """Accuracy at one length."""

    length: int
    metrics: Metrics

    def to_dict(self) -> dict:
        m = self.metrics
        return {"length": self.length, "n": m.n_sequences, "per_symbol": m.per_symbol,
                "fine": m.fine, "coarse": m.coarse,
                # loss_sum is the mean loss of the length's n sequences (one batch of n), as
                # in training records: per symbol it is loss_sum * n / symbols
                "loss_per_symbol": m.loss_sum * m.n_sequences / max(m.n_symbols, 1)}


@dataclass
class EvalProgress:
    """What an :meth:`SequenceModel.evaluate` callback receives, every few hundred steps of
    the sequences being run and once more when each chunk of them is done.

    ``steps`` counts sequence-steps (a sequence of T steps is T of them), the unit of
    work: a memory model's step t costs up to O(t W) more, so early estimates of the
    time left are low.
    """

    length: int                     # the length being evaluated
    steps: int                      # sequence-steps done, all lengths so far
    total_steps: int
    sequences: int                  # sequences done
    total_sequences: int
    seconds: float


@dataclass
class Evaluation:
    """Accuracy by length (:meth:`SequenceModel.evaluate`)."""

    task: str
    results: list[LengthResult]

    @property
    def overall(self) -> Metrics:
        total = Metrics()
        for r in self.results:
            total = total.merge(r.metrics)
        return total

    def to_dict(self) -> dict:
        o = self.overall
        lengths = [r.length for r in self.results]
        return {"task": self.task, "lengths": [lengths[0], lengths[-1]] if lengths else [],
                "overall": {"n": o.n_sequences, "per_symbol": o.per_symbol, "fine": o.fine, "coarse": o.coarse},
                "by_length": [r.to_dict() for r in self.results]}


def parse_lengths(value, name: str = "lengths") -> tuple[int, int] | None:
    """None, an int, (low, high), or "low:high" -> (low, high)."""
    if value is None:
        return None
    if isinstance(value, str):
        lo, sep, hi = value.partition(":")
        try:
            value = (int(lo), int(hi)) if sep else int(lo)
        except ValueError:
            raise ValueError(f"{name} must look like 8:64 or 12, got {value!r}") from None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    try:
        lo, hi = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a (low, high) pair, got {value!r}") from None
    if lo < 1:
        raise ValueError(f"{name} must be >= 1, got {lo}:{hi}")
    if hi < lo:
        raise ValueError(f"{name} {lo}:{hi} is empty: the low end must not exceed the high end (did you mean "
                         f"{hi}:{lo}?)")
    return lo, hi
