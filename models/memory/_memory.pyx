# cython: language_level=3
"""Neural Stack, Queue and DeQue kernels (Cython), Grefenstette et al. 2015 eqs 1-11.

The readable numpy twin, with the equations written out, is ``models/memory/_memory_ref.py``;
both fill the same preallocated float64 buffers, with the same layout and contract
(see that module's docstring), and agree to 1e-10 (tests/models/test_memory_parity.py).

Every memory is two primitives run along a traversal order of its cells:

* ``_pop_forward``: a deletion quantity ``u`` eats strength from the first cell on
  (eqs 2, 4, 7, 8). Once it is used up, the remaining cells are copied unchanged.
* ``_read_forward``: a read quantity of 1 collects strength from the first cell on
  (eqs 3, 5, 10, 11), weighting each cell's value row. It stops where the read
  quantity is used up, so a step costs O(cells until strength 1 is covered) * W.

The backward of each primitive recomputes its running sums (O(t), no storage beyond the
strengths of every step) and walks the cells in reverse order, carrying the gradient of
the running sum, so a step's backward is O(t) as well; nothing is O(t^2) per step.
Ties of max/min follow the left argument (the paper's footnote 1).

C-level step functions (declared in ``_memory.pxd`` for ``cimport``) work on one
sequence; the Python-level ``*_forward``/``*_backward`` functions loop over the batch and
the steps without the GIL.
"""
from libc.stdlib cimport malloc, free
from libc.string cimport memset


from models.memory._memory_primitives cimport (_Cells, _make_cells, _row, _d_row, _pop_forward,
                                               _pop_backward, _read_forward, _read_backward)


# ----------------------------------------------------------------------------- stack


cdef void stack_step_forward_c(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W,
                               const double* values, Py_ssize_t value_stride,
                               double push, double pop, const double* s_prev, double* s,
                               double* w, double* read) noexcept nogil:
    cdef _Cells cells = _make_cells(values, values, 0, value_stride, NULL, NULL, 0, W)
    memset(s + t, 0, (L - t) * sizeof(double))
    if t > 0:
        _pop_forward(s_prev, s, t - 1, t, -1, pop)            # eq 2: pop from the top down
    s[t] = push                                               # eq 2, i = t: push
    memset(w, 0, L * sizeof(double))
    memset(read, 0, W * sizeof(double))
    _read_forward(s, w, t, t + 1, -1, &cells, read)           # eq 3: read from the top down


cdef void stack_step_backward_c(Py_ssize_t t, Py_ssize_t W,
                                const double* values, Py_ssize_t value_stride, double pop,
                                const double* s_prev, const double* s,
                                const double* d_read, double* d_s,
                                double* d_values, Py_ssize_t d_value_stride,
                                double* d_push, double* d_pop,
                                double* scratch) noexcept nogil:
    cdef _Cells cells = _make_cells(values, values, 0, value_stride, d_values, d_values,
                                    d_value_stride, W)
    _read_backward(s, t, t + 1, -1, t, -1, &cells, d_read, d_s, scratch)    # eq 3
    d_push[0] = d_s[t]
    d_s[t] = 0.0
    if t > 0:
        d_pop[0] = _pop_backward(s_prev, s, d_s, t - 1, t, -1, pop)          # eq 2
    else:
        d_pop[0] = 0.0


# ----------------------------------------------------------------------------- queue


cdef void queue_step_forward_c(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W,
                               const double* values, Py_ssize_t value_stride,
                               double push, double pop, const double* s_prev, double* s,
                               double* w, double* read) noexcept nogil:
    cdef _Cells cells = _make_cells(values, values, 0, value_stride, NULL, NULL, 0, W)
    memset(s + t, 0, (L - t) * sizeof(double))
    if t > 0:
        _pop_forward(s_prev, s, 0, t, 1, pop)                 # eq 4: pop, oldest first
    s[t] = push
    memset(w, 0, L * sizeof(double))
    memset(read, 0, W * sizeof(double))
    _read_forward(s, w, 0, t + 1, 1, &cells, read)            # eq 5: read, oldest first


