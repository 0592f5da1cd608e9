# cython: language_level=3
"""Memory-augmented RNN/LSTM whole-model kernel (Cython): controller, memory-facing
layer, Neural Stack / Queue / DeQue, output head, auxiliary losses, and the exact
backward pass, all in one ``nogil`` call per training step.

The readable numpy twin, with the equations, is ``models/estimators/_memory_rnn_ref.py``; both
agree to 1e-10 (tests/models/test_memory_rnn_parity.py). The pieces come from the
kernels of the earlier models: ``lstm_step_*_c`` / ``rnn_step_*_c`` (``_lstm.pxd``,
``_rnn.pxd``) for the controller, ``*_step_*_c`` of ``_memory.pxd`` for the memories,
the output head of ``SequenceKernel``.

Buffers, time-major rows ``t * B + b``:

- ``U`` (T*B, D+R): controller inputs ``[e_t, r_{t-1}]``; only ``r_{t-1}`` is kept
  (copied in per step): the embedding enters through ``X (E W_x[:D])``, one product for
  all steps.
- ``M`` (T*B, K): the memory-facing layer after its activations, columns
  ``[push (P), pop (P), values (P*W)]``; the memories read their values from it in
  place (value stride ``B * K``), and ``dM`` receives their gradients the same way.
- ``S`` (B, T, Lmax): the strength of every cell after every step, per sequence.

Inference kernels (``inference=True``: ``predict``, ``evaluate``, ``run``) keep no
per-step history the forward pass does not read again: two rolling rows of strengths per
sequence (a memory step reads the strengths after the previous step and writes the new
ones), two of the LSTM cell state and of the reads, one step block of ``U`` and
``tanh(c)``, and no gradient buffers. They still keep ``M`` (the pushed values, which any
later read may reach: O(T W)), ``G`` and ``Hs`` (the output layer runs once over all
steps), so memory is O(T (W + H)) per sequence instead of O(T^2), and the arithmetic of
every step is that of the training forward pass (same calls, same operands): the
probabilities are identical.

Backward, t = T-1 .. 0: ``d r_t`` = (from the controller input of step t+1) + (auxiliary
loss); the memory's backward step t; ``dM`` row t to pre-activations; ``dh += dM_t
W_mem^T``; the controller step t (the parameter gradients of the memory-facing layer
and the embedding are one product each at the end).
"""
import numpy as np

from libc.string cimport memcpy, memset
from libc.stdint cimport int64_t

from models.core._linalg cimport (gemm, add_row_vector, add_column_sums, head_loss_and_grad, HEAD_SOFTMAX,
                             ACT_TANH, ws_sigmoid_inplace, ws_tanh_inplace, ws_transpose)
from models.recurrent._lstm cimport lstm_cell_forward_c, lstm_cell_backward_c
from models.recurrent._seqkernel cimport SequenceKernel
from models.memory._memory cimport MemoryOps, memory_ops
from models.estimators._memory_cells cimport _step_gemm, _controls_softmax, _controls_softmax_backward


# ----------------------------------------------------------------------------- cells
# The gate arithmetic of models/recurrent/_lstm.pyx (gate blocks [i, f, o, g]); the products around
# it are arranged differently here: the symbol part of every step's input projection is
# one product before the loop (with the embedding folded in: x_t (E W_x[:D]) costs I, not
# D, multiply-adds per gate; a row gather when the inputs are one-hot symbols), the
# parameter gradients one product each after it.


#: How the memory-facing layer sets each end's push and pop strengths: "sigmoid", one
#: sigmoid each (Grefenstette et al.: a push and a pop can both be near 1), or "softmax",
#: one softmax over (push, pop, no-op) logits (the Stack-RNN's actions, Joulin & Mikolov
#: 2015, as in Deletang et al.'s Stack-RNN: push + pop <= 1, so the model chooses).
CONTROLS = ("sigmoid", "softmax")


