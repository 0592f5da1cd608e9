"""Gradients against central finite differences, float64, every coordinate on tiny
shapes, both backends; relative error <= 1e-6 (with a floor for gradients near zero).

Dropout is checked with its masks held fixed (the function is then deterministic)."""
from __future__ import annotations

import numpy as np
import pytest

from models import LSTMCell, RNNCell, load_kernels
from seq_helpers import BACKENDS, lstm_shapes, numeric_gradient, random_block, random_params, rel_error, rnn_shapes

MAX_REL = 1e-6


def check(analytic, numeric, what):
    err = rel_error(analytic, numeric)
    worst = np.unravel_index(np.argmax(err), err.shape) if err.size else ()
    assert err.max(initial=0.0) <= MAX_REL, (f"{what}: relative error {err.max():.3g} at {worst} "
                                            f"(analytic {np.asarray(analytic)[worst]!r}, "
                                            f"numeric {np.asarray(numeric)[worst]!r})")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind,activation", [("rnn", "tanh"), ("rnn", "sigmoid"), ("lstm", None)])
@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dropout", [False, True])
def test_model_gradients(backend, kind, activation, head, bias, dropout):
    """Every parameter of the whole model (cell, output layer, head, loss)."""
    T, B, I, H, O = 4, 2, 3, 4, 3
    rng = np.random.default_rng(hash((backend, kind, activation, head, bias, dropout)) % 2**32)
    shapes = rnn_shapes(I, H, O, bias) if kind == "rnn" else lstm_shapes(I, H, O, bias)
    ps = random_params(rng, shapes, scale=0.6)
    mod = load_kernels(kind, backend)
    if kind == "rnn":
        kernel = mod.RNNKernel(ps.values, ps.grads, activation=activation, head=head, batch_size=B, max_length=T)
    else:
        kernel = mod.LSTMKernel(ps.values, ps.grads, head=head, batch_size=B, max_length=T)
    kernel.bind(*random_block(rng, 1, T, B, I, O, head))
    if dropout:
        kernel.set_dropout((rng.random((T * B, I)) < 0.7) / 0.7, (rng.random((T * B, H)) < 0.7) / 0.7)
    kernel.loss_and_grad(0, dropout)
    analytic = ps.grad.copy()
    numeric = numeric_gradient(lambda: kernel.loss_and_grad(0, dropout), ps.theta)
    for name in ps:
        sl = slice(*_span(ps, name))
        check(analytic[sl], numeric[sl], f"{kind}/{backend} d{name}")


def _span(ps, name):
    start = ps.values[name].ctypes.data - ps.theta.ctypes.data
    start //= 8
    return start, start + ps.values[name].size


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_rnn_cell_gradients(backend, activation):
    """Sequence and step APIs: inputs, initial state and parameters."""
    T, B, I, H = 3, 2, 3, 4
    rng = np.random.default_rng(11)
    ps = random_params(rng, {"c_W_xh": (I, H), "c_W_hh": (H, H), "c_b_h": (H,)}, scale=0.7)
    cell = RNNCell(ps.values, ps.grads, activation=activation, prefix="c_", backend=backend)
    X, h0, R = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))

    def loss():
        return float(np.sum(cell.forward(X, h0)[0] * R))

    Hout, cache = cell.forward(X, h0)
    ps.grad[:] = 0
    dX, dh0 = cell.backward(R, cache)
    check(dX, numeric_gradient(loss, X), "dX")
    check(dh0, numeric_gradient(loss, h0), "dh0")
    check(ps.grad.copy(), numeric_gradient(loss, ps.theta), "dtheta (sequence)")

    x, h_prev, r = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def step_loss():
        return float(np.sum(cell.step_forward(x, h_prev)[0] * r))

    _, c = cell.step_forward(x, h_prev)
    ps.grad[:] = 0
    dx, dh_prev = cell.step_backward(r, c)
    check(dx, numeric_gradient(step_loss, x), "dx")
    check(dh_prev, numeric_gradient(step_loss, h_prev), "dh_prev")
    check(ps.grad.copy(), numeric_gradient(step_loss, ps.theta), "dtheta (step)")


@pytest.mark.parametrize("backend", BACKENDS)
def test_lstm_cell_gradients(backend):
    T, B, I, H = 3, 2, 3, 4
    rng = np.random.default_rng(12)
    ps = random_params(rng, {"W_x": (I, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,)}, scale=0.7)
    cell = LSTMCell(ps.values, ps.grads, backend=backend)
    X, h0, c0 = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    R = rng.normal(size=(T, B, H))

    def loss():
        return float(np.sum(cell.forward(X, h0, c0)[0] * R))

    _, cache = cell.forward(X, h0, c0)
    ps.grad[:] = 0
    dX, dh0, dc0 = cell.backward(R, cache)
    for name, analytic, wrt in (("dX", dX, X), ("dh0", dh0, h0), ("dc0", dc0, c0)):
        check(analytic, numeric_gradient(loss, wrt), name)
    check(ps.grad.copy(), numeric_gradient(loss, ps.theta), "dtheta (sequence)")

    # One step, with gradient arriving on both h and c (as from a memory model's next step).
    x, h_prev, c_prev = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    rh, rc = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def step_loss():
        h, c, _ = cell.step_forward(x, h_prev, c_prev)
        return float(np.sum(h * rh) + np.sum(c * rc))

    _, _, cache = cell.step_forward(x, h_prev, c_prev)
    ps.grad[:] = 0
    dx, dh_prev, dc_prev = cell.step_backward(rh, rc, cache)
    for name, analytic, wrt in (("dx", dx, x), ("dh_prev", dh_prev, h_prev), ("dc_prev", dc_prev, c_prev)):
        check(analytic, numeric_gradient(step_loss, wrt), name)
    check(ps.grad.copy(), numeric_gradient(step_loss, ps.theta), "dtheta (step)")
