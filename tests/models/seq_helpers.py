"""Shared helpers of the models tests (random parameters, finite differences)."""
from __future__ import annotations

import numpy as np

from models import ParamSet

BACKENDS = ("cython", "numpy")


def rnn_shapes(I, H, O, bias=True):
    shapes = {"W_xh": (I, H), "W_hh": (H, H)}
    if bias:
        shapes["b_h"] = (H,)
    shapes["W_hy"] = (H, O)
    if bias:
        shapes["b_y"] = (O,)
    return shapes


def lstm_shapes(I, H, O, bias=True):
    shapes = {"W_x": (I, 4 * H), "W_h": (H, 4 * H)}
    if bias:
        shapes["b"] = (4 * H,)
    shapes["W_hy"] = (H, O)
    if bias:
        shapes["b_y"] = (O,)
    return shapes


def random_params(rng, shapes, scale=0.5):
    ps = ParamSet(shapes)
    ps.theta[:] = rng.normal(scale=scale, size=ps.size)
    return ps


def random_block(rng, n, T, B, I, O, head, mask_fraction=0.7):
    inputs = rng.normal(size=(n, T, B, I))
    if head == "softmax":
        targets = rng.integers(0, O, size=(n, T, B)).astype(np.int64)
    else:
        targets = (rng.random((n, T, B, O)) < 0.5).astype(np.float64)
    mask = (rng.random((n, T, B)) < mask_fraction).astype(np.float64)
    mask[:, -1, :] = 1.0                     # at least one target per sequence
    probs = np.zeros((n, T, B, O))
    return inputs, targets, mask, probs


def rel_error(analytic, numeric, floor=1e-5):
    """Elementwise |a - n| / max(|a| + |n|, floor): relative, except for gradients near zero,
    which are compared absolutely (to floor * 1e-6 when the bound is 1e-6)."""
    analytic = np.asarray(analytic)
    numeric = np.asarray(numeric)
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)


def numeric_gradient(f, x, h=1e-3):
    """Gradient of scalar f() with respect to every coordinate of array x (changed in place
    and restored), by the fourth-order central difference
    (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h: its truncation error (~h**4) and
    rounding error (~1e-16 |f| / h) are both near 1e-12 at h = 1e-3."""
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    g = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        values = []
        for step in (2, 1, -1, -2):
            flat[i] = old + step * h
            values.append(f())
        flat[i] = old
        g[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad
