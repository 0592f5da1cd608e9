"""Invariants of the memories under any valid inputs (hypothesis): strengths stay in
[0, 1] and never grow back; every read is a combination of pushed values with weights
>= 0 summing to min(1, total strength); pushing with strength 1 reads the value back
and popping with strength 1 undoes it; an empty memory reads zero."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models import NeuralDeque, NeuralQueue, NeuralStack

strength = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
KIND = st.sampled_from(["stack", "queue", "deque"])
PROPERTY_SETTINGS = settings(max_examples=80, deadline=None)


def histories(draw, T):
    """Strength sequences of one end: (push, pop), each T floats in [0, 1]."""
    return (np.array(draw(st.lists(strength, min_size=T, max_size=T))),
            np.array(draw(st.lists(strength, min_size=T, max_size=T))))


def one_hot_run(kind, push, pop, push_bottom=None, pop_bottom=None):
    """Run with one-hot values, so each read is the vector of its cell weights, in the
    layout of ``strengths_`` -> (memory, reads tuple)."""
    T = len(push)
    if kind == "deque":
        eye = np.eye(2 * T)
        memory = NeuralDeque(width=2 * T)
        reads = memory.forward(values_top=eye[T:], values_bottom=eye[:T][::-1],
                               push_top=push, push_bottom=push_bottom,
                               pop_top=pop, pop_bottom=pop_bottom)
        return memory, reads
    memory = (NeuralStack if kind == "stack" else NeuralQueue)(width=T)
    return memory, (memory.forward(np.eye(T), push, pop),)


@PROPERTY_SETTINGS
@given(kind=KIND, T=st.integers(1, 10), data=st.data())
def test_strengths_stay_in_unit_interval_and_never_grow(kind, T, data):
    push, pop = histories(data.draw, T)
    push_b, pop_b = histories(data.draw, T) if kind == "deque" else (None, None)
    memory, _ = one_hot_run(kind, push, pop, push_b, pop_b)
    s = memory.strengths_                                  # (T, cells)
    assert ((s >= 0.0) & (s <= 1.0)).all()
    # a cell's strength only shrinks after its push (pops never add strength)
    for t in range(1, T):
        pushed_before = s[t - 1] > 0
        assert (s[t][pushed_before] <= s[t - 1][pushed_before]).all()
    # the pushed cell gets exactly the push strength (eq 2/4/9, i = t)
    if kind == "deque":
        for t in range(T):
            assert s[t, NeuralDeque.cell_index(T, t, "top")] == push[t]
            assert s[t, NeuralDeque.cell_index(T, t, "bottom")] == push_b[t]
    else:
        np.testing.assert_array_equal(np.diag(s), push)


@PROPERTY_SETTINGS
@given(kind=KIND, T=st.integers(1, 10), data=st.data())
def test_reads_are_combinations_of_pushed_values_with_total_weight_at_most_one(kind, T,
                                                                                data):
    push, pop = histories(data.draw, T)
    push_b, pop_b = histories(data.draw, T) if kind == "deque" else (None, None)
    memory, reads = one_hot_run(kind, push, pop, push_b, pop_b)
    s = memory.strengths_
    for read in reads:                              # one-hot values: read = cell weights
        assert (read >= 0.0).all()
        assert (read <= s + 1e-15).all()            # no cell gives more than it holds
        totals = read.sum(axis=1)
        assert (totals <= 1.0 + 1e-12).all()
        # the read takes exactly one unit of strength, or all there is
        np.testing.assert_allclose(totals, np.minimum(1.0, s.sum(axis=1)), atol=1e-12)
    if kind != "deque":
        assert np.allclose(np.triu(reads[0], k=1), 0.0)    # nothing not yet pushed


@PROPERTY_SETTINGS
@given(T=st.integers(0, 8), W=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_stack_push_one_reads_the_value_and_pop_one_undoes_it(T, W, seed, data):
    rng = np.random.default_rng(seed)
    push, pop = histories(data.draw, T)
    value = rng.normal(size=W)
    values = np.vstack([rng.normal(size=(T, W)), value, rng.normal(size=(1, W))])
    stack = NeuralStack(width=W)
    reads = stack.forward(values, np.r_[push, 1.0, 0.0], np.r_[pop, 0.0, 1.0])
    np.testing.assert_array_equal(reads[T], value)          # exactly the pushed value
    s = stack.strengths_
    before = s[T - 1] if T > 0 else np.zeros(T + 2)
    np.testing.assert_array_equal(s[T + 1], before)         # the pop removed exactly it
    np.testing.assert_allclose(reads[T + 1], reads[T - 1] if T > 0 else 0.0, atol=1e-12)


@PROPERTY_SETTINGS
@given(T=st.integers(0, 8), W=st.integers(1, 4), end=st.sampled_from(["top", "bottom"]),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_deque_push_one_reads_the_value_and_pop_one_undoes_it(T, W, end, seed, data):
    rng = np.random.default_rng(seed)
    strengths = {name: np.r_[np.array(data.draw(st.lists(strength, min_size=T,
                                                         max_size=T))), 0.0, 0.0]
                 for name in ("push_top", "push_bottom", "pop_top", "pop_bottom")}
    strengths[f"push_{end}"][T] = 1.0        # push at one end with strength 1 ...
    strengths[f"pop_{end}"][T + 1] = 1.0     # ... then pop that end with strength 1
    value = rng.normal(size=W)
    values = {name: rng.normal(size=(T + 2, W)) for name in ("values_top", "values_bottom")}
    values[f"values_{end}"][T] = value
    deque = NeuralDeque(width=W)
    reads = dict(zip(("top", "bottom"), deque.forward(**values, **strengths)))
    np.testing.assert_array_equal(reads[end][T], value)
    s = deque.strengths_
    np.testing.assert_array_equal(s[T + 1], s[T - 1] if T > 0 else 0.0)
    if T > 0:
        np.testing.assert_allclose(reads[end][T + 1], reads[end][T - 1], atol=1e-12)


@PROPERTY_SETTINGS
@given(kind=KIND, T=st.integers(1, 8), W=st.integers(1, 3), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_an_emptied_or_never_filled_memory_reads_zero(kind, T, W, seed, data):
    rng = np.random.default_rng(seed)
    push, pop = histories(data.draw, T)
    empty_for = int(np.ceil(push.sum())) + 1           # pops of 1 that empty it for sure
    n = T + empty_for
    pushes = np.r_[push, np.zeros(empty_for)]
    pops = np.r_[pop, np.ones(empty_for)]
    if kind == "deque":
        deque = NeuralDeque(width=W)
        zeros = np.zeros(n)
        reads = deque.forward(rng.normal(size=(n, W)), rng.normal(size=(n, W)),
                              pushes, zeros, pops, zeros)
        never = deque.forward(rng.normal(size=(n, W)), rng.normal(size=(n, W)),
                              zeros, zeros, pops, pops)
        assert np.all(deque.strengths_ == 0.0)
    else:
        memory = (NeuralStack if kind == "stack" else NeuralQueue)(width=W)
        reads = (memory.forward(rng.normal(size=(n, W)), pushes, pops),)
        never = (memory.forward(rng.normal(size=(n, W)), np.zeros(n), pops),)
    for r in reads:
        assert np.all(r[T + empty_for - 1] == 0.0)      # emptied: exactly zero
    for r in never:
        assert np.all(r == 0.0)                         # nothing pushed: exactly zero
