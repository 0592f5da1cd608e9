"""Differentiable Neural Stack, Queue and DeQue with exact gradients.

The continuous memories of Grefenstette, Hermann, Suleyman & Blunsom 2015, "Learning
to Transduce with Unbounded Memory" (arXiv 1506.02516), equations 1-11. At every step
t the memory is popped with strength ``pop[t]``, then ``values[t]`` is pushed with
strength ``push[t]``, then the top unit of strength is read (for the queue: the front;
for the deque: both ends)::

    stack = NeuralStack(width=W)
    reads = stack.forward(values, push, pop)            # (T, W), (T,), (T,) -> (T, W)
    d_values, d_push, d_pop = stack.backward(d_reads)    # gradients of a loss

The gradients are exact through every path: a read at step t reaches the value pushed
at any earlier step, and the strengths at step t depend on every earlier push and pop
through running sums. Where ``max``/``min`` tie, the derivative follows the left
argument (the paper's footnote 1).

What a pass keeps. Values are kept once, O(T W). A pass that may be backpropagated
(these classes; a controller in training) keeps the strength of every cell after every
step, (T, L) per sequence with L = T cells (2T for the deque): O(T^2), 8 T^2 bytes
(8 MB at T = 1,000, 800 MB at T = 10,000). It must: the backward pass runs from the last
step to the first, and step t's backward needs the strengths before and after step t
(every other intermediate is recomputed from them in O(t)); they cannot be recomputed
backwards, since a pop clamps strengths at zero, and recomputing them forwards for every
step would cost O(T^3) time. Training sequences are short (at most a few hundred steps),
so this is a few MB. A forward pass alone needs only the strengths after the previous
step: the step functions (``forward_rows`` of the numpy reference, the C functions of
``_memory.pxd``) read one row of strengths and write the next, so inference
(:meth:`models.MemoryRNN.predict`, ``evaluate``) keeps two rows, O(L) per sequence,
besides the values: O(T W) in all, with time O(t W) per step at worst (pops and reads
walk the cells until their strength is used up). ``strengths_`` (for plots) is the full
(T, L) array of the last pass.

Batches: give ``values`` of shape (B, T, W) and strengths of shape (B, T) to run B
sequences of one length at once; the results get the leading B axis too.

Controllers, which need the read of step t-1 before they can emit the push, pop and
value of step t, drive a memory step by step: :meth:`NeuralStack.start`, then
:meth:`~NeuralStack.step` for t = 0 .. T-1, then :meth:`~NeuralStack.backward_step` for
t = T-1 .. 0 (each returns the final gradients of step t's inputs, given the gradient of
step t's read); Cython code can ``cimport`` the per-step C functions of
``models/memory/_memory.pxd`` instead.

Backends: ``backend="cython"`` (default) runs the compiled kernels of
``models/memory/_memory.pyx``; ``backend="numpy"`` the readable reference
``models/memory/_memory_ref.py``. Both compute the same numbers (to 1e-10).
"""
from __future__ import annotations

import numpy as np

from ..core._backend import BACKENDS, compiled_kernels
from ._base import MemoryKernels, _Memory, _OneEnded

__all__ = ["NeuralStack", "NeuralQueue", "NeuralDeque", "MEMORY_BACKENDS"]

#: Valid values of the ``backend`` argument.
MEMORY_BACKENDS = BACKENDS


