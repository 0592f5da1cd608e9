# cython: language_level=3
"""Base class of the whole-model Cython kernels (see ``_seqkernel.pyx``)."""
from libc.stdint cimport int64_t


cdef class SequenceKernel:
    cdef readonly int input_size, hidden_size, output_size, batch_size, max_length
    cdef readonly int head_code
    # built for inference only: no dropout or gradient buffers (forward, infer; no training)
    cdef readonly bint inference
    cdef readonly object head
    cdef object _params_keep, _buffers_keep, _bound_keep, _dropout_keep
    # output layer parameters and their gradients
    cdef double* W_hy
    cdef double* b_y
    cdef double* dW_hy
    cdef double* db_y
    # scratch, (max_length * batch_size) rows
    cdef double* Xd
    cdef double* Hd
    cdef double* dZ
    cdef double* dH
    # the bound block
    cdef int n_bound, T, B
    cdef const double* X
    cdef const int64_t* y_ids
    cdef const double* y_bits
    cdef const double* mask
    cdef double* P
    cdef double* stats
    # dropout keep-masks (already scaled by 1 / keep probability), or NULL
    cdef const double* x_keep
    cdef const double* h_keep

    cdef double* _param(self, dict params, str name, tuple shape, bint required) except? NULL
    cdef double* _scratch(self, tuple shape) except NULL
    cdef void _check_index(self, int k) except *
    cdef void _check_trainable(self) except *
    cdef const double* _inputs(self, int k, bint dropout) noexcept nogil
    cdef const double* _outputs(self, const double* H_out, bint dropout) noexcept nogil
    cdef double _head_forward(self, int k, const double* H_out, bint want_grad) noexcept nogil
    cdef void _head_backward(self, const double* H_out, bint dropout) noexcept nogil
    cdef void _batch_stats(self, int k) noexcept nogil
    # implemented by the subclasses: loss of bound batch k, every parameter gradient
    # overwritten (want_grad) or probabilities only
    cdef double _loss_and_grad_c(self, int k, bint dropout, bint want_grad) noexcept nogil