cdef void queue_step_backward_c(Py_ssize_t t, Py_ssize_t W,
                                const double* values, Py_ssize_t value_stride, double pop,
                                const double* s_prev, const double* s,
                                const double* d_read, double* d_s,
                                double* d_values, Py_ssize_t d_value_stride,
                                double* d_push, double* d_pop,
                                double* scratch) noexcept nogil:
    cdef _Cells cells = _make_cells(values, values, 0, value_stride, d_values, d_values,
                                    d_value_stride, W)
    _read_backward(s, 0, t + 1, 1, t, -1, &cells, d_read, d_s, scratch)     # eq 5
    d_push[0] = d_s[t]
    d_s[t] = 0.0
    if t > 0:
        d_pop[0] = _pop_backward(s_prev, s, d_s, 0, t, 1, pop)               # eq 4
    else:
        d_pop[0] = 0.0


# ----------------------------------------------------------------------------- deque


cdef void deque_step_forward_c(Py_ssize_t t, Py_ssize_t C, Py_ssize_t W,
                               const double* values_top, const double* values_bottom,
                               Py_ssize_t value_stride,
                               double push_top, double push_bottom,
                               double pop_top, double pop_bottom,
                               const double* s_prev, double* s,
                               double* w_top, double* w_bottom,
                               double* read_top, double* read_bottom) noexcept nogil:
    cdef _Cells cells = _make_cells(values_top, values_bottom, C, value_stride, NULL, NULL,
                                    0, W)
    cdef Py_ssize_t lo = C - 1 - t, hi = C + t    # cells pushed now: bottom, top
    memset(s, 0, 2 * C * sizeof(double))
    if t > 0:
        _pop_forward(s_prev, s, hi - 1, 2 * t, -1, pop_top)   # eq 7: from the top end
        _pop_forward(s, s, lo + 1, 2 * t, 1, pop_bottom)      # eq 8: then the bottom end
    s[lo] = push_bottom                                       # eq 9
    s[hi] = push_top
    memset(w_top, 0, 2 * C * sizeof(double))
    memset(w_bottom, 0, 2 * C * sizeof(double))
    memset(read_top, 0, W * sizeof(double))
    memset(read_bottom, 0, W * sizeof(double))
    _read_forward(s, w_top, hi, 2 * t + 2, -1, &cells, read_top)       # eq 10
    _read_forward(s, w_bottom, lo, 2 * t + 2, 1, &cells, read_bottom)  # eq 11


cdef void deque_step_backward_c(Py_ssize_t t, Py_ssize_t C, Py_ssize_t W,
                                const double* values_top, const double* values_bottom,
                                Py_ssize_t value_stride,
                                double pop_top, double pop_bottom,
                                const double* s_prev, const double* s,
                                const double* d_read_top, const double* d_read_bottom,
                                double* d_s,
                                double* d_values_top, double* d_values_bottom,
                                Py_ssize_t d_value_stride,
                                double* d_push_top, double* d_push_bottom,
                                double* d_pop_top, double* d_pop_bottom,
                                double* scratch) noexcept nogil:
    cdef _Cells cells = _make_cells(values_top, values_bottom, C, value_stride,
                                    d_values_top, d_values_bottom, d_value_stride, W)
    cdef Py_ssize_t lo = C - 1 - t, hi = C + t
    cdef double* s_top = scratch + 2 * C      # eq 7's intermediate, recomputed
    _read_backward(s, hi, 2 * t + 2, -1, hi, lo, &cells, d_read_top, d_s, scratch)  # eq 10
    _read_backward(s, lo, 2 * t + 2, 1, lo, hi, &cells, d_read_bottom, d_s, scratch)  # 11
    d_push_bottom[0] = d_s[lo]                                # eq 9
    d_push_top[0] = d_s[hi]
    d_s[lo] = 0.0
    d_s[hi] = 0.0
    if t > 0:
        _pop_forward(s_prev, s_top, hi - 1, 2 * t, -1, pop_top)
        d_pop_bottom[0] = _pop_backward(s_top, s, d_s, lo + 1, 2 * t, 1, pop_bottom)  # 8
        d_pop_top[0] = _pop_backward(s_prev, s_top, d_s, hi - 1, 2 * t, -1, pop_top)  # 7
    else:
        d_pop_top[0] = 0.0
        d_pop_bottom[0] = 0.0


