# cython: language_level=3
"""Vanilla RNN kernels (Cython): forward, backpropagation through time, single steps,
and the whole-model training kernel. The readable numpy twin, with the equations, is
``models/recurrent/_rnn_ref.py``; both fill the same preallocated float64 buffers and agree to
1e-10 (tests/models/test_parity.py).

Speed: the input projection of all T steps is one matrix product ((T*B, I) @ (I, H)),
and so are the weight gradients after the backward sweep (``X^T dA`` and
``H^T dA`` over all T*B rows); only ``h_{t-1} W_hh`` and ``da_t W_hh^T`` run per step.
Products go to BLAS dgemm when large enough (``models/core/_linalg.pxd``), plain loops
otherwise (batch 1, hidden 16), all without the GIL.
"""
import numpy as np

from libc.string cimport memcpy, memset

from models.core._linalg cimport (gemm, uses_blas, add_row_vector, add_column_sums, activate,
                             times_activation_derivative, ws_simd_level, ws_transpose, ACT_TANH,
                             ACT_SIGMOID)
from models.recurrent._seqkernel cimport SequenceKernel

_ACT_CODES = {"tanh": ACT_TANH, "sigmoid": ACT_SIGMOID}


def simd_level():
    """Which variants of the small kernels run on this processor: 0 the portable (SSE2)
    ones, 1 the AVX2+FMA ones, 2 those and the AVX-512 per-step products (bit-identical
    to the AVX2 ones). ``WORDSTACK_SIMD=sse2`` or ``=avx2`` in the environment caps it."""
    return ws_simd_level()


cdef int _act_code(str activation) except -1:
    code = _ACT_CODES.get(activation)
    if code is None:
        raise ValueError(f"activation must be one of {sorted(_ACT_CODES)}, got {activation!r}")
    return code


# ----------------------------------------------------------------------------- C level


cdef void rnn_step_forward_c(int B, int I, int H, const double* x, const double* h_prev,
                             const double* W_xh, const double* W_hh, const double* b_h,
                             int act, double* h) noexcept nogil:
    """h (B, H) = f(x (B, I) W_xh + h_prev W_hh + b_h). ``h`` must not alias ``h_prev``."""
    gemm(0, 0, B, H, I, 1.0, x, I, W_xh, H, 0.0, h, H)
    gemm(0, 0, B, H, H, 1.0, h_prev, H, W_hh, H, 1.0, h, H)
    if b_h != NULL:
        add_row_vector(B, H, h, b_h)
    activate(act, B * H, h)


cdef void rnn_step_backward_c(int B, int I, int H, const double* x, const double* h_prev,
                              const double* h, const double* W_xh, const double* W_hh, int act,
                              const double* dh, double* da, double* dx, double* dh_prev,
                              double* dW_xh, double* dW_hh, double* db_h) noexcept nogil:
    """da = dh * f'(a); accumulates dW_xh, dW_hh, db_h; overwrites dx, dh_prev (each may be NULL)."""
    if da != dh:
        memcpy(da, dh, B * H * sizeof(double))
    times_activation_derivative(act, B * H, h, da)
    gemm(1, 0, I, H, B, 1.0, x, I, da, H, 1.0, dW_xh, H)
    gemm(1, 0, H, H, B, 1.0, h_prev, H, da, H, 1.0, dW_hh, H)
    if db_h != NULL:
        add_column_sums(B, H, da, db_h)
    if dx != NULL:
        gemm(0, 1, B, I, H, 1.0, da, H, W_xh, H, 0.0, dx, I)
    if dh_prev != NULL:
        gemm(0, 1, B, H, H, 1.0, da, H, W_hh, H, 0.0, dh_prev, H)


