"""Memory-augmented RNN/LSTM, numpy reference (the readable twin of ``models/estimators/_memory_rnn.pyx``).

The controller of Grefenstette et al. 2015 ("Learning to Transduce with Unbounded
Memory", arXiv 1506.02516, section 3.4) around a Neural Stack, Queue or DeQue
(``models/memory/_memory_ref.py``). Time-major, B sequences of one length, step t::

    e_t = x_t E                                   # (B, D) symbol embedding (x_t if no E)
    u_t = [e_t, r_{t-1}]                          # (B, D + R), r_{-1} = 0
    h_t = controller(u_t, h_{t-1} [, c_{t-1}])    # RNN (tanh) or LSTM cell, (B, H)
    m_t = h_t W_mem + b_mem                       # (B, K): memory-facing layer
    d_t = sigmoid(m_t[push]), u_t = sigmoid(m_t[pop]), v_t = tanh(m_t[values])
      (controls "softmax": (d_t, u_t, n_t) = softmax(m_t[push], m_t[pop], m_t[no-op]))
    r_t = memory step t (pop u_t, push v_t with d_t, read)      # (B, R)
    y_t = softmax(h_t W_hy + b_y)                 # the output

``R = W`` (stack, queue) or ``2W`` (deque: ``[read_top, read_bottom]``); the columns of
``m_t`` are ``[push (P), pop (P), values (P * W)]``, and ``[no-op (P)]`` after them with
controls "softmax", with P = 1 (stack, queue) or 2 (deque, ``[top, bottom]`` in each
group). Without a memory the model is an RNN/LSTM on ``e_t``.

``controls``: "sigmoid" (the paper's: a push and a pop strength of their own, both can be
near 1) or "softmax" (one softmax per end over push, pop and no-op, as the Stack-RNN's
actions of Joulin & Mikolov 2015: d_t + u_t <= 1, the model chooses between them).

Training-only options (they change the gradient, not the forward pass):

* ``stop_gradient``: the gradient through the controller's recurrent state (h, c) is
  cut where the separator is read (step ``L`` of a transduction task), so the loss of
  the target phase reaches the source phase only through the memory.
* ``aux_hidden``, ``aux_memory``: auxiliary losses, weighted, that predict the previous
  input symbol ``x_{t-1}`` from ``h_t`` (hidden) and from ``r_{t-1}``, the read the
  controller receives at step t (memory-facing input), on steps whose previous input
  is a source symbol. ``loss_and_grad`` returns the task loss; the gradients include
  the auxiliary terms.

Inference (``inference=True``: forward passes only, for ``predict``, ``evaluate``, ``run``)
keeps two rows of memory strengths, swapped every step (the memory's ``forward_rows``),
instead of the strengths after every step (B, T, L): O(T W) per sequence, not O(T^2); the
numbers are those of the training forward pass.

Backward, per step t = T-1 .. 0 (the order the memory kernels require): the gradient
of the read ``r_t`` is complete once step t+1 of the controller has been processed;
then the memory's ``backward_step`` t finalises the gradients of ``d_t``, ``u_t`` and
``v_t``; then the controller step t.
"""
from __future__ import annotations

import numpy as np

from ..memory._kinds import memory_kind
from ..recurrent._heads_ref import head_loss_and_grad
from ..recurrent._lstm_ref import lstm_step_backward, lstm_step_forward
from ..recurrent._rnn_ref import SequenceKernelBase, rnn_step_backward, rnn_step_forward

__all__ = ["MemoryRNNKernel", "memory_layout", "aux_targets"]

CONTROLLERS = ("rnn", "lstm")


def memory_layout(memory: str | None, width: int) -> tuple[int, int]:
    """(P strengths per kind, R read width) of a memory: stack/queue (1, W), deque
    (2, 2W), none (0, 0). The memory-facing layer has K = 2P + P*W columns."""
    if memory is None:
        return 0, 0
    return memory_kind(memory).layout(width)


def aux_targets(X: np.ndarray, n_symbols: int) -> tuple[np.ndarray, np.ndarray]:
    """Symbol ids (T, B) and 0/1 mask (T, B): the symbol each step's input carries
    (argmax over the first ``n_symbols`` features), mask 1 where it carries one."""
    sym = X[..., :n_symbols]                                         # (T, B, V)
    return sym.argmax(axis=-1).astype(np.int64), (sym.sum(axis=-1) > 0.5).astype(np.float64)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


