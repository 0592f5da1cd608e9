# cython: language_level=3
"""LSTM kernels (Cython): forward, backpropagation through time, single steps, and the
whole-model training kernel. The readable numpy twin, with the equations, is
``models/recurrent/_lstm_ref.py``; both fill the same preallocated float64 buffers and agree to
1e-10 (tests/models/test_parity.py). Gate blocks are ``[i, f, o, g]``.

Speed: the input projection of all T steps is one product ((T*B, I) @ (I, 4H)); the
weight gradients are two products over all T*B rows after the backward sweep; per step
only ``h_{t-1} W_h`` and ``dz_t W_h^T`` remain. BLAS dgemm when large enough, loops
otherwise (``models/core/_linalg.pxd``); no GIL.
"""
import numpy as np

from libc.math cimport exp, tanh
from libc.string cimport memcpy, memset

from models.core._linalg cimport (gemm, uses_blas, add_row_vector, add_column_sums, ws_sigmoid_inplace,
                             ws_tanh_inplace, ws_transpose, ws_lstm_cell_state, ws_lstm_cell_output,
                             ws_lstm_cell_backward)
from models.recurrent._seqkernel cimport SequenceKernel


# ----------------------------------------------------------------------------- C level


cdef void lstm_cell_forward_c(int B, int H, double* g, const double* c_prev, double* c,
                              double* tanh_c, double* h) noexcept nogil:
    """g (B, 4H) pre-activations -> activations in place; then c = f c_prev + i g,
    tanh(c), h = o tanh(c) (the elementwise loops of ``_simd.h``)."""
    cdef int r, H4 = 4 * H
    cdef double* gr
    for r in range(B):
        gr = g + r * H4
        ws_sigmoid_inplace(gr, 3 * H)                 # i, f, o
        ws_tanh_inplace(gr + 3 * H, H)                # g
    ws_lstm_cell_state(B, H, g, c_prev, c)
    memcpy(tanh_c, c, B * H * sizeof(double))
    ws_tanh_inplace(tanh_c, B * H)
    ws_lstm_cell_output(B, H, g, tanh_c, h)


cdef void lstm_cell_backward_c(int B, int H, const double* g, const double* c_prev,
                               const double* tanh_c, const double* dh, const double* dc,
                               double* dg, double* dc_prev) noexcept nogil:
    """Gate pre-activation gradients dg (B, 4H) and dc_prev (may alias dc; NULL: skip).

    Per element (the vectorised loop of ``_simd.h``, in this order)::

        dct = dh * o * (1 - tanh_c^2) + dc
        dg = [dct g i (1 - i), dct c_prev f (1 - f), dh tanh_c o (1 - o), dct i (1 - g^2)]
        dc_prev = dct f
    """
    ws_lstm_cell_backward(B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev)


cdef void lstm_step_forward_c(int B, int I, int H, const double* x, const double* h_prev,
                              const double* c_prev, const double* W_x, const double* W_h,
                              const double* b, double* g, double* c, double* tanh_c,
                              double* h) noexcept nogil:
    """One step: g (B, 4H) gate activations, c, tanh_c, h (B, H). Outputs must not alias inputs."""
    gemm(0, 0, B, 4 * H, I, 1.0, x, I, W_x, 4 * H, 0.0, g, 4 * H)
    gemm(0, 0, B, 4 * H, H, 1.0, h_prev, H, W_h, 4 * H, 1.0, g, 4 * H)
    if b != NULL:
        add_row_vector(B, 4 * H, g, b)
    lstm_cell_forward_c(B, H, g, c_prev, c, tanh_c, h)


