"""Output heads, numpy reference: softmax + cross-entropy and sigmoid + binary cross-entropy.

The loss of a batch is the masked sum over time steps (and output bits), multiplied
by ``scale`` (the models use ``scale = 1 / batch_size``: mean over sequences, sum over
time, as in Trask's binary-addition tutorial). The Cython twin is
``head_loss_and_grad`` in ``models/core/_linalg.pxd``.
"""
from __future__ import annotations

import numpy as np

HEADS = ("softmax", "sigmoid")


def head_loss_and_grad(head: str, logits: np.ndarray, targets: np.ndarray, mask: np.ndarray,
                       scale: float, want_grad: bool = True):
    """Probabilities, masked loss and gradient with respect to the logits.

    Parameters
    ----------
    head : {"softmax", "sigmoid"}
    logits : ndarray of shape (N, O)
    targets : ndarray of shape (N,) (int class ids, softmax) or (N, O) (0/1 floats, sigmoid)
    mask : ndarray of shape (N,)
        Weight of each row in the loss (0 for positions without a target).
    scale : float
        Multiplies loss and gradient.
    want_grad : bool
        Skip the gradient (evaluation).

    Returns
    -------
    loss : float
    probs : ndarray of shape (N, O)
    dlogits : ndarray of shape (N, O) or None
        ``scale * mask * (probs - onehot(targets))``.
    """
    if head == "softmax":
        shifted = logits - logits.max(axis=1, keepdims=True)                    # (N, O)
        log_total = np.log(np.exp(shifted).sum(axis=1))                          # (N,)
        probs = np.exp(shifted - log_total[:, None])                             # (N, O)
        rows = np.arange(len(targets))
        nll = log_total - shifted[rows, targets]                                 # (N,)
        loss = scale * float(np.sum(mask * nll))
        if not want_grad:
            return loss, probs, None
        onehot = np.zeros_like(probs)
        onehot[rows, targets] = 1.0
        return loss, probs, scale * mask[:, None] * (probs - onehot)
    # sigmoid + binary cross-entropy with logits: softplus(z) - y z
    probs = 1.0 / (1.0 + np.exp(-logits))
    softplus = np.maximum(logits, 0.0) + np.log1p(np.exp(-np.abs(logits)))
    loss = scale * float(np.sum(mask[:, None] * (softplus - targets * logits)))
    if not want_grad:
        return loss, probs, None
    return loss, probs, scale * mask[:, None] * (probs - targets)