cdef bint _gather_one_hot_rows(int rows, int I, const double* X, int n, const double* PE,
                               double* G) noexcept nogil:
    """``G (rows, n) = X (rows, I) @ PE (I, n)`` as a row gather when every row of X is
    one-hot (a single 1, the rest 0) or all 0, as the symbol inputs are (without input
    dropout); returns False, writing nothing, otherwise. The same numbers as the product:
    each element is one exact term plus exact zeros."""
    cdef int r, j, hot
    cdef const double* x
    for r in range(rows):
        x = X + <size_t>r * I
        hot = 0
        for j in range(I):
            if x[j] == 1.0:
                hot += 1
            elif x[j] != 0.0:
                return False
        if hot > 1:
            return False
    for r in range(rows):
        x = X + <size_t>r * I
        hot = -1
        for j in range(I):
            if x[j] == 1.0:
                hot = j
        if hot >= 0:
            memcpy(G + <size_t>r * n, PE + <size_t>hot * n, n * sizeof(double))
        else:
            memset(G + <size_t>r * n, 0, n * sizeof(double))
    return True


cdef class MemoryRNNKernel(SequenceKernel):
    """Whole-model kernel of :class:`models.MemoryRNN`; same constructor and methods as
    :class:`models.estimators._memory_rnn_ref.MemoryRNNKernel`."""
    cdef readonly object controller, memory
    cdef bint lstm, stop_gradient, has_E
    cdef bint has_memory
    cdef bint hist                       # keep every step (training); 0: rolling rows (inference)
    cdef int S_rows                      # strength rows per sequence: max_length, or 2
    cdef MemoryOps ops
    cdef int W, P, R, D, K, Din, Lmax, separator, n_symbols
    cdef double aux_hidden, aux_memory
    cdef public double sharpen
    cdef bint hard                       # inference: push and pop strengths rounded to 0 or 1
    cdef bint softmax                    # controls "softmax": (push, pop, no-op) of each end by a softmax
    cdef readonly str controls
    cdef public double aux_loss
    cdef double* E
    cdef double* dE
    cdef double* Wx
    cdef double* Wh
    cdef double* bc
    cdef double* dWx
    cdef double* dWh
    cdef double* dbc
    cdef double* W_mem
    cdef double* b_mem
    cdef double* dW_mem
    cdef double* db_mem
    cdef double* A_h
    cdef double* a_h
    cdef double* dA_h
    cdef double* da_h
    cdef double* A_r
    cdef double* a_r
    cdef double* dA_r
    cdef double* da_r
    # forward state
    cdef double* U
    cdef double* Hs
    cdef double* Cs
    cdef double* G
    cdef double* tanhC
    cdef double* M
    cdef double* Rd
    cdef double* S
    cdef double* wscr
    # backward state
    cdef double* dU
    cdef double* dG
    cdef double* PE
    cdef double* dPE
    cdef double* WhT
    cdef double* WxrT
    cdef double* WmT
    cdef double* dM
    cdef double* dS
    cdef double* mscr
    cdef double* dh
    cdef double* dh_next
    cdef double* dc
    cdef double* dgate
    cdef double* dread
    cdef double* dRaux
    cdef double* Zaux
    cdef double* dZaux
    cdef double* aux_mask
    cdef double* aux_prev_mask
    cdef int64_t* aux_ids
    cdef int64_t* aux_prev_ids
    cdef object _M_arr, _S_arr, _ids_arr

    def __init__(self, dict params, dict grads, *, str controller, memory, int width, str head,
                 int batch_size, int max_length, int separator=-1, bint stop_gradient=False,
                 double aux_hidden=0.0, double aux_memory=0.0, int n_symbols=0, double sharpen=0.0,
                 bint inference=False, bint hard=False, str controls="sigmoid"):
        if controller not in ("rnn", "lstm"):
            raise ValueError(f"controller must be 'rnn' or 'lstm', got {controller!r}")
        if controls not in CONTROLS:
            raise ValueError(f"controls must be one of {', '.join(map(repr, CONTROLS))}, got {controls!r}")
        self.controls = controls
        self.softmax = controls == "softmax"
        self.has_memory = memory is not None
        if self.has_memory:
            self.ops = memory_ops(memory)          # ValueError for an unknown kind
        W_hy = params.get("W_hy")
        if W_hy is None:
            raise ValueError("params must hold W_hy")
        H, O = W_hy.shape
        self.lstm = controller == "lstm"
        W_in = params.get("W_x" if self.lstm else "W_xh")
        if W_in is None:
            raise ValueError(f"params must hold {'W_x' if self.lstm else 'W_xh'}")
        self.W = width
        self.P = self.ops.ends if self.has_memory else 0
        self.R = self.P * width
        self.K = 2 * self.P + self.P * width + (self.P if self.softmax else 0)   # + no-op logits
        self.Din = W_in.shape[0]
        self.D = self.Din - self.R
        E = params.get("E")
        self.has_E = E is not None
        I = E.shape[0] if self.has_E else self.D
        super().__init__(params, grads, head=head, input_size=I, hidden_size=H, output_size=O,
                         batch_size=batch_size, max_length=max_length, inference=inference)
        self.controller, self.memory = controller, memory
        self.separator, self.stop_gradient = separator, stop_gradient
        self.aux_hidden, self.aux_memory, self.n_symbols = aux_hidden, aux_memory, n_symbols
        self.sharpen = sharpen
        if hard and not inference:
            raise ValueError("hard strengths (rounded to 0 or 1) have no gradient: only an inference kernel "
                             "(inference=True) takes hard=True")
        self.hard = hard
        self.aux_loss = 0.0
        cdef int D = self.D, Din = self.Din, K = self.K, R = self.R, V = n_symbols
        self.E = self.dE = NULL
        if self.has_E:
            self.E = self._param(params, "E", (I, D), True)
            self.dE = self._param(grads, "E", (I, D), True)
        gates = 4 * H if self.lstm else H
        self.Wx = self._param(params, "W_x" if self.lstm else "W_xh", (Din, gates), True)
        self.Wh = self._param(params, "W_h" if self.lstm else "W_hh", (H, gates), True)
        self.bc = self._param(params, "b" if self.lstm else "b_h", (gates,), True)
        self.dWx = self._param(grads, "W_x" if self.lstm else "W_xh", (Din, gates), True)
        self.dWh = self._param(grads, "W_h" if self.lstm else "W_hh", (H, gates), True)
        self.dbc = self._param(grads, "b" if self.lstm else "b_h", (gates,), True)
        self.W_mem = self.b_mem = self.dW_mem = self.db_mem = NULL
        if self.has_memory:
            self.W_mem = self._param(params, "W_mem", (H, K), True)
            self.b_mem = self._param(params, "b_mem", (K,), True)
            self.dW_mem = self._param(grads, "W_mem", (H, K), True)
            self.db_mem = self._param(grads, "b_mem", (K,), True)
        self.A_h = self.a_h = self.dA_h = self.da_h = NULL
        self.A_r = self.a_r = self.dA_r = self.da_r = NULL
        if aux_hidden > 0:
            self.A_h = self._param(params, "A_h", (H, V), True)
            self.a_h = self._param(params, "a_h", (V,), True)
            self.dA_h = self._param(grads, "A_h", (H, V), True)
            self.da_h = self._param(grads, "a_h", (V,), True)
        if aux_memory > 0:
            if not self.has_memory:
                raise ValueError("aux_memory needs a memory")
            self.A_r = self._param(params, "A_r", (R, V), True)
            self.a_r = self._param(params, "a_r", (V,), True)
            self.dA_r = self._param(grads, "A_r", (R, V), True)
            self.da_r = self._param(grads, "a_r", (V,), True)
        if (aux_hidden > 0 or aux_memory > 0) and (V < 1 or V > I):
            raise ValueError(f"n_symbols must lie in [1, {I}] with the auxiliary losses, got {V}")
        rows = max_length * batch_size
        self.Lmax = (self.ops.cells_per_step if self.has_memory else 1) * max_length
        cdef int Lm = self.Lmax if self.has_memory else 1
        self.hist = not inference
        cdef int steps = max_length if self.hist else 1            # step blocks of U and tanh(c)
        cdef int rolls = max_length if self.hist else 2            # of the reads and (+1) the cell state
        self.S_rows = rolls
        self.U = self._scratch((steps * batch_size, Din))
        self.Hs = self._scratch(((max_length + 1) * batch_size, H))
        self.Cs = self._scratch(((rolls + 1 if self.hist else 2) * batch_size, H))
        self.G = self._scratch((rows, gates))
        self.tanhC = self._scratch((steps * batch_size, H))
        self._M_arr = np.zeros((rows, max(K, 1)))
        self._buffers_keep.append(self._M_arr)
        cdef double[:, ::1] mview = self._M_arr
        self.M = &mview[0, 0]
        self.Rd = self._scratch((rolls * batch_size, max(R, 1)))
        self._S_arr = np.zeros((batch_size, rolls, Lm))
        self._buffers_keep.append(self._S_arr)
        cdef double[:, :, ::1] sview = self._S_arr
        self.S = &sview[0, 0, 0]
        self.wscr = self._scratch((2, Lm))
        self.PE = self._scratch((I, gates))
        self.dU = self.dG = self.dPE = self.WhT = self.WxrT = self.WmT = self.dM = self.dS = self.mscr = NULL
        self.dh = self.dh_next = self.dc = self.dgate = self.dread = self.dRaux = self.Zaux = self.dZaux = NULL
        self.aux_mask = self.aux_prev_mask = NULL
        self.aux_ids = self.aux_prev_ids = NULL
        if inference:
            return
        self.dU = self._scratch((rows, Din))
        self.dG = self._scratch((rows, gates))
        self.dPE = self._scratch((I, gates))
        self.WhT = self._scratch((gates, H))
        self.WxrT = self._scratch((gates, max(R, 1)))
        self.WmT = self._scratch((max(K, 1), H))
        self.dM = self._scratch((rows, max(K, 1)))
        self.dS = self._scratch((batch_size, Lm))
        self.mscr = self._scratch((4, Lm))
        self.dh = self._scratch((batch_size, H))
        self.dh_next = self._scratch((batch_size, H))
        self.dc = self._scratch((batch_size, H))
        self.dgate = self._scratch((batch_size, gates))
        self.dread = self._scratch((batch_size, max(R, 1)))
        self.dRaux = self._scratch((rows, max(R, 1)))
        self.Zaux = self._scratch((rows, max(V, 1)))
        self.dZaux = self._scratch((rows, max(V, 1)))
        self.aux_mask = self._scratch((rows,))
        self.aux_prev_mask = self._scratch((rows,))
        self._ids_arr = np.zeros((2, rows), dtype=np.int64)
        cdef int64_t[:, ::1] iview = self._ids_arr
        self.aux_ids = &iview[0, 0]
        self.aux_prev_ids = &iview[1, 0]

    # ------------------------------------------------------------------ rows of the history
    # Step t's row of a buffer kept for every step (training), or of the rolling rows an
    # inference kernel keeps instead (two, or one where nothing is read back).

    cdef inline size_t _roll(self, int t) noexcept nogil:
        return <size_t>t if self.hist else <size_t>(t & 1)

    cdef inline double* _strengths(self, int b, int t) noexcept nogil:
        """The strengths of sequence b after step t (Lmax doubles)."""
        return self.S + (<size_t>b * self.S_rows + self._roll(t)) * self.Lmax

    cdef inline double* _reads(self, int t) noexcept nogil:
        """The reads r_t of step t, (B, R)."""
        return self.Rd + self._roll(t) * self.B * self.R

    cdef inline double* _cell(self, int t) noexcept nogil:
        """The LSTM cell state c_{t-1} entering step t, (B, H) (t = 0: zeros)."""
        return self.Cs + self._roll(t) * self.B * self.hidden_size

    # ------------------------------------------------------------------ forward

    cdef void _memory_forward(self, int t) noexcept nogil:
        """Memory step t for every sequence: strengths, reads into the reads of step t."""
        cdef int b, B = self.B, T = self.T, K = self.K, W = self.W, R = self.R, P = self.P
        cdef Py_ssize_t Lm = self.Lmax
        cdef double* Mt = self.M + <size_t>t * B * K
        cdef double* s_prev
        cdef double* m
        cdef double* read = self._reads(t)
        for b in range(B):
            m = Mt + b * K
            s_prev = self._strengths(b, t - 1) if t > 0 else self._strengths(b, 0)
            self.ops.forward_step(t, T, W, self.M + b * K + 2 * P, B * K, m, m + P, s_prev,
                                  self._strengths(b, t), self.wscr, Lm, read + b * R)

    cdef void _memory_backward(self, int t) noexcept nogil:
        """Memory backward step t for every sequence, given d r_t in ``dread``."""
        cdef int b, B = self.B, T = self.T, K = self.K, W = self.W, R = self.R, P = self.P
        cdef Py_ssize_t Lm = self.Lmax
        cdef double* Mt = self.M + <size_t>t * B * K
        cdef double* dMt = self.dM + <size_t>t * B * K
        cdef double* Sb
        cdef double* s_prev
        cdef double* m
        cdef double* dm
        cdef double* dr
        for b in range(B):
            m = Mt + b * K
            dm = dMt + b * K
            Sb = self.S + <size_t>b * self.max_length * Lm
            s_prev = Sb + (t - 1) * Lm if t > 0 else Sb
            dr = self.dread + b * R
            self.ops.backward_step(t, T, W, self.M + b * K + 2 * P, B * K, m + P, s_prev, Sb + t * Lm, dr,
                                   self.dS + b * Lm, self.dM + b * K + 2 * P, B * K, dm, dm + P, self.mscr)

    cdef void _controller_forward(self, const double* X) noexcept nogil:
        """Controller, memory-facing layer and memory over the bound batch of inputs X."""
        self._controller_start(X)
        self._controller_steps(0, self.T)

    cdef void _controller_start(self, const double* X) noexcept nogil:
        """Before step 0: h_{-1} = c_{-1} = 0, and the symbol part of every step's
        pre-activations, G = X (E W_x[:D]) + b."""
        cdef int B = self.B, T = self.T, H = self.hidden_size, n = B * H
        cdef int D = self.D, gates = (4 if self.lstm else 1) * H
        memset(self.Hs, 0, n * sizeof(double))
        memset(self.Cs, 0, n * sizeof(double))
        if self.has_E:
            gemm(0, 0, self.input_size, gates, D, 1.0, self.E, D, self.Wx, gates, 0.0, self.PE, gates)
            if not _gather_one_hot_rows(T * B, self.input_size, X, gates, self.PE, self.G):
                gemm(0, 0, T * B, gates, self.input_size, 1.0, X, self.input_size, self.PE, gates, 0.0, self.G, gates)
        else:
            gemm(0, 0, T * B, gates, D, 1.0, X, D, self.Wx, gates, 0.0, self.G, gates)
        add_row_vector(T * B, gates, self.G, self.bc)

    cdef void _controller_steps(self, int t0, int t1) noexcept nogil:
        """Steps t0 .. t1-1 of the controller, memory-facing layer and memory (steps < t0 done)."""
        cdef int t, b, j, B = self.B, H = self.hidden_size, K = self.K, R = self.R
        cdef int D = self.D, Din = self.Din, n = B * H, gates = (4 if self.lstm else 1) * H
        cdef double* Ut
        cdef double* Gt
        cdef double* Mt
        cdef double* h
        cdef double* r_prev
        for t in range(t0, t1):
            Ut = self.U + (<size_t>t * B * Din if self.hist else 0)
            Gt = self.G + <size_t>t * B * gates
            h = self.Hs + <size_t>(t + 1) * n
            if R > 0:
                r_prev = self._reads(t - 1) if t > 0 else NULL
                for b in range(B):
                    if t > 0:
                        memcpy(Ut + b * Din + D, r_prev + b * R, R * sizeof(double))
                    else:
                        memset(Ut + b * Din + D, 0, R * sizeof(double))
                if t > 0:                                    # + r_{t-1} W_x[D:]
                    _step_gemm(B, gates, R, Ut + D, Din, self.Wx + <size_t>D * gates, gates, 1.0, Gt, gates)
            if t > 0:                                        # + h_{t-1} W_h
                _step_gemm(B, gates, H, self.Hs + <size_t>t * n, H, self.Wh, gates, 1.0, Gt, gates)
            if self.lstm:
                lstm_cell_forward_c(B, H, Gt, self._cell(t), self._cell(t + 1),
                                    self.tanhC + (<size_t>t * n if self.hist else 0), h)
            else:
                memcpy(h, Gt, n * sizeof(double))
                ws_tanh_inplace(h, n)
            if not self.has_memory:
                continue
            Mt = self.M + <size_t>t * B * K
            _step_gemm(B, K, H, h, H, self.W_mem, K, 0.0, Mt, K)
            add_row_vector(B, K, Mt, self.b_mem)
            for b in range(B):
                if self.softmax:
                    _controls_softmax(self.P, Mt + b * K, Mt + b * K + 2 * self.P + R)
                else:
                    ws_sigmoid_inplace(Mt + b * K, 2 * self.P)
                ws_tanh_inplace(Mt + b * K + 2 * self.P, R)
                if self.hard:                                # each strength 0 or 1: above or below 0.5
                    for j in range(2 * self.P):
                        Mt[b * K + j] = 1.0 if Mt[b * K + j] > 0.5 else 0.0
            self._memory_forward(t)

    def infer(self, int k, callback=None, int report_steps=256):
        """Probabilities of bound batch ``k`` into ``probs[k]``, as :meth:`forward` (the same
        numbers), ``report_steps`` steps per call without the GIL: ``callback(n)``, if
        given, after each, with ``n`` the sequence-steps just done (steps x B); between
        calls Python handles signals, so Ctrl-C stops a long sequence. Returns the loss."""
        self._check_index(k)
        if report_steps < 1:
            raise ValueError(f"report_steps must be >= 1, got {report_steps}")
        cdef const double* X
        cdef int t0 = 0, t1
        cdef double loss
        with nogil:
            X = self._inputs(k, False)
            self._controller_start(X)
        while t0 < self.T:
            t1 = min(self.T, t0 + report_steps)
            with nogil:
                self._controller_steps(t0, t1)
            if callback is not None:
                callback((t1 - t0) * self.B)
            t0 = t1
        with nogil:
            loss = self._head_forward(k, self.Hs + <size_t>self.B * self.hidden_size, False)
        return loss

    # ------------------------------------------------------------------ auxiliary losses

    cdef void _aux_targets(self, const double* X0) noexcept nogil:
        """Symbol id and mask of each row's input; the same shifted by one step (prev)."""
        cdef int r, j, best, rows = self.T * self.B, B = self.B, I = self.input_size, V = self.n_symbols
        cdef const double* x
        cdef double total
        for r in range(rows):
            x = X0 + <size_t>r * I
            best = 0
            total = 0.0
            for j in range(V):
                total += x[j]
                if x[j] > x[best]:
                    best = j
            self.aux_ids[r] = best
            self.aux_mask[r] = 1.0 if total > 0.5 else 0.0
        for r in range(rows):
            if r < B:
                self.aux_prev_ids[r] = 0
                self.aux_prev_mask[r] = 0.0
            else:
                self.aux_prev_ids[r] = self.aux_ids[r - B]
                self.aux_prev_mask[r] = self.aux_mask[r - B]

    cdef double _aux_loss(self, const double* Z_in, int F, const double* A, const double* a, double* dA,
                          double* da, const int64_t* ids, const double* mask, double weight,
                          double* dZ_in) noexcept nogil:
        """Softmax CE of ``Z_in (rows, F) A + a``: loss; overwrites dA, da; dZ_in (rows, F) +=."""
        cdef int rows = self.T * self.B, V = self.n_symbols
        cdef double loss
        gemm(0, 0, rows, V, F, 1.0, Z_in, F, A, V, 0.0, self.Zaux, V)
        add_row_vector(rows, V, self.Zaux, a)
        loss = head_loss_and_grad(HEAD_SOFTMAX, rows, V, self.Zaux, ids, NULL, mask, weight / self.B, self.dZaux)
        gemm(1, 0, F, V, rows, 1.0, Z_in, F, self.dZaux, V, 0.0, dA, V)
        memset(da, 0, V * sizeof(double))
        add_column_sums(rows, V, self.dZaux, da)
        gemm(0, 1, rows, F, V, 1.0, self.dZaux, V, A, V, 1.0, dZ_in, F)
        return loss

    # ------------------------------------------------------------------ whole step

    cdef double _loss_and_grad_c(self, int k, bint dropout, bint want_grad) noexcept nogil:
        cdef int t, b, j, B = self.B, T = self.T, H = self.hidden_size, K = self.K, R = self.R
        cdef int I = self.input_size, D = self.D, Din = self.Din, P = self.P, n = B * H
        cdef int gates = (4 if self.lstm else 1) * H, rows = T * B, cut = -1
        cdef const double* X0 = self.X + <size_t>k * rows * I
        cdef const double* X = self._inputs(k, dropout)
        cdef const double* H_out
        cdef double* Ut
        cdef double* dUt
        cdef double* Mt
        cdef double* dMt
        cdef double* dH_t
        cdef double* dGt
        cdef double* h_t
        cdef double loss, v, sw = self.sharpen / B, penalty = 0.0
        self._controller_forward(X)
        H_out = self._outputs(self.Hs + n, dropout)
        loss = self._head_forward(k, H_out, want_grad)
        if not want_grad:
            return loss
        self._head_backward(H_out, dropout)                  # self.dH = dL/dh_t (rows, H)
        # auxiliary losses
        self.aux_loss = 0.0
        if R > 0 and self.aux_memory > 0:
            memset(self.dRaux, 0, <size_t>rows * R * sizeof(double))
        if self.aux_hidden > 0 or self.aux_memory > 0:
            self._aux_targets(X0)
            if self.aux_hidden > 0:                          # h_t -> x_{t-1}
                self.aux_loss += self._aux_loss(self.Hs + n, H, self.A_h, self.a_h, self.dA_h, self.da_h,
                                                self.aux_prev_ids, self.aux_prev_mask, self.aux_hidden, self.dH)
            if self.aux_memory > 0:                          # r_{t-1} -> x_{t-1}
                self.aux_loss += self._aux_loss(self.Rd, R, self.A_r, self.a_r, self.dA_r, self.da_r,
                                                self.aux_ids, self.aux_mask, self.aux_memory, self.dRaux)
        # stop-gradient position: the step that reads the separator
        if self.stop_gradient and self.separator >= 0:
            for t in range(T):
                if X0[<size_t>t * B * I + self.separator] > 0.5:
                    cut = t
                    break
        # transposed weights, so that the per-step products run along rows
        ws_transpose(H, gates, self.Wh, self.WhT)
        if R > 0:
            ws_transpose(R, gates, self.Wx + <size_t>D * gates, self.WxrT)
        if K > 0 and self.has_memory:
            ws_transpose(H, K, self.W_mem, self.WmT)
        memset(self.dh_next, 0, n * sizeof(double))
        memset(self.dc, 0, n * sizeof(double))
        # (dU needs no zeroing: its row block t >= 1 is written at step t before step t-1 reads it)
        if self.has_memory:
            memset(self.dM, 0, <size_t>rows * K * sizeof(double))
            memset(self.dS, 0, <size_t>B * self.Lmax * sizeof(double))
        for t in range(T - 1, -1, -1):
            dH_t = self.dH + <size_t>t * n
            for j in range(n):
                self.dh[j] = dH_t[j] + self.dh_next[j]
            if self.has_memory:
                # d r_t: from the controller input of step t+1, and the auxiliary loss
                for b in range(B):
                    for j in range(R):
                        v = self.dRaux[(<size_t>t * B + b) * R + j] if self.aux_memory > 0 else 0.0
                        if t + 1 < T:
                            v = v + self.dU[(<size_t>(t + 1) * B + b) * Din + D + j]
                        self.dread[b * R + j] = v
                self._memory_backward(t)
                Mt = self.M + <size_t>t * B * K
                dMt = self.dM + <size_t>t * B * K
                for b in range(B):
                    for j in range(2 * P):
                        v = Mt[b * K + j]
                        if sw > 0:                   # + sharpen/B * s (1 - s) on the strengths
                            penalty += v * (1.0 - v)
                            dMt[b * K + j] += sw * (1.0 - 2.0 * v)
                        if not self.softmax:
                            dMt[b * K + j] *= v * (1.0 - v)
                    if self.softmax:
                        _controls_softmax_backward(P, Mt + b * K, Mt + b * K + 2 * P + R, dMt + b * K,
                                                   dMt + b * K + 2 * P + R)
                    for j in range(2 * P, 2 * P + R):
                        v = Mt[b * K + j]
                        dMt[b * K + j] *= 1.0 - v * v
                _step_gemm(B, H, K, dMt, K, self.WmT, H, 1.0, self.dh, H)
            dGt = self.dG + <size_t>t * B * gates
            if self.lstm:
                lstm_cell_backward_c(B, H, self.G + <size_t>t * B * gates, self.Cs + <size_t>t * n,
                                     self.tanhC + <size_t>t * n, self.dh, self.dc, dGt, self.dc)
            else:
                h_t = self.Hs + <size_t>(t + 1) * n
                for j in range(n):
                    dGt[j] = self.dh[j] * (1.0 - h_t[j] * h_t[j])
            if t == cut:                     # stop-gradient: h, c entering the separator step
                memset(self.dh_next, 0, n * sizeof(double))
                memset(self.dc, 0, n * sizeof(double))
            elif t > 0:
                _step_gemm(B, H, gates, dGt, gates, self.WhT, H, 0.0, self.dh_next, H)
            if R > 0 and t > 0:              # d r_{t-1} = dg_t W_x[D:]^T
                _step_gemm(B, R, gates, dGt, gates, self.WxrT, R, 0.0, self.dU + <size_t>t * B * Din + D, Din)
        self.aux_loss += sw * penalty
        # parameter gradients: one product each over all T*B rows
        if R > 0:                            # dW_x[D:] = [r_{t-1}]^T dG
            gemm(1, 0, R, gates, rows, 1.0, self.U + D, Din, self.dG, gates, 0.0, self.dWx + <size_t>D * gates,
                 gates)
        if self.has_E:                       # dP = X^T dG; dW_x[:D] = E^T dP; dE = dP W_x[:D]^T
            gemm(1, 0, I, gates, rows, 1.0, X, I, self.dG, gates, 0.0, self.dPE, gates)
            gemm(1, 0, D, gates, I, 1.0, self.E, D, self.dPE, gates, 0.0, self.dWx, gates)
            gemm(0, 1, I, D, gates, 1.0, self.dPE, gates, self.Wx, gates, 0.0, self.dE, D)
        else:
            gemm(1, 0, D, gates, rows, 1.0, X, D, self.dG, gates, 0.0, self.dWx, gates)
        if T > 1:
            gemm(1, 0, H, gates, (T - 1) * B, 1.0, self.Hs + n, H, self.dG + <size_t>B * gates, gates, 0.0,
                 self.dWh, gates)
        else:
            memset(self.dWh, 0, <size_t>H * gates * sizeof(double))
        memset(self.dbc, 0, gates * sizeof(double))
        add_column_sums(rows, gates, self.dG, self.dbc)
        if self.has_memory:
            gemm(1, 0, H, K, rows, 1.0, self.Hs + n, H, self.dM, K, 0.0, self.dW_mem, K)
            memset(self.db_mem, 0, K * sizeof(double))
            add_column_sums(rows, K, self.dM, self.db_mem)
        return loss

    # ------------------------------------------------------------------ inspection

    def memory_trace(self):
        """After ``forward``: push and pop strengths (T, B, P) and the strength of every
        memory cell after every step (B, T, L) of the last batch run."""
        if self.inference:
            raise ValueError("an inference kernel keeps two rows of strengths, not the trace: memory_trace needs "
                             "a kernel built with inference=False")
        if not self.has_memory or self.n_bound == 0:
            raise ValueError("no memory trace: run forward(k) on a model with a memory first")
        T, B, P, K = self.T, self.B, self.P, self.K
        L = self.ops.cells_per_step * T
        M = self._M_arr[:T * B].reshape(T, B, max(K, 1))
        return {"push": M[:, :, :P].copy(), "pop": M[:, :, P:2 * P].copy(),
                "strengths": self._S_arr[:B, :T, :L].copy()}
