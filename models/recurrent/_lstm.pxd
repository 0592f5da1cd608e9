# cython: language_level=3
"""C-level LSTM kernels, for ``cimport`` by other kernels (e.g. a memory-augmented
controller that runs the cell one step at a time). Row-major float64 pointers; gate
blocks ``[i, f, o, g]``; see ``_lstm.pyx`` for the contracts."""

cdef void lstm_cell_forward_c(int B, int H, double* g, const double* c_prev, double* c,
                              double* tanh_c, double* h) noexcept nogil

cdef void lstm_cell_backward_c(int B, int H, const double* g, const double* c_prev,
                               const double* tanh_c, const double* dh, const double* dc,
                               double* dg, double* dc_prev) noexcept nogil

cdef void lstm_step_forward_c(int B, int I, int H, const double* x, const double* h_prev,
                              const double* c_prev, const double* W_x, const double* W_h,
                              const double* b, double* g, double* c, double* tanh_c,
                              double* h) noexcept nogil

cdef void lstm_step_backward_c(int B, int I, int H, const double* x, const double* h_prev,
                               const double* c_prev, const double* g, const double* tanh_c,
                               const double* W_x, const double* W_h, const double* dh,
                               const double* dc, double* dg, double* dx, double* dh_prev,
                               double* dc_prev, double* dW_x, double* dW_h, double* db) noexcept nogil

cdef void lstm_forward_c(int T, int B, int I, int H, const double* X, const double* W_x,
                         const double* W_h, const double* b, double* Hs, double* Cs, double* G,
                         double* tanhC) noexcept nogil

cdef void lstm_bptt_c(int T, int B, int I, int H, const double* X, const double* Hs,
                      const double* Cs, const double* G, const double* tanhC, const double* W_x,
                      const double* W_h, const double* dHs, double* dG, double* dX, double* dW_x,
                      double* dW_h, double* db, double* dh0, double* dc0,
                      double* work) noexcept nogil