cdef void lstm_step_backward_c(int B, int I, int H, const double* x, const double* h_prev,
                               const double* c_prev, const double* g, const double* tanh_c,
                               const double* W_x, const double* W_h, const double* dh,
                               const double* dc, double* dg, double* dx, double* dh_prev,
                               double* dc_prev, double* dW_x, double* dW_h, double* db) noexcept nogil:
    """dg (B, 4H) <- gate gradients; accumulates dW_x, dW_h, db; overwrites dx, dh_prev,
    dc_prev (each may be NULL; ``dc`` NULL means zero, and dc_prev may alias dc)."""
    lstm_cell_backward_c(B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev)
    gemm(1, 0, I, 4 * H, B, 1.0, x, I, dg, 4 * H, 1.0, dW_x, 4 * H)
    gemm(1, 0, H, 4 * H, B, 1.0, h_prev, H, dg, 4 * H, 1.0, dW_h, 4 * H)
    if db != NULL:
        add_column_sums(B, 4 * H, dg, db)
    if dx != NULL:
        gemm(0, 1, B, I, 4 * H, 1.0, dg, 4 * H, W_x, 4 * H, 0.0, dx, I)
    if dh_prev != NULL:
        gemm(0, 1, B, H, 4 * H, 1.0, dg, 4 * H, W_h, 4 * H, 0.0, dh_prev, H)


cdef void lstm_forward_c(int T, int B, int I, int H, const double* X, const double* W_x,
                         const double* W_h, const double* b, double* Hs, double* Cs, double* G,
                         double* tanhC) noexcept nogil:
    """Hs, Cs (T+1, B, H) with row block 0 set by the caller; fills the rest, G (T, B, 4H)
    and tanhC (T, B, H)."""
    cdef int t, n = B * H, n4 = 4 * B * H
    gemm(0, 0, T * B, 4 * H, I, 1.0, X, I, W_x, 4 * H, 0.0, G, 4 * H)
    if b != NULL:
        add_row_vector(T * B, 4 * H, G, b)
    for t in range(T):
        gemm(0, 0, B, 4 * H, H, 1.0, Hs + t * n, H, W_h, 4 * H, 1.0, G + t * n4, 4 * H)
        lstm_cell_forward_c(B, H, G + t * n4, Cs + t * n, Cs + (t + 1) * n, tanhC + t * n,
                        Hs + (t + 1) * n)


cdef void lstm_bptt_c(int T, int B, int I, int H, const double* X, const double* Hs,
                      const double* Cs, const double* G, const double* tanhC, const double* W_x,
                      const double* W_h, const double* dHs, double* dG, double* dX, double* dW_x,
                      double* dW_h, double* db, double* dh0, double* dc0,
                      double* work) noexcept nogil:
    """dG (T, B, 4H) <- gate gradients; accumulates dW_x, dW_h, db; overwrites dX (T, B, I),
    dh0, dc0 (B, H) when not NULL. ``work`` is scratch of 2 * B * H + 4 * H * H doubles
    (small sizes copy W_h^T there, so that the per-step product runs along rows)."""
    cdef int t, n = B * H, n4 = 4 * B * H
    cdef double* dh = work
    cdef double* dc = work + n
    cdef const double* W_h_T = NULL
    memset(dc, 0, n * sizeof(double))
    if not uses_blas(B, H, 4 * H) and T > 1:
        ws_transpose(H, 4 * H, W_h, work + 2 * n)
        W_h_T = work + 2 * n
    for t in range(T - 1, -1, -1):
        memcpy(dh, dHs + t * n, n * sizeof(double))
        if t < T - 1:
            if W_h_T != NULL:
                gemm(0, 0, B, H, 4 * H, 1.0, dG + (t + 1) * n4, 4 * H, W_h_T, H, 1.0, dh, H)
            else:
                gemm(0, 1, B, H, 4 * H, 1.0, dG + (t + 1) * n4, 4 * H, W_h, 4 * H, 1.0, dh, H)
        lstm_cell_backward_c(B, H, G + t * n4, Cs + t * n, tanhC + t * n, dh, dc, dG + t * n4, dc)
    if dh0 != NULL:
        gemm(0, 1, B, H, 4 * H, 1.0, dG, 4 * H, W_h, 4 * H, 0.0, dh0, H)
    if dc0 != NULL:
        memcpy(dc0, dc, n * sizeof(double))
    gemm(1, 0, I, 4 * H, T * B, 1.0, X, I, dG, 4 * H, 1.0, dW_x, 4 * H)
    gemm(1, 0, H, 4 * H, T * B, 1.0, Hs, H, dG, 4 * H, 1.0, dW_h, 4 * H)
    if db != NULL:
        add_column_sums(T * B, 4 * H, dG, db)
    if dX != NULL:
        gemm(0, 1, T * B, I, 4 * H, 1.0, dG, 4 * H, W_x, 4 * H, 0.0, dX, I)


