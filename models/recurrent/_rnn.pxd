# cython: language_level=3
"""C-level RNN kernels, for ``cimport`` by other kernels (e.g. a memory-augmented
controller that runs the cell one step at a time). Row-major float64 pointers;
see ``_rnn.pyx`` for the contracts."""

cdef void rnn_step_forward_c(int B, int I, int H, const double* x, const double* h_prev,
                             const double* W_xh, const double* W_hh, const double* b_h,
                             int act, double* h) noexcept nogil

cdef void rnn_step_backward_c(int B, int I, int H, const double* x, const double* h_prev,
                              const double* h, const double* W_xh, const double* W_hh, int act,
                              const double* dh, double* da, double* dx, double* dh_prev,
                              double* dW_xh, double* dW_hh, double* db_h) noexcept nogil

cdef void rnn_forward_c(int T, int B, int I, int H, const double* X, const double* W_xh,
                        const double* W_hh, const double* b_h, int act, double* Hs) noexcept nogil

cdef void rnn_bptt_c(int T, int B, int I, int H, const double* X, const double* Hs,
                     const double* W_xh, const double* W_hh, int act, const double* dHs,
                     double* dA, double* dX, double* dW_xh, double* dW_hh, double* db_h,
                     double* dh0, double* work) noexcept nogil
