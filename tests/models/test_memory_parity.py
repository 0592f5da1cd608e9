"""The Cython kernels against their numpy reference, to 1e-10: reads, strengths, read
weights and every gradient, on random shapes, single sequences and batches, with
strengths from the open interval and with exact 0s, 1s and ties (where the left-argument
rule of the paper's footnote decides the gradient)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.memory import _memory, _memory_ref
from memory_helpers import CLASSES, KINDS, input_names, random_inputs

ATOL = 1e-10


def forward_backward(kind, backend, inputs, d_reads):
    W = inputs[input_names(kind)[0]].shape[-1]
    memory = CLASSES[kind](width=W, backend=backend)
    reads = memory.forward(**inputs)
    reads = (reads,) if kind != "deque" else reads
    grads = memory.backward(*d_reads)
    if kind == "deque":
        weights = (memory.read_weights_top_, memory.read_weights_bottom_)
    else:
        weights = (memory.read_weights_,)
    return {"reads": reads, "strengths": (memory.strengths_,), "weights": weights,
            "gradients": grads}


def assert_parity(kind, inputs, d_reads):
    want = forward_backward(kind, "numpy", inputs, d_reads)
    got = forward_backward(kind, "cython", inputs, d_reads)
    for key in want:
        for g, w in zip(got[key], want[key]):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=0, atol=ATOL, err_msg=f"{kind} {key}")


def d_reads_for(kind, rng, inputs):
    shape = inputs[input_names(kind)[0]].shape
    return [rng.normal(size=shape) for _ in range(2 if kind == "deque" else 1)]


@pytest.mark.parametrize("kind", KINDS)
def test_parity_on_random_shapes(kind):
    rng = np.random.default_rng(2015)
    for trial in range(12):
        T = int(rng.integers(1, 40))
        W = int(rng.integers(1, 6))
        B = None if trial % 2 == 0 else int(rng.integers(1, 5))
        inputs = random_inputs(kind, rng, T, W, B=B, low=0.0, high=1.0)
        assert_parity(kind, inputs, d_reads_for(kind, rng, inputs))


@pytest.mark.parametrize("kind", KINDS)
def test_parity_in_the_regimes_training_produces(kind):
    # saturated controllers: strengths near 0 and 1 (sigmoids of large logits), long runs
    rng = np.random.default_rng(7)
    B, T, W = 3, 64, 4
    inputs = random_inputs(kind, rng, T, W, B=B)
    for name in input_names(kind):
        if not name.startswith("values"):
            inputs[name] = 1.0 / (1.0 + np.exp(-rng.normal(scale=6.0, size=(B, T))))
    assert_parity(kind, inputs, d_reads_for(kind, rng, inputs))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), T=st.integers(1, 9), W=st.integers(1, 3),
       B=st.one_of(st.none(), st.integers(1, 3)), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_parity_with_exact_zeros_ones_and_ties(kind, T, W, B, seed, data):
    # strengths from {0, 1/4, 1/2, 3/4, 1}: exact ties everywhere (a pop that empties a
    # cell exactly, a read that ends exactly at a cell boundary, pushes of 0)
    rng = np.random.default_rng(seed)
    inputs = random_inputs(kind, rng, T, W, B=B)
    lead = (T,) if B is None else (B, T)
    for name in input_names(kind):
        if not name.startswith("values"):
            inputs[name] = np.array(data.draw(st.lists(
                st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
                min_size=int(np.prod(lead)), max_size=int(np.prod(lead))))).reshape(lead)
    assert_parity(kind, inputs, d_reads_for(kind, rng, inputs))


@pytest.mark.parametrize("kind", ["stack", "queue"])
def test_step_kernels_agree_with_whole_sequence_kernels(kind):
    # the kernel-level contract the controller relies on, called directly
    rng = np.random.default_rng(4)
    B, T, W = 2, 9, 3
    values, push, pop = (rng.normal(size=(B, T, W)), rng.uniform(size=(B, T)),
                         rng.uniform(size=(B, T)))
    d_reads = rng.normal(size=(B, T, W))
    results = []
    for module in (_memory, _memory_ref):
        for stepwise in (False, True):
            S, Wt, R = np.zeros((B, T, T)), np.zeros((B, T, T)), np.zeros((B, T, W))
            dV, dd, du = np.zeros((B, T, W)), np.zeros((B, T)), np.zeros((B, T))
            if stepwise:
                d_strength = np.zeros((B, T))
                for t in range(T):
                    getattr(module, f"{kind}_forward_step")(t, values, push, pop, S, Wt, R)
                for t in range(T - 1, -1, -1):
                    getattr(module, f"{kind}_backward_step")(t, values, pop, S, d_reads, dV,
                                                             dd, du, d_strength)
            else:
                getattr(module, f"{kind}_forward")(T, values, push, pop, S, Wt, R)
                getattr(module, f"{kind}_backward")(T, values, pop, S, d_reads, dV, dd, du)
            results.append((S, Wt, R, dV, dd, du))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


def test_kernels_reject_inconsistent_buffers():
    values = np.zeros((1, 3, 2))
    with pytest.raises(ValueError, match="inconsistent buffers"):
        _memory.stack_forward(3, values, np.zeros((1, 3)), np.zeros((1, 3)),
                              np.zeros((1, 3, 2)), np.zeros((1, 3, 3)), np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="inconsistent buffers"):
        _memory.queue_forward(4, values, np.zeros((1, 3)), np.zeros((1, 3)),
                              np.zeros((1, 3, 3)), np.zeros((1, 3, 3)), np.zeros((1, 3, 2)))