# ----------------------------------------------------------------------------- Python level
# Same signatures as models/recurrent/_lstm_ref.py.


def _check(name, array, expected):
    shape = tuple(array.shape)[:len(expected)]
    if shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}, got {shape}")


def lstm_step_forward(const double[:, ::1] x, const double[:, ::1] h_prev, const double[:, ::1] c_prev,
                      const double[:, ::1] W_x, const double[:, ::1] W_h, const double[::1] b,
                      double[:, ::1] g, double[:, ::1] c, double[:, ::1] tanh_c, double[:, ::1] h):
    """One step; see :func:`models.recurrent._lstm_ref.lstm_step_forward`."""
    cdef int B = x.shape[0], I = x.shape[1], H = W_h.shape[0]
    for name, arr, shape in (("h_prev", h_prev, (B, H)), ("c_prev", c_prev, (B, H)),
                             ("W_x", W_x, (I, 4 * H)), ("W_h", W_h, (H, 4 * H)), ("g", g, (B, 4 * H)),
                             ("c", c, (B, H)), ("tanh_c", tanh_c, (B, H)), ("h", h, (B, H))):
        _check(name, arr, shape)
    if b is not None:
        _check("b", b, (4 * H,))
    with nogil:
        lstm_step_forward_c(B, I, H, &x[0, 0], &h_prev[0, 0], &c_prev[0, 0], &W_x[0, 0], &W_h[0, 0],
                            NULL if b is None else &b[0], &g[0, 0], &c[0, 0], &tanh_c[0, 0], &h[0, 0])


def lstm_step_backward(const double[:, ::1] x, const double[:, ::1] h_prev, const double[:, ::1] c_prev,
                       const double[:, ::1] g, const double[:, ::1] tanh_c, const double[:, ::1] W_x,
                       const double[:, ::1] W_h, const double[:, ::1] dh, const double[:, ::1] dc,
                       double[:, ::1] dg, double[:, ::1] dx, double[:, ::1] dh_prev,
                       double[:, ::1] dc_prev, double[:, ::1] dW_x, double[:, ::1] dW_h, double[::1] db):
    """Backward through one step; see :func:`models.recurrent._lstm_ref.lstm_step_backward`."""
    cdef int B = x.shape[0], I = x.shape[1], H = W_h.shape[0]
    for name, arr, shape in (("h_prev", h_prev, (B, H)), ("c_prev", c_prev, (B, H)), ("g", g, (B, 4 * H)),
                             ("tanh_c", tanh_c, (B, H)), ("W_x", W_x, (I, 4 * H)), ("W_h", W_h, (H, 4 * H)),
                             ("dh", dh, (B, H)), ("dg", dg, (B, 4 * H)), ("dW_x", dW_x, (I, 4 * H)),
                             ("dW_h", dW_h, (H, 4 * H))):
        _check(name, arr, shape)
    for name, arr, shape in (("dc", dc, (B, H)), ("dx", dx, (B, I)), ("dh_prev", dh_prev, (B, H)),
                             ("dc_prev", dc_prev, (B, H))):
        if arr is not None:
            _check(name, arr, shape)
    if db is not None:
        _check("db", db, (4 * H,))
    with nogil:
        lstm_step_backward_c(B, I, H, &x[0, 0], &h_prev[0, 0], &c_prev[0, 0], &g[0, 0], &tanh_c[0, 0],
                             &W_x[0, 0], &W_h[0, 0], &dh[0, 0], NULL if dc is None else &dc[0, 0],
                             &dg[0, 0], NULL if dx is None else &dx[0, 0],
                             NULL if dh_prev is None else &dh_prev[0, 0],
                             NULL if dc_prev is None else &dc_prev[0, 0], &dW_x[0, 0], &dW_h[0, 0],
                             NULL if db is None else &db[0])


