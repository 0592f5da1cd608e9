"""Shared helpers of the memory tests: input generators, a literal transcription of the
paper's equations (the oracle), kink margins, and central finite differences."""
from __future__ import annotations

import numpy as np

from models import NeuralDeque, NeuralQueue, NeuralStack

KINDS = ("stack", "queue", "deque")
BACKENDS = ("cython", "numpy")
CLASSES = {"stack": NeuralStack, "queue": NeuralQueue, "deque": NeuralDeque}

ONE_ENDED_INPUTS = ("values", "push", "pop")
DEQUE_INPUTS = ("values_top", "values_bottom", "push_top", "push_bottom", "pop_top",
                "pop_bottom")


def input_names(kind):
    return DEQUE_INPUTS if kind == "deque" else ONE_ENDED_INPUTS


def random_inputs(kind, rng, T, W, B=None, low=0.05, high=0.95):
    """Random inputs: normal values, strengths uniform in [low, high]. Batched if B."""
    lead = (T,) if B is None else (B, T)
    out = {}
    for name in input_names(kind):
        if name.startswith("values"):
            out[name] = rng.normal(size=lead + (W,))
        else:
            out[name] = rng.uniform(low, high, size=lead)
    return out


def run(kind, backend, inputs):
    """Forward pass -> (memory, tuple of reads)."""
    memory = CLASSES[kind](width=inputs[input_names(kind)[0]].shape[-1], backend=backend)
    reads = memory.forward(**inputs)
    return memory, (reads,) if kind != "deque" else reads


def backward(memory, kind, d_reads):
    """Backward pass -> {input name: gradient}."""
    grads = memory.backward(*d_reads)
    return dict(zip(input_names(kind), grads))


# ----------------------------------------------------------------------------- oracle
# The paper's equations transcribed literally, 1-indexed in the comments, one sequence,
# Python lists and sums, the value matrix rebuilt at every step. Slow and obviously
# right; it also records every argument of a max/min so tests can stay away from kinks.


def oracle(kind, inputs):
    """Reads and strengths of one sequence by eqs 1-11 -> (reads tuple, strengths list,
    kink arguments list)."""
    kinks = []

    def pop(s_prev, u, order):
        # eqs 2/4/7/8 over the cells in `order` (first popped first)
        s = list(s_prev)
        for pos, i in enumerate(order):
            remaining = u - sum(s_prev[j] for j in order[:pos])
            x = s_prev[i] - max(0.0, remaining)
            if s_prev[i] > 0.0:
                kinks.extend([remaining, x])
            s[i] = max(0.0, x)
        return s

    def read(s, V, order):
        # eqs 3/5/10/11 over the cells in `order` (first read first)
        r = np.zeros(len(V[0]))
        for pos, i in enumerate(order):
            room = 1.0 - sum(s[j] for j in order[:pos])
            if s[i] > 0.0:
                kinks.extend([room, s[i] - room])
            r += min(s[i], max(0.0, room)) * V[i]
        return r

    if kind in ("stack", "queue"):
        values, push, pop_ = (np.asarray(inputs[n], float) for n in ONE_ENDED_INPUTS)
        V, s, reads, history = [], [], [], []
        for t in range(len(push)):
            V = V + [values[t]]                                      # eq 1
            n = len(s)
            order = list(range(n - 1, -1, -1)) if kind == "stack" else list(range(n))
            s = pop(s, pop_[t], order) + [push[t]]                  # eq 2 / eq 4
            order = list(range(n, -1, -1)) if kind == "stack" else list(range(n + 1))
            reads.append(read(s, V, order))                         # eq 3 / eq 5
            history.append(list(s))
        return (np.array(reads),), history, kinks
    vt, vb, dt, db, ut, ub = (np.asarray(inputs[n], float) for n in DEQUE_INPUTS)
    V, s, read_top, read_bottom, history = [], [], [], [], []
    for t in range(len(dt)):
        V = [vb[t]] + V + [vt[t]]                                    # eq 6
        n = len(s)                                                   # 2(t-1) cells
        s_top = pop(s, ut[t], list(range(n - 1, -1, -1)))           # eq 7
        s_both = pop(s_top, ub[t], list(range(n)))                  # eq 8
        s = [db[t]] + s_both + [dt[t]]                              # eq 9
        read_top.append(read(s, V, list(range(n + 1, -1, -1))))     # eq 10
        read_bottom.append(read(s, V, list(range(n + 2))))          # eq 11
        history.append(list(s))
    return (np.array(read_top), np.array(read_bottom)), history, kinks


def kink_margin(kind, inputs):
    """Smallest |argument| of a max/min at which the memory has a kink (one sequence)."""
    kinks = oracle(kind, inputs)[2]
    return min((abs(k) for k in kinks), default=np.inf)


def inputs_away_from_kinks(kind, T, W, seed, margin=1e-3, B=None):
    """Random inputs whose every kink argument is at least `margin` from 0."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        inputs = random_inputs(kind, rng, T, W, B)
        per_sequence = [inputs] if B is None else [
            {k: v[b] for k, v in inputs.items()} for b in range(B)]
        if all(kink_margin(kind, seq) > margin for seq in per_sequence):
            return inputs
    raise AssertionError(f"no inputs away from kinks for {kind} T={T}")


# ----------------------------------------------------------------------------- gradients


def loss_and_grads(kind, backend, inputs, read_weights):
    """Loss sum_k <reads_k, read_weights_k> and its gradients by the backward pass."""
    memory, reads = run(kind, backend, inputs)
    loss = sum(float(np.sum(r * g)) for r, g in zip(reads, read_weights))
    return loss, backward(memory, kind, read_weights)


def numerical_gradient(kind, backend, inputs, read_weights, name, h):
    """Central differences of the loss with respect to every coordinate of inputs[name]."""
    grad = np.zeros_like(inputs[name])
    for index in np.ndindex(grad.shape):
        losses = []
        for sign in (1.0, -1.0):
            shifted = {k: v.copy() for k, v in inputs.items()}
            shifted[name][index] += sign * h
            losses.append(_loss(kind, backend, shifted, read_weights))
        grad[index] = (losses[0] - losses[1]) / (2.0 * h)
    return grad


def _loss(kind, backend, inputs, read_weights):
    reads = run(kind, backend, inputs)[1]
    return sum(float(np.sum(r * g)) for r, g in zip(reads, read_weights))


def relative_error(analytic, numeric, floor):
    """max |a - n| / max(|a|, |n|, floor) over all coordinates."""
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    return float(np.max(np.abs(analytic - numeric) / scale))
