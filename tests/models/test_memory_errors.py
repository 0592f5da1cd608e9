"""Bad input to the memories: every error names the problem and the fix."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from models import (KernelNotBuiltError, MemoryStateError, ModelsError, NeuralDeque,
                    NeuralQueue, NeuralStack, UnknownNameError)

T, W = 4, 3


def good(T=T, W=W):
    rng = np.random.default_rng(0)
    return rng.normal(size=(T, W)), rng.uniform(size=T), rng.uniform(size=T)


def deque_inputs():
    v, d, u = good()
    return {"values_top": v, "values_bottom": v.copy(), "push_top": d, "push_bottom": d,
            "pop_top": u, "pop_bottom": u}


@pytest.mark.parametrize("cls", [NeuralStack, NeuralQueue])
def test_strength_length_differs_from_values(cls):
    values, push, pop = good()
    with pytest.raises(ValueError, match=r"push has shape \(3,\) but values has shape "
                                         r"\(4, 3\).*shape \(4,\)"):
        cls(width=W).forward(values, push[:3], pop)
    with pytest.raises(ValueError, match=r"pop has shape \(2, 4\) but values has shape "
                                         r"\(4, 3\)"):
        cls(width=W).forward(values, push, np.stack([pop, pop]))


def test_batched_shapes_must_agree():
    values = np.zeros((2, T, W))
    with pytest.raises(ValueError, match=r"push has shape \(3, 4\) but values has shape "
                                         r"\(2, 4, 3\).*\(2, 4\)"):
        NeuralStack(width=W).forward(values, np.zeros((3, T)), np.zeros((2, T)))


def test_values_of_the_wrong_width_or_rank():
    values, push, pop = good()
    with pytest.raises(ValueError, match=r"values has width 3 \(shape \(4, 3\)\) but this "
                                         r"NeuralStack has width=5"):
        NeuralStack(width=5).forward(values, push, pop)
    with pytest.raises(ValueError, match=r"values must have shape \(T, W\) or \(B, T, W\); "
                                         r"got shape \(4,\)"):
        NeuralStack(width=W).forward(push, push, pop)
    with pytest.raises(ValueError, match="no steps"):
        NeuralQueue(width=W).forward(np.zeros((0, W)), [], [])
    with pytest.raises(ValueError, match="values must be an array of real numbers"):
        NeuralQueue(width=W).forward("abc", push, pop)


@pytest.mark.parametrize("cls", [NeuralStack, NeuralQueue])
@pytest.mark.parametrize("name, bad, span", [("push", -0.25, r"\[-0.25, [0-9.]+\]"),
                                             ("pop", 1.5, r"\[[0-9.]+, 1.5\]")])
def test_strengths_outside_the_unit_interval_are_refused(cls, name, bad, span):
    values, push, pop = good()
    arrays = {"values": values, "push": push, "pop": pop}
    arrays[name] = arrays[name].copy()
    arrays[name][2] = bad
    with pytest.raises(ValueError, match=rf"{name} must lie in \[0, 1\].*span {span}.*"
                                         rf"index \(2,\).*sigmoid"):
        cls(width=W).forward(**arrays)


@pytest.mark.parametrize("name", ["values", "push", "pop"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_inputs_are_refused(name, bad):
    values, push, pop = good()
    arrays = {"values": values.copy(), "push": push.copy(), "pop": pop.copy()}
    arrays[name].flat[1] = bad
    with pytest.raises(ValueError, match=rf"{name} contains {bad} at index .*finite"):
        NeuralStack(width=W).forward(**arrays)


def test_deque_needs_inputs_for_both_ends():
    values, push, pop = good()
    deque = NeuralDeque(width=W)
    with pytest.raises(ValueError, match=r"NeuralDeque.forward needs 6 inputs.*values_bottom, "
                                         r"push_bottom, pop_bottom are missing.*both ends|"
                                         r"each end"):
        deque.forward(values_top=values, push_top=push, pop_top=pop)
    with pytest.raises(ValueError, match=r"missing.*top and bottom"):
        deque.forward(values, push, pop)                 # positionally: the same mistake


def test_deque_ends_must_match():
    inputs = deque_inputs()
    inputs["values_bottom"] = inputs["values_bottom"][:2]
    with pytest.raises(ValueError, match=r"values_bottom has shape \(2, 3\) but values_top "
                                         r"has shape \(4, 3\)"):
        NeuralDeque(width=W).forward(**inputs)
    inputs = deque_inputs()
    inputs["pop_bottom"] = np.r_[inputs["pop_bottom"], 0.5]
    with pytest.raises(ValueError, match=r"pop_bottom has shape \(5,\)"):
        NeuralDeque(width=W).forward(**inputs)
    inputs = deque_inputs()
    inputs["push_bottom"] = inputs["push_bottom"] * 3.0
    with pytest.raises(ValueError, match=r"push_bottom must lie in \[0, 1\]"):
        NeuralDeque(width=W).forward(**inputs)


def test_backward_needs_a_forward_pass_and_matching_gradients():
    stack = NeuralStack(width=W)
    with pytest.raises(MemoryStateError, match="needs a forward pass first"):
        stack.backward(np.zeros((T, W)))
    assert issubclass(MemoryStateError, ModelsError)
    stack.forward(*good())
    with pytest.raises(ValueError, match=r"d_reads has shape \(3, 3\) but the forward pass "
                                         r"read reads of shape \(4, 3\)"):
        stack.backward(np.zeros((3, W)))
    with pytest.raises(ValueError, match="d_reads contains nan"):
        stack.backward(np.full((T, W), np.nan))
    deque = NeuralDeque(width=W)
    deque.forward(**deque_inputs())
    with pytest.raises(ValueError, match=r"d_read_bottom has shape \(4, 2\)"):
        deque.backward(np.zeros((T, W)), np.zeros((T, 2)))
    with pytest.raises(MemoryStateError, match="needs a forward pass"):
        NeuralQueue(width=W).strengths_


def test_step_interface_misuse():
    stack = NeuralStack(width=W)
    with pytest.raises(MemoryStateError, match=r"start\(max_steps, batch_size\) first"):
        stack.step(np.zeros(W), 0.5, 0.5)
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1; got 0"):
        stack.start(0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; got 2.5"):
        stack.start(3, batch_size=2.5)
    stack.start(2, batch_size=2)
    with pytest.raises(ValueError, match=r"value has shape \(3,\); one step of this batched "
                                         r"NeuralStack takes shape \(2, 3\)"):
        stack.step(np.zeros(W), [0.5, 0.5], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"push must lie in \[0, 1\]"):
        stack.step(np.zeros((2, W)), [0.5, 1.5], [0.0, 0.0])
    stack.step(np.zeros((2, W)), [0.5, 0.5], [0.0, 0.0])
    stack.step(np.zeros((2, W)), [0.5, 0.5], [0.0, 0.0])
    with pytest.raises(MemoryStateError, match="all 2 steps given to start"):
        stack.step(np.zeros((2, W)), [0.5, 0.5], [0.0, 0.0])
    stack.backward_step(np.zeros((2, W)))
    stack.start(3).step(np.zeros(W), 0.5, 0.5)
    stack.backward_step(np.zeros(W))
    with pytest.raises(MemoryStateError, match="backward pass has begun"):
        stack.step(np.zeros(W), 0.5, 0.5)
    stack.start(1).step(np.zeros(W), 0.5, 0.5)
    stack.backward_step(np.zeros(W))
    with pytest.raises(MemoryStateError, match="already backpropagated"):
        stack.backward_step(np.zeros(W))


def test_bad_width_and_backend():
    for width in (0, -2, 2.5, True, "3"):
        with pytest.raises(ValueError, match="width must be"):
            NeuralStack(width=width)
    with pytest.raises(UnknownNameError, match="backend must be one of cython, numpy; got "
                                               "'torch'"):
        NeuralQueue(width=2, backend="torch")


def test_missing_compiled_kernels_say_how_to_build_them(monkeypatch):
    monkeypatch.setitem(sys.modules, "models.memory._memory", None)   # import fails
    with pytest.raises(KernelNotBuiltError, match=r"build_ext --inplace.*backend='numpy'"):
        NeuralStack(width=2)
    NeuralStack(width=2, backend="numpy").forward(*good(W=2))  # the reference still works
