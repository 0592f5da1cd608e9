"""Neural Stack, Queue and DeQue, numpy reference (the readable twin of ``models/memory/_memory.pyx``).

Grefenstette, Hermann, Suleyman & Blunsom 2015, "Learning to Transduce with Unbounded
Memory" (arXiv 1506.02516), equations 1-11. Per step t: pop, then push, then read.

Every memory is built from two primitives applied along a *traversal order* of its
cells (the first cell in that order is the one popped or read first):

pop (eqs 2, 4, 7, 8), deletion quantity ``u`` eats strength from the first cell on::

    remaining_k = u - sum_{k' < k} s_prev[k']           # deletion left on arrival at cell k
    s[k]        = max(0, s_prev[k] - max(0, remaining_k))

read (eqs 3, 5, 10, 11), a read quantity of 1 collects strength from the first cell on::

    room_k = 1 - sum_{k' < k} s[k']                     # read quantity left on arrival
    w[k]   = min(s[k], max(0, room_k))                   # read weight of cell k
    r      = sum_k w[k] * V[k]

Stack: pop and read from the newest cell down. Queue: pop and read from the oldest cell
up. DeQue: pop from the top (newest top end) down, *then* from the bottom up on the
result, push at both ends, read from both ends.

Derivatives at a tie of ``max``/``min`` follow the LEFT argument, as the paper's
footnote 1 says: ``max(0, x)`` passes no gradient at ``x = 0``; ``min(s, room)`` passes
it to ``s`` at ``s = room``. Every path is exact: a read at step t reaches the value
pushed at any earlier step, and the strengths at step t depend on every earlier push
and pop through the running sums.

Layout (shared with the Cython kernels; B sequences of one length, float64, C order)
------------------------------------------------------------------------------------
Stack and queue: cell i holds the value pushed at step i (``V_t[i] = v_i``, eq 1).
``strengths[b, t, i]`` is the strength of cell i after step t (0 for i > t);
``weights[b, t, i]`` is its read weight at step t; both (B, T, T).

DeQue, with C = ``values_top.shape[1]`` (the buffer length in steps): ``2C`` cells; the
value pushed at the top at step t is cell ``C + t``, the one pushed at the bottom is
cell ``C - 1 - t``, so the memory of step t occupies cells ``C-1-t .. C+t`` (eq 6's
``V_t`` of 2t rows, shifted). ``strengths`` (B, C, 2C); ``weights_top``/``weights_bottom``
(B, C, 2C).

The paper's equations 7-8 carry three typos, read here as the text around them says:
eq 7 sums ``s_{t-1}[j]`` for ``j = i+1 .. 2(t-1)`` (not ``2(t-1)-1``) and both eqs 7
and 8 hold for ``1 <= i <= 2(t-1)`` (not ``<``), so the top cell of step t-1 is popped
too and eq 9 is defined for every ``1 < i < 2t``; eq 8's sum runs over ``j = 1 .. i-1``.

Kernel contract (identical in ``_memory.pyx``): ``*_forward(n_steps, ...)`` runs steps
``0 .. n_steps-1`` and overwrites the strengths, weights and reads; ``*_forward_step(t,
...)`` runs step t only (steps ``< t`` done). ``*_backward(n_steps, ...)`` overwrites
every gradient buffer; ``*_backward_step(t, ...)`` processes step t given
``d_strength`` (the gradient of the strengths after step t, carried from step t+1) and
leaves in it the gradient of the strengths after step t-1; the caller zeroes
``d_values`` and ``d_strength`` before the first (last-step) call. After step t is
processed, the gradients of the inputs of step t are final.

Rows (what a forward pass without gradients needs, e.g. a controller at inference):
``*_forward_rows(t, *values, *pushes_t, *pops_t, s_prev, s, *w)`` is step t on one row
of strengths: ``s_prev`` (B, L), the strengths after step t-1, is read, ``s`` (B, L)
and the weight rows ``w`` (B, L) are written, and the reads (B, W), one per end, are
returned; ``pushes_t``, ``pops_t`` are this step's strengths, shape (B,). Two rows
(swapped every step) are all the state a forward pass keeps besides the values;
``*_forward_step`` is the same computation on row t of the full buffers.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "stack_forward", "stack_forward_step", "stack_backward", "stack_backward_step", "stack_forward_rows",
    "queue_forward", "queue_forward_step", "queue_backward", "queue_backward_step", "queue_forward_rows",
    "deque_forward", "deque_forward_step", "deque_backward", "deque_backward_step", "deque_forward_rows",
]


# ----------------------------------------------------------------------------- running sums


def _before(x):
    """Exclusive running sum along the last axis: ``out[..., k] = x[..., :k].sum(-1)``."""
    out = np.zeros_like(x)
    np.cumsum(x[..., :-1], axis=-1, out=out[..., 1:])
    return out


def _after(x):
    """Exclusive running sum from the end: ``out[..., k] = x[..., k+1:].sum(-1)``."""
    return _before(x[..., ::-1])[..., ::-1]


# ----------------------------------------------------------------------------- primitives
# All arrays in traversal order: (B, n) strengths, (B, n, W) values, (B,) pop strengths.


def _pop(s_prev, u):
    """Pop strength ``u`` from the cells, first cell first: forward of eqs 2, 4, 7, 8."""
    remaining = u[:, None] - _before(s_prev)                          # (B, n)
    return np.maximum(0.0, s_prev - np.maximum(0.0, remaining))      # (B, n)


def _pop_backward(s_prev, s, u, d_s):
    """Backward of :func:`_pop`: ``d_s`` (B, n) of its output -> ``(d_s_prev, d_u)``."""
    remaining = u[:, None] - _before(s_prev)                          # (B, n)
    d_x = np.where(s > 0.0, d_s, 0.0)             # s = max(0, x): no gradient at x <= 0
    d_remaining = np.where(remaining > 0.0, -d_x, 0.0)   # x = s_prev - max(0, remaining)
    d_u = d_remaining.sum(axis=1)                                     # (B,)
    # remaining_k = u - sum_{k'<k} s_prev[k']: s_prev[k] feeds every later remaining_k'
    d_s_prev = d_x - _after(d_remaining)                              # (B, n)
    return d_s_prev, d_u


def _read_weights(s):
    """Read weights, first cell first: eqs 3, 5, 10, 11 without the values. (B, n)."""
    return np.minimum(s, np.maximum(0.0, 1.0 - _before(s)))


def _read_weights_backward(s, d_w):
    """Backward of :func:`_read_weights`: ``d_w`` (B, n) -> ``d_s`` (B, n)."""
    room = 1.0 - _before(s)                                           # (B, n)
    capped = np.maximum(0.0, room)
    to_s = s <= capped                             # min(s, capped): a tie goes to s
    d_s = np.where(to_s, d_w, 0.0)
    d_room = np.where(~to_s & (room > 0.0), d_w, 0.0)   # max(0, room): a tie goes to 0
    # room_k = 1 - sum_{k'<k} s[k']: s[k] lowers every later room_k'
    return d_s - _after(d_room)


def _read(w, V):
    """r = sum_k w[k] V[k]:  (B, n), (B, n, W) -> (B, W)."""
    return np.einsum("bn,bnw->bw", w, V)


def _read_backward(s, V, d_r):
    """Backward of a read: -> ``(d_s (B, n), d_V (B, n, W))``."""
    w = _read_weights(s)                                              # (B, n)
    d_V = w[:, :, None] * d_r[:, None, :]                             # (B, n, W)
    d_w = np.einsum("bnw,bw->bn", V, d_r)                             # (B, n)
    return _read_weights_backward(s, d_w), d_V


def _flip(a):
    """Reverse the cell axis (axis 1)."""
    return a[:, ::-1]


# ----------------------------------------------------------------------------- stack


def stack_forward_rows(t, values, push_t, pop_t, s_prev, s, w):
    """Step t of a neural stack (eqs 1-3) for B sequences, on rows of strengths.

    Parameters
    ----------
    t : int
    values : ndarray of shape (B, T, W), rows <= t filled
    push_t, pop_t : ndarray of shape (B,)
    s_prev : ndarray of shape (B, L), the strengths after step t-1 (unused at t = 0)
    s, w : ndarray of shape (B, L), written: strengths after step t, read weights

    Returns
    -------
    (read,) : tuple of one ndarray of shape (B, W)
    """
    s[:] = 0.0
    if t > 0:
        s[:, :t] = _flip(_pop(_flip(s_prev[:, :t]), pop_t))          # eq 2: pop, top down
    s[:, t] = push_t                                                  # eq 2, i = t: push
    w[:] = 0.0
    w[:, :t + 1] = _flip(_read_weights(_flip(s[:, :t + 1])))         # eq 3: read, top down
    return (_read(w[:, :t + 1], values[:, :t + 1]),)                 # V_t[i] = v_i (eq 1)


def stack_forward_step(t, values, push, pop, strengths, weights, reads):
    """Step t of a neural stack (eqs 1-3) for B sequences.

    Parameters
    ----------
    t : int
    values : ndarray of shape (B, T, W)
    push, pop : ndarray of shape (B, T)
    strengths, weights : ndarray of shape (B, T, T), rows < t filled; row t written
    reads : ndarray of shape (B, T, W), row t written
    """
    reads[:, t], = stack_forward_rows(t, values, push[:, t], pop[:, t], strengths[:, t - 1], strengths[:, t],
                                      weights[:, t])


def stack_backward_step(t, values, pop, strengths, d_reads, d_values, d_push, d_pop,
                        d_strength):
    """Backward of :func:`stack_forward_step` (see the module docstring's contract).

    Parameters
    ----------
    d_reads : ndarray of shape (B, T, W), row t read
    d_values : ndarray of shape (B, T, W), rows <= t accumulated
    d_push, d_pop : ndarray of shape (B, T), column t written
    d_strength : ndarray of shape (B, T), in: gradient of ``strengths[:, t]``;
        out: gradient of ``strengths[:, t-1]``
    """
    s = strengths[:, t, :t + 1]                                       # (B, t+1)
    d_s, d_V = _read_backward(_flip(s), _flip(values[:, :t + 1]), d_reads[:, t])  # eq 3
    d_values[:, :t + 1] += _flip(d_V)
    d_strength[:, :t + 1] += _flip(d_s)
    d_push[:, t] = d_strength[:, t]                                   # eq 2, i = t
    d_strength[:, t] = 0.0
    if t == 0:
        d_pop[:, 0] = 0.0                     # nothing to pop at the first step
        return
    s_prev = strengths[:, t - 1, :t]                                  # (B, t)
    d_prev, d_pop[:, t] = _pop_backward(_flip(s_prev), _flip(s[:, :t]), pop[:, t],
                                        _flip(d_strength[:, :t]))    # eq 2
    d_strength[:, :t] = _flip(d_prev)


def stack_forward(n_steps, values, push, pop, strengths, weights, reads):
    """Steps ``0 .. n_steps-1`` of a neural stack; arguments as :func:`stack_forward_step`."""
    for t in range(n_steps):
        stack_forward_step(t, values, push, pop, strengths, weights, reads)


def stack_backward(n_steps, values, pop, strengths, d_reads, d_values, d_push, d_pop):
    """Backward of :func:`stack_forward`: overwrites ``d_values``, ``d_push``, ``d_pop``."""
    d_values[:] = 0.0
    d_strength = np.zeros(strengths.shape[:2])                        # (B, T)
    for t in range(n_steps - 1, -1, -1):
        stack_backward_step(t, values, pop, strengths, d_reads, d_values, d_push, d_pop,
                            d_strength)


# ----------------------------------------------------------------------------- queue


def queue_forward_rows(t, values, push_t, pop_t, s_prev, s, w):
    """Step t of a neural queue (eqs 1, 4, 5) on rows; arguments as :func:`stack_forward_rows`."""
    s[:] = 0.0
    if t > 0:
        s[:, :t] = _pop(s_prev[:, :t], pop_t)                         # eq 4: pop, oldest first
    s[:, t] = push_t
    w[:] = 0.0
    w[:, :t + 1] = _read_weights(s[:, :t + 1])                        # eq 5: read, oldest first
    return (_read(w[:, :t + 1], values[:, :t + 1]),)


def queue_forward_step(t, values, push, pop, strengths, weights, reads):
    """Step t of a neural queue (eqs 1, 4, 5); arguments as :func:`stack_forward_step`."""
    reads[:, t], = queue_forward_rows(t, values, push[:, t], pop[:, t], strengths[:, t - 1], strengths[:, t],
                                      weights[:, t])


def queue_backward_step(t, values, pop, strengths, d_reads, d_values, d_push, d_pop,
                        d_strength):
    """Backward of :func:`queue_forward_step`; arguments as :func:`stack_backward_step`."""
    s = strengths[:, t, :t + 1]                                       # (B, t+1)
    d_s, d_V = _read_backward(s, values[:, :t + 1], d_reads[:, t])    # eq 5
    d_values[:, :t + 1] += d_V
    d_strength[:, :t + 1] += d_s
    d_push[:, t] = d_strength[:, t]
    d_strength[:, t] = 0.0
    if t == 0:
        d_pop[:, 0] = 0.0
        return
    d_strength[:, :t], d_pop[:, t] = _pop_backward(strengths[:, t - 1, :t], s[:, :t],
                                                   pop[:, t], d_strength[:, :t])  # eq 4


def queue_forward(n_steps, values, push, pop, strengths, weights, reads):
    """Steps ``0 .. n_steps-1`` of a neural queue."""
    for t in range(n_steps):
        queue_forward_step(t, values, push, pop, strengths, weights, reads)


def queue_backward(n_steps, values, pop, strengths, d_reads, d_values, d_push, d_pop):
    """Backward of :func:`queue_forward`: overwrites ``d_values``, ``d_push``, ``d_pop``."""
    d_values[:] = 0.0
    d_strength = np.zeros(strengths.shape[:2])                        # (B, T)
    for t in range(n_steps - 1, -1, -1):
        queue_backward_step(t, values, pop, strengths, d_reads, d_values, d_push, d_pop,
                            d_strength)


# ----------------------------------------------------------------------------- deque


def _deque_cells(t, values_top, values_bottom):
    """V_t of eq 6, the values of cells C-1-t .. C+t: (B, C, W) x 2 -> (B, 2t+2, W)."""
    return np.concatenate([_flip(values_bottom[:, :t + 1]), values_top[:, :t + 1]], axis=1)


def deque_forward_rows(t, values_top, values_bottom, push_top_t, push_bottom_t, pop_top_t, pop_bottom_t,
                       s_prev, s, w_top, w_bottom):
    """Step t of a neural DeQue (eqs 6-11) for B sequences, on rows of strengths.

    Parameters
    ----------
    t : int
    values_top, values_bottom : ndarray of shape (B, C, W), rows <= t filled
    push_top_t, push_bottom_t, pop_top_t, pop_bottom_t : ndarray of shape (B,)
    s_prev : ndarray of shape (B, 2C), the strengths after step t-1 (unused at t = 0)
    s, w_top, w_bottom : ndarray of shape (B, 2C), written

    Returns
    -------
    (read_top, read_bottom) : ndarray of shape (B, W) each
    """
    C = values_top.shape[1]
    lo, hi = C - 1 - t, C + t                 # cells pushed at step t: bottom, top
    s[:] = 0.0
    if t > 0:
        live_prev = s_prev[:, lo + 1:hi]                              # (B, 2t) bottom to top
        s_top = _flip(_pop(_flip(live_prev), pop_top_t))              # eq 7: top end first
        s[:, lo + 1:hi] = _pop(s_top, pop_bottom_t)                   # eq 8: then bottom end
    s[:, lo] = push_bottom_t                                          # eq 9
    s[:, hi] = push_top_t
    live = s[:, lo:hi + 1]                                            # (B, 2t+2)
    V = _deque_cells(t, values_top, values_bottom)                    # (B, 2t+2, W), eq 6
    reads = []
    for w, w_live in ((w_top, _flip(_read_weights(_flip(live)))),     # eq 10
                      (w_bottom, _read_weights(live))):               # eq 11
        w[:] = 0.0
        w[:, lo:hi + 1] = w_live
        reads.append(_read(w_live, V))
    return tuple(reads)


def deque_forward_step(t, values_top, values_bottom, push_top, push_bottom, pop_top,
                       pop_bottom, strengths, weights_top, weights_bottom, read_top,
                       read_bottom):
    """Step t of a neural DeQue (eqs 6-11) for B sequences.

    Parameters
    ----------
    t : int
    values_top, values_bottom : ndarray of shape (B, C, W)
    push_top, push_bottom, pop_top, pop_bottom : ndarray of shape (B, C)
    strengths, weights_top, weights_bottom : ndarray of shape (B, C, 2C), row t written
    read_top, read_bottom : ndarray of shape (B, C, W), row t written
    """
    read_top[:, t], read_bottom[:, t] = deque_forward_rows(
        t, values_top, values_bottom, push_top[:, t], push_bottom[:, t], pop_top[:, t], pop_bottom[:, t],
        strengths[:, t - 1], strengths[:, t], weights_top[:, t], weights_bottom[:, t])


def deque_backward_step(t, values_top, values_bottom, pop_top, pop_bottom, strengths,
                        d_read_top, d_read_bottom, d_values_top, d_values_bottom,
                        d_push_top, d_push_bottom, d_pop_top, d_pop_bottom, d_strength):
    """Backward of :func:`deque_forward_step` (the module docstring's contract).

    ``d_strength`` has shape (B, 2C); the other arguments mirror the forward's.
    """
    C = values_top.shape[1]
    lo, hi = C - 1 - t, C + t
    live = strengths[:, t, lo:hi + 1]                                 # (B, 2t+2)
    V = _deque_cells(t, values_top, values_bottom)                    # (B, 2t+2, W)
    d_s_top, d_V_top = _read_backward(_flip(live), _flip(V), d_read_top[:, t])   # eq 10
    d_s_bot, d_V_bot = _read_backward(live, V, d_read_bottom[:, t])              # eq 11
    d_V = _flip(d_V_top) + d_V_bot                                    # (B, 2t+2, W)
    n_bot = C - lo                            # live cells on the bottom side: lo .. C-1
    d_values_bottom[:, :n_bot] += _flip(d_V[:, :n_bot])
    d_values_top[:, :hi - C + 1] += d_V[:, n_bot:]
    d_strength[:, lo:hi + 1] += _flip(d_s_top) + d_s_bot
    d_push_bottom[:, t] = d_strength[:, lo]                           # eq 9
    d_push_top[:, t] = d_strength[:, hi]
    d_strength[:, lo] = 0.0
    d_strength[:, hi] = 0.0
    if t == 0:
        d_pop_top[:, 0] = 0.0
        d_pop_bottom[:, 0] = 0.0
        return
    s_prev = strengths[:, t - 1, lo + 1:hi]                           # (B, 2t)
    s_top = _flip(_pop(_flip(s_prev), pop_top[:, t]))                 # recompute eq 7
    d_s_top_pop, d_pop_bottom[:, t] = _pop_backward(
        s_top, live[:, 1:-1], pop_bottom[:, t], d_strength[:, lo + 1:hi])          # eq 8
    d_prev, d_pop_top[:, t] = _pop_backward(
        _flip(s_prev), _flip(s_top), pop_top[:, t], _flip(d_s_top_pop))            # eq 7
    d_strength[:, lo + 1:hi] = _flip(d_prev)


def deque_forward(n_steps, values_top, values_bottom, push_top, push_bottom, pop_top,
                  pop_bottom, strengths, weights_top, weights_bottom, read_top, read_bottom):
    """Steps ``0 .. n_steps-1`` of a neural DeQue."""
    for t in range(n_steps):
        deque_forward_step(t, values_top, values_bottom, push_top, push_bottom, pop_top,
                           pop_bottom, strengths, weights_top, weights_bottom, read_top,
                           read_bottom)


def deque_backward(n_steps, values_top, values_bottom, pop_top, pop_bottom, strengths,
                   d_read_top, d_read_bottom, d_values_top, d_values_bottom, d_push_top,
                   d_push_bottom, d_pop_top, d_pop_bottom):
    """Backward of :func:`deque_forward`: overwrites every gradient buffer."""
    d_values_top[:] = 0.0
    d_values_bottom[:] = 0.0
    d_strength = np.zeros((strengths.shape[0], strengths.shape[2]))   # (B, 2C)
    for t in range(n_steps - 1, -1, -1):
        deque_backward_step(t, values_top, values_bottom, pop_top, pop_bottom, strengths,
                            d_read_top, d_read_bottom, d_values_top, d_values_bottom,
                            d_push_top, d_push_bottom, d_pop_top, d_pop_bottom, d_strength)