# ----------------------------------------------------------------------------- Python level
# Batched (B, T, ...) C-contiguous float64 buffers; see _memory_ref.py for the contract.


# ----------------------------------------------------------------------------- the ops table
# Each memory's step functions behind the one signature of ``_memory.pxd`` (the
# controller kernel calls them through ``MemoryOps``), and the table by kind name: a new
# memory adds its two adapters, its name to ``MEMORY_OPS`` and its ``_MEMORY_OPS`` entry here.


cdef void _stack_forward_op(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W, const double* values,
                            Py_ssize_t value_stride, const double* push, const double* pop,
                            const double* s_prev, double* s, double* w, Py_ssize_t w_stride,
                            double* read) noexcept nogil:
    stack_step_forward_c(t, L, W, values, value_stride, push[0], pop[0], s_prev, s, w, read)


cdef void _stack_backward_op(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W, const double* values,
                             Py_ssize_t value_stride, const double* pop, const double* s_prev,
                             const double* s, const double* d_read, double* d_s, double* d_values,
                             Py_ssize_t d_value_stride, double* d_push, double* d_pop,
                             double* scratch) noexcept nogil:
    stack_step_backward_c(t, W, values, value_stride, pop[0], s_prev, s, d_read, d_s, d_values,
                          d_value_stride, d_push, d_pop, scratch)


cdef void _queue_forward_op(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W, const double* values,
                            Py_ssize_t value_stride, const double* push, const double* pop,
                            const double* s_prev, double* s, double* w, Py_ssize_t w_stride,
                            double* read) noexcept nogil:
    queue_step_forward_c(t, L, W, values, value_stride, push[0], pop[0], s_prev, s, w, read)


cdef void _queue_backward_op(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W, const double* values,
                             Py_ssize_t value_stride, const double* pop, const double* s_prev,
                             const double* s, const double* d_read, double* d_s, double* d_values,
                             Py_ssize_t d_value_stride, double* d_push, double* d_pop,
                             double* scratch) noexcept nogil:
    queue_step_backward_c(t, W, values, value_stride, pop[0], s_prev, s, d_read, d_s, d_values,
                          d_value_stride, d_push, d_pop, scratch)


cdef void _deque_forward_op(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W, const double* values,
                            Py_ssize_t value_stride, const double* push, const double* pop,
                            const double* s_prev, double* s, double* w, Py_ssize_t w_stride,
                            double* read) noexcept nogil:
    deque_step_forward_c(t, L, W, values, values + W, value_stride, push[0], push[1], pop[0], pop[1],
                         s_prev, s, w, w + w_stride, read, read + W)


cdef void _deque_backward_op(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W, const double* values,
                             Py_ssize_t value_stride, const double* pop, const double* s_prev,
                             const double* s, const double* d_read, double* d_s, double* d_values,
                             Py_ssize_t d_value_stride, double* d_push, double* d_pop,
                             double* scratch) noexcept nogil:
    deque_step_backward_c(t, L, W, values, values + W, value_stride, pop[0], pop[1], s_prev, s,
                          d_read, d_read + W, d_s, d_values, d_values + W, d_value_stride,
                          d_push, d_push + 1, d_pop, d_pop + 1, scratch)


cdef MemoryOps _ops(int ends, int cells_per_step, memory_forward_step_t forward_step,
                    memory_backward_step_t backward_step) noexcept:
    cdef MemoryOps ops
    ops.ends = ends
    ops.cells_per_step = cells_per_step
    ops.forward_step = forward_step
    ops.backward_step = backward_step
    return ops


