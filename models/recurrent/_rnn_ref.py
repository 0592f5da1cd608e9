"""Vanilla RNN, numpy reference (the readable twin of ``models/recurrent/_rnn.pyx``).

Recurrence (Elman 1990), time-major, B sequences at once::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h          # (B, H)
    h_t = f(a_t)                                  # f = tanh or sigmoid

Backpropagation through time (Werbos 1990) walks the steps backwards::

    da_t      = (dL/dh_t + da_{t+1} W_hh^T) * f'(a_t)
    dW_xh    += x_t^T da_t ;  dW_hh += h_{t-1}^T da_t ;  db_h += sum_b da_t
    dx_t      = da_t W_xh^T

Every function fills preallocated float64 buffers, with the same signature as the
Cython kernel of the same name, so the two are interchangeable (``backend="numpy"``)
and compared in the tests. Conventions shared by both backends:

- ``Hs`` has shape (T + 1, B, H): ``Hs[0]`` is the initial state (set by the caller),
  ``Hs[t]`` the state after step t.
- Output-gradient buffers ``dX``, ``dh0``, ``dx``, ``dh_prev`` are overwritten;
  parameter-gradient buffers ``dW_xh``, ``dW_hh``, ``db_h`` are accumulated into.
  Optional ones may be ``None`` (``b_h``/``db_h`` when the model has no bias).
"""
from __future__ import annotations

import math

import numpy as np

from ._heads_ref import head_loss_and_grad

ACTIVATIONS = ("tanh", "sigmoid")


def activate(activation: str, a: np.ndarray) -> np.ndarray:
    """``tanh(a)`` or ``sigmoid(a)``."""
    if activation == "tanh":
        return np.tanh(a)
    return 1.0 / (1.0 + np.exp(-a))


def activation_derivative(activation: str, h: np.ndarray) -> np.ndarray:
    """``f'(a)`` written with the activation's output ``h = f(a)``."""
    if activation == "tanh":
        return 1.0 - h * h
    return h * (1.0 - h)


# ----------------------------------------------------------------------------- one step


def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h, activation, h):
    """One step for a batch: fills ``h (B, H) = f(x W_xh + h_prev W_hh + b_h)``.

    Parameters
    ----------
    x : ndarray of shape (B, I)
    h_prev : ndarray of shape (B, H)
    W_xh : ndarray of shape (I, H)
    W_hh : ndarray of shape (H, H)
    b_h : ndarray of shape (H,) or None
    activation : {"tanh", "sigmoid"}
    h : ndarray of shape (B, H), output
    """
    a = x @ W_xh + h_prev @ W_hh                                   # (B, H)
    if b_h is not None:
        a += b_h
    h[...] = activate(activation, a)


def rnn_step_backward(x, h_prev, h, W_xh, W_hh, activation, dh, da, dx, dh_prev, dW_xh, dW_hh, db_h):
    """Backward through one step.

    Parameters
    ----------
    x, h_prev, h : ndarray of shapes (B, I), (B, H), (B, H)
        The step's input, previous state and output (from :func:`rnn_step_forward`).
    dh : ndarray of shape (B, H)
        Total gradient of the loss with respect to ``h`` (from the heads and from step t+1).
    da : ndarray of shape (B, H), output
        Gradient with respect to the pre-activation.
    dx : ndarray of shape (B, I) or None, output (overwritten)
    dh_prev : ndarray of shape (B, H) or None, output (overwritten)
    dW_xh, dW_hh, db_h : ndarray, accumulated into (``db_h`` may be None)
    """
    da[...] = dh * activation_derivative(activation, h)             # (B, H)
    dW_xh += x.T @ da
    dW_hh += h_prev.T @ da
    if db_h is not None:
        db_h += da.sum(axis=0)
    if dx is not None:
        dx[...] = da @ W_xh.T
    if dh_prev is not None:
        dh_prev[...] = da @ W_hh.T


