# cython: language_level=3
"""Shared plumbing of the whole-model kernels (``RNNKernel``, ``LSTMKernel``, and the
memory models built on them): pointers to the parameters and their gradients, scratch
buffers, the bound block of batches, dropout masks, and the output layer with its
softmax or sigmoid head.

The Python side allocates every array (parameters are views into one flat vector, see
:class:`models.ParamSet`); this class checks each array once, keeps a reference so
the memory stays valid, and stores its pointer, so that a training step costs one
Python call with an integer argument. The numpy twin is
:class:`models.recurrent._rnn_ref.SequenceKernelBase`.
"""
import numpy as np

from libc.math cimport isfinite, NAN
from libc.string cimport memset
from libc.stdint cimport int64_t

from models.core._updates cimport UpdateKernel

from models.core._linalg cimport gemm, add_row_vector, add_column_sums, head_loss_and_grad
from models.core._linalg cimport HEAD_SOFTMAX, HEAD_SIGMOID

_HEAD_CODES = {"softmax": HEAD_SOFTMAX, "sigmoid": HEAD_SIGMOID}


cdef double* _pointer(object array, tuple shape, str name, bint writable) except? NULL:
    if not isinstance(array, np.ndarray) or array.dtype != np.float64:
        raise ValueError(f"{name} must be a float64 ndarray, got {type(array).__name__} "
                         f"{getattr(array, 'dtype', '')}")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous; pass np.ascontiguousarray({name})")
    if writable and not array.flags.writeable:
        raise ValueError(f"{name} must be writable")
    if array.size == 0:
        return NULL
    cdef const double[::1] flat = array.reshape(-1)
    return <double*>&flat[0]