#: The memory kinds with step functions here, in the order of ``_MEMORY_OPS``
#: (``models.memory._kinds`` holds the rest of what is known about each kind).
MEMORY_OPS = ("stack", "queue", "deque")
cdef MemoryOps _MEMORY_OPS[3]
_MEMORY_OPS[0] = _ops(1, 1, _stack_forward_op, _stack_backward_op)
_MEMORY_OPS[1] = _ops(1, 1, _queue_forward_op, _queue_backward_op)
_MEMORY_OPS[2] = _ops(2, 2, _deque_forward_op, _deque_backward_op)


cdef MemoryOps memory_ops(str name) except *:
    """The step functions of memory ``name`` (ValueError for an unknown name)."""
    if name not in MEMORY_OPS:
        raise ValueError(f"memory must be one of {', '.join(MEMORY_OPS)}, got {name!r}")
    return _MEMORY_OPS[MEMORY_OPS.index(name)]


cdef int _STACK = 0
cdef int _QUEUE = 1


def _check(bint ok, str what):
    if not ok:
        raise ValueError(f"memory kernel called with inconsistent buffers: {what}")


cdef void _one_ended_forward(int kind, Py_ssize_t t0, Py_ssize_t t1,
                             const double[:, :, ::1] values, const double[:, ::1] push,
                             const double[:, ::1] pop, double[:, :, ::1] strengths,
                             double[:, :, ::1] weights, double[:, :, ::1] reads) noexcept nogil:
    cdef Py_ssize_t b, t, B = values.shape[0], T = values.shape[1], W = values.shape[2]
    cdef double* S
    cdef double* s_prev
    for b in range(B):
        S = &strengths[b, 0, 0]
        for t in range(t0, t1):
            s_prev = S + (t - 1) * T if t > 0 else NULL
            if kind == _STACK:
                stack_step_forward_c(t, T, W, &values[b, 0, 0], W, push[b, t], pop[b, t],
                                     s_prev, S + t * T, &weights[b, t, 0], &reads[b, t, 0])
            else:
                queue_step_forward_c(t, T, W, &values[b, 0, 0], W, push[b, t], pop[b, t],
                                     s_prev, S + t * T, &weights[b, t, 0], &reads[b, t, 0])


cdef void _one_ended_backward(int kind, Py_ssize_t t0, Py_ssize_t t1,
                              const double[:, :, ::1] values, const double[:, ::1] pop,
                              const double[:, :, ::1] strengths,
                              const double[:, :, ::1] d_reads, double[:, :, ::1] d_values,
                              double[:, ::1] d_push, double[:, ::1] d_pop,
                              double[:, ::1] d_strength, double* scratch) noexcept nogil:
    """Steps t1-1 down to t0."""
    cdef Py_ssize_t b, t, B = values.shape[0], T = values.shape[1], W = values.shape[2]
    cdef const double* S
    cdef const double* s_prev
    for b in range(B):
        S = &strengths[b, 0, 0]
        for t in range(t1 - 1, t0 - 1, -1):
            s_prev = S + (t - 1) * T if t > 0 else NULL
            if kind == _STACK:
                stack_step_backward_c(t, W, &values[b, 0, 0], W, pop[b, t], s_prev, S + t * T,
                                      &d_reads[b, t, 0], &d_strength[b, 0],
                                      &d_values[b, 0, 0], W, &d_push[b, t], &d_pop[b, t],
                                      scratch)
            else:
                queue_step_backward_c(t, W, &values[b, 0, 0], W, pop[b, t], s_prev, S + t * T,
                                      &d_reads[b, t, 0], &d_strength[b, 0],
                                      &d_values[b, 0, 0], W, &d_push[b, t], &d_pop[b, t],
                                      scratch)


def _check_one_ended(Py_ssize_t n, values, push, pop, strengths, weights, reads):
    B, T, W = values.shape[0], values.shape[1], values.shape[2]
    _check(B >= 1 and T >= 1 and W >= 1, f"values shape {tuple(values.shape)[:3]}")
    _check(0 <= n <= T, f"step {n} of {T}")
    _check(tuple(push.shape)[:2] == (B, T) and tuple(pop.shape)[:2] == (B, T),
           "push/pop shape")
    _check(tuple(strengths.shape)[:3] == (B, T, T), "strengths shape")
    if weights is not None:
        _check(tuple(weights.shape)[:3] == (B, T, T), "weights shape")
    _check(tuple(reads.shape)[:3] == (B, T, W), "reads shape")


