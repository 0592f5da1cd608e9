"""Neural Stack, Queue and DeQue: hand-computed cases (Figure 1(a) of the paper and its
queue/deque analogues), the literal equations as an oracle, batches, the step-by-step
interface and the exposed strengths and read weights."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import models
from models import MEMORIES, NeuralDeque, NeuralQueue, NeuralStack
from models.memory import _memories as memory_module
from memory_helpers import BACKENDS, KINDS, input_names, oracle, random_inputs, run

# Figure 1(a): v1, v2, v3 pushed with (d, u) = (0.8, 0), (0.5, 0.1), (0.9, 0.9).
V3 = np.eye(3)                       # v1, v2, v3 as one-hot rows: a read shows its weights
PUSH = [0.8, 0.5, 0.9]
POP = [0.0, 0.1, 0.9]


@pytest.mark.parametrize("backend", BACKENDS)
def test_stack_figure_1a(backend):
    stack = NeuralStack(width=3, backend=backend)
    reads = stack.forward(V3, PUSH, POP)
    # t=1: s = [0.8]                         read 0.8 v1
    # t=2: pop 0.1 -> s1 = 0.7; push 0.5    read 0.5 v2 + min(0.7, 1 - 0.5) v1 = 0.5 v1 + 0.5 v2
    # t=3: pop 0.9 eats v2's 0.5, then 0.4 of v1 -> s1 = 0.3, s2 = 0; push 0.9
    #                                       read 0.9 v3 + 0 v2 + min(0.3, 0.1) v1
    np.testing.assert_allclose(reads, [[0.8, 0.0, 0.0],
                                       [0.5, 0.5, 0.0],
                                       [0.1, 0.0, 0.9]], atol=1e-12)
    np.testing.assert_allclose(stack.strengths_, [[0.8, 0.0, 0.0],
                                                  [0.7, 0.5, 0.0],
                                                  [0.3, 0.0, 0.9]], atol=1e-12)
    np.testing.assert_allclose(stack.read_weights_, reads, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_queue_same_operations_reads_from_the_front(backend):
    queue = NeuralQueue(width=3, backend=backend)
    reads = queue.forward(V3, PUSH, POP)
    # t=1: s = [0.8]                          read 0.8 v1
    # t=2: pop 0.1 from the front -> s1 = 0.7; push 0.5
    #      read from the front: 0.7 v1, then min(0.5, 1 - 0.7) = 0.3 v2
    # t=3: pop 0.9: v1's 0.7, then 0.2 of v2 -> s = [0, 0.3]; push 0.9
    #      read: 0 v1, 0.3 v2, min(0.9, 1 - 0.3) = 0.7 v3
    np.testing.assert_allclose(reads, [[0.8, 0.0, 0.0],
                                       [0.7, 0.3, 0.0],
                                       [0.0, 0.3, 0.7]], atol=1e-12)
    np.testing.assert_allclose(queue.strengths_, [[0.8, 0.0, 0.0],
                                                  [0.7, 0.5, 0.0],
                                                  [0.0, 0.3, 0.9]], atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_deque_both_ends_by_hand(backend):
    # top values v1, v2, v3 and bottom values w1, w2, w3, one-hot over 6 coordinates
    # [v1, v2, v3, w1, w2, w3], so each read shows its weights.
    eye = np.eye(6)
    deque = NeuralDeque(width=6, backend=backend)
    read_top, read_bottom = deque.forward(
        values_top=eye[:3], values_bottom=eye[3:],
        push_top=[0.8, 0.6, 0.5], push_bottom=[0.6, 0.2, 0.0],
        pop_top=[0.0, 0.5, 0.8], pop_bottom=[0.0, 0.3, 0.4])
    # t=1: cells (bottom..top) [w1 0.6, v1 0.8]
    #      top read: 0.8 v1, min(0.6, 0.2) w1       bottom read: 0.6 w1, min(0.8, 0.4) v1
    # t=2: pop top 0.5: v1 0.8 -> 0.3 (w1 untouched); pop bottom 0.3: w1 0.6 -> 0.3;
    #      push: [w2 0.2, w1 0.3, v1 0.3, v2 0.6]
    #      top read: 0.6 v2, 0.3 v1, min(0.3, 0.1) w1, 0 w2
    #      bottom read: 0.2 w2, 0.3 w1, 0.3 v1, min(0.6, 0.2) v2
    # t=3: pop top 0.8: v2 0.6 -> 0, v1 0.3 -> 0.1; pop bottom 0.4: w2 0.2 -> 0,
    #      w1 0.3 -> 0.1; push v3 0.5 on top, w3 0.0 at the bottom:
    #      [w3 0, w2 0, w1 0.1, v1 0.1, v2 0, v3 0.5]
    #      top read: 0.5 v3, 0.1 v1, 0.1 w1       bottom read: 0.1 w1, 0.1 v1, 0.5 v3
    #                 v1   v2   v3   w1   w2   w3
    np.testing.assert_allclose(read_top, [[0.8, 0.0, 0.0, 0.2, 0.0, 0.0],
                                          [0.3, 0.6, 0.0, 0.1, 0.0, 0.0],
                                          [0.1, 0.0, 0.5, 0.1, 0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(read_bottom, [[0.4, 0.0, 0.0, 0.6, 0.0, 0.0],
                                             [0.3, 0.2, 0.0, 0.3, 0.2, 0.0],
                                             [0.1, 0.0, 0.5, 0.1, 0.0, 0.0]], atol=1e-12)
    #                      cells: w3   w2   w1   v1   v2   v3
    np.testing.assert_allclose(deque.strengths_[2], [0.0, 0.0, 0.1, 0.1, 0.0, 0.5],
                               atol=1e-12)
    assert NeuralDeque.cell_index(3, 0, "top") == 3 and NeuralDeque.cell_index(3, 2, "bottom") == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_matches_the_equations_transcribed_literally(kind, backend):
    rng = np.random.default_rng(11)
    for T, W in [(1, 2), (4, 3), (9, 2)]:
        # strengths from the whole [0, 1], with exact 0s and 1s mixed in
        inputs = random_inputs(kind, rng, T, W, low=0.0, high=1.0)
        for name in [n for n in input_names(kind) if not n.startswith("values")]:
            inputs[name][rng.random(T) < 0.3] = rng.choice([0.0, 1.0])
        memory, reads = run(kind, backend, inputs)
        want_reads, want_strengths, _ = oracle(kind, inputs)
        for got, want in zip(reads, want_reads):
            np.testing.assert_allclose(got, want, atol=1e-12)
        cells = memory.strengths_
        for t, s in enumerate(want_strengths):
            live = cells[t, :t + 1] if kind != "deque" else cells[t, T - 1 - t:T + t + 1]
            np.testing.assert_allclose(live, s, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_batch_equals_one_sequence_at_a_time(kind, backend):
    rng = np.random.default_rng(3)
    B, T, W = 3, 7, 4
    inputs = random_inputs(kind, rng, T, W, B=B, low=0.0, high=1.0)
    d_reads = [rng.normal(size=(B, T, W)) for _ in range(2 if kind == "deque" else 1)]
    memory, reads = run(kind, backend, inputs)
    grads = memory.backward(*d_reads)
    strengths = memory.strengths_
    for b in range(B):
        single, single_reads = run(kind, backend, {k: v[b] for k, v in inputs.items()})
        single_grads = single.backward(*(d[b] for d in d_reads))
        for got, want in zip(reads, single_reads):
            np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-13)
        for got, want in zip(grads, single_grads):
            np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-13)
        np.testing.assert_allclose(strengths[b], single.strengths_, rtol=0, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch", [None, 2])
def test_step_by_step_equals_whole_sequence(kind, backend, batch):
    rng = np.random.default_rng(5)
    T, W = 6, 3
    inputs = random_inputs(kind, rng, T, W, B=batch, low=0.0, high=1.0)
    lead = (T,) if batch is None else (batch, T)
    d_reads = [rng.normal(size=lead + (W,)) for _ in range(2 if kind == "deque" else 1)]
    whole, whole_reads = run(kind, backend, inputs)
    whole_grads = whole.backward(*d_reads)

    names = input_names(kind)
    stepper = MEMORIES[kind](width=W, backend=backend).start(T + 2, batch_size=batch)
    at = (lambda a, t: a[t]) if batch is None else (lambda a, t: a[:, t])
    for t in range(T):
        out = stepper.step(*(at(inputs[n], t) for n in names))
        out = (out,) if kind != "deque" else out
        for got, want in zip(out, whole_reads):
            np.testing.assert_allclose(got, at(want, t), rtol=0, atol=1e-13)
    assert stepper.n_steps_ == T
    np.testing.assert_allclose(stepper.strengths_, whole.strengths_, rtol=0, atol=1e-15)
    for t in range(T - 1, -1, -1):
        step_grads = stepper.backward_step(*(at(d, t) for d in d_reads))
        for got, want in zip(step_grads, whole_grads):
            np.testing.assert_allclose(got, at(want, t), rtol=0, atol=1e-12)
    # and the whole backward after a step-by-step forward
    for got, want in zip(stepper.backward(*d_reads), whole_grads):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_reads_are_read_weights_times_values(kind, backend):
    rng = np.random.default_rng(8)
    T, W = 8, 3
    inputs = random_inputs(kind, rng, T, W, low=0.0, high=1.0)
    memory, reads = run(kind, backend, inputs)
    if kind == "deque":
        cells = np.concatenate([inputs["values_bottom"][::-1], inputs["values_top"]])
        weights = (memory.read_weights_top_, memory.read_weights_bottom_)
    else:
        cells = inputs["values"]
        weights = (memory.read_weights_,)
    for r, w in zip(reads, weights):
        np.testing.assert_allclose(r, w @ cells, atol=1e-12)
        assert (w >= 0).all() and (w <= memory.strengths_ + 1e-15).all()


def test_results_belong_to_their_own_pass():
    stack = NeuralStack(width=2)
    first = stack.forward([[1.0, 2.0]], [1.0], [0.0])
    stack.forward([[5.0, 5.0], [6.0, 6.0]], [0.5, 0.5], [0.0, 0.0])
    np.testing.assert_array_equal(first, [[1.0, 2.0]])
    assert stack.strengths_.shape == (2, 2)


def test_public_api_and_docstring_examples():
    assert MEMORIES == {"stack": NeuralStack, "queue": NeuralQueue, "deque": NeuralDeque}
    assert models.NeuralStack is NeuralStack
    assert repr(NeuralQueue(width=4, backend="numpy")) == "NeuralQueue(width=4, backend='numpy')"
    result = doctest.testmod(memory_module)
    assert result.attempted >= 10 and result.failed == 0