cdef class SequenceKernel:
    """Whole-model kernel base (abstract): subclasses add the recurrent cell."""

    def __init__(self, dict params, dict grads, *, str head, int input_size, int hidden_size,
                 int output_size, int batch_size, int max_length, bint inference=False):
        if head not in _HEAD_CODES:
            raise ValueError(f"head must be one of {sorted(_HEAD_CODES)}, got {head!r}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("output_size", output_size), ("batch_size", batch_size),
                            ("max_length", max_length)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.head = head
        self.head_code = _HEAD_CODES[head]
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.batch_size, self.max_length = batch_size, max_length
        self._params_keep = []
        self._buffers_keep = []
        self._bound_keep = ()
        self._dropout_keep = ()
        self.n_bound = 0
        self.W_hy = self._param(params, "W_hy", (hidden_size, output_size), True)
        self.b_y = self._param(params, "b_y", (output_size,), False)
        self.dW_hy = self._param(grads, "W_hy", (hidden_size, output_size), True)
        self.db_y = self._param(grads, "b_y", (output_size,), self.b_y != NULL)
        cdef int rows = max_length * batch_size
        self.inference = inference
        self.Xd = self.Hd = self.dZ = self.dH = NULL
        if not inference:                    # dropout and gradient buffers: training only
            self.Xd = self._scratch((rows, input_size))
            self.Hd = self._scratch((rows, hidden_size))
            self.dZ = self._scratch((rows, output_size))
            self.dH = self._scratch((rows, hidden_size))
        self.x_keep = NULL
        self.h_keep = NULL

    cdef double* _param(self, dict params, str name, tuple shape, bint required) except? NULL:
        array = params.get(name)
        if array is None:
            if required:
                raise ValueError(f"missing parameter {name!r} of shape {shape}")
            return NULL
        self._params_keep.append(array)
        return _pointer(array, shape, name, True)

    cdef double* _scratch(self, tuple shape) except NULL:
        array = np.zeros(shape)
        self._buffers_keep.append(array)
        return _pointer(array, shape, "scratch", True)

    def bind(self, inputs, targets, mask, probs, stats=None):
        """Bind a block of ``n`` batches of one length T <= max_length and size B <= batch_size.

        Parameters
        ----------
        inputs : float64 ndarray of shape (n, T, B, I)
        targets : int64 ndarray of shape (n, T, B) (softmax) or float64 (n, T, B, O) (sigmoid)
        mask : float64 ndarray of shape (n, T, B)
        probs : float64 ndarray of shape (n, T, B, O), written by the kernel
        stats : float64 ndarray of shape (n, 4), optional
            Written by the kernel for each batch it runs: target symbols, symbols right,
            sequences entirely right, and the sum over sequences of the fraction right
            before the first error (see :func:`models.training._metrics.batch_metric_sums`).
        """
        if getattr(inputs, "ndim", 0) != 4:
            raise ValueError(f"inputs must have shape (n, T, B, I), got {getattr(inputs, 'shape', None)}")
        n, T, B, I = inputs.shape
        if I != self.input_size:
            raise ValueError(f"inputs have {I} features per step, the model expects {self.input_size}")
        if T < 1 or T > self.max_length or B < 1 or B > self.batch_size or n < 1:
            raise ValueError(f"a block of {n} batches of length {T} and size {B} does not fit this kernel "
                             f"(max_length {self.max_length}, batch_size {self.batch_size})")
        O = self.output_size
        self.X = _pointer(inputs, (n, T, B, I), "inputs", False)
        if self.head_code == HEAD_SOFTMAX:
            if not isinstance(targets, np.ndarray) or targets.dtype != np.int64 \
                    or targets.shape != (n, T, B) or not targets.flags.c_contiguous:
                raise ValueError(f"targets must be a C-contiguous int64 array of shape {(n, T, B)}, got "
                                 f"{getattr(targets, 'dtype', type(targets).__name__)} "
                                 f"{getattr(targets, 'shape', '')}")
            if targets.min() < 0 or targets.max() >= O:
                raise ValueError(f"target ids must lie in [0, {O}), got [{targets.min()}, {targets.max()}]")
            self.y_ids = <const int64_t*><size_t>targets.ctypes.data
            self.y_bits = NULL
        else:
            self.y_bits = _pointer(targets, (n, T, B, O), "targets", False)
            self.y_ids = NULL
        self.mask = _pointer(mask, (n, T, B), "mask", False)
        self.P = _pointer(probs, (n, T, B, O), "probs", True)
        self.stats = NULL if stats is None else _pointer(stats, (n, 4), "stats", True)
        self._bound_keep = (inputs, targets, mask, probs, stats)
        self.n_bound, self.T, self.B = n, T, B

    def set_dropout(self, x_keep, h_keep):
        """Bind dropout keep-masks: float64 arrays of shapes (max_length * batch_size, I) and
        (max_length * batch_size, H), row ``t * B + b``; entries 0 or 1 / keep-probability.
        ``None`` switches that dropout off."""
        self._check_trainable()
        rows = self.max_length * self.batch_size
        self.x_keep = NULL if x_keep is None else _pointer(x_keep, (rows, self.input_size), "x_keep", False)
        self.h_keep = NULL if h_keep is None else _pointer(h_keep, (rows, self.hidden_size), "h_keep", False)
        self._dropout_keep = (x_keep, h_keep)

    cdef void _check_trainable(self) except *:
        if self.inference:
            raise ValueError("this kernel was built with inference=True (no dropout or gradient buffers): it "
                             "runs forward and infer only")

    cdef void _check_index(self, int k) except *:
        if self.n_bound == 0:
            raise ValueError("no block bound: call bind(inputs, targets, mask, probs) first")
        if k < 0 or k >= self.n_bound:
            raise IndexError(f"batch index {k} out of range for a block of {self.n_bound}")

    cdef const double* _inputs(self, int k, bint dropout) noexcept nogil:
        """Pointer to batch k's inputs (T*B, I), multiplied by the input keep-mask if asked."""
        cdef int r, n = self.T * self.B * self.input_size
        cdef const double* X = self.X + <size_t>k * n
        if not dropout or self.x_keep == NULL:
            return X
        for r in range(n):
            self.Xd[r] = X[r] * self.x_keep[r]
        return self.Xd

    cdef const double* _outputs(self, const double* H_out, bint dropout) noexcept nogil:
        """The hidden states seen by the output layer (T*B, H), with output dropout if asked."""
        cdef int r, n = self.T * self.B * self.hidden_size
        if not dropout or self.h_keep == NULL:
            return H_out
        for r in range(n):
            self.Hd[r] = H_out[r] * self.h_keep[r]
        return self.Hd

    cdef double _head_forward(self, int k, const double* H_out, bint want_grad) noexcept nogil:
        """Logits -> probabilities of batch k (into the bound probs), loss, and dZ if asked."""
        cdef int rows = self.T * self.B, O = self.output_size
        cdef double* Z = self.P + <size_t>k * rows * O
        cdef double loss
        gemm(0, 0, rows, O, self.hidden_size, 1.0, H_out, self.hidden_size, self.W_hy, O, 0.0, Z, O)
        if self.b_y != NULL:
            add_row_vector(rows, O, Z, self.b_y)
        loss = head_loss_and_grad(self.head_code, rows, O, Z,
                                  NULL if self.y_ids == NULL else self.y_ids + <size_t>k * rows,
                                  NULL if self.y_bits == NULL else self.y_bits + <size_t>k * rows * O,
                                  self.mask + <size_t>k * rows, 1.0 / self.B,
                                  self.dZ if want_grad else NULL)
        if self.stats != NULL:
            self._batch_stats(k)
        return loss

    cdef void _batch_stats(self, int k) noexcept nogil:
        """Accuracy counts of batch k into stats[k] (from the probabilities just written)."""
        cdef int T = self.T, B = self.B, O = self.output_size, t, b, j, best, n_targets, right_before
        cdef bint right, seen_error
        cdef double n_symbols = 0.0, correct = 0.0, sequences_right = 0.0, fine = 0.0
        cdef size_t rows = <size_t>T * B
        cdef const double* P = self.P + <size_t>k * rows * O
        cdef const double* mask = self.mask + <size_t>k * rows
        cdef const double* p
        cdef const double* y
        for b in range(B):
            n_targets = 0
            right_before = 0
            seen_error = False
            for t in range(T):
                if mask[t * B + b] <= 0.0:
                    continue
                p = P + (<size_t>t * B + b) * O
                if self.y_ids != NULL:
                    best = 0
                    for j in range(1, O):
                        if p[j] > p[best]:
                            best = j
                    right = best == self.y_ids[<size_t>k * rows + t * B + b]
                else:
                    y = self.y_bits + (<size_t>k * rows + t * B + b) * O
                    right = True
                    for j in range(O):
                        if (p[j] > 0.5) != (y[j] > 0.5):
                            right = False
                n_targets += 1
                if right:
                    correct += 1.0
                    if not seen_error:
                        right_before += 1
                else:
                    seen_error = True
            n_symbols += n_targets
            if not seen_error:
                sequences_right += 1.0
            fine += (<double>right_before / n_targets) if n_targets > 0 else 1.0
        self.stats[4 * k] = n_symbols
        self.stats[4 * k + 1] = correct
        self.stats[4 * k + 2] = sequences_right
        self.stats[4 * k + 3] = fine

    cdef void _head_backward(self, const double* H_out, bint dropout) noexcept nogil:
        """Output-layer gradients (overwritten) and dH = dL/dh_t (into self.dH)."""
        cdef int r, rows = self.T * self.B, O = self.output_size, H = self.hidden_size
        gemm(1, 0, H, O, rows, 1.0, H_out, H, self.dZ, O, 0.0, self.dW_hy, O)
        if self.db_y != NULL:
            memset(self.db_y, 0, O * sizeof(double))
            add_column_sums(rows, O, self.dZ, self.db_y)
        gemm(0, 1, rows, H, O, 1.0, self.dZ, O, self.W_hy, O, 0.0, self.dH, H)
        if dropout and self.h_keep != NULL:
            for r in range(rows * H):
                self.dH[r] *= self.h_keep[r]

    cdef double _loss_and_grad_c(self, int k, bint dropout, bint want_grad) noexcept nogil:
        return NAN

    def forward(self, int k):
        """Probabilities of bound batch ``k`` into ``probs[k]`` (no dropout); returns the loss."""
        self._check_index(k)
        cdef double loss
        with nogil:
            loss = self._loss_and_grad_c(k, False, False)
        return loss

    def infer(self, int k, callback=None):
        """As :meth:`forward`; then ``callback(n)`` (if given) with ``n = T * B``, the
        sequence-steps done. (The memory models' kernel reports every few hundred steps.)"""
        loss = self.forward(k)
        if callback is not None:
            callback(self.T * self.B)
        return loss

    def loss_and_grad(self, int k, bint dropout=False):
        """Loss of bound batch ``k``; every parameter gradient is overwritten."""
        self._check_trainable()
        self._check_index(k)
        cdef double loss
        with nogil:
            loss = self._loss_and_grad_c(k, dropout, True)
        return loss

    def run_steps(self, UpdateKernel optimizer, const int64_t[::1] batches, double[::1] losses,
                  double[::1] norms):
        """Training steps without returning to Python: for each bound batch index in
        ``batches``, ``loss_and_grad`` (no dropout) then ``optimizer.step()``.

        Stops at the first NaN/inf loss (no update made) or gradient norm (the optimizer
        leaves everything untouched). ``losses[i]`` and ``norms[i]`` receive each step's
        values. Returns the number of steps completed.
        """
        cdef Py_ssize_t i, n = batches.shape[0]
        cdef int done = 0
        cdef double loss, norm
        self._check_trainable()
        if losses.shape[0] < n or norms.shape[0] < n:
            raise ValueError(f"losses and norms need room for {n} steps")
        for i in range(n):
            self._check_index(batches[i])
        with nogil:
            for i in range(n):
                loss = self._loss_and_grad_c(<int>batches[i], False, True)
                losses[i] = loss
                if not isfinite(loss):
                    break
                norm = optimizer._step_c()
                norms[i] = norm
                if not isfinite(norm):
                    break
                done += 1
        return done