class NeuralStack(_OneEnded):
    """Continuous stack (Grefenstette et al. 2015, eqs 1-3): pop and read from the top.

    Parameters
    ----------
    width : int
        Size W of each pushed value.
    backend : {"cython", "numpy"}, default "cython"
        Compiled kernels or the numpy reference (same numbers to 1e-10).

    Attributes
    ----------
    strengths_, read_weights_ : ndarray of shape (T, T) or (B, T, T)
        Set by the last forward pass; see :attr:`strengths_`.

    Raises
    ------
    KernelNotBuiltError
        ``backend="cython"`` but the extension is not compiled (the message says how).

    Examples
    --------
    Figure 1(a) of the paper: push v1, v2, v3 with (push, pop) = (0.8, 0), (0.5, 0.1),
    (0.9, 0.9).

    >>> import numpy as np
    >>> stack = NeuralStack(width=3)
    >>> reads = stack.forward(np.eye(3), push=[0.8, 0.5, 0.9], pop=[0.0, 0.1, 0.9])
    >>> np.round(reads, 6)
    array([[0.8, 0. , 0. ],
           [0.5, 0.5, 0. ],
           [0.1, 0. , 0.9]])
    >>> np.round(stack.strengths_, 6)
    array([[0.8, 0. , 0. ],
           [0.7, 0.5, 0. ],
           [0.3, 0. , 0.9]])
    >>> d_values, d_push, d_pop = stack.backward(np.ones((3, 3)))
    """

    _KIND = "stack"

    @staticmethod
    def _load_kernels(backend: str) -> MemoryKernels:
        if backend == "numpy":
            from ._memory_ref import (stack_forward, stack_backward, stack_forward_step, stack_backward_step,
                                      stack_forward_rows)
            return MemoryKernels(stack_forward, stack_backward, stack_forward_step, stack_backward_step,
                                 stack_forward_rows)
        with compiled_kernels("models.memory._memory"):
            from ._memory import stack_forward, stack_backward, stack_forward_step, stack_backward_step
        return MemoryKernels(stack_forward, stack_backward, stack_forward_step, stack_backward_step)


class NeuralQueue(_OneEnded):
    """Continuous queue (Grefenstette et al. 2015, eqs 1, 4, 5): pop and read from the
    front (the oldest values), push at the back.

    Parameters, attributes and methods as :class:`NeuralStack`.

    Examples
    --------
    >>> import numpy as np
    >>> queue = NeuralQueue(width=3)
    >>> np.round(queue.forward(np.eye(3), push=[0.8, 0.5, 0.9], pop=[0.0, 0.1, 0.9]), 6)
    array([[0.8, 0. , 0. ],
           [0.7, 0.3, 0. ],
           [0. , 0.3, 0.7]])
    """

    _KIND = "queue"

    @staticmethod
    def _load_kernels(backend: str) -> MemoryKernels:
        if backend == "numpy":
            from ._memory_ref import (queue_forward, queue_backward, queue_forward_step, queue_backward_step,
                                      queue_forward_rows)
            return MemoryKernels(queue_forward, queue_backward, queue_forward_step, queue_backward_step,
                                 queue_forward_rows)
        with compiled_kernels("models.memory._memory"):
            from ._memory import queue_forward, queue_backward, queue_forward_step, queue_backward_step
        return MemoryKernels(queue_forward, queue_backward, queue_forward_step, queue_backward_step)


