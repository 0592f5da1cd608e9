"""Optimizer update rules on flat parameter vectors, numpy reference (twin of ``_updates.pyx``).

With ``g`` the gradient scaled by the clipping factor ``s = min(1, clip_norm / ||grad||)``:

- SGD:       ``theta -= lr * g``
- momentum:  ``v = mu * v + g ;  theta -= lr * v``        (the form PyTorch uses)
- RMSProp:   ``r = rho * r + (1 - rho) * g**2 ;  theta -= lr * g / (sqrt(r) + eps)``
             (Tieleman & Hinton 2012)
- Adam:      ``m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g**2 ;
             theta -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``
             (Kingma & Ba 2015, t counted from 1)

``step`` returns the gradient's global L2 norm before clipping, and leaves every array
untouched when that norm is NaN or infinite (the training loop then stops).
"""
from __future__ import annotations

import math

import numpy as np

RULES = ("sgd", "momentum", "rmsprop", "adam")


class UpdateKernel:
    """One optimizer rule bound to ``theta`` and ``grad`` (and its state vectors).

    Parameters
    ----------
    rule : {"sgd", "momentum", "rmsprop", "adam"}
    theta, grad : ndarray of shape (P,)
    state1, state2 : ndarray of shape (P,) or None
        momentum: velocity; rmsprop: mean square; adam: first and second moments.
    lr, clip_norm : float
        Learning rate; clipping threshold (<= 0: no clipping).
    h1, h2, eps : float
        mu (momentum), rho and eps (rmsprop), or beta1, beta2 and eps (adam).
    t : int
        Steps taken so far (Adam's bias correction uses t + 1 on the next step).
    """

    def __init__(self, rule: str, theta, grad, state1=None, state2=None, *, lr=0.1, clip_norm=0.0,
                 h1=0.0, h2=0.0, eps=0.0, t=0):
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        self.rule, self.theta, self.grad, self.state1, self.state2 = rule, theta, grad, state1, state2
        self.lr, self.clip_norm, self.h1, self.h2, self.eps, self.t = lr, clip_norm, h1, h2, eps, t

    def step(self) -> float:
        """Apply one update (``t`` + 1); returns the gradient norm before clipping.
        Nothing changes when that norm is not finite."""
        norm = math.sqrt(float(np.dot(self.grad, self.grad)))
        if not math.isfinite(norm):
            return norm
        self.t += 1
        lr, h1, h2, eps, t = self.lr, self.h1, self.h2, self.eps, self.t
        scale = self.clip_norm / norm if 0 < self.clip_norm < norm else 1.0
        g = self.grad * scale
        if self.rule == "sgd":
            self.theta -= lr * g
        elif self.rule == "momentum":
            v = self.state1
            v *= h1
            v += g
            self.theta -= lr * v
        elif self.rule == "rmsprop":
            r = self.state1
            r *= h1
            r += (1.0 - h1) * g * g
            self.theta -= lr * g / (np.sqrt(r) + eps)
        else:
            m, v = self.state1, self.state2
            m *= h1
            m += (1.0 - h1) * g
            v *= h2
            v += (1.0 - h2) * g * g
            m_hat = m / (1.0 - h1 ** t)
            v_hat = v / (1.0 - h2 ** t)
            self.theta -= lr * m_hat / (np.sqrt(v_hat) + eps)
        return norm