#: How the memory-facing layer sets the push and pop strengths (see the module notes).
CONTROLS = ("sigmoid", "softmax")


def controls_softmax(push, pop, noop):
    """Softmax over each end's (push, pop, no-op) logits, each (B, P): the three
    probabilities, in that order."""
    z = np.stack([push, pop, noop])                                  # (3, B, P)
    e = np.exp(z - z.max(axis=0))
    e /= e.sum(axis=0)
    return e[0], e[1], e[2]


class MemoryRNNKernel(SequenceKernelBase):
    """Whole-model kernel of :class:`models.MemoryRNN`, numpy reference.

    Parameters
    ----------
    params, grads : dict of str to ndarray
        ``E`` (I, D) optional; controller ``W_x`` (D+R, 4H), ``W_h`` (H, 4H), ``b`` (4H,)
        (LSTM) or ``W_xh`` (D+R, H), ``W_hh`` (H, H), ``b_h`` (H,) (RNN); ``W_mem``
        (H, K), ``b_mem`` (K,) with a memory; ``W_hy``, ``b_y``; ``A_h`` (H, V),
        ``a_h`` (V,) and ``A_r`` (R, V), ``a_r`` (V,) with the auxiliary losses.
    controller : {"rnn", "lstm"}
    memory : {"stack", "queue", "deque"} or None
    width : int
        Memory width W.
    head : {"softmax", "sigmoid"}
    batch_size, max_length : int
    separator : int
        Input feature of the separator (-1: none); where it is on, ``stop_gradient`` cuts.
    stop_gradient : bool
    aux_hidden, aux_memory : float
        Weights of the auxiliary losses (0: off; their parameters must then be absent).
    n_symbols : int
        Input features that are symbols (the auxiliary losses' classes).
    inference : bool
        Forward passes only (``forward``, ``infer``), with two rows of strengths.
    controls : {"sigmoid", "softmax"}
        How the push and pop strengths are made (see the module notes); "softmax" adds P
        no-op columns at the end of ``W_mem`` and ``b_mem``.
    """

    #: Steps between the progress reports of :meth:`infer`.
    report_steps = 256

    def __init__(self, params, grads, *, controller, memory, width, head, batch_size, max_length,
                 separator=-1, stop_gradient=False, aux_hidden=0.0, aux_memory=0.0, n_symbols=0,
                 sharpen=0.0, inference=False, hard=False, controls="sigmoid"):
        super().__init__(params, grads, head=head, batch_size=batch_size, max_length=max_length)
        if controls not in CONTROLS:
            raise ValueError(f"controls must be one of {', '.join(map(repr, CONTROLS))}, got {controls!r}")
        self.controls = controls
        self.controller = controller
        self.memory = memory
        self.width = int(width)
        self.n_push, self.read_size = memory_layout(memory, self.width)
        self._kind = memory_kind(memory) if memory is not None else None
        self._memory_kernels = self._kind.kernels("numpy") if memory is not None else None
        self.separator = int(separator)
        self.stop_gradient = bool(stop_gradient)
        self.aux_hidden = float(aux_hidden)
        self.aux_memory = float(aux_memory)
        self.n_symbols = int(n_symbols)
        self.sharpen = float(sharpen)
        self.inference = bool(inference)
        if hard and not inference:
            raise ValueError("hard strengths (rounded to 0 or 1) have no gradient: only an inference kernel "
                             "(inference=True) takes hard=True")
        self.hard = bool(hard)
        self._trace = None
        #: The weighted auxiliary losses of the last ``loss_and_grad`` (0 when off).
        self.aux_loss = 0.0

    # ---------------------------------------------------------------- memory calls

    def _memory_buffers(self, B, T):
        """One list entry per end (P of them); L = cells_per_step * T memory cells. An
        inference kernel keeps two rows of strengths (B, L) and one of weights."""
        W, P = self.width, self.n_push
        L = self._kind.cells_per_step * T
        if self.inference:
            return {"values": [np.zeros((B, T, W)) for _ in range(P)], "strengths": np.zeros((2, B, L)),
                    "weights": [np.zeros((B, L)) for _ in range(P)]}
        return {"values": [np.zeros((B, T, W)) for _ in range(P)],
                "push": [np.zeros((B, T)) for _ in range(P)], "pop": [np.zeros((B, T)) for _ in range(P)],
                "strengths": np.zeros((B, T, L)), "weights": [np.zeros((B, T, L)) for _ in range(P)],
                "reads": [np.zeros((B, T, W)) for _ in range(P)]}

    def _memory_step(self, t, mb, push, pop, values):
        """Memory step t: push, pop (B, P), values (B, P*W) -> read (B, R)."""
        W, P = self.width, self.n_push
        if self.inference:                            # rows: strengths after step t-1 -> after step t
            for j in range(P):
                mb["values"][j][:, t] = values[:, j * W:(j + 1) * W]
            rows = mb["strengths"]
            reads = self._memory_kernels.forward_rows(t, *mb["values"], *push.T, *pop.T, rows[(t - 1) % 2],
                                                      rows[t % 2], *mb["weights"])
            return np.concatenate(reads, axis=1)                                # (B, R)
        for j in range(P):
            mb["push"][j][:, t] = push[:, j]
            mb["pop"][j][:, t] = pop[:, j]
            mb["values"][j][:, t] = values[:, j * W:(j + 1) * W]
        self._memory_kernels.forward_step(t, *mb["values"], *mb["push"], *mb["pop"], mb["strengths"],
                                          *mb["weights"], *mb["reads"])
        return np.concatenate([r[:, t] for r in mb["reads"]], axis=1)           # (B, R)

    def _memory_backward_step(self, t, mb, d_read, g):
        """Memory backward step t given d r_t (B, R) -> d push, d pop (B, P), d values (B, P*W)
        (final for step t; ``g`` carries the accumulators)."""
        W, P = self.width, self.n_push
        for j in range(P):
            g["d_reads"][j][:, t] = d_read[:, j * W:(j + 1) * W]
        self._memory_kernels.backward_step(t, *mb["values"], *mb["pop"], mb["strengths"], *g["d_reads"],
                                           *g["d_values"], *g["d_push"], *g["d_pop"], g["d_strength"])
        d_push = np.stack([d[:, t] for d in g["d_push"]], axis=1)                  # (B, P)
        d_pop = np.stack([d[:, t] for d in g["d_pop"]], axis=1)                    # (B, P)
        d_values = np.concatenate([d[:, t] for d in g["d_values"]], axis=1)        # (B, P*W)
        return d_push, d_pop, d_values

    # ---------------------------------------------------------------- forward

    def _forward(self, k, dropout, callback=None):
        p = self.params
        X0 = self.inputs[k]                                              # (T, B, I)
        T, B = X0.shape[0], X0.shape[1]
        X = X0 * self.x_keep[:T * B].reshape(X0.shape) if dropout and self.x_keep is not None else X0
        emb = X @ p["E"] if "E" in p else X                              # (T, B, D)
        D, R, P, W = emb.shape[2], self.read_size, self.n_push, self.width
        lstm = self.controller == "lstm"
        H = p["W_h"].shape[0] if lstm else p["W_hh"].shape[0]
        U = np.zeros((T, B, D + R))                                      # controller inputs
        U[:, :, :D] = emb
        Hs = np.zeros((T + 1, B, H))
        Cs = np.zeros((T + 1, B, H)) if lstm else None
        G = np.zeros((T, B, 4 * H)) if lstm else None
        tanhC = np.zeros((T, B, H)) if lstm else None
        R_end = 2 * P + P * W                                            # end of the values' columns
        M = np.zeros((T, B, R_end + (P if self.controls == "softmax" else 0)))  # push, pop, values [, no-op]
        reads = np.zeros((T, B, R))
        mb = self._memory_buffers(B, T) if self.memory else None
        reported = 0
        for t in range(T):
            if t > 0 and R:
                U[t, :, D:] = reads[t - 1]                              # r_{t-1}
            if lstm:
                lstm_step_forward(U[t], Hs[t], Cs[t], p["W_x"], p["W_h"], p.get("b"), G[t], Cs[t + 1],
                                  tanhC[t], Hs[t + 1])
            else:
                rnn_step_forward(U[t], Hs[t], p["W_xh"], p["W_hh"], p.get("b_h"), "tanh", Hs[t + 1])
            if self.memory:
                m = Hs[t + 1] @ p["W_mem"] + p["b_mem"]                    # (B, K)
                if self.controls == "softmax":                              # push, pop, no-op
                    M[t, :, :P], M[t, :, P:2 * P], M[t, :, R_end:] = controls_softmax(
                        m[:, :P], m[:, P:2 * P], m[:, R_end:])
                else:
                    M[t, :, :2 * P] = sigmoid(m[:, :2 * P])                # push, pop strengths
                if self.hard:                                               # rounded: above or below 0.5
                    M[t, :, :2 * P] = (M[t, :, :2 * P] > 0.5).astype(np.float64)
                M[t, :, 2 * P:R_end] = np.tanh(m[:, 2 * P:R_end])          # values
                reads[t] = self._memory_step(t, mb, M[t, :, :P], M[t, :, P:2 * P], M[t, :, 2 * P:R_end])
            if callback is not None and ((t + 1) % self.report_steps == 0 or t + 1 == T):
                callback((t + 1 - reported) * B)                            # sequence-steps since the last
                reported = t + 1
        H_out = Hs[1:]
        if dropout and self.h_keep is not None:
            H_out = H_out * self.h_keep[:T * B].reshape(H_out.shape)
        self._trace = {"M": M, "mb": mb, "T": T, "B": B}
        return dict(X0=X0, X=X, U=U, Hs=Hs, Cs=Cs, G=G, tanhC=tanhC, M=M, reads=reads, mb=mb, H_out=H_out,
                    T=T, B=B, D=D, H=H)

    def forward(self, k):
        """Probabilities of batch ``k`` into ``probs[k]`` (no dropout); returns the loss."""
        return self.infer(k)

    def infer(self, k, callback=None):
        """As :meth:`forward`, with ``callback(n)`` (if given) every ``report_steps`` steps, ``n``
        the sequence-steps just done."""
        f = self._forward(k, False, callback)
        loss, _ = self._head(k, self._output_forward(f["H_out"], f["T"], f["B"]), f["T"], f["B"], False)
        return loss

    def _check_trainable(self):
        if self.inference:
            raise ValueError("this kernel was built with inference=True (no dropout or gradient buffers): it "
                             "runs forward and infer only")

    def set_dropout(self, x_keep, h_keep):
        self._check_trainable()
        super().set_dropout(x_keep, h_keep)

    # ---------------------------------------------------------------- auxiliary losses

    def _aux(self, A, a, Z_in, ids, mask, weight, B):
        """Softmax CE of ``Z_in (N, F) A + a`` against ids (N,), masked, times weight / B:
        -> gradient of Z_in (N, F); accumulates into the gradients of A and a."""
        logits = Z_in @ self.params[A] + self.params[a]
        loss, _, dlogits = head_loss_and_grad("softmax", logits, ids, mask, weight / B, True)
        self.aux_loss += loss
        self.grads[A][...] += Z_in.T @ dlogits
        self.grads[a][...] += dlogits.sum(axis=0)
        return dlogits @ self.params[A].T

    # ---------------------------------------------------------------- backward

    def loss_and_grad(self, k, dropout=False):
        """Loss of batch ``k`` (the task loss); every parameter gradient is overwritten."""
        self._check_trainable()
        f = self._forward(k, dropout)
        T, B, D, H = f["T"], f["B"], f["D"], f["H"]
        R, P, W = self.read_size, self.n_push, self.width
        p, g = self.params, self.grads
        for v in g.values():
            v[...] = 0.0
        self.aux_loss = 0.0
        loss, dlogits = self._head(k, self._output_forward(f["H_out"], T, B), T, B, True)
        dHs = self._output_backward(f["H_out"], dlogits, T, B)          # (T, B, H)
        if dropout and self.h_keep is not None:
            dHs = dHs * self.h_keep[:T * B].reshape(dHs.shape)
        dR_aux = np.zeros((T, B, R))
        if self.aux_hidden > 0 or self.aux_memory > 0:
            ids, sym = aux_targets(f["X0"], self.n_symbols)              # (T, B)
            prev_ids = np.zeros_like(ids)
            prev_mask = np.zeros_like(sym)
            prev_ids[1:], prev_mask[1:] = ids[:-1], sym[:-1]
            if self.aux_hidden > 0:                                       # h_t -> x_{t-1}
                dHs = dHs + self._aux("A_h", "a_h", f["Hs"][1:].reshape(T * B, H), prev_ids.reshape(-1),
                                      prev_mask.reshape(-1), self.aux_hidden, B).reshape(T, B, H)
            if self.aux_memory > 0:                                       # r_{t-1} -> x_{t-1}
                dR_aux = self._aux("A_r", "a_r", f["reads"].reshape(T * B, R), ids.reshape(-1),
                                   sym.reshape(-1), self.aux_memory, B).reshape(T, B, R)
        cut = -1
        if self.stop_gradient and self.separator >= 0:
            on = np.flatnonzero(f["X0"][:, 0, self.separator] > 0.5)
            cut = int(on[0]) if on.size else -1
        lstm = self.controller == "lstm"
        U, Hs, Cs, G, tanhC, M, mb = f["U"], f["Hs"], f["Cs"], f["G"], f["tanhC"], f["M"], f["mb"]
        dU = np.zeros((T, B, D + R))
        dh_next = np.zeros((B, H))
        dc_next = np.zeros((B, H))
        dM = np.zeros((T, B, M.shape[2]))                                 # pre-activation grads
        if self.memory:
            L = self._kind.cells_per_step * T
            acc = {"d_reads": [np.zeros((B, T, W)) for _ in range(P)],
                   "d_values": [np.zeros((B, T, W)) for _ in range(P)],
                   "d_push": [np.zeros((B, T)) for _ in range(P)], "d_pop": [np.zeros((B, T)) for _ in range(P)],
                   "d_strength": np.zeros((B, L))}
        for t in range(T - 1, -1, -1):
            dh = dHs[t] + dh_next
            if self.memory:
                d_read = dR_aux[t] + (dU[t + 1, :, D:] if t + 1 < T else 0.0)          # d r_t
                d_push, d_pop, d_values = self._memory_backward_step(t, mb, d_read, acc)
                m = M[t]
                s = m[:, :2 * P]                                          # push, pop strengths
                d_s = np.concatenate([d_push, d_pop], axis=1)
                if self.sharpen > 0:                                      # + sharpen/B * s (1 - s)
                    self.aux_loss += self.sharpen / B * float(np.sum(s * (1.0 - s)))
                    d_s = d_s + self.sharpen / B * (1.0 - 2.0 * s)
                R_end = 2 * P + P * W
                if self.controls == "softmax":       # dz_i = s_i (ds_i - sum_j s_j ds_j), d no-op = 0
                    n = m[:, R_end:]
                    inner = s[:, :P] * d_s[:, :P] + s[:, P:] * d_s[:, P:]                     # (B, P)
                    dM[t, :, :2 * P] = s * (d_s - np.concatenate([inner, inner], axis=1))
                    dM[t, :, R_end:] = -n * inner
                else:
                    dM[t, :, :2 * P] = d_s * s * (1.0 - s)
                dM[t, :, 2 * P:R_end] = d_values * (1.0 - m[:, 2 * P:R_end] ** 2)
                dh = dh + dM[t] @ p["W_mem"].T
            dh_prev = np.zeros((B, H))
            if lstm:
                dg = np.zeros((B, 4 * H))
                dc_prev = np.zeros((B, H))
                lstm_step_backward(U[t], Hs[t], Cs[t], G[t], tanhC[t], p["W_x"], p["W_h"], dh, dc_next, dg,
                                   dU[t], dh_prev, dc_prev, g["W_x"], g["W_h"], g.get("b"))
                dc_next = dc_prev
            else:
                da = np.zeros((B, H))
                rnn_step_backward(U[t], Hs[t], Hs[t + 1], p["W_xh"], p["W_hh"], "tanh", dh, da, dU[t], dh_prev,
                                  g["W_xh"], g["W_hh"], g.get("b_h"))
            if t == cut:                           # stop-gradient: h, c entering the separator step
                dh_prev[...] = 0.0
                dc_next = np.zeros((B, H))
            dh_next = dh_prev
        if self.memory:
            g["W_mem"][...] = Hs[1:].reshape(T * B, H).T @ dM.reshape(T * B, -1)
            g["b_mem"][...] = dM.reshape(T * B, -1).sum(axis=0)
        if "E" in p:
            X = f["X"]
            g["E"][...] = X.reshape(T * B, -1).T @ dU[:, :, :D].reshape(T * B, D)
        return loss

    # ---------------------------------------------------------------- inspection

    def memory_trace(self):
        """After ``forward``: push and pop strengths (T, B, P) and the strength of every
        memory cell after every step (B, T, L) of the last batch run."""
        if self.inference:
            raise ValueError("an inference kernel keeps two rows of strengths, not the trace: memory_trace needs "
                             "a kernel built with inference=False")
        tr = self._trace
        if tr is None or tr["mb"] is None:
            raise ValueError("no memory trace: run forward(k) on a model with a memory first")
        P = self.n_push
        return {"push": tr["M"][:, :, :P].copy(), "pop": tr["M"][:, :, P:2 * P].copy(),
                "strengths": tr["mb"]["strengths"].copy()}
