# cython: language_level=3
"""Optimizer update rules on flat parameter vectors (Cython twin of ``_updates_ref.py``,
which has the formulas). One pass over the vectors per step, no temporaries, no GIL."""
from libc.math cimport sqrt, pow, isfinite

from models.core._linalg cimport ws_adam

cdef enum:
    RULE_SGD = 0
    RULE_MOMENTUM = 1
    RULE_RMSPROP = 2
    RULE_ADAM = 3

_RULES = {"sgd": RULE_SGD, "momentum": RULE_MOMENTUM, "rmsprop": RULE_RMSPROP, "adam": RULE_ADAM}


cdef class UpdateKernel:
    """One optimizer rule bound to ``theta`` and ``grad`` (and its state vectors); see
    :class:`models.core._updates_ref.UpdateKernel`."""

    def __init__(self, str rule, double[::1] theta, const double[::1] grad, double[::1] state1=None,
                 double[::1] state2=None, *, double lr=0.1, double clip_norm=0.0, double h1=0.0,
                 double h2=0.0, double eps=0.0, long t=0):
        if rule not in _RULES:
            raise ValueError(f"rule must be one of {tuple(_RULES)}, got {rule!r}")
        self.rule = rule
        self.code = _RULES[rule]
        self.n = theta.shape[0]
        if grad.shape[0] != self.n or self.n == 0:
            raise ValueError(f"grad must have the (non-empty) shape of theta ({self.n},), got ({grad.shape[0]},)")
        needed = {RULE_SGD: 0, RULE_MOMENTUM: 1, RULE_RMSPROP: 1, RULE_ADAM: 2}[self.code]
        for i, state in enumerate((state1, state2)):
            if i < needed and (state is None or state.shape[0] != self.n):
                raise ValueError(f"rule {rule!r} needs state{i + 1} of shape ({self.n},)")
        self._arrays = (theta, grad, state1, state2)          # keeps the memory alive
        self.theta = &theta[0]
        self.grad = &grad[0]
        self.s1 = NULL if state1 is None or needed < 1 else &state1[0]
        self.s2 = NULL if state2 is None or needed < 2 else &state2[0]
        self.lr, self.clip_norm, self.h1, self.h2, self.eps, self.t = lr, clip_norm, h1, h2, eps, t

    def step(self):
        """Apply one update (step count ``t`` + 1); returns the gradient norm before
        clipping. Nothing changes when the norm is not finite."""
        cdef double norm
        with nogil:
            norm = self._step_c()
        return norm

    cdef double _step_c(self) noexcept nogil:
        cdef Py_ssize_t i, n = self.n
        cdef double norm, scale = 1.0, g, c1, c2
        cdef double lr = self.lr, h1 = self.h1, h2 = self.h2, eps = self.eps
        cdef double* theta = self.theta
        cdef const double* grad = self.grad
        cdef double* s1 = self.s1
        cdef double* s2 = self.s2
        cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
        # four running sums: one would wait on each addition's latency
        i = 0
        while i + 4 <= n:
            a0 += grad[i] * grad[i]
            a1 += grad[i + 1] * grad[i + 1]
            a2 += grad[i + 2] * grad[i + 2]
            a3 += grad[i + 3] * grad[i + 3]
            i += 4
        while i < n:
            a0 += grad[i] * grad[i]
            i += 1
        norm = sqrt((a0 + a1) + (a2 + a3))
        if not isfinite(norm):
            return norm
        self.t += 1
        if 0.0 < self.clip_norm < norm:
            scale = self.clip_norm / norm
        if self.code == RULE_SGD:
            for i in range(n):
                theta[i] -= lr * (scale * grad[i])
        elif self.code == RULE_MOMENTUM:
            for i in range(n):
                s1[i] = h1 * s1[i] + scale * grad[i]
                theta[i] -= lr * s1[i]
        elif self.code == RULE_RMSPROP:
            for i in range(n):
                g = scale * grad[i]
                s1[i] = h1 * s1[i] + (1.0 - h1) * g * g
                theta[i] -= lr * g / (sqrt(s1[i]) + eps)
        else:
            c1 = 1.0 - pow(h1, <double>self.t)
            c2 = 1.0 - pow(h2, <double>self.t)
            # theta -= lr * (s1 / c1) / (sqrt(s2 / c2) + eps) after the moment updates,
            # vectorised in _simd.h (the same operations in the same order)
            ws_adam(n, theta, grad, s1, s2, scale, lr, h1, h2, eps, c1, c2)
        return norm
