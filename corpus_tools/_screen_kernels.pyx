"""Kernels of the int8 screen of exact queries (:mod:`corpus_tools._screen`).

``quantize_rows`` stores each row of a float32 matrix as int8 with its own scale;
``screen_bounds`` quantizes a query to int16, takes one integer dot product per row
(``_screen_kernels.h``: SSE2 or AVX2, chosen at run time) and turns each into an
interval that provably holds the row's float32 score (the derivation is in
:mod:`corpus_tools._screen`). Neither allocates more than a query's few int16s: the
caller owns every output. The numpy twins the tests compare against are in
``tests/corpus_tools/test_screen.py``.
"""
from libc.math cimport fabs, lrint
from libc.stdint cimport int8_t, int16_t, int32_t
from libc.stdlib cimport free, malloc


cdef extern from "_screen_kernels.h" nogil:
    int ws_screen_simd_level()
    void ws_screen_dots(const int8_t *M, long n_rows, long dim, const int16_t *q, int32_t *out)


cdef enum:
    C_QUERY_LEVELS = 16384
    C_ROW_LEVELS = 127

#: The int16 range a query is scaled to: its largest component becomes +-QUERY_LEVELS.
QUERY_LEVELS = C_QUERY_LEVELS
#: The int8 range a row is scaled to.
ROW_LEVELS = C_ROW_LEVELS


def simd_level():
    """1 when the AVX2 version of the dot products runs, 0 for the portable one."""
    return ws_screen_simd_level()


def quantize_rows(const float[:, ::1] X, int8_t[:, ::1] out, float[::1] scale, float[::1] l1,
                  Py_ssize_t start=0):
    """Rows ``X[i]`` as ``scale[start + i] * out[start + i]``, ``out`` int8.

    ``scale`` is the row's largest absolute value over 127 (0 for a zero row), each
    element rounded to the nearest level (so within half a level of the value), and
    ``l1[start + i]`` the L1 norm of the stored row, ``scale * sum |out|``.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], r, i
    cdef double m, s, inv, v
    cdef long a, total
    if out.shape[1] != d or start < 0 or start + n > out.shape[0] or scale.shape[0] < start + n \
            or l1.shape[0] < start + n:
        raise ValueError("quantize_rows: output arrays of the wrong shape")
    with nogil:
        for r in range(n):
            m = 0.0
            for i in range(d):
                v = fabs(X[r, i])
                if v > m:
                    m = v
            scale[start + r] = <float>(m / C_ROW_LEVELS)
            s = scale[start + r]         # the stored (float32) scale is the one quantized against
            total = 0
            if s > 0:
                inv = 1.0 / s
                for i in range(d):
                    a = lrint(X[r, i] * inv)
                    a = 127 if a > 127 else (-127 if a < -127 else a)
                    out[start + r, i] = <int8_t>a
                    total += a if a >= 0 else -a
            else:
                for i in range(d):
                    out[start + r, i] = 0
            l1[start + r] = <float>(s * total)


def screen_bounds(const int8_t[:, ::1] M, const float[::1] scale, const float[::1] l1, const float[::1] q,
                  Py_ssize_t n_rows, double slack, double[::1] lower, double[::1] upper):
    """Intervals ``[lower[r], upper[r]]`` holding ``X[r] @ q`` for the first ``n_rows`` rows.

    ``q`` is quantized as ``t * b`` (``t`` its largest absolute value over
    :data:`QUERY_LEVELS`, ``b`` int16); a row's estimate is ``scale * t * (M[r] @ b)``
    (the integer sum exact in int32), and its error is at most
    ``t/2 * l1[r] + scale[r] * (t/2 * sum |b| + D t / 4)``, to which ``slack`` is added
    on both sides (the rounding of the float32 product the bounds stand for).
    """
    cdef Py_ssize_t d = M.shape[1], r, i
    cdef double m = 0.0, t, inv, half_l1q, row_term, est, err
    cdef long b, total = 0
    cdef int16_t *qb
    cdef int32_t *dots
    if q.shape[0] != d or n_rows < 0 or n_rows > M.shape[0] or scale.shape[0] < n_rows or l1.shape[0] < n_rows \
            or lower.shape[0] < n_rows or upper.shape[0] < n_rows:
        raise ValueError("screen_bounds: arrays of the wrong shape")
    if d * C_ROW_LEVELS * C_QUERY_LEVELS >= 2147483648:
        raise ValueError(f"screen_bounds: {d} dimensions would overflow the int32 sums (at most 1032)")
    qb = <int16_t *> malloc(d * sizeof(int16_t))
    dots = <int32_t *> malloc((n_rows if n_rows > 0 else 1) * sizeof(int32_t))
    if qb == NULL or dots == NULL:
        free(qb)
        free(dots)
        raise MemoryError()
    try:
        with nogil:
            for i in range(d):
                if fabs(q[i]) > m:
                    m = fabs(q[i])
            t = m / C_QUERY_LEVELS
            inv = 1.0 / t if t > 0 else 0.0
            for i in range(d):
                b = lrint(q[i] * inv)
                b = C_QUERY_LEVELS if b > C_QUERY_LEVELS else (-C_QUERY_LEVELS if b < -C_QUERY_LEVELS else b)
                qb[i] = <int16_t>b
                total += b if b >= 0 else -b
            half_l1q = 0.5 * t * total
            row_term = half_l1q + 0.25 * d * t
            if n_rows > 0:
                ws_screen_dots(&M[0, 0], n_rows, d, qb, dots)
            for r in range(n_rows):
                est = <double>scale[r] * t * dots[r]
                err = 0.5 * t * l1[r] + scale[r] * row_term + slack
                lower[r] = est - err
                upper[r] = est + err
    finally:
        free(qb)
        free(dots)