# ----------------------------------------------------------------------------- sequences


def rnn_forward(X, W_xh, W_hh, b_h, activation, Hs):
    """Forward over a batch of sequences.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
    W_xh, W_hh, b_h : parameters (``b_h`` may be None)
    activation : {"tanh", "sigmoid"}
    Hs : ndarray of shape (T + 1, B, H)
        ``Hs[0]`` holds the initial state on entry; ``Hs[1:]`` is filled.
    """
    for t in range(X.shape[0]):
        rnn_step_forward(X[t], Hs[t], W_xh, W_hh, b_h, activation, Hs[t + 1])


def rnn_bptt(X, Hs, W_xh, W_hh, activation, dHs, dA, dX, dW_xh, dW_hh, db_h, dh0):
    """Backpropagation through time.

    Parameters
    ----------
    X : ndarray of shape (T, B, I)
    Hs : ndarray of shape (T + 1, B, H), from :func:`rnn_forward`
    dHs : ndarray of shape (T, B, H)
        Gradient of the loss with respect to ``Hs[1:]`` from outside the recurrence
        (the output layer).
    dA : ndarray of shape (T, B, H), output
        Gradient with respect to the pre-activations (may be the same array as ``dHs``).
    dX : ndarray of shape (T, B, I) or None, output
    dW_xh, dW_hh, db_h : accumulated into
    dh0 : ndarray of shape (B, H) or None, output: gradient with respect to ``Hs[0]``.
    """
    T = X.shape[0]
    dh_next = np.zeros_like(Hs[0])                                   # (B, H)
    for t in reversed(range(T)):
        dh = dHs[t] + dh_next
        rnn_step_backward(X[t], Hs[t], Hs[t + 1], W_xh, W_hh, activation, dh, dA[t],
                          None if dX is None else dX[t], dh_next, dW_xh, dW_hh, db_h)
    if dh0 is not None:
        dh0[...] = dh_next


# ----------------------------------------------------------------------------- model kernel


class SequenceKernelBase:
    """Shared plumbing of the whole-model kernels (numpy reference).

    A model kernel serves batches of up to ``batch_size`` sequences of up to
    ``max_length`` steps, is bound to a block of
    ``n`` batches (inputs (n, T, B, I), targets, mask (n, T, B), probs (n, T, B, O)) and
    computes, for batch ``k`` of the block, the loss and the gradient of every
    parameter (``loss_and_grad``, gradients overwritten) or the probabilities only
    (``forward``). The Cython kernels have the same methods.
    """

    def __init__(self, params: dict, grads: dict, *, head: str, batch_size: int, max_length: int):
        self.params = params
        self.grads = grads
        self.head = head
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.inputs = self.targets = self.mask = self.probs = self.stats = None
        self.x_keep = self.h_keep = None

    #: The Cython kernels count right symbols into ``stats`` as they go; this reference
    #: does not (it would cost a dozen numpy calls per batch), so the training loop
    #: derives the counts from ``probs`` in one vectorised pass per block instead.
    fills_stats = False

    def bind(self, inputs, targets, mask, probs, stats=None):
        """Bind a block (``stats`` is accepted for the Cython kernels' signature and left alone)."""
        self.inputs, self.targets, self.mask, self.probs, self.stats = inputs, targets, mask, probs, stats

    def set_dropout(self, x_keep, h_keep):
        """Bind the dropout keep-masks (already divided by the keep probability) of shapes
        (max_length * batch_size, I) and (max_length * batch_size, H), row ``t * B + b``, or
        None; ``loss_and_grad(k, True)`` multiplies by their first T * B rows."""
        self.x_keep, self.h_keep = x_keep, h_keep

    def infer(self, k, callback=None):
        """As ``forward``; then ``callback(T * B)`` (the sequence-steps done) if given."""
        loss = self.forward(k)
        if callback is not None:
            callback(self.inputs[k].shape[0] * self.inputs[k].shape[1])
        return loss

    def run_steps(self, optimizer, batches, losses, norms) -> int:
        """For each bound batch index: ``loss_and_grad`` then ``optimizer.step()``; stops at
        the first non-finite loss or norm. Fills ``losses``/``norms``; returns steps done."""
        for i, k in enumerate(batches):
            loss = losses[i] = self.loss_and_grad(int(k))
            if not math.isfinite(loss):
                return i
            norm = norms[i] = optimizer.step()
            if not math.isfinite(norm):
                return i
        return len(batches)

    def _output_forward(self, H_out, T, B):
        W_hy, b_y = self.params["W_hy"], self.params.get("b_y")
        logits = H_out.reshape(T * B, -1) @ W_hy                       # (T*B, O)
        if b_y is not None:
            logits += b_y
        return logits

    def _head(self, k, logits, T, B, want_grad):
        targets = self.targets[k]
        targets = targets.reshape(T * B) if targets.ndim == 2 else targets.reshape(T * B, -1)
        loss, probs, dlogits = head_loss_and_grad(self.head, logits, targets,
                                                  self.mask[k].reshape(T * B), 1.0 / B, want_grad)
        self.probs[k] = probs.reshape(self.probs[k].shape)
        return loss, dlogits

    def _output_backward(self, H_out, dlogits, T, B):
        W_hy = self.params["W_hy"]
        self.grads["W_hy"][...] = H_out.reshape(T * B, -1).T @ dlogits
        if "b_y" in self.grads:
            self.grads["b_y"][...] = dlogits.sum(axis=0)
        return (dlogits @ W_hy.T).reshape(H_out.shape)               # (T, B, H)


