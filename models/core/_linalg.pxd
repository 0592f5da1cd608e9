# cython: language_level=3
"""Inline C helpers shared by the kernels (``_rnn.pyx``, ``_lstm.pyx``, and the memory
kernels built on them): a row-major matrix product that calls BLAS ``dgemm`` from
``scipy.linalg.cython_blas`` when the product is large enough to pay for the call and
vectorized loops otherwise (``_simd.h``), activations, and output heads with their losses.

Everything here is ``inline`` and ``nogil``; ``cimport`` it, there is no runtime module.
All arrays are float64, C-contiguous, addressed through raw pointers with explicit
leading dimensions (row strides, in elements).
"""
from libc.math cimport exp, tanh, log, log1p, fabs
from libc.string cimport memset
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport dgemm

cdef extern from "_simd.h" nogil:
    # Vectorized kernels (AVX2+FMA when the processor has it, SSE2 otherwise): see _simd.h.
    void ws_sigmoid_inplace(double* a, long n)
    void ws_tanh_inplace(double* a, long n)
    void ws_gemm_small(int ta, int tb, int m, int n, int k, double alpha, const double* A, int lda,
                       const double* B, int ldb, double* C, int ldc)
    int ws_simd_level()
    void ws_transpose(int rows, int cols, const double* inp, double* out)
    void ws_adam(long n, double* theta, const double* grad, double* s1, double* s2, double scale, double lr,
                 double h1, double h2, double eps, double c1, double c2)
    void ws_lstm_cell_state(int B, int H, const double* g, const double* c_prev, double* c)
    void ws_lstm_cell_output(int B, int H, const double* g, const double* tanh_c, double* h)
    void ws_lstm_cell_backward(int B, int H, const double* g, const double* c_prev, const double* tanh_c,
                               const double* dh, const double* dc, double* dg, double* dc_prev)

# Activation codes (the Python layer maps names to them: see models/recurrent/_rnn.pyx).
cdef enum:
    ACT_TANH = 0
    ACT_SIGMOID = 1

# Output-head codes.
cdef enum:
    HEAD_SOFTMAX = 0
    HEAD_SIGMOID = 1

# m * n * k at or above which dgemm beats plain loops on this kind of machine
# (tiny per-step products such as batch 1 x hidden 16 stay in loops: the call
# overhead of BLAS dominates there).
cdef enum:
    BLAS_MIN_WORK = 4096


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k, double alpha,
                      const double* A, int lda, const double* B, int ldb,
                      double beta, double* C, int ldc) noexcept nogil:
    """Row-major ``C (m, n) = alpha * op(A) @ op(B) + beta * C``.

    ``op(A)`` is ``A`` (stored (m, k)) or ``A.T`` (stored (k, m)) when ``trans_a``;
    likewise ``op(B)`` is (k, n). ``beta == 0`` overwrites ``C`` without reading it.
    """
    cdef int i, j
    cdef double* c_row
    cdef char ta, tb
    if m <= 0 or n <= 0:
        return
    if <long>m * <long>n * <long>k >= BLAS_MIN_WORK:
        # Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
        ta = b'T' if trans_a else b'N'
        tb = b'T' if trans_b else b'N'
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*>B, &ldb, <double*>A, &lda,
              &beta, C, &ldc)
        return
    if beta == 0.0:
        for i in range(m):
            memset(C + i * ldc, 0, n * sizeof(double))
    elif beta != 1.0:
        for i in range(m):
            c_row = C + i * ldc
            for j in range(n):
                c_row[j] *= beta
    if k <= 0 or alpha == 0.0:
        return
    ws_gemm_small(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, C, ldc)


cdef inline bint uses_blas(long m, long n, long k) noexcept nogil:
    """Whether :func:`gemm` sends a product of these sizes to BLAS."""
    return m * n * k >= BLAS_MIN_WORK


cdef inline void add_row_vector(int rows, int cols, double* M, const double* v) noexcept nogil:
    """``M (rows, cols) += v (cols,)`` on every row."""
    cdef int i, j
    cdef double* row
    for i in range(rows):
        row = M + i * cols
        for j in range(cols):
            row[j] += v[j]


cdef inline void add_column_sums(int rows, int cols, const double* M, double* out) noexcept nogil:
    """``out (cols,) += M (rows, cols).sum(axis=0)``."""
    cdef int i, j
    cdef const double* row
    for i in range(rows):
        row = M + i * cols
        for j in range(cols):
            out[j] += row[j]


cdef inline double sigmoid(double x) noexcept nogil:
    # 1 / (1 + exp(-x)) underflows cleanly to 0 for very negative x (exp -> inf).
    return 1.0 / (1.0 + exp(-x))


cdef inline void activate(int act, int n, double* a) noexcept nogil:
    """In place: ``a = tanh(a)`` or ``a = sigmoid(a)`` (vectorized, see _simd.h)."""
    if act == ACT_TANH:
        ws_tanh_inplace(a, n)
    else:
        ws_sigmoid_inplace(a, n)


cdef inline void times_activation_derivative(int act, int n, const double* h, double* d) noexcept nogil:
    """In place ``d *= f'(a)`` written with the activation's output ``h = f(a)``."""
    cdef int i
    if act == ACT_TANH:
        for i in range(n):
            d[i] *= 1.0 - h[i] * h[i]
    else:
        for i in range(n):
            d[i] *= h[i] * (1.0 - h[i])


cdef inline double head_loss_and_grad(int head, int N, int O, double* Z,
                                      const int64_t* target_ids, const double* target_bits,
                                      const double* mask, double scale, double* dZ) noexcept nogil:
    """Output head over ``N`` rows: probabilities, masked loss and its gradient.

    ``Z`` (N, O) holds logits on entry and probabilities on exit (softmax over each row,
    or an elementwise sigmoid). Targets are class ids (N,) for softmax or bits (N, O)
    for sigmoid; ``mask`` (N,) weights each row. Returns
    ``scale * sum_rows mask * cross_entropy`` and writes
    ``dZ = scale * mask * (P - Y)`` (the gradient with respect to the logits).
    ``dZ`` may be NULL (evaluation: loss only).
    """
    cdef int r, j
    cdef double loss = 0.0, zmax, total, w, z, y, lse, e
    cdef double* zr
    cdef double* dzr
    cdef int64_t target
    for r in range(N):
        zr = Z + r * O
        w = mask[r]
        if head == HEAD_SOFTMAX:
            zmax = zr[0]
            for j in range(1, O):
                if zr[j] > zmax:
                    zmax = zr[j]
            target = target_ids[r]
            z = zr[target] - zmax
            total = 0.0
            for j in range(O):
                zr[j] = exp(zr[j] - zmax)
                total += zr[j]
            lse = log(total)
            if w != 0.0:
                # -log p[target] = log(sum_j exp(z_j - zmax)) - (z_target - zmax)
                loss += w * (lse - z)
            for j in range(O):
                zr[j] /= total
            if dZ != NULL:
                dzr = dZ + r * O
                for j in range(O):
                    dzr[j] = scale * w * zr[j]
                dzr[target] -= scale * w
        else:
            for j in range(O):
                z = zr[j]
                y = target_bits[r * O + j]
                e = exp(-fabs(z))
                if w != 0.0:
                    # BCE with logits: softplus(z) - y * z, computed stably.
                    loss += w * ((z if z > 0.0 else 0.0) + log1p(e) - y * z)
                zr[j] = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
                if dZ != NULL:
                    dZ[r * O + j] = scale * w * (zr[j] - y)
    return scale * loss
