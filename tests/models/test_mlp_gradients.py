"""MLP gradients against central finite differences: float64, every coordinate, every
activation, both losses, with and without biases, and with dropout masks held fixed
(the function is then deterministic); the shared optimizers and dropout are the ones used."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from models import ParamSet
from models.ff._mlp_kernel import ACTIVATIONS, LOSSES, MLPKernel, param_shapes
from seq_helpers import numeric_gradient, rel_error

MAX_REL = 1e-6


def make_kernel(rng, layers, activation, loss, bias, n_rows=5):
    params = ParamSet(param_shapes(layers, bias))
    params.theta[:] = rng.normal(scale=0.8, size=params.size)
    kernel = MLPKernel(params, layers, activation=activation, loss=loss, bias=bias, n_rows=n_rows)
    inputs = rng.normal(size=(n_rows, layers[0]))
    targets = rng.random((n_rows, layers[-1]))            # soft targets in [0, 1] exercise both losses fully
    kernel.bind(inputs, targets)
    return params, kernel


def fixed_masks(rng, layers, n_rows, rate=0.4):
    """One inverted-dropout mask per hidden layer, (n_l, N), held fixed during the check."""
    return [(rng.random((width, n_rows)) >= rate) / (1.0 - rate) for width in layers[1:-1]]


CASES = [(layers, dropout) for layers in [(3, 1), (3, 4, 1), (3, 5, 4, 2)] for dropout in (False, True)
         if len(layers) > 2 or not dropout]             # (3, 1) has no hidden layer to drop


@pytest.mark.parametrize("layers,dropout", CASES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bias", [True, False])
def test_every_coordinate_against_central_differences(layers, dropout, activation, loss, bias):
    rng = np.random.default_rng(zlib.crc32(repr((layers, activation, loss, bias, dropout)).encode()))
    params, kernel = make_kernel(rng, layers, activation, loss, bias)
    masks = fixed_masks(rng, layers, kernel.n_rows) if dropout else None
    kernel.loss_and_grad(masks)
    analytic = params.grad.copy()
    numeric = numeric_gradient(lambda: kernel.loss_and_grad(masks), params.theta)
    err = rel_error(analytic, numeric)
    worst = int(np.argmax(err))
    assert err.max() <= MAX_REL, (f"relative error {err.max():.3g} at coordinate {worst} "
                                  f"(analytic {analytic[worst]!r}, numeric {numeric[worst]!r})")
    assert np.abs(analytic).max() > 1e-3                   # a real gradient, not all zeros


def test_loss_formulas_by_hand():
    """The losses the kernel reports are the documented ones, on a network written out by hand."""
    rng = np.random.default_rng(5)
    layers = (3, 4, 2)
    for loss in LOSSES:
        params, kernel = make_kernel(rng, layers, "tanh", loss, True, n_rows=6)
        X = kernel.a[0].T.copy()
        t = kernel.targets.T.copy()
        h = np.tanh(X @ params["W1"] + params["b1"])
        z = h @ params["W2"] + params["b2"]
        o = 1.0 / (1.0 + np.exp(-z))
        expected = (0.5 * np.sum((o - t) ** 2) if loss == "squared"
                    else -np.sum(t * np.log(o) + (1 - t) * np.log(1 - o)))
        assert kernel.loss_and_grad() == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(kernel.outputs.T, o, rtol=1e-12)


def test_cross_entropy_is_finite_for_saturated_outputs():
    """The loss is computed from the logits: a confidently wrong output costs |z|, not log(0)."""
    params = ParamSet(param_shapes((1, 1), True))
    params["W1"][...] = 800.0
    kernel = MLPKernel(params, (1, 1), activation="sigmoid", loss="cross_entropy", bias=True, n_rows=1)
    kernel.bind(np.array([[1.0]]), np.array([[0.0]]))
    assert kernel.loss_and_grad() == pytest.approx(800.0)
    assert params.grad.tolist() == [1.0, 1.0]              # dz = o - t = 1, times the input and the bias' 1