class NeuralDeque(_Memory):
    """Continuous double-ended queue (Grefenstette et al. 2015, eqs 6-11).

    Each step pops from the top, then from the bottom, pushes at both ends and reads
    from both ends. (The paper's eqs 7-8 carry index typos; they are read as the text
    describes: every cell of the previous step takes part in both pops.)

    Parameters
    ----------
    width : int
        Size W of each pushed value.
    backend : {"cython", "numpy"}, default "cython"

    Attributes
    ----------
    strengths_ : ndarray of shape (T, 2T) or (B, T, 2T)
        Strength of every cell after every step; cell ``T + i`` holds the value pushed
        at the top at step i, cell ``T - 1 - i`` the one pushed at the bottom
        (:meth:`cell_index`), so each row reads bottom to top.
    read_weights_top_, read_weights_bottom_ : ndarray, shape of ``strengths_``
        Read weights of every cell in the top and bottom reads of every step.

    Examples
    --------
    >>> import numpy as np
    >>> deque = NeuralDeque(width=2)
    >>> top, bottom = deque.forward(values_top=[[1.0, 0.0]], values_bottom=[[0.0, 1.0]],
    ...                             push_top=[0.8], push_bottom=[0.6],
    ...                             pop_top=[0.0], pop_bottom=[0.0])
    >>> np.round(top, 6), np.round(bottom, 6)
    (array([[0.8, 0.2]]), array([[0.4, 0.6]]))
    """

    _KIND = "deque"

    @staticmethod
    def _load_kernels(backend: str) -> MemoryKernels:
        if backend == "numpy":
            from ._memory_ref import (deque_forward, deque_backward, deque_forward_step, deque_backward_step,
                                      deque_forward_rows)
            return MemoryKernels(deque_forward, deque_backward, deque_forward_step, deque_backward_step,
                                 deque_forward_rows)
        with compiled_kernels("models.memory._memory"):
            from ._memory import deque_forward, deque_backward, deque_forward_step, deque_backward_step
        return MemoryKernels(deque_forward, deque_backward, deque_forward_step, deque_backward_step)
    _VALUES = ("values_top", "values_bottom")
    _PUSHES = ("push_top", "push_bottom")
    _POPS = ("pop_top", "pop_bottom")
    _READS = ("read_top", "read_bottom")
    _WEIGHTS = ("weights_top", "weights_bottom")
    _ENDS = 2
    _CELLS_PER_STEP = 2

    def _missing_hint(self, missing) -> str:
        return ("A deque takes a value, a push and a pop strength for each end, top and "
                "bottom; to leave an end unused give it zero push and pop strengths "
                "(and zero values), or use NeuralStack for a memory with one end")

    def forward(self, values_top=None, values_bottom=None, push_top=None, push_bottom=None,
                pop_top=None, pop_bottom=None):
        """Run T steps from an empty deque.

        Parameters
        ----------
        values_top, values_bottom : array-like of shape (T, W) or (B, T, W)
        push_top, push_bottom, pop_top, pop_bottom : array-like of shape (T,) or (B, T)
            Strengths in [0, 1]. All six are required.

        Returns
        -------
        read_top, read_bottom : ndarray of shape (T, W) or (B, T, W)

        Raises
        ------
        ValueError
            A missing input (e.g. only the top end's), shapes that do not match, NaN
            or infinite inputs, strengths outside [0, 1].
        """
        return self._forward({"values_top": values_top, "values_bottom": values_bottom,
                              "push_top": push_top, "push_bottom": push_bottom,
                              "pop_top": pop_top, "pop_bottom": pop_bottom})

    def backward(self, d_read_top, d_read_bottom):
        """Gradients of a loss with respect to the six inputs of the last forward pass.

        Returns
        -------
        d_values_top, d_values_bottom, d_push_top, d_push_bottom, d_pop_top, d_pop_bottom
            Shapes of the corresponding inputs.
        """
        return self._backward({"d_read_top": d_read_top, "d_read_bottom": d_read_bottom})

    def step(self, value_top, value_bottom, push_top, push_bottom, pop_top, pop_bottom):
        """One step of a pass begun with :meth:`start`; returns ``(read_top, read_bottom)``."""
        return self._step({"values_top": value_top, "values_bottom": value_bottom,
                           "push_top": push_top, "push_bottom": push_bottom,
                           "pop_top": pop_top, "pop_bottom": pop_bottom})

    def backward_step(self, d_read_top, d_read_bottom):
        """Backward of the latest step not yet backpropagated; returns the six gradients
        of that step's inputs (final), in the order of :meth:`step`."""
        return self._backward_step({"d_read_top": d_read_top,
                                    "d_read_bottom": d_read_bottom})

    def _cells(self, trace: dict, a: np.ndarray) -> np.ndarray:
        n, C = trace["n_steps"], trace["max_steps"]
        return self._out(trace, a[:, :n, C - n:C + n])

    @staticmethod
    def cell_index(n_steps: int, step: int, end: str) -> int:
        """Column of ``strengths_`` holding the value pushed at ``end`` at ``step``.

        Parameters
        ----------
        n_steps : int
            Number of steps of the pass (``n_steps_``).
        step : int
            0-based step of the push.
        end : {"top", "bottom"}

        Examples
        --------
        >>> NeuralDeque.cell_index(5, 0, "top"), NeuralDeque.cell_index(5, 0, "bottom")
        (5, 4)
        """
        if not 0 <= step < n_steps:
            raise ValueError(f"step must be in 0 .. {n_steps - 1}; got {step!r}")
        if end == "top":
            return n_steps + step
        if end == "bottom":
            return n_steps - 1 - step
        raise ValueError(f"end must be 'top' or 'bottom'; got {end!r}")

    @property
    def read_weights_top_(self) -> np.ndarray:
        """Weights of every cell in the top read of every step, shape of ``strengths_``."""
        trace = self._require_trace("read_weights_top_")
        return self._cells(trace, trace["weights_top"])

    @property
    def read_weights_bottom_(self) -> np.ndarray:
        """Weights of every cell in the bottom read of every step."""
        trace = self._require_trace("read_weights_bottom_")
        return self._cells(trace, trace["weights_bottom"])