class RNNKernel(SequenceKernelBase):
    """Whole-model kernel of :class:`models.RNN`, numpy reference (see :class:`SequenceKernelBase`)."""

    def __init__(self, params, grads, *, activation: str, head: str, batch_size: int, max_length: int):
        super().__init__(params, grads, head=head, batch_size=batch_size, max_length=max_length)
        self.activation = activation

    def _forward(self, k, dropout):
        X = self.inputs[k]                                           # (T, B, I)
        T, B = X.shape[0], X.shape[1]
        if dropout and self.x_keep is not None:
            X = X * self.x_keep[:T * B].reshape(X.shape)
        p = self.params
        Hs = np.zeros((T + 1, B, p["W_hh"].shape[0]))                # (T+1, B, H)
        rnn_forward(X, p["W_xh"], p["W_hh"], p.get("b_h"), self.activation, Hs)
        H_out = Hs[1:]
        if dropout and self.h_keep is not None:
            H_out = H_out * self.h_keep[:T * B].reshape(H_out.shape)
        return X, Hs, H_out, T, B

    def forward(self, k):
        """Probabilities of batch ``k`` into ``probs[k]`` (no dropout); returns the loss."""
        X, Hs, H_out, T, B = self._forward(k, False)
        loss, _ = self._head(k, self._output_forward(H_out, T, B), T, B, False)
        return loss

    def loss_and_grad(self, k, dropout=False):
        """Loss of batch ``k``; every parameter gradient is overwritten."""
        X, Hs, H_out, T, B = self._forward(k, dropout)
        loss, dlogits = self._head(k, self._output_forward(H_out, T, B), T, B, True)
        dH_out = self._output_backward(H_out, dlogits, T, B)         # (T, B, H)
        if dropout and self.h_keep is not None:
            dH_out = dH_out * self.h_keep[:T * B].reshape(dH_out.shape)
        g, p = self.grads, self.params
        for name in ("W_xh", "W_hh", "b_h"):
            if name in g:
                g[name][...] = 0.0
        dA = np.empty_like(dH_out)
        rnn_bptt(X, Hs, p["W_xh"], p["W_hh"], self.activation, dH_out, dA, None,
                 g["W_xh"], g["W_hh"], g.get("b_h"), None)
        return loss
