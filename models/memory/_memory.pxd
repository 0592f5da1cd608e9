# cython: language_level=3
"""C-level neural Stack, Queue and DeQue steps, for ``cimport`` by other kernels (the
memory-augmented controller runs them one step at a time between its own cell steps).

One sequence per call; row-major float64 through raw pointers. Value rows are addressed
with an explicit ``value_stride`` (elements between the rows of consecutive steps: W for
batch-major (B, T, W) buffers, B * W for time-major (T, B, W) ones). Strength and weight
rows are rows of the caller's (T, L) per-sequence buffers (L = T for the stack and
queue, 2C for the deque): ``s_prev`` is row t-1 (unused at t = 0), ``s`` row t.
See ``_memory.pyx`` for the equations and ``_memory_ref.py`` for the numpy twin.

Backward contract: ``d_s`` holds, on entry, the gradient of the strengths after step t
(accumulated by the call for step t+1; zero before the last step) and, on exit, the
gradient of the strengths after step t-1. ``d_values`` rows are accumulated (zero them
before the last step); the row of step t is final when the call returns, as are
``d_push`` and ``d_pop``. ``scratch`` needs L doubles (stack, queue) or 2 * L (deque).
"""

cdef void stack_step_forward_c(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W,
                               const double* values, Py_ssize_t value_stride,
                               double push, double pop, const double* s_prev, double* s,
                               double* w, double* read) noexcept nogil

cdef void stack_step_backward_c(Py_ssize_t t, Py_ssize_t W,
                                const double* values, Py_ssize_t value_stride, double pop,
                                const double* s_prev, const double* s,
                                const double* d_read, double* d_s,
                                double* d_values, Py_ssize_t d_value_stride,
                                double* d_push, double* d_pop,
                                double* scratch) noexcept nogil

cdef void queue_step_forward_c(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W,
                               const double* values, Py_ssize_t value_stride,
                               double push, double pop, const double* s_prev, double* s,
                               double* w, double* read) noexcept nogil

cdef void queue_step_backward_c(Py_ssize_t t, Py_ssize_t W,
                                const double* values, Py_ssize_t value_stride, double pop,
                                const double* s_prev, const double* s,
                                const double* d_read, double* d_s,
                                double* d_values, Py_ssize_t d_value_stride,
                                double* d_push, double* d_pop,
                                double* scratch) noexcept nogil

cdef void deque_step_forward_c(Py_ssize_t t, Py_ssize_t C, Py_ssize_t W,
                               const double* values_top, const double* values_bottom,
                               Py_ssize_t value_stride,
                               double push_top, double push_bottom,
                               double pop_top, double pop_bottom,
                               const double* s_prev, double* s,
                               double* w_top, double* w_bottom,
                               double* read_top, double* read_bottom) noexcept nogil

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
                                double* scratch) noexcept nogil


# ----------------------------------------------------------------------------- one signature per memory
# What a controller kernel calls, for any memory kind: the columns of a memory-facing
# row are [push (P), pop (P), values (P * W)] with P ends, so push, pop and values point
# into that row; the read row holds the P reads (P * W); ``w`` holds P weight rows of
# ``w_stride`` doubles. ``L`` is the step count T (stack, queue) or the capacity C (deque).

ctypedef void (*memory_forward_step_t)(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W,
                                       const double* values, Py_ssize_t value_stride,
                                       const double* push, const double* pop,
                                       const double* s_prev, double* s,
                                       double* w, Py_ssize_t w_stride,
                                       double* read) noexcept nogil

ctypedef void (*memory_backward_step_t)(Py_ssize_t t, Py_ssize_t L, Py_ssize_t W,
                                        const double* values, Py_ssize_t value_stride,
                                        const double* pop, const double* s_prev, const double* s,
                                        const double* d_read, double* d_s,
                                        double* d_values, Py_ssize_t d_value_stride,
                                        double* d_push, double* d_pop,
                                        double* scratch) noexcept nogil

ctypedef struct MemoryOps:
    int ends                          # P: 1, or 2 for the deque
    int cells_per_step                # memory cells added per step (the deque: 2)
    memory_forward_step_t forward_step
    memory_backward_step_t backward_step

cdef MemoryOps memory_ops(str name) except *
