# cython: language_level=3
"""Optimizer update kernel, for ``cimport`` by the model kernels' step loops."""

cdef class UpdateKernel:
    cdef readonly object rule
    cdef int code
    cdef Py_ssize_t n
    cdef object _arrays
    cdef double* theta
    cdef const double* grad
    cdef double* s1
    cdef double* s2
    cdef public double lr, clip_norm, h1, h2, eps
    cdef public long t

    cdef double _step_c(self) noexcept nogil
