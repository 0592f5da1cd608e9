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
argument (the paper's footnote 1). Values are kept once, O(T W); the strengths of every
step are kept (the ``strengths_`` attribute, for plots) and every intermediate the
backward pass needs is recomputed from them in O(t) per step.

Batches: give ``values`` of shape (B, T, W) and strengths of shape (B, T) to run B
sequences of one length at once; the results get the leading B axis too.

Controllers, which need the read of step t-1 before they can emit the push, pop and
value of step t, drive a memory step by step: :meth:`NeuralStack.start`, then
:meth:`~NeuralStack.step` for t = 0 .. T-1, then :meth:`~NeuralStack.backward_step` for
t = T-1 .. 0 (each returns the final gradients of step t's inputs, given the gradient of
step t's read); Cython code can ``cimport`` the per-step C functions of
``models/_memory.pxd`` instead.

Backends: ``backend="cython"`` (default) runs the compiled kernels of
``models/_memory.pyx``; ``backend="numpy"`` the readable reference
``models/_memory_ref.py``. Both compute the same numbers (to 1e-10).
"""
from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from ._errors import KernelNotBuiltError, MemoryStateError, UnknownNameError

__all__ = ["NeuralStack", "NeuralQueue", "NeuralDeque", "MEMORIES", "MEMORY_BACKENDS"]

#: Valid values of the ``backend`` argument.
MEMORY_BACKENDS = ("cython", "numpy")

_BUILD_HINT = ("build the Cython kernels with `python setup.py build_ext --inplace` in the "
               "source checkout (or reinstall with `pip install -e .`), or pass "
               "backend='numpy' for the slow pure-numpy reference")


def _load_kernels(backend) -> ModuleType:
    """``models._memory`` (cython) or ``models._memory_ref`` (numpy)."""
    if backend not in MEMORY_BACKENDS:
        raise UnknownNameError(f"backend must be one of {', '.join(MEMORY_BACKENDS)}; "
                               f"got {backend!r}")
    if backend == "numpy":
        return importlib.import_module("models._memory_ref")
    try:
        return importlib.import_module("models._memory")
    except ImportError as exc:
        raise KernelNotBuiltError(f"the compiled kernel models._memory is not available "
                                  f"({exc}); {_BUILD_HINT}") from exc


# ----------------------------------------------------------------------------- validation


def _as_float_array(x, name: str) -> np.ndarray:
    """A fresh C-contiguous float64 copy of ``x`` (owned by the memory)."""
    if x is None:
        raise ValueError(f"{name} is missing")
    try:
        return np.array(x, dtype=np.float64, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers; got {type(x).__name__} "
                         f"({exc})") from None


def _check_finite(a: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} contains {a[index]} at index {index}; the memory needs "
                         f"finite numbers (a NaN here usually means the controller "
                         f"diverged: lower the learning rate or clip gradients)")


def _check_strength(a: np.ndarray, name: str) -> None:
    _check_finite(a, name)
    outside = (a < 0.0) | (a > 1.0)
    if outside.any():
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(f"{name} must lie in [0, 1] (a push or pop strength, e.g. a "
                         f"sigmoid output), but its values span [{a.min():.6g}, "
                         f"{a.max():.6g}]; the first outside is {a[index]:.6g} at index "
                         f"{index}. Squash it with a sigmoid, or clip it with "
                         f"np.clip({name}, 0, 1)")


def _check_count(value, name: str) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")


def _check_width(width) -> int:
    if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, np.integer)):
        raise ValueError(f"width must be a positive integer (the size of each pushed "
                         f"value); got {width!r}")
    if width < 1:
        raise ValueError(f"width must be >= 1 (the size of each pushed value); got {width}")
    return int(width)


# ----------------------------------------------------------------------------- base


class _Memory:
    """Shared machinery; subclasses name their inputs and outputs.

    Kernel argument orders (``models/_memory_ref.py``)::

        forward(n, *values, *pushes, *pops, strengths, *weights, *reads)
        backward(n, *values, *pops, strengths, *d_reads, *d_values, *d_pushes, *d_pops)
        backward_step(t, ..., d_strength)
    """

    _KIND = ""
    _VALUES: tuple = ()
    _PUSHES: tuple = ()
    _POPS: tuple = ()
    _READS: tuple = ()
    _WEIGHTS: tuple = ()
    _CELLS_PER_STEP = 1          # cells added per step: 1 (stack, queue) or 2 (deque)

    def __init__(self, width, *, backend="cython"):
        self.width = _check_width(width)
        self._kernels = _load_kernels(backend)
        self.backend = backend
        self._trace = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(width={self.width}, backend={self.backend!r})"

    # ---------------------------------------------------------------- inputs

    def _inputs(self, arrays: dict) -> tuple[dict, bool]:
        """Validate and convert whole-sequence inputs -> ({name: (B, T, ...)}, batched)."""
        cls = type(self).__name__
        missing = [name for name, a in arrays.items() if a is None]
        if missing:
            given = [name for name, a in arrays.items() if a is not None]
            raise ValueError(
                f"{cls}.forward needs {len(arrays)} inputs ({', '.join(arrays)}); "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
                f"{' (given: ' + ', '.join(given) + ')' if given else ''}. "
                + self._missing_hint(missing))
        out = {name: _as_float_array(a, name) for name, a in arrays.items()}
        first = self._VALUES[0]
        values = out[first]
        if values.ndim not in (2, 3):
            raise ValueError(f"{first} must have shape (T, W) or (B, T, W); got shape "
                             f"{values.shape}")
        if values.shape[-1] != self.width:
            raise ValueError(f"{first} has width {values.shape[-1]} (shape {values.shape}) "
                             f"but this {cls} has width={self.width}: each pushed value "
                             f"must have {self.width} numbers")
        for name in self._VALUES[1:]:
            if out[name].shape != values.shape:
                raise ValueError(f"{name} has shape {out[name].shape} but {first} has shape "
                                 f"{values.shape}; both ends need values of one shape")
        steps = values.shape[:-1]
        for name in self._PUSHES + self._POPS:
            if out[name].shape != steps:
                raise ValueError(f"{name} has shape {out[name].shape} but {first} has shape "
                                 f"{values.shape}: give one strength per step, shape "
                                 f"{steps}")
        if steps[-1] == 0:
            raise ValueError(f"{first} has no steps (shape {values.shape}); give at least "
                             f"one step")
        if len(steps) == 2 and steps[0] == 0:
            raise ValueError(f"{first} has an empty batch (shape {values.shape})")
        for name in self._VALUES:
            _check_finite(out[name], name)
        for name in self._PUSHES + self._POPS:
            _check_strength(out[name], name)
        batched = values.ndim == 3
        if not batched:
            out = {name: a[None] for name, a in out.items()}
        return out, batched

    def _missing_hint(self, missing) -> str:
        return ""

    # ---------------------------------------------------------------- buffers

    def _allocate(self, batch: int, steps: int, batched: bool, inputs=None) -> dict:
        """Every buffer of a pass; ``inputs`` (already converted copies) are kept as is."""
        cells = self._CELLS_PER_STEP * steps
        W = self.width
        trace = {
            "batched": batched, "max_steps": steps, "n_steps": 0, "backward_at": None,
            "strengths": np.zeros((batch, steps, cells)),
            "gradients": None,
        }
        if inputs is not None:
            trace.update(inputs)
        else:
            for name in self._VALUES:
                trace[name] = np.zeros((batch, steps, W))
            for name in self._PUSHES + self._POPS:
                trace[name] = np.zeros((batch, steps))
        for name in self._READS:
            trace[name] = np.zeros((batch, steps, W))
        for name in self._WEIGHTS:
            trace[name] = np.zeros((batch, steps, cells))
        return trace

    def _forward_args(self, trace: dict) -> list:
        return ([trace[n] for n in self._VALUES + self._PUSHES + self._POPS]
                + [trace["strengths"]] + [trace[n] for n in self._WEIGHTS + self._READS])

    def _backward_args(self, trace: dict, grads: dict) -> list:
        return ([trace[n] for n in self._VALUES + self._POPS] + [trace["strengths"]]
                + [grads["d_" + n] for n in self._READS + self._VALUES + self._PUSHES
                   + self._POPS])

    def _out(self, trace: dict, a: np.ndarray) -> np.ndarray:
        return a if trace["batched"] else a[0]

    def _require_trace(self, what: str) -> dict:
        if self._trace is None or self._trace["n_steps"] == 0:
            raise MemoryStateError(f"{type(self).__name__}.{what} needs a forward pass "
                                   f"first: call forward(...), or start(...) and step(...)")
        return self._trace

    # ---------------------------------------------------------------- whole sequences

    def _forward(self, arrays: dict):
        inputs, batched = self._inputs(arrays)
        first = inputs[self._VALUES[0]]
        batch, steps = first.shape[0], first.shape[1]
        trace = self._allocate(batch, steps, batched, inputs)
        getattr(self._kernels, f"{self._KIND}_forward")(steps, *self._forward_args(trace))
        trace["n_steps"] = steps
        self._trace = trace
        return tuple(self._out(trace, trace[n][:, :steps]) for n in self._READS)

    def _backward(self, d_reads: dict):
        trace = self._require_trace("backward")
        n = trace["n_steps"]
        batch, max_steps = trace[self._VALUES[0]].shape[:2]
        expected = (batch, n, self.width) if trace["batched"] else (n, self.width)
        grads = {}
        for name in self._READS:
            d = _as_float_array(d_reads["d_" + name], "d_" + name)
            if d.shape != expected:
                raise ValueError(f"d_{name} has shape {d.shape} but the forward pass read "
                                 f"{name} of shape {expected}; give the gradient of the "
                                 f"loss with respect to each read")
            _check_finite(d, "d_" + name)
            buffer = np.zeros((batch, max_steps, self.width))
            buffer[:, :n] = d if trace["batched"] else d[None]
            grads["d_" + name] = buffer
        for name in self._VALUES:
            grads["d_" + name] = np.zeros((batch, max_steps, self.width))
        for name in self._PUSHES + self._POPS:
            grads["d_" + name] = np.zeros((batch, max_steps))
        getattr(self._kernels, f"{self._KIND}_backward")(n, *self._backward_args(trace, grads))
        trace["backward_at"] = None
        return tuple(self._out(trace, grads["d_" + name][:, :n])
                     for name in self._VALUES + self._PUSHES + self._POPS)

    # ---------------------------------------------------------------- step by step

    def start(self, max_steps, batch_size=None):
        """Begin a step-by-step pass of at most ``max_steps`` steps.

        Parameters
        ----------
        max_steps : int
            Buffer length; :meth:`step` may be called this many times.
        batch_size : int or None
            None: unbatched (values of shape (W,), scalar strengths); an int B: values
            of shape (B, W), strengths of shape (B,).

        Returns
        -------
        self
        """
        _check_count(max_steps, "max_steps")
        batched = batch_size is not None
        if batched:
            _check_count(batch_size, "batch_size")
        self._trace = self._allocate(int(batch_size) if batched else 1, int(max_steps),
                                     batched)
        return self

    def _step(self, arrays: dict):
        trace = self._trace
        cls = type(self).__name__
        if trace is None:
            raise MemoryStateError(f"{cls}.step needs start(max_steps, batch_size) first")
        t = trace["n_steps"]
        if t >= trace["max_steps"]:
            raise MemoryStateError(f"{cls}.step: all {trace['max_steps']} steps given to "
                                   f"start() are used; start again with a larger max_steps")
        if trace["backward_at"] is not None:
            raise MemoryStateError(f"{cls}.step after backward_step: the backward pass has "
                                   f"begun; call start() for a new pass")
        batch = trace[self._VALUES[0]].shape[0]
        value_shape = (batch, self.width) if trace["batched"] else (self.width,)
        strength_shape = (batch,) if trace["batched"] else ()
        converted = {}
        for name, a in arrays.items():
            a = _as_float_array(a, name)
            want = value_shape if name in self._VALUES else strength_shape
            if a.shape != want:
                name = name.replace("values", "value")      # the step() parameter
                raise ValueError(f"{name} has shape {a.shape}; one step of this "
                                 f"{'batched ' if trace['batched'] else ''}{cls} takes "
                                 f"shape {want}")
            if name in self._VALUES:
                _check_finite(a, name.replace("values", "value"))
            else:
                _check_strength(a, name)
            converted[name] = a
        for name, a in converted.items():
            trace[name][:, t] = a
        getattr(self._kernels, f"{self._KIND}_forward_step")(t, *self._forward_args(trace))
        trace["n_steps"] = t + 1
        return tuple(self._out(trace, trace[n][:, t]) for n in self._READS)

    def _backward_step(self, d_reads: dict):
        trace = self._require_trace("backward_step")
        cls = type(self).__name__
        batch, max_steps = trace[self._VALUES[0]].shape[:2]
        if trace["backward_at"] is None:      # first call: the last step
            grads = {}
            for name in self._READS + self._VALUES:
                grads["d_" + name] = np.zeros((batch, max_steps, self.width))
            for name in self._PUSHES + self._POPS:
                grads["d_" + name] = np.zeros((batch, max_steps))
            grads["d_strength"] = np.zeros(trace["strengths"].shape[::2])   # (B, cells)
            trace["gradients"] = grads
            trace["backward_at"] = trace["n_steps"] - 1
        t = trace["backward_at"]
        if t < 0:
            raise MemoryStateError(f"{cls}.backward_step: all {trace['n_steps']} steps are "
                                   f"already backpropagated; call start() or forward() for "
                                   f"a new pass")
        grads = trace["gradients"]
        want = (batch, self.width) if trace["batched"] else (self.width,)
        for name in self._READS:
            d = _as_float_array(d_reads["d_" + name], "d_" + name)
            if d.shape != want:
                raise ValueError(f"d_{name} has shape {d.shape}; the backward of one step "
                                 f"takes the gradient of its read, shape {want}")
            _check_finite(d, "d_" + name)
            grads["d_" + name][:, t] = d
        getattr(self._kernels, f"{self._KIND}_backward_step")(
            t, *self._backward_args(trace, grads), grads["d_strength"])
        trace["backward_at"] = t - 1
        return tuple(self._out(trace, grads["d_" + name][:, t])
                     for name in self._VALUES + self._PUSHES + self._POPS)

    # ---------------------------------------------------------------- results

    @property
    def n_steps_(self) -> int:
        """Number of steps of the last forward pass (or of the steps so far)."""
        return self._require_trace("n_steps_")["n_steps"]

    def _cells(self, trace: dict, a: np.ndarray) -> np.ndarray:
        n = trace["n_steps"]
        return self._out(trace, a[:, :n, :n])

    @property
    def strengths_(self) -> np.ndarray:
        """Strength of every memory cell after every step of the last forward pass.

        ndarray of shape (T, T) (stack, queue; (B, T, T) batched): ``strengths_[t, i]``
        is the strength of the value pushed at step i after step t (0 for i > t). The
        deque's has shape (T, 2T); see :meth:`NeuralDeque.cell_index`.
        """
        trace = self._require_trace("strengths_")
        return self._cells(trace, trace["strengths"])


class _OneEnded(_Memory):
    _VALUES = ("values",)
    _PUSHES = ("push",)
    _POPS = ("pop",)
    _READS = ("reads",)
    _WEIGHTS = ("weights",)

    def forward(self, values, push, pop):
        """Run T steps (pop, push, read) from an empty memory.

        Parameters
        ----------
        values : array-like of shape (T, W) or (B, T, W)
            The value offered for pushing at each step (``v_t``).
        push : array-like of shape (T,) or (B, T)
            Push strengths ``d_t`` in [0, 1].
        pop : array-like of shape (T,) or (B, T)
            Pop strengths ``u_t`` in [0, 1] (the pop of step t acts before its push).

        Returns
        -------
        reads : ndarray of shape (T, W) or (B, T, W)
            ``r_t``, read after the pop and push of step t.

        Raises
        ------
        ValueError
            Shapes that do not match (the message names them), a width other than
            ``self.width``, NaN or infinite inputs, strengths outside [0, 1].
        """
        return self._forward({"values": values, "push": push, "pop": pop})[0]

    def backward(self, d_reads):
        """Gradients of a loss with respect to the inputs of the last forward pass.

        Parameters
        ----------
        d_reads : array-like of the shape of the reads
            Gradient of the loss with respect to each read.

        Returns
        -------
        d_values : ndarray, shape of ``values``
        d_push, d_pop : ndarray, shape of ``push``
        """
        return self._backward({"d_reads": d_reads})

    def step(self, value, push, pop):
        """One step (pop, push, read) of a pass begun with :meth:`start`.

        Parameters
        ----------
        value : array-like of shape (W,), or (B, W) after ``start(..., batch_size=B)``
        push, pop : float, or array-like of shape (B,)

        Returns
        -------
        read : ndarray of shape (W,) or (B, W)
        """
        return self._step({"values": value, "push": push, "pop": pop})[0]

    def backward_step(self, d_read):
        """Backward of the latest step not yet backpropagated (last step first).

        Parameters
        ----------
        d_read : array-like of shape (W,) or (B, W)
            Gradient of the loss with respect to that step's read (from the loss and,
            through the controller, from later steps).

        Returns
        -------
        d_value : ndarray of shape (W,) or (B, W)
            Final gradient of that step's value (including every later read of it).
        d_push, d_pop : float, or ndarray of shape (B,)
        """
        return self._backward_step({"d_reads": d_read})

    @property
    def read_weights_(self) -> np.ndarray:
        """Read weights of the last forward pass, shape (T, T) or (B, T, T).

        ``read_weights_[t, i]`` is the weight of the value pushed at step i in the read
        of step t, so ``reads[t] = read_weights_[t] @ values``.
        """
        trace = self._require_trace("read_weights_")
        return self._cells(trace, trace["weights"])


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
    _VALUES = ("values_top", "values_bottom")
    _PUSHES = ("push_top", "push_bottom")
    _POPS = ("pop_top", "pop_bottom")
    _READS = ("read_top", "read_bottom")
    _WEIGHTS = ("weights_top", "weights_bottom")
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


#: Memory classes by name (the ``memory=`` choices of the controller models).
MEMORIES = {"stack": NeuralStack, "queue": NeuralQueue, "deque": NeuralDeque}
