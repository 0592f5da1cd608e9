"""Optimizers on flat vectors: the update formulas, clipping, NaN handling, state round trip."""
from __future__ import annotations

import math

import numpy as np
import pytest

from models import SGD, Adam, Momentum, ParamSet, RMSProp, UnknownNameError, clip_grad_norm, make_optimizer
from seq_helpers import BACKENDS


def params(values):
    ps = ParamSet({"w": (len(values),)})
    ps.theta[:] = values
    return ps


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_and_momentum_formulas(backend):
    ps = params([1.0, 2.0])
    opt = SGD(learning_rate=0.5, backend=backend).bind(ps)
    ps.grad[:] = [2.0, -4.0]
    assert opt.step() == pytest.approx(math.sqrt(20))
    np.testing.assert_allclose(ps.theta, [0.0, 4.0])
    ps = params([0.0])
    opt = Momentum(learning_rate=0.1, momentum=0.5, backend=backend).bind(ps)
    for _ in range(2):
        ps.grad[:] = [1.0]
        opt.step()
    # v1 = 1, theta = -0.1; v2 = 0.5 + 1 = 1.5, theta = -0.1 - 0.15
    np.testing.assert_allclose(ps.theta, [-0.25])
    assert opt.t == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_rmsprop_and_adam_formulas(backend):
    ps = params([0.0, 0.0])
    opt = RMSProp(learning_rate=0.01, decay=0.9, epsilon=1e-8, backend=backend).bind(ps)
    ps.grad[:] = [3.0, -0.5]
    opt.step()
    # r = 0.1 g^2 -> step = lr * g / sqrt(0.1 g^2) = lr * sign(g) / sqrt(0.1)
    np.testing.assert_allclose(ps.theta, [-0.01 / math.sqrt(0.1), 0.01 / math.sqrt(0.1)], rtol=1e-7)
    ps = params([1.0, 1.0, 1.0])
    opt = Adam(learning_rate=0.1, backend=backend).bind(ps)
    ps.grad[:] = [5.0, -1e-3, 0.0]
    opt.step()
    np.testing.assert_allclose(ps.theta, [0.9, 1.1, 1.0], rtol=1e-5)        # first step: lr * sign(g)
    ps.grad[:] = [5.0, -1e-3, 0.0]
    opt.step()
    np.testing.assert_allclose(ps.theta, [0.8, 1.2, 1.0], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_clipping_by_global_norm(backend):
    ps = params([0.0, 0.0])
    opt = SGD(learning_rate=1.0, clip_norm=1.0, backend=backend).bind(ps)
    ps.grad[:] = [3.0, 4.0]
    assert opt.step() == pytest.approx(5.0)                     # norm before clipping
    np.testing.assert_allclose(ps.theta, [-0.6, -0.8])           # scaled to norm 1
    ps.grad[:] = [0.3, 0.4]                                      # below the threshold: unchanged
    opt.step()
    np.testing.assert_allclose(ps.theta, [-0.9, -1.2])
    g = np.array([6.0, 8.0])
    assert clip_grad_norm(g, 5.0) == pytest.approx(10.0)
    np.testing.assert_allclose(g, [3.0, 4.0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_nan_gradient_changes_nothing(backend, name):
    ps = params([1.0, 2.0])
    opt = make_optimizer(name, learning_rate=0.1, backend=backend).bind(ps)
    ps.grad[:] = [1.0, 1.0]
    opt.step()
    theta, state = ps.theta.copy(), [s.copy() for s in opt.state]
    ps.grad[:] = [np.nan, 1.0]
    assert math.isnan(opt.step())
    np.testing.assert_array_equal(ps.theta, theta)
    for a, b in zip(opt.state, state):
        np.testing.assert_array_equal(a, b)
    assert opt.t == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_state_round_trip_continues_identically(backend):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, 4))
    ps1 = params(np.zeros(4))
    opt1 = Adam(learning_rate=0.05, backend=backend).bind(ps1)
    for g in grads:
        ps1.grad[:] = g
        opt1.step()
    ps2 = params(np.zeros(4))
    opt2 = Adam(learning_rate=0.05, backend=backend).bind(ps2)
    for g in grads[:3]:
        ps2.grad[:] = g
        opt2.step()
    scalars, arrays = opt2.state_dict()
    ps3 = params(ps2.theta.copy())
    opt3 = Adam(learning_rate=0.05, backend=backend).bind(ps3)
    opt3.load_state_dict(scalars, arrays)
    assert opt3.t == 3
    for g in grads[3:]:
        ps3.grad[:] = g
        opt3.step()
    np.testing.assert_array_equal(ps3.theta, ps1.theta)


def test_learning_rate_can_change_between_steps():
    ps = params([0.0])
    opt = SGD(learning_rate=1.0).bind(ps)
    ps.grad[:] = [1.0]
    opt.step()
    opt.learning_rate = 0.5
    opt.step()
    np.testing.assert_allclose(ps.theta, [-1.5])


def test_optimizer_errors():
    with pytest.raises(UnknownNameError, match="sgd, momentum, rmsprop, adam"):
        make_optimizer("adagrad", learning_rate=0.1)
    with pytest.raises(ValueError, match="learning_rate must be"):
        SGD(learning_rate=0)
    with pytest.raises(ValueError, match="momentum"):
        Momentum(learning_rate=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="clip_norm"):
        Adam(learning_rate=0.1, clip_norm=-1)
    with pytest.raises(RuntimeError, match="bind"):
        SGD(learning_rate=0.1).step()
    with pytest.raises(ValueError, match="1-D float64"):
        class Fake:
            theta = np.zeros((2, 2))
            grad = np.zeros((2, 2))
        SGD(learning_rate=0.1).bind(Fake())
    opt = Adam(learning_rate=0.1).bind(params([0.0]))
    with pytest.raises(ValueError, match="optimizer state is for 'sgd'"):
        opt.load_state_dict({"name": "sgd"}, {})