cdef void rnn_forward_c(int T, int B, int I, int H, const double* X, const double* W_xh,
                        const double* W_hh, const double* b_h, int act, double* Hs) noexcept nogil:
    """Hs (T+1, B, H): row block 0 holds h0 on entry, blocks 1..T are filled."""
    cdef int t, n = B * H
    # Pre-activations of every step at once, written where the states will go.
    gemm(0, 0, T * B, H, I, 1.0, X, I, W_xh, H, 0.0, Hs + n, H)
    if b_h != NULL:
        add_row_vector(T * B, H, Hs + n, b_h)
    for t in range(T):
        gemm(0, 0, B, H, H, 1.0, Hs + t * n, H, W_hh, H, 1.0, Hs + (t + 1) * n, H)
        activate(act, n, Hs + (t + 1) * n)


cdef void rnn_bptt_c(int T, int B, int I, int H, const double* X, const double* Hs,
                     const double* W_xh, const double* W_hh, int act, const double* dHs,
                     double* dA, double* dX, double* dW_xh, double* dW_hh, double* db_h,
                     double* dh0, double* work) noexcept nogil:
    """dA (T, B, H) <- pre-activation gradients (may alias dHs); accumulates dW_xh, dW_hh,
    db_h; overwrites dX (T, B, I) and dh0 (B, H) when not NULL. ``work`` is scratch of
    H * H doubles (small sizes copy W_hh^T there, so that the per-step product runs
    along contiguous rows)."""
    cdef int t, n = B * H
    cdef const double* W_hh_T = NULL
    if dA != dHs:
        memcpy(dA, dHs, T * n * sizeof(double))
    if not uses_blas(B, H, H) and T > 1:
        ws_transpose(H, H, W_hh, work)
        W_hh_T = work
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            if W_hh_T != NULL:
                gemm(0, 0, B, H, H, 1.0, dA + (t + 1) * n, H, W_hh_T, H, 1.0, dA + t * n, H)
            else:
                gemm(0, 1, B, H, H, 1.0, dA + (t + 1) * n, H, W_hh, H, 1.0, dA + t * n, H)
        times_activation_derivative(act, n, Hs + (t + 1) * n, dA + t * n)
    if dh0 != NULL:
        gemm(0, 1, B, H, H, 1.0, dA, H, W_hh, H, 0.0, dh0, H)
    gemm(1, 0, I, H, T * B, 1.0, X, I, dA, H, 1.0, dW_xh, H)
    gemm(1, 0, H, H, T * B, 1.0, Hs, H, dA, H, 1.0, dW_hh, H)
    if db_h != NULL:
        add_column_sums(T * B, H, dA, db_h)
    if dX != NULL:
        gemm(0, 1, T * B, I, H, 1.0, dA, H, W_xh, H, 0.0, dX, I)


# ----------------------------------------------------------------------------- Python level
# Same signatures as models/recurrent/_rnn_ref.py. Shapes are checked (a wrong one would corrupt
# memory); dtype float64 and C order are required by the memoryview types.


def _check(name, array, expected):
    shape = tuple(array.shape)[:len(expected)]
    if shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}, got {shape}")


def rnn_step_forward(const double[:, ::1] x, const double[:, ::1] h_prev, const double[:, ::1] W_xh,
                     const double[:, ::1] W_hh, const double[::1] b_h, str activation,
                     double[:, ::1] h):
    """One step; see :func:`models.recurrent._rnn_ref.rnn_step_forward`."""
    cdef int B = x.shape[0], I = x.shape[1], H = W_hh.shape[0], act = _act_code(activation)
    _check("W_xh", W_xh, (I, H)); _check("W_hh", W_hh, (H, H))
    _check("h_prev", h_prev, (B, H)); _check("h", h, (B, H))
    if b_h is not None:
        _check("b_h", b_h, (H,))
    with nogil:
        rnn_step_forward_c(B, I, H, &x[0, 0], &h_prev[0, 0], &W_xh[0, 0], &W_hh[0, 0],
                           NULL if b_h is None else &b_h[0], act, &h[0, 0])


