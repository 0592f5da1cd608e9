"""The machinery every memory shares: input validation, buffers, whole-sequence and
step-by-step passes, and the result attributes (``strengths_``, ``read_weights_``).

A memory class (:mod:`models.memory._memories`) names its inputs and outputs and says
where its kernels are; this module calls them. Equations: ``_memory_ref.py``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..core._backend import check_backend
from ..core._errors import MemoryStateError

__all__ = ["MemoryKernels"]


class MemoryKernels(NamedTuple):
    """The kernel functions of one memory kind, from one backend.

    Argument orders (``_memory_ref.py`` documents each)::

        forward(n, *values, *pushes, *pops, strengths, *weights, *reads)
        backward(n, *values, *pops, strengths, *d_reads, *d_values, *d_pushes, *d_pops)
        forward_step(t, <as forward>)
        backward_step(t, <as backward>, d_strength)
        forward_rows(t, *values, *pushes_t, *pops_t, s_prev, s, *w) -> reads

    ``forward_rows`` (numpy backend; None for the compiled one, whose controller calls
    the C step functions of ``_memory.pxd`` on rows directly) is step t on rows of
    strengths: what a forward pass without gradients uses, keeping two rows instead of
    the (T, L) strengths of every step.
    """

    forward: Callable
    backward: Callable
    forward_step: Callable
    backward_step: Callable
    forward_rows: Callable | None = None


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

    Kernel argument orders (``models/memory/_memory_ref.py``)::

        forward(n, *values, *pushes, *pops, strengths, *weights, *reads)
        backward(n, *values, *pops, strengths, *d_reads, *d_values, *d_pushes, *d_pops)
        backward_step(t, ..., d_strength)
    """

    _KIND = ""
    #: Number of ends a controller pushes and pops (1; the deque 2), and memory cells
    #: added per step (the deque pushes a cell at each end).
    _ENDS = 1
    _VALUES: tuple = ()
    _PUSHES: tuple = ()
    _POPS: tuple = ()
    _READS: tuple = ()
    _WEIGHTS: tuple = ()
    _CELLS_PER_STEP = 1          # cells added per step: 1 (stack, queue) or 2 (deque)

    @staticmethod
    def _load_kernels(backend: str) -> MemoryKernels:
        """This memory's kernels from ``backend`` (each memory class imports its own)."""
        raise NotImplementedError

    def __init__(self, width, *, backend="cython"):
        self.width = _check_width(width)
        self._kernels = self._load_kernels(check_backend(backend))
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
        self._kernels.forward(steps, *self._forward_args(trace))
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
        self._kernels.backward(n, *self._backward_args(trace, grads))
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
        self._kernels.forward_step(t, *self._forward_args(trace))
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
        self._kernels.backward_step(
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


