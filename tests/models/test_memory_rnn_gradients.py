"""Finite-difference checks of every MemoryRNN parameter's gradient, through the memory:
both controllers, the three memories (and none), both backends, the auxiliary losses
included (float64, central differences, tiny shapes, away from the memories' kinks)."""
from __future__ import annotations

import numpy as np
import pytest

from memory_rnn_helpers import BACKENDS, CONTROLLERS, MEMORIES, tiny_model

EPS = 1e-6


def finite_difference_check(kernel, model, k=0, aux=True):
    """Max relative error (floor 1e-6) of the analytic gradient against central differences
    of the full objective (task loss + weighted auxiliary losses; the auxiliary losses are
    computed by ``loss_and_grad`` only, so with them off the cheaper ``forward`` serves)."""
    theta = model.params_.theta

    def objective():
        if not aux:
            return kernel.forward(k)
        loss = kernel.loss_and_grad(k)
        return loss + kernel.aux_loss

    kernel.loss_and_grad(k)
    analytic = model.params_.grad.copy()
    numeric = np.zeros_like(analytic)
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + EPS
        up = objective()
        theta[i] = old - EPS
        down = objective()
        theta[i] = old
        numeric[i] = (up - down) / (2 * EPS)
    error = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-6)
    return error, analytic, numeric


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", MEMORIES)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_every_parameter_gradient_matches_finite_differences(controller, memory, backend):
    # the auxiliary losses: everywhere on the fast backend, with the stack on the slow one
    aux = memory is not None and (backend == "cython" or memory == "stack")
    model, kernel, _, _ = tiny_model(controller, memory, backend, aux=0.3 if aux else 0.0)
    error, analytic, numeric = finite_difference_check(kernel, model, aux=aux)
    worst = int(error.argmax())
    names = [n for n, s in model.params_.shapes.items() for _ in range(int(np.prod(s)))]
    assert error.max() < 1e-5, (f"{names[worst]}: analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g}")
    for name in model.params_.shapes:                    # every parameter takes part
        assert np.abs(model.params_.grads[name]).max() > 0, name


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", ("stack", "queue", "deque"))
def test_strength_sharpening_gradient_matches_finite_differences(memory, backend):
    """sharpen * mean over sequences of sum over steps of s (1 - s), s every push and pop
    strength: in the objective and in the gradient."""
    model, kernel, _, _ = tiny_model("lstm", memory, backend, sharpen=0.7)
    error, analytic, numeric = finite_difference_check(kernel, model, aux=True)
    assert error.max() < 5e-5                             # central differences of a longer sum
    assert kernel.aux_loss > 0
    other, other_kernel, _, _ = tiny_model("lstm", memory, "numpy" if backend == "cython" else "cython",
                                           sharpen=0.7)
    other_kernel.loss_and_grad(0)
    assert other_kernel.aux_loss == pytest.approx(kernel.aux_loss, rel=1e-12)
    np.testing.assert_allclose(other.params_.grad, analytic, rtol=1e-10, atol=1e-13)
    plain, plain_kernel, _, _ = tiny_model("lstm", memory, backend)
    plain_kernel.loss_and_grad(0)
    assert np.abs(plain.params_.grads["b_mem"] - model.params_.grads["b_mem"]).max() > 1e-4


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_reaches_values_pushed_long_before_they_are_read(backend):
    """The value pushed at step 0 is read only after the separator: its gradient must flow
    back through the memory to the embedding of the first symbol."""
    model, kernel, block, _ = tiny_model("lstm", "stack", backend, length=4, stop_gradient=True)
    kernel.loss_and_grad(0)
    first = block.inputs[0, 0].argmax(axis=1)               # symbol ids at step 0, per sequence
    assert np.abs(model.params_.grads["E"][first]).max() > 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_stop_gradient_cuts_only_the_recurrent_path(backend):
    """Without a memory, the target phase can reach the source only through (h, c): with
    the stop-gradient the source symbols' embeddings get no gradient at all. The forward
    pass (loss, probabilities) is unchanged."""
    results = {}
    for stop in (False, True):
        model, kernel, block, probs = tiny_model("lstm", None, backend, length=4, stop_gradient=stop, vocab=4)
        loss = kernel.loss_and_grad(0)
        results[stop] = (loss, probs.copy(), model.params_.grads["E"].copy(), model.params_.grads["W_hy"].copy())
    (loss0, probs0, dE0, dWy0), (loss1, probs1, dE1, dWy1) = results[False], results[True]
    assert loss0 == loss1
    np.testing.assert_array_equal(probs0, probs1)
    np.testing.assert_array_equal(dWy0, dWy1)              # the output layer sees the same states
    V = 4
    assert np.abs(dE0[:V]).max() > 1e-4                      # symbols: reached through (h, c) only
    np.testing.assert_array_equal(dE1[:V], 0.0)
    assert np.abs(dE1[V]).max() > 0                          # the separator's own row still learns
