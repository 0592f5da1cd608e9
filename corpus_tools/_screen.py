"""Exact nearest-neighbour queries that read a quarter of the bytes: an int8 screen.

An exact query scores every row: over a model of V words x D dimensions it reads the
whole float32 matrix, 4 V D bytes (9.2 MB for the Shakespeare model), and once the
matrix has left the processor's caches (between a server's requests it does) that read
is the query's cost: 1.3-1.6 ms on this project's 2-core machine, against 0.25 ms when
the matrix is cached. The screen keeps a copy of the matrix as int8 (V D bytes) and
answers in two passes:

1. **Bounds.** The query is quantized to int16; one integer dot product per row
   (``_screen_kernels``) gives an estimate of the row's score and an interval that
   provably holds its float32 score.
2. **Exact re-scoring.** The k-th largest lower bound is a score that k rows are known
   to reach; a row whose upper bound is below it cannot be among the k best. The other
   rows (typically a few dozen) are scored exactly, in float32, as the full product
   would score them, and ranked the same way.

The answer is therefore the exact answer, not an approximation: the same words in the
same order as the full product (to the float32 rounding of the product, which the
bounds also cover), only faster.

The bound. Row ``x`` is stored as ``s a`` (``a`` int8, ``s = max|x| / 127``, each
element rounded: ``x = s a + d`` with ``|d_i| <= s/2``), the query as ``t b`` (``b``
int16, ``t = max|q| / 16384``, ``q = t b + e``, ``|e_i| <= t/2``). Then
``x.q - s t (a.b) = sum s a_i e_i + d_i t b_i + d_i e_i``, so
``|x.q - s t (a.b)| <= t/2 * s sum|a| + s/2 * t sum|b| + D s t / 4``. The float32
product differs from ``x.q`` by at most ``D * 2^-24`` for unit vectors; twice that, and
1e-6 for the rounding of these sums, is added on both sides.

The copy costs V D + 8 V bytes of memory, in RAM: :meth:`Vectors.enable_screen` builds
it (a server does at start-up, before forking its workers, which then share it), and
only for models up to :data:`MAX_SCREEN_ELEMENTS` elements; bigger models are served
with a nearest-neighbour index (``wordstack index``).
"""
from __future__ import annotations

import numpy as np

from . import _screen_kernels

#: Largest V x D a screen is built for (64 MB of int8): a 200,000 x 300 model fits.
MAX_SCREEN_ELEMENTS = 64_000_000
#: Most dimensions the int32 sums of the kernel can hold (127 * 16384 * D < 2^31).
MAX_SCREEN_DIM = 1024
#: Rows quantized per call while building (the kernel reads them in place, without the GIL).
BUILD_ROWS = 65536


class Int8Screen:
    """The int8 copy of a unit-vector matrix and the exact top-k queries over it.

    Parameters
    ----------
    matrix : float32 array (V, D), C-contiguous
        The unit vectors (a model's ``unit``, memory-mapped or not). The screen keeps a
        reference to it for the exact re-scoring.
    """

    def __init__(self, matrix: np.ndarray):
        matrix = np.asarray(matrix)
        if matrix.dtype != np.float32 or matrix.ndim != 2 or not matrix.flags.c_contiguous:
            raise ValueError(f"the screen needs a C-contiguous float32 (V, D) matrix, got "
                             f"{matrix.dtype} {matrix.shape}")
        v, d = matrix.shape
        if d > MAX_SCREEN_DIM:
            raise ValueError(f"the screen handles at most {MAX_SCREEN_DIM} dimensions, not {d}")
        self.matrix = matrix
        self.codes = np.empty((v, d), np.int8)
        self.scale = np.empty(v, np.float32)
        self.l1 = np.empty(v, np.float32)
        for start in range(0, v, BUILD_ROWS):
            _screen_kernels.quantize_rows(matrix[start:start + BUILD_ROWS], self.codes, self.scale, self.l1, start)
        self.slack = 2.0 * d * 2.0 ** -24 + 1e-6

    @property
    def nbytes(self) -> int:
        return self.codes.nbytes + self.scale.nbytes + self.l1.nbytes

    def bounds(self, query: np.ndarray, n_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the float32 scores ``matrix[:n_rows] @ query``."""
        n = len(self.codes) if n_rows is None else n_rows
        lower = np.empty(n, np.float64)
        upper = np.empty(n, np.float64)
        _screen_kernels.screen_bounds(self.codes, self.scale, self.l1, np.ascontiguousarray(query, np.float32),
                                      n, self.slack, lower, upper)
        return lower, upper

    def top(self, query: np.ndarray, k: int, exclude: list[int], n_rows: int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows of ``matrix[:n_rows]`` for the unit ``query`` (float32), the
        rows ``exclude`` left out: rows and their float32 scores, best first, ties by row.

        ``k`` must be at least 1 and at most the rows left after the exclusions (rows
        past ``n_rows`` in ``exclude`` are ignored).
        """
        q = np.ascontiguousarray(query, np.float32)
        lower, upper = self.bounds(q, n_rows)
        n = len(lower)
        exclude = [i for i in set(exclude) if i < n]
        if not 1 <= k <= n - len(exclude):
            raise ValueError(f"k={k} rows asked of {n} rows with {len(exclude)} excluded")
        if exclude:
            lower[exclude] = -np.inf
            upper[exclude] = -np.inf
        threshold = np.partition(lower, n - k)[n - k]      # k rows are known to reach it
        rows = np.flatnonzero(upper >= threshold)
        scores = self.matrix[rows] @ q
        order = np.lexsort((rows, -scores))[:k]
        return rows[order], scores[order]


def screen_fits(shape: tuple[int, int], max_elements: int = MAX_SCREEN_ELEMENTS) -> bool:
    """Whether a (V, D) matrix gets a screen: at most ``max_elements`` and :data:`MAX_SCREEN_DIM`."""
    return shape[0] * shape[1] <= max_elements and shape[1] <= MAX_SCREEN_DIM


__all__ = ["Int8Screen", "MAX_SCREEN_DIM", "MAX_SCREEN_ELEMENTS", "screen_fits"]
