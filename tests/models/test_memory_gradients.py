"""Exact gradients of the memories: central finite differences for every coordinate of
every input (float64, inputs at least 1e-3 from every kink), both backends, single and
batched, plus the long paths named in the issue: a late read back to a value pushed
long before, and a late read back to an early pop through the strengths; and the
paper's rule at exact ties (the derivative follows the left argument of max/min)."""
from __future__ import annotations

import numpy as np
import pytest

from models import NeuralStack
from memory_helpers import (BACKENDS, KINDS, backward, input_names, inputs_away_from_kinks,
                            kink_margin, loss_and_grads, numerical_gradient, relative_error,
                            run)

H = 1e-5              # central-difference step; every kink argument moves by < T * H
FLOOR = 1e-3          # relative error is |a - n| / max(|a|, |n|, FLOOR)
TOLERANCE = 1e-7      # the loss is piecewise quadratic: central differences are exact
                      # up to rounding away from kinks


def check_all_gradients(kind, backend, inputs, read_weights):
    _, grads = loss_and_grads(kind, backend, inputs, read_weights)
    for name in input_names(kind):
        numeric = numerical_gradient(kind, backend, inputs, read_weights, name, H)
        assert grads[name].shape == inputs[name].shape
        error = relative_error(grads[name], numeric, FLOOR)
        assert error < TOLERANCE, (f"{kind}/{backend}: d_{name} differs from central "
                                   f"differences by {error:.2e}\nanalytic {grads[name]}\n"
                                   f"numeric {numeric}")
        assert np.abs(numeric).max() > 1e-3, f"d_{name} is trivially zero; pick other inputs"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_match_finite_differences(kind, backend, seed):
    T, W = (6, 3) if kind != "deque" else (5, 2)
    inputs = inputs_away_from_kinks(kind, T, W, seed=100 * seed + len(kind))
    assert kink_margin(kind, inputs) > 1e-3 > 10 * T * H
    rng = np.random.default_rng(seed)
    read_weights = [rng.normal(size=(T, W)) for _ in range(2 if kind == "deque" else 1)]
    check_all_gradients(kind, backend, inputs, read_weights)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_batched_gradients_match_finite_differences(kind, backend):
    B, T, W = 2, 4, 2
    inputs = inputs_away_from_kinks(kind, T, W, seed=7, B=B)
    rng = np.random.default_rng(7)
    read_weights = [rng.normal(size=(B, T, W)) for _ in range(2 if kind == "deque" else 1)]
    check_all_gradients(kind, backend, inputs, read_weights)


@pytest.mark.parametrize("backend", BACKENDS)
def test_late_read_reaches_a_value_pushed_long_before(backend):
    # v0 pushed firmly, then weak pushes that never cover a full unit above it: the
    # read of the last step still sees v0, so its gradient reaches back 7 steps.
    T, W = 8, 3
    rng = np.random.default_rng(0)
    inputs = {"values": rng.normal(size=(T, W)),
              "push": np.array([0.9] + [0.09] * (T - 1)),
              "pop": np.array([0.01] + [0.02] * (T - 1))}
    assert kink_margin("stack", inputs) > 1e-3
    read_weights = [np.zeros((T, W))]
    read_weights[0][-1] = rng.normal(size=W)           # only the last read is scored
    memory, _ = run("stack", backend, inputs)
    grads = backward(memory, "stack", read_weights)
    weight_of_v0 = memory.read_weights_[-1, 0]
    assert weight_of_v0 > 0.1
    np.testing.assert_allclose(grads["values"][0], weight_of_v0 * read_weights[0][-1],
                               rtol=1e-12)
    check_all_gradients("stack", backend, inputs, read_weights)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["stack", "queue"])
def test_late_read_reaches_an_early_pop_through_the_strengths(kind, backend):
    # the pop of step 1 removes part of a cell that is read only at the last step
    T, W = 7, 2
    rng = np.random.default_rng(1)
    inputs = {"values": rng.normal(size=(T, W)),
              "push": np.array([0.5, 0.2, 0.06, 0.07, 0.05, 0.08, 0.04]),
              "pop": np.array([0.05, 0.23, 0.01, 0.02, 0.01, 0.03, 0.02])}
    assert kink_margin(kind, inputs) > 1e-3
    read_weights = [np.zeros((T, W))]
    read_weights[0][-1] = [1.0, -2.0]
    _, grads = loss_and_grads(kind, backend, inputs, read_weights)
    numeric = numerical_gradient(kind, backend, inputs, read_weights, "pop", H)
    assert abs(numeric[1]) > 1e-2                      # the path exists ...
    assert relative_error(grads["pop"], numeric, FLOOR) < TOLERANCE   # ... and is exact
    check_all_gradients(kind, backend, inputs, read_weights)


@pytest.mark.parametrize("backend", BACKENDS)
def test_deque_pops_at_one_end_reach_reads_at_the_other(backend):
    # values pushed at the top are read at the bottom once the bottom values are popped
    T, W = 5, 2
    rng = np.random.default_rng(2)
    inputs = {"values_top": rng.normal(size=(T, W)), "values_bottom": rng.normal(size=(T, W)),
              "push_top": np.array([0.6, 0.3, 0.2, 0.1, 0.15]),
              "push_bottom": np.array([0.3, 0.05, 0.1, 0.05, 0.1]),
              "pop_top": np.array([0.05, 0.1, 0.05, 0.02, 0.08]),
              "pop_bottom": np.array([0.05, 0.12, 0.2, 0.31, 0.17])}
    assert kink_margin("deque", inputs) > 1e-3
    read_weights = [np.zeros((T, W)), np.zeros((T, W))]
    read_weights[1][-1] = [1.5, 0.5]                  # only the last bottom read is scored
    _, grads = loss_and_grads("deque", backend, inputs, read_weights)
    assert np.abs(grads["values_top"][0]).max() > 1e-2     # top value 0 read at the bottom
    assert abs(grads["pop_top"][1]) > 1e-2                  # an early top pop matters too
    check_all_gradients("deque", backend, inputs, read_weights)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ties_follow_the_left_argument(backend):
    # T=2, pushes 0.5 and 0.5 (no pops): the read of step 1 takes 0.5 of v1, then
    # min(s0 = 0.5, room = 0.5) of v0 -- a tie, so the derivative goes to s0 (the push of
    # step 0) and not to the room (which would charge -v0 to the push of step 1).
    v = np.array([[1.0, 0.0], [0.0, 1.0]])
    stack = NeuralStack(width=2, backend=backend)
    stack.forward(v, [0.5, 0.5], [0.0, 0.0])
    d_values, d_push, d_pop = stack.backward(np.array([[0.0, 0.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(d_push, [2.0, 3.0])          # <(2, 3), v0>, <(2, 3), v1>
    np.testing.assert_array_equal(d_values, [[1.0, 1.5], [1.0, 1.5]])
    # a pop that empties a cell exactly: max(0, 0.5 - 0.5) is a tie, whose derivative goes
    # to the left argument 0, so neither that pop nor that push gets gradient through it
    stack.forward(v, [0.5, 0.3], [0.0, 0.5])
    d_values, d_push, d_pop = stack.backward(np.array([[0.0, 0.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(d_push, [0.0, 3.0])
    np.testing.assert_array_equal(d_pop, [0.0, 0.0])