def lstm_forward(const double[:, :, ::1] X, const double[:, ::1] W_x, const double[:, ::1] W_h,
                 const double[::1] b, double[:, :, ::1] Hs, double[:, :, ::1] Cs, double[:, :, ::1] G,
                 double[:, :, ::1] tanhC):
    """Forward over a batch of sequences; see :func:`models.recurrent._lstm_ref.lstm_forward`."""
    cdef int T = X.shape[0], B = X.shape[1], I = X.shape[2], H = W_h.shape[0]
    _check("W_x", W_x, (I, 4 * H)); _check("W_h", W_h, (H, 4 * H))
    for name, arr, shape in (("Hs", Hs, (T + 1, B, H)), ("Cs", Cs, (T + 1, B, H)),
                             ("G", G, (T, B, 4 * H)), ("tanhC", tanhC, (T, B, H))):
        _check(name, arr, shape)
    if b is not None:
        _check("b", b, (4 * H,))
    if T == 0:
        return
    with nogil:
        lstm_forward_c(T, B, I, H, &X[0, 0, 0], &W_x[0, 0], &W_h[0, 0], NULL if b is None else &b[0],
                       &Hs[0, 0, 0], &Cs[0, 0, 0], &G[0, 0, 0], &tanhC[0, 0, 0])


def lstm_bptt(const double[:, :, ::1] X, const double[:, :, ::1] Hs, const double[:, :, ::1] Cs,
              const double[:, :, ::1] G, const double[:, :, ::1] tanhC, const double[:, ::1] W_x,
              const double[:, ::1] W_h, const double[:, :, ::1] dHs, double[:, :, ::1] dG,
              double[:, :, ::1] dX, double[:, ::1] dW_x, double[:, ::1] dW_h, double[::1] db,
              double[:, ::1] dh0, double[:, ::1] dc0):
    """Backpropagation through time; see :func:`models.recurrent._lstm_ref.lstm_bptt`."""
    cdef int T = X.shape[0], B = X.shape[1], I = X.shape[2], H = W_h.shape[0]
    for name, arr, shape in (("Hs", Hs, (T + 1, B, H)), ("Cs", Cs, (T + 1, B, H)), ("G", G, (T, B, 4 * H)),
                             ("tanhC", tanhC, (T, B, H)), ("dHs", dHs, (T, B, H)), ("dG", dG, (T, B, 4 * H))):
        _check(name, arr, shape)
    for name, arr, shape in (("W_x", W_x, (I, 4 * H)), ("W_h", W_h, (H, 4 * H)),
                             ("dW_x", dW_x, (I, 4 * H)), ("dW_h", dW_h, (H, 4 * H))):
        _check(name, arr, shape)
    if dX is not None:
        _check("dX", dX, (T, B, I))
    for name, arr in (("dh0", dh0), ("dc0", dc0)):
        if arr is not None:
            _check(name, arr, (B, H))
    if db is not None:
        _check("db", db, (4 * H,))
    if T == 0:
        if dh0 is not None:
            dh0[...] = 0.0
        if dc0 is not None:
            dc0[...] = 0.0
        return
    cdef double[::1] work = np.empty(2 * B * H + 4 * H * H)
    with nogil:
        lstm_bptt_c(T, B, I, H, &X[0, 0, 0], &Hs[0, 0, 0], &Cs[0, 0, 0], &G[0, 0, 0], &tanhC[0, 0, 0],
                    &W_x[0, 0], &W_h[0, 0], &dHs[0, 0, 0], &dG[0, 0, 0],
                    NULL if dX is None else &dX[0, 0, 0], &dW_x[0, 0], &dW_h[0, 0],
                    NULL if db is None else &db[0], NULL if dh0 is None else &dh0[0, 0],
                    NULL if dc0 is None else &dc0[0, 0], &work[0])


