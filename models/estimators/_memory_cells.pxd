# cython: language_level=3
# Per-step helpers of the memory-augmented kernel (``_memory_rnn.pyx``), inline, so each
# is compiled into its caller: the few-row products of every step, and the softmax that
# turns each end's (push, pop, no-op) logits into strengths (``controls="softmax"``) with
# its backward. The numpy twins are in ``_memory_rnn_ref.py``.
from libc.string cimport memset
from libc.math cimport exp

from models.core._linalg cimport ws_gemm_small


cdef inline void _step_gemm(int m, int n, int k, const double* A, int lda, const double* B, int ldb,
                            double beta, double* C, int ldc) noexcept nogil:
    """Row-major ``C (m, n) = A (m, k) @ B (k, n) + beta * C`` (beta 0 or 1) for the per-step
    products (a few rows): the vectorized row kernel of ``_simd.h``, without a BLAS call."""
    cdef int i
    if beta == 0.0:
        for i in range(m):
            memset(C + i * ldc, 0, n * sizeof(double))
    ws_gemm_small(0, 0, m, n, k, 1.0, A, lda, B, ldb, C, ldc)


cdef inline void _controls_softmax(int P, double* m, double* noop) noexcept nogil:
    """In place, for each end p: (m[p], m[P+p], noop[p]) logits -> their softmax (push, pop,
    no-op probabilities)."""
    cdef int p
    cdef double a, b, c, top, total
    for p in range(P):
        a = m[p]
        b = m[P + p]
        c = noop[p]
        top = a if a > b else b
        top = top if top > c else c
        a = exp(a - top)
        b = exp(b - top)
        c = exp(c - top)
        total = a + b + c
        m[p] = a / total
        m[P + p] = b / total
        noop[p] = c / total


cdef inline void _controls_softmax_backward(int P, const double* m, const double* noop, double* dm,
                                            double* dnoop) noexcept nogil:
    """Given the probabilities (m[p], m[P+p], noop[p]) and dm[p], dm[P+p] = dL/d(push, pop)
    (the no-op's own gradient is 0), overwrite them and dnoop[p] with dL/d(logits):
    dz_i = s_i (ds_i - sum_j s_j ds_j)."""
    cdef int p
    cdef double inner
    for p in range(P):
        inner = m[p] * dm[p] + m[P + p] * dm[P + p]
        dm[p] = m[p] * (dm[p] - inner)
        dm[P + p] = m[P + p] * (dm[P + p] - inner)
        dnoop[p] = -noop[p] * inner
