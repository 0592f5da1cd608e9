"""LSTM, numpy reference (the readable twin of ``models/recurrent/_lstm.pyx``).

Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000 (no peepholes),
time-major, B sequences at once. The four gate blocks are stored side by side in
the order ``[i, f, o, g]`` (columns ``0:H, H:2H, 2H:3H, 3H:4H``)::

    z_t = x_t W_x + h_{t-1} W_h + b                     # (B, 4H)
    i_t = sigmoid(z_i)   f_t = sigmoid(z_f)   o_t = sigmoid(z_o)   g_t = tanh(z_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Backward through one step, given dh = dL/dh_t and dc = dL/dc_t from step t+1::

    dc_total = dc + dh * o_t * (1 - tanh(c_t)^2)
    dz_i = dc_total * g_t * i_t (1 - i_t)      dz_f = dc_total * c_{t-1} * f_t (1 - f_t)
    dz_o = dh * tanh(c_t) * o_t (1 - o_t)       dz_g = dc_total * i_t * (1 - g_t^2)
    dc_{t-1} = dc_total * f_t ;  dh_{t-1} = dz W_h^T ;  dx_t = dz W_x^T
    dW_x += x_t^T dz ;  dW_h += h_{t-1}^T dz ;  db += sum_b dz

Same buffer conventions as :mod:`models.recurrent._rnn_ref`: ``Hs`` and ``Cs`` have shape
(T + 1, B, H) with the initial states in row 0; ``G`` (T, B, 4H) keeps the gate
activations and ``tanhC`` (T, B, H) keeps ``tanh(c_t)`` for the backward pass.
Output-gradient buffers are overwritten, parameter gradients accumulated.
"""
from __future__ import annotations

import numpy as np

from ._rnn_ref import SequenceKernelBase


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ----------------------------------------------------------------------------- one step


def lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b, g, c, tanh_c, h):
    """One step for a batch.

    Parameters
    ----------
    x : ndarray of shape (B, I)
    h_prev, c_prev : ndarray of shape (B, H)
    W_x : ndarray of shape (I, 4H)
    W_h : ndarray of shape (H, 4H)
    b : ndarray of shape (4H,) or None
    g : ndarray of shape (B, 4H), output: gate activations ``[i, f, o, g]``
    c, tanh_c, h : ndarray of shape (B, H), outputs
    """
    H = h_prev.shape[1]
    z = x @ W_x + h_prev @ W_h                                      # (B, 4H)
    if b is not None:
        z += b
    g[:, :3 * H] = _sigmoid(z[:, :3 * H])                           # i, f, o
    g[:, 3 * H:] = np.tanh(z[:, 3 * H:])                            # candidate g
    i, f, o, cand = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
    c[...] = f * c_prev + i * cand
    tanh_c[...] = np.tanh(c)
    h[...] = o * tanh_c


def lstm_step_backward(x, h_prev, c_prev, g, tanh_c, W_x, W_h, dh, dc, dg, dx, dh_prev, dc_prev,
                       dW_x, dW_h, db):
    """Backward through one step.

    Parameters
    ----------
    x, h_prev, c_prev, g, tanh_c : the step's inputs and saved activations
    dh : ndarray of shape (B, H)
        Total gradient with respect to ``h_t`` (heads plus step t+1).
    dc : ndarray of shape (B, H) or None
        Gradient with respect to ``c_t`` from step t+1 (None: zero).
    dg : ndarray of shape (B, 4H), output: gradient with respect to the gate pre-activations.
    dx : ndarray of shape (B, I) or None, output (overwritten)
    dh_prev, dc_prev : ndarray of shape (B, H) or None, outputs (overwritten)
    dW_x, dW_h, db : accumulated into (``db`` may be None)
    """
    H = h_prev.shape[1]
    i, f, o, cand = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
    dc_total = dh * o * (1.0 - tanh_c * tanh_c)                     # (B, H)
    if dc is not None:
        dc_total = dc_total + dc
    dg[:, :H] = dc_total * cand * i * (1.0 - i)
    dg[:, H:2 * H] = dc_total * c_prev * f * (1.0 - f)
    dg[:, 2 * H:3 * H] = dh * tanh_c * o * (1.0 - o)
    dg[:, 3 * H:] = dc_total * i * (1.0 - cand * cand)
    dW_x += x.T @ dg
    dW_h += h_prev.T @ dg
    if db is not None:
        db += dg.sum(axis=0)
    if dx is not None:
        dx[...] = dg @ W_x.T
    if dh_prev is not None:
        dh_prev[...] = dg @ W_h.T
    if dc_prev is not None:
        dc_prev[...] = dc_total * f