def _forward(int kind, Py_ssize_t t0, Py_ssize_t t1, const double[:, :, ::1] values,
             const double[:, ::1] push, const double[:, ::1] pop,
             double[:, :, ::1] strengths, double[:, :, ::1] weights,
             double[:, :, ::1] reads):
    _check_one_ended(t1, values, push, pop, strengths, weights, reads)
    _check(0 <= t0 <= t1, f"steps {t0}..{t1}")
    with nogil:
        _one_ended_forward(kind, t0, t1, values, push, pop, strengths, weights, reads)


def _backward(int kind, Py_ssize_t t0, Py_ssize_t t1, const double[:, :, ::1] values,
              const double[:, ::1] pop, const double[:, :, ::1] strengths,
              const double[:, :, ::1] d_reads, double[:, :, ::1] d_values,
              double[:, ::1] d_push, double[:, ::1] d_pop, double[:, ::1] d_strength):
    _check_one_ended(t1, values, pop, pop, strengths, None, d_reads)
    _check(0 <= t0 <= t1, f"steps {t0}..{t1}")
    _check(tuple(d_values.shape)[:3] == tuple(values.shape)[:3], "d_values shape")
    _check(tuple(d_push.shape)[:2] == tuple(pop.shape)[:2]
           and tuple(d_pop.shape)[:2] == tuple(pop.shape)[:2], "d_push/d_pop shape")
    _check(tuple(d_strength.shape)[:2] == (values.shape[0], values.shape[1]),
           "d_strength shape")
    cdef double* scratch = <double*> malloc(max(values.shape[1], 1) * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            _one_ended_backward(kind, t0, t1, values, pop, strengths, d_reads, d_values,
                                d_push, d_pop, d_strength, scratch)
    finally:
        free(scratch)


def stack_forward(Py_ssize_t n_steps, values, push, pop, strengths, weights, reads):
    """Steps 0 .. n_steps-1 of B neural stacks (eqs 1-3); see ``_memory_ref``."""
    _forward(_STACK, 0, n_steps, values, push, pop, strengths, weights, reads)


def stack_forward_step(Py_ssize_t t, values, push, pop, strengths, weights, reads):
    """Step t of B neural stacks (steps < t done)."""
    _forward(_STACK, t, t + 1, values, push, pop, strengths, weights, reads)


def stack_backward(Py_ssize_t n_steps, values, pop, strengths, d_reads, d_values, d_push,
                   d_pop):
    """Backward of ``stack_forward``: overwrites d_values, d_push, d_pop."""
    import numpy as np
    d_values[...] = 0.0
    d_strength = np.zeros((values.shape[0], values.shape[1]))
    _backward(_STACK, 0, n_steps, values, pop, strengths, d_reads, d_values, d_push, d_pop,
              d_strength)


def stack_backward_step(Py_ssize_t t, values, pop, strengths, d_reads, d_values, d_push,
                        d_pop, d_strength):
    """Backward of step t (``d_strength`` (B, T) carries the strengths' gradient)."""
    _backward(_STACK, t, t + 1, values, pop, strengths, d_reads, d_values, d_push, d_pop,
              d_strength)


def queue_forward(Py_ssize_t n_steps, values, push, pop, strengths, weights, reads):
    """Steps 0 .. n_steps-1 of B neural queues (eqs 1, 4, 5)."""
    _forward(_QUEUE, 0, n_steps, values, push, pop, strengths, weights, reads)


def queue_forward_step(Py_ssize_t t, values, push, pop, strengths, weights, reads):
    """Step t of B neural queues (steps < t done)."""
    _forward(_QUEUE, t, t + 1, values, push, pop, strengths, weights, reads)


def queue_backward(Py_ssize_t n_steps, values, pop, strengths, d_reads, d_values, d_push,
                   d_pop):
    """Backward of ``queue_forward``: overwrites d_values, d_push, d_pop."""
    import numpy as np
    d_values[...] = 0.0
    d_strength = np.zeros((values.shape[0], values.shape[1]))
    _backward(_QUEUE, 0, n_steps, values, pop, strengths, d_reads, d_values, d_push, d_pop,
              d_strength)


def queue_backward_step(Py_ssize_t t, values, pop, strengths, d_reads, d_values, d_push,
                        d_pop, d_strength):
    """Backward of step t of B neural queues."""
    _backward(_QUEUE, t, t + 1, values, pop, strengths, d_reads, d_values, d_push, d_pop,
              d_strength)


# deque


def _check_shapes(tuple shape, str what, *arrays):
    for a in arrays:
        _check(tuple(a.shape)[:len(shape)] == shape, what)


def _check_deque(Py_ssize_t n, values_top, values_bottom, push_top, push_bottom, pop_top,
                 pop_bottom, strengths):
    B, C, W = values_top.shape[0], values_top.shape[1], values_top.shape[2]
    _check(B >= 1 and C >= 1 and W >= 1, f"values_top shape {tuple(values_top.shape)[:3]}")
    _check(tuple(values_bottom.shape)[:3] == (B, C, W), "values_bottom shape")
    _check(0 <= n <= C, f"step {n} of {C}")
    _check_shapes((B, C), "push/pop shape", push_top, push_bottom, pop_top, pop_bottom)
    _check(tuple(strengths.shape)[:3] == (B, C, 2 * C), "strengths shape")


def _deque_forward(Py_ssize_t t0, Py_ssize_t t1,
                   const double[:, :, ::1] values_top, const double[:, :, ::1] values_bottom,
                   const double[:, ::1] push_top, const double[:, ::1] push_bottom,
                   const double[:, ::1] pop_top, const double[:, ::1] pop_bottom,
                   double[:, :, ::1] strengths, double[:, :, ::1] weights_top,
                   double[:, :, ::1] weights_bottom, double[:, :, ::1] read_top,
                   double[:, :, ::1] read_bottom):
    _check_deque(t1, values_top, values_bottom, push_top, push_bottom, pop_top, pop_bottom,
                 strengths)
    _check(0 <= t0 <= t1, f"steps {t0}..{t1}")
    _check_shapes(tuple(strengths.shape)[:3], "weights shape", weights_top, weights_bottom)
    _check_shapes(tuple(values_top.shape)[:3], "reads shape", read_top, read_bottom)
    cdef Py_ssize_t b, t, B = values_top.shape[0], C = values_top.shape[1]
    cdef Py_ssize_t W = values_top.shape[2], L = 2 * C
    cdef double* S
    with nogil:
        for b in range(B):
            S = &strengths[b, 0, 0]
            for t in range(t0, t1):
                deque_step_forward_c(t, C, W, &values_top[b, 0, 0], &values_bottom[b, 0, 0], W,
                                     push_top[b, t], push_bottom[b, t],
                                     pop_top[b, t], pop_bottom[b, t],
                                     S + (t - 1) * L if t > 0 else NULL, S + t * L,
                                     &weights_top[b, t, 0], &weights_bottom[b, t, 0],
                                     &read_top[b, t, 0], &read_bottom[b, t, 0])


def _deque_backward(Py_ssize_t t0, Py_ssize_t t1,
                    const double[:, :, ::1] values_top, const double[:, :, ::1] values_bottom,
                    const double[:, ::1] pop_top, const double[:, ::1] pop_bottom,
                    const double[:, :, ::1] strengths,
                    const double[:, :, ::1] d_read_top, const double[:, :, ::1] d_read_bottom,
                    double[:, :, ::1] d_values_top, double[:, :, ::1] d_values_bottom,
                    double[:, ::1] d_push_top, double[:, ::1] d_push_bottom,
                    double[:, ::1] d_pop_top, double[:, ::1] d_pop_bottom,
                    double[:, ::1] d_strength):
    _check_deque(t1, values_top, values_bottom, pop_top, pop_bottom, pop_top, pop_bottom,
                 strengths)
    _check(0 <= t0 <= t1, f"steps {t0}..{t1}")
    _check_shapes(tuple(values_top.shape)[:3], "gradient shape", d_read_top, d_read_bottom,
                  d_values_top, d_values_bottom)
    _check_shapes(tuple(pop_top.shape)[:2], "gradient shape", d_push_top, d_push_bottom,
                  d_pop_top, d_pop_bottom)
    _check(tuple(d_strength.shape)[:2] == (values_top.shape[0], 2 * values_top.shape[1]),
           "d_strength shape")
    cdef Py_ssize_t b, t, B = values_top.shape[0], C = values_top.shape[1]
    cdef Py_ssize_t W = values_top.shape[2], L = 2 * C
    cdef const double* S
    cdef double* scratch = <double*> malloc(2 * L * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            for b in range(B):
                S = &strengths[b, 0, 0]
                for t in range(t1 - 1, t0 - 1, -1):
                    deque_step_backward_c(
                        t, C, W, &values_top[b, 0, 0], &values_bottom[b, 0, 0], W,
                        pop_top[b, t], pop_bottom[b, t],
                        S + (t - 1) * L if t > 0 else NULL, S + t * L,
                        &d_read_top[b, t, 0], &d_read_bottom[b, t, 0], &d_strength[b, 0],
                        &d_values_top[b, 0, 0], &d_values_bottom[b, 0, 0], W,
                        &d_push_top[b, t], &d_push_bottom[b, t],
                        &d_pop_top[b, t], &d_pop_bottom[b, t], scratch)
    finally:
        free(scratch)


def deque_forward(Py_ssize_t n_steps, values_top, values_bottom, push_top, push_bottom,
                  pop_top, pop_bottom, strengths, weights_top, weights_bottom, read_top,
                  read_bottom):
    """Steps 0 .. n_steps-1 of B neural DeQues (eqs 6-11); see ``_memory_ref``."""
    _deque_forward(0, n_steps, values_top, values_bottom, push_top, push_bottom, pop_top,
                   pop_bottom, strengths, weights_top, weights_bottom, read_top, read_bottom)


def deque_forward_step(Py_ssize_t t, values_top, values_bottom, push_top, push_bottom,
                       pop_top, pop_bottom, strengths, weights_top, weights_bottom, read_top,
                       read_bottom):
    """Step t of B neural DeQues (steps < t done)."""
    _deque_forward(t, t + 1, values_top, values_bottom, push_top, push_bottom, pop_top,
                   pop_bottom, strengths, weights_top, weights_bottom, read_top, read_bottom)


def deque_backward(Py_ssize_t n_steps, values_top, values_bottom, pop_top, pop_bottom,
                   strengths, d_read_top, d_read_bottom, d_values_top, d_values_bottom,
                   d_push_top, d_push_bottom, d_pop_top, d_pop_bottom):
    """Backward of ``deque_forward``: overwrites every gradient buffer."""
    import numpy as np
    d_values_top[...] = 0.0
    d_values_bottom[...] = 0.0
    d_strength = np.zeros((values_top.shape[0], 2 * values_top.shape[1]))
    _deque_backward(0, n_steps, values_top, values_bottom, pop_top, pop_bottom, strengths,
                    d_read_top, d_read_bottom, d_values_top, d_values_bottom, d_push_top,
                    d_push_bottom, d_pop_top, d_pop_bottom, d_strength)


def deque_backward_step(Py_ssize_t t, values_top, values_bottom, pop_top, pop_bottom,
                        strengths, d_read_top, d_read_bottom, d_values_top, d_values_bottom,
                        d_push_top, d_push_bottom, d_pop_top, d_pop_bottom, d_strength):
    """Backward of step t of B neural DeQues (``d_strength`` (B, 2C))."""
    _deque_backward(t, t + 1, values_top, values_bottom, pop_top, pop_bottom, strengths,
                    d_read_top, d_read_bottom, d_values_top, d_values_bottom, d_push_top,
                    d_push_bottom, d_pop_top, d_pop_bottom, d_strength)