def rnn_step_backward(const double[:, ::1] x, const double[:, ::1] h_prev, const double[:, ::1] h,
                      const double[:, ::1] W_xh, const double[:, ::1] W_hh, str activation,
                      const double[:, ::1] dh, double[:, ::1] da, double[:, ::1] dx,
                      double[:, ::1] dh_prev, double[:, ::1] dW_xh, double[:, ::1] dW_hh,
                      double[::1] db_h):
    """Backward through one step; see :func:`models.recurrent._rnn_ref.rnn_step_backward`."""
    cdef int B = x.shape[0], I = x.shape[1], H = W_hh.shape[0], act = _act_code(activation)
    for name, arr, shape in (("h_prev", h_prev, (B, H)), ("h", h, (B, H)), ("W_xh", W_xh, (I, H)),
                             ("W_hh", W_hh, (H, H)), ("dh", dh, (B, H)), ("da", da, (B, H)),
                             ("dW_xh", dW_xh, (I, H)), ("dW_hh", dW_hh, (H, H))):
        _check(name, arr, shape)
    if dx is not None:
        _check("dx", dx, (B, I))
    if dh_prev is not None:
        _check("dh_prev", dh_prev, (B, H))
    if db_h is not None:
        _check("db_h", db_h, (H,))
    with nogil:
        rnn_step_backward_c(B, I, H, &x[0, 0], &h_prev[0, 0], &h[0, 0], &W_xh[0, 0], &W_hh[0, 0],
                            act, &dh[0, 0], &da[0, 0], NULL if dx is None else &dx[0, 0],
                            NULL if dh_prev is None else &dh_prev[0, 0], &dW_xh[0, 0], &dW_hh[0, 0],
                            NULL if db_h is None else &db_h[0])


def rnn_forward(const double[:, :, ::1] X, const double[:, ::1] W_xh, const double[:, ::1] W_hh,
                const double[::1] b_h, str activation, double[:, :, ::1] Hs):
    """Forward over a batch of sequences; see :func:`models.recurrent._rnn_ref.rnn_forward`."""
    cdef int T = X.shape[0], B = X.shape[1], I = X.shape[2], H = W_hh.shape[0]
    cdef int act = _act_code(activation)
    _check("W_xh", W_xh, (I, H)); _check("W_hh", W_hh, (H, H))
    _check("Hs", Hs, (T + 1, B, H))
    if b_h is not None:
        _check("b_h", b_h, (H,))
    if T == 0:
        return
    with nogil:
        rnn_forward_c(T, B, I, H, &X[0, 0, 0], &W_xh[0, 0], &W_hh[0, 0],
                      NULL if b_h is None else &b_h[0], act, &Hs[0, 0, 0])


def rnn_bptt(const double[:, :, ::1] X, const double[:, :, ::1] Hs, const double[:, ::1] W_xh,
             const double[:, ::1] W_hh, str activation, const double[:, :, ::1] dHs,
             double[:, :, ::1] dA, double[:, :, ::1] dX, double[:, ::1] dW_xh, double[:, ::1] dW_hh,
             double[::1] db_h, double[:, ::1] dh0):
    """Backpropagation through time; see :func:`models.recurrent._rnn_ref.rnn_bptt`."""
    cdef int T = X.shape[0], B = X.shape[1], I = X.shape[2], H = W_hh.shape[0]
    cdef int act = _act_code(activation)
    for name, arr, shape in (("Hs", Hs, (T + 1, B, H)), ("dHs", dHs, (T, B, H)), ("dA", dA, (T, B, H))):
        _check(name, arr, shape)
    _check("W_xh", W_xh, (I, H)); _check("W_hh", W_hh, (H, H))
    _check("dW_xh", dW_xh, (I, H)); _check("dW_hh", dW_hh, (H, H))
    if dX is not None:
        _check("dX", dX, (T, B, I))
    if db_h is not None:
        _check("db_h", db_h, (H,))
    if dh0 is not None:
        _check("dh0", dh0, (B, H))
    if T == 0:
        if dh0 is not None:
            dh0[...] = 0.0
        return
    cdef double[::1] work = np.empty(H * H)
    with nogil:
        rnn_bptt_c(T, B, I, H, &X[0, 0, 0], &Hs[0, 0, 0], &W_xh[0, 0], &W_hh[0, 0], act,
                   &dHs[0, 0, 0], &dA[0, 0, 0], NULL if dX is None else &dX[0, 0, 0],
                   &dW_xh[0, 0], &dW_hh[0, 0], NULL if db_h is None else &db_h[0],
                   NULL if dh0 is None else &dh0[0, 0], &work[0])