# ----------------------------------------------------------------------------- model kernel


cdef class LSTMKernel(SequenceKernel):
    """Whole-model kernel of :class:`models.LSTM` (forward, head, loss, BPTT in one call).

    Parameters
    ----------
    params, grads : dict of str to ndarray
        ``W_x`` (I, 4H), ``W_h`` (H, 4H), ``b`` (4H,) optional, ``W_hy`` (H, O),
        ``b_y`` (O,) optional; ``grads`` holds arrays of the same shapes, kept by reference.
    head : {"softmax", "sigmoid"}
    batch_size, max_length : int
        Capacity: the largest batch and sequence length this kernel accepts.
    """
    cdef double* W_x
    cdef double* W_h
    cdef double* b
    cdef double* dW_x
    cdef double* dW_h
    cdef double* db
    cdef double* Hs
    cdef double* Cs
    cdef double* G
    cdef double* tanhC
    cdef double* dG
    cdef double* work

    def __init__(self, dict params, dict grads, *, str head, int batch_size, int max_length):
        W_x = params.get("W_x")
        W_hy = params.get("W_hy")
        if W_x is None or W_hy is None or params.get("W_h") is None:
            raise ValueError("params must hold W_x, W_h and W_hy")
        I, H4 = W_x.shape
        H = H4 // 4
        O = W_hy.shape[1]
        super().__init__(params, grads, head=head, input_size=I, hidden_size=H, output_size=O,
                         batch_size=batch_size, max_length=max_length)
        self.W_x = self._param(params, "W_x", (I, 4 * H), True)
        self.W_h = self._param(params, "W_h", (H, 4 * H), True)
        self.b = self._param(params, "b", (4 * H,), False)
        self.dW_x = self._param(grads, "W_x", (I, 4 * H), True)
        self.dW_h = self._param(grads, "W_h", (H, 4 * H), True)
        self.db = self._param(grads, "b", (4 * H,), self.b != NULL)
        rows = max_length * batch_size
        self.Hs = self._scratch(((max_length + 1) * batch_size, H))
        self.Cs = self._scratch(((max_length + 1) * batch_size, H))
        self.G = self._scratch((rows, 4 * H))
        self.tanhC = self._scratch((rows, H))
        self.dG = self._scratch((rows, 4 * H))
        self.work = self._scratch((2 * batch_size + 4 * H, H))

    cdef double _loss_and_grad_c(self, int k, bint dropout, bint want_grad) noexcept nogil:
        cdef double loss
        cdef int I = self.input_size, H = self.hidden_size, n = self.B * self.hidden_size
        cdef const double* X = self._inputs(k, dropout)
        cdef const double* H_out
        memset(self.Hs, 0, n * sizeof(double))
        memset(self.Cs, 0, n * sizeof(double))
        lstm_forward_c(self.T, self.B, I, H, X, self.W_x, self.W_h, self.b, self.Hs, self.Cs, self.G,
                       self.tanhC)
        H_out = self._outputs(self.Hs + n, dropout)
        loss = self._head_forward(k, H_out, want_grad)
        if not want_grad:
            return loss
        self._head_backward(H_out, dropout)
        memset(self.dW_x, 0, I * 4 * H * sizeof(double))
        memset(self.dW_h, 0, H * 4 * H * sizeof(double))
        if self.db != NULL:
            memset(self.db, 0, 4 * H * sizeof(double))
        lstm_bptt_c(self.T, self.B, I, H, X, self.Hs, self.Cs, self.G, self.tanhC, self.W_x, self.W_h,
                    self.dH, self.dG, NULL, self.dW_x, self.dW_h, self.db, NULL, NULL, self.work)
        return loss