# ----------------------------------------------------------------------------- sequences


def lstm_forward(X, W_x, W_h, b, Hs, Cs, G, tanhC):
    """Forward over a batch of sequences.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
    W_x, W_h, b : parameters (``b`` may be None)
    Hs, Cs : ndarray of shape (T + 1, B, H)
        Row 0 holds the initial states on entry; rows 1..T are filled.
    G : ndarray of shape (T, B, 4H), output: gate activations
    tanhC : ndarray of shape (T, B, H), output
    """
    for t in range(X.shape[0]):
        lstm_step_forward(X[t], Hs[t], Cs[t], W_x, W_h, b, G[t], Cs[t + 1], tanhC[t], Hs[t + 1])


def lstm_bptt(X, Hs, Cs, G, tanhC, W_x, W_h, dHs, dG, dX, dW_x, dW_h, db, dh0, dc0):
    """Backpropagation through time.

    Parameters
    ----------
    X, Hs, Cs, G, tanhC : from :func:`lstm_forward`
    dHs : ndarray of shape (T, B, H)
        Gradient with respect to ``Hs[1:]`` from outside the recurrence.
    dG : ndarray of shape (T, B, 4H), output: gate pre-activation gradients
    dX : ndarray of shape (T, B, I) or None, output
    dW_x, dW_h, db : accumulated into
    dh0, dc0 : ndarray of shape (B, H) or None, outputs: gradients for the initial states
    """
    T = X.shape[0]
    dh_next = np.zeros_like(Hs[0])                                   # (B, H)
    dc_next = np.zeros_like(Cs[0])                                   # (B, H)
    for t in reversed(range(T)):
        dh = dHs[t] + dh_next
        lstm_step_backward(X[t], Hs[t], Cs[t], G[t], tanhC[t], W_x, W_h, dh, dc_next, dG[t],
                           None if dX is None else dX[t], dh_next, dc_next, dW_x, dW_h, db)
    if dh0 is not None:
        dh0[...] = dh_next
    if dc0 is not None:
        dc0[...] = dc_next


# ----------------------------------------------------------------------------- model kernel


class LSTMKernel(SequenceKernelBase):
    """Whole-model kernel of :class:`models.LSTM`, numpy reference (see
    :class:`models.recurrent._rnn_ref.SequenceKernelBase`)."""

    def _forward(self, k, dropout):
        X = self.inputs[k]                                           # (T, B, I)
        T, B = X.shape[0], X.shape[1]
        if dropout and self.x_keep is not None:
            X = X * self.x_keep[:T * B].reshape(X.shape)
        p = self.params
        H = p["W_h"].shape[0]
        Hs = np.zeros((T + 1, B, H))
        Cs = np.zeros((T + 1, B, H))
        G = np.empty((T, B, 4 * H))
        tanhC = np.empty((T, B, H))
        lstm_forward(X, p["W_x"], p["W_h"], p.get("b"), Hs, Cs, G, tanhC)
        H_out = Hs[1:]
        if dropout and self.h_keep is not None:
            H_out = H_out * self.h_keep[:T * B].reshape(H_out.shape)
        return X, (Hs, Cs, G, tanhC), H_out, T, B

    def forward(self, k):
        """Probabilities of batch ``k`` into ``probs[k]`` (no dropout); returns the loss."""
        X, _, H_out, T, B = self._forward(k, False)
        loss, _ = self._head(k, self._output_forward(H_out, T, B), T, B, False)
        return loss

    def loss_and_grad(self, k, dropout=False):
        """Loss of batch ``k``; every parameter gradient is overwritten."""
        X, (Hs, Cs, G, tanhC), H_out, T, B = self._forward(k, dropout)
        loss, dlogits = self._head(k, self._output_forward(H_out, T, B), T, B, True)
        dH_out = self._output_backward(H_out, dlogits, T, B)         # (T, B, H)
        if dropout and self.h_keep is not None:
            dH_out = dH_out * self.h_keep[:T * B].reshape(dH_out.shape)
        g, p = self.grads, self.params
        for name in ("W_x", "W_h", "b"):
            if name in g:
                g[name][...] = 0.0
        dG = np.empty_like(G)
        lstm_bptt(X, Hs, Cs, G, tanhC, p["W_x"], p["W_h"], dH_out, dG, None,
                  g["W_x"], g["W_h"], g.get("b"), None, None)
        return loss