# ----------------------------------------------------------------------------- model kernel


cdef class RNNKernel(SequenceKernel):
    """Whole-model kernel of :class:`models.RNN` (forward, head, loss, BPTT in one call).

    Parameters
    ----------
    params, grads : dict of str to ndarray
        ``W_xh`` (I, H), ``W_hh`` (H, H), ``b_h`` (H,) optional, ``W_hy`` (H, O),
        ``b_y`` (O,) optional; ``grads`` holds arrays of the same shapes. Both are
        kept by reference: update them in place, never rebind.
    activation : {"tanh", "sigmoid"}
    head : {"softmax", "sigmoid"}
    batch_size, max_length : int
        Capacity: the largest batch and sequence length this kernel accepts.
    """
    cdef readonly object activation
    cdef int act
    cdef double* W_xh
    cdef double* W_hh
    cdef double* b_h
    cdef double* dW_xh
    cdef double* dW_hh
    cdef double* db_h
    cdef double* Hs
    cdef double* work

    def __init__(self, dict params, dict grads, *, str activation, str head, int batch_size,
                 int max_length):
        W_xh = params.get("W_xh")
        W_hh = params.get("W_hh")
        W_hy = params.get("W_hy")
        if W_xh is None or W_hh is None or W_hy is None:
            raise ValueError("params must hold W_xh, W_hh and W_hy")
        I, H = W_xh.shape
        O = W_hy.shape[1]
        super().__init__(params, grads, head=head, input_size=I, hidden_size=H, output_size=O,
                         batch_size=batch_size, max_length=max_length)
        self.activation = activation
        self.act = _act_code(activation)
        self.W_xh = self._param(params, "W_xh", (I, H), True)
        self.W_hh = self._param(params, "W_hh", (H, H), True)
        self.b_h = self._param(params, "b_h", (H,), False)
        self.dW_xh = self._param(grads, "W_xh", (I, H), True)
        self.dW_hh = self._param(grads, "W_hh", (H, H), True)
        self.db_h = self._param(grads, "b_h", (H,), self.b_h != NULL)
        self.Hs = self._scratch(((max_length + 1) * batch_size, H))
        self.work = self._scratch((H, H))

    cdef double _loss_and_grad_c(self, int k, bint dropout, bint want_grad) noexcept nogil:
        cdef double loss
        cdef int I = self.input_size, H = self.hidden_size
        cdef const double* X = self._inputs(k, dropout)
        cdef const double* H_out
        memset(self.Hs, 0, self.B * H * sizeof(double))
        rnn_forward_c(self.T, self.B, I, H, X, self.W_xh, self.W_hh, self.b_h, self.act, self.Hs)
        H_out = self._outputs(self.Hs + self.B * H, dropout)
        loss = self._head_forward(k, H_out, want_grad)
        if not want_grad:
            return loss
        self._head_backward(H_out, dropout)
        memset(self.dW_xh, 0, I * H * sizeof(double))
        memset(self.dW_hh, 0, H * H * sizeof(double))
        if self.db_h != NULL:
            memset(self.db_h, 0, H * sizeof(double))
        rnn_bptt_c(self.T, self.B, I, H, X, self.Hs, self.W_xh, self.W_hh, self.act, self.dH,
                   self.dH, NULL, self.dW_xh, self.dW_hh, self.db_h, NULL, self.work)
        return loss
