"""Recurrent cells for controllers: run an RNN or LSTM one step (or one sequence) at a
time, forward and backward, on either backend.

A memory-augmented model (a neural stack, queue or deque driven by a controller) feeds
``[input_t, read_{t-1}]`` into the cell at each step and computes its own heads from
the hidden state, so it needs the cell step by step::

    cell = LSTMCell(params.values, params.grads, prefix="ctrl_")    # ctrl_W_x, ctrl_W_h, ctrl_b
    h, c, cache = cell.step_forward(x_t, h_prev, c_prev)             # (B, H), (B, H)
    ...
    dx, dh_prev, dc_prev = cell.step_backward(dh_t, dc_t, cache)    # grads accumulate

Parameter gradients are *accumulated* into the ``grads`` arrays (zero them before a
backward pass over a sequence); input and state gradients are returned. The wrappers
check shapes and convert dtypes, then call the kernel functions of
``models.recurrent._rnn``/``models.recurrent._lstm`` (or their numpy references), which fill preallocated
buffers; code that needs the last microsecond can call those kernel functions (or
their C versions, declared in ``models/recurrent/_rnn.pxd`` and ``models/recurrent/_lstm.pxd``) directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..core._backend import check_backend
from ._kernels import lstm_kernels, rnn_kernels

__all__ = ["RNNCell", "LSTMCell", "RNNStepCache", "LSTMStepCache"]


def _as_batch(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.shape != shape:
        wanted = tuple("B" if s < 0 else s for s in shape)
        raise ValueError(f"{name} must have shape {wanted}, got {arr.shape}".replace("'", ""))
    return arr


def _lookup(arrays: Mapping[str, np.ndarray], name: str, required: bool = True):
    value = arrays.get(name)
    if value is None and required:
        raise ValueError(f"missing parameter {name!r}")
    if value is not None and not (isinstance(value, np.ndarray) and value.dtype == np.float64
                                  and value.flags.c_contiguous):
        raise ValueError(f"parameter {name!r} must be a C-contiguous float64 array")
    return value


@dataclass
class RNNStepCache:
    """What :meth:`RNNCell.step_backward` needs from the forward step."""

    x: np.ndarray        # (B, I)
    h_prev: np.ndarray   # (B, H)
    h: np.ndarray        # (B, H)


@dataclass
class LSTMStepCache:
    """What :meth:`LSTMCell.step_backward` needs from the forward step."""

    x: np.ndarray        # (B, I)
    h_prev: np.ndarray   # (B, H)
    c_prev: np.ndarray   # (B, H)
    gates: np.ndarray    # (B, 4H) activations [i, f, o, g]
    c: np.ndarray        # (B, H)
    tanh_c: np.ndarray   # (B, H)
    h: np.ndarray        # (B, H)


class RNNCell:
    """An Elman RNN cell over existing parameter arrays.

    Parameters
    ----------
    params, grads : mapping of str to ndarray
        ``{prefix}W_xh`` (I, H), ``{prefix}W_hh`` (H, H), optional ``{prefix}b_h`` (H,),
        and gradient arrays of the same names and shapes (e.g. a
        :class:`models.ParamSet`'s ``values`` and ``grads``). Kept by reference.
    activation : {"tanh", "sigmoid"}
    prefix : str
    backend : {"cython", "numpy"}
    """

    def __init__(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], *,
                 activation: str = "tanh", prefix: str = "", backend: str = "cython"):
        if activation not in ("tanh", "sigmoid"):
            raise ValueError(f"activation must be 'tanh' or 'sigmoid', got {activation!r}")
        self.activation = activation
        self.backend = check_backend(backend)
        self._k = rnn_kernels(backend)
        self.W_xh = _lookup(params, prefix + "W_xh")
        self.W_hh = _lookup(params, prefix + "W_hh")
        self.b_h = _lookup(params, prefix + "b_h", required=False)
        self.dW_xh = _lookup(grads, prefix + "W_xh")
        self.dW_hh = _lookup(grads, prefix + "W_hh")
        self.db_h = _lookup(grads, prefix + "b_h", required=self.b_h is not None)
        self.input_size, self.hidden_size = self.W_xh.shape
        H = self.hidden_size
        if self.W_hh.shape != (H, H):
            raise ValueError(f"{prefix}W_hh must have shape {(H, H)}, got {self.W_hh.shape}")
        if self.b_h is not None and self.b_h.shape != (H,):
            raise ValueError(f"{prefix}b_h must have shape {(H,)}, got {self.b_h.shape}")
        for name, g, p in (("W_xh", self.dW_xh, self.W_xh), ("W_hh", self.dW_hh, self.W_hh),
                           ("b_h", self.db_h, self.b_h)):
            if p is not None and g.shape != p.shape:
                raise ValueError(f"gradient {prefix}{name} must have shape {p.shape}, got {g.shape}")

    def step_forward(self, x, h_prev) -> tuple[np.ndarray, RNNStepCache]:
        """One step. x (B, I), h_prev (B, H) -> h (B, H) and the cache for the backward step."""
        x = np.asarray(x)
        B = x.shape[0] if x.ndim == 2 else -1
        x = _as_batch("x", x, (B, self.input_size))
        h_prev = _as_batch("h_prev", h_prev, (B, self.hidden_size))
        h = np.empty((B, self.hidden_size))
        self._k.rnn_step_forward(x, h_prev, self.W_xh, self.W_hh, self.b_h, self.activation, h)
        return h, RNNStepCache(x, h_prev, h)

    def step_backward(self, dh, cache: RNNStepCache) -> tuple[np.ndarray, np.ndarray]:
        """Backward through one step: dh (B, H) is the total gradient on ``h``.
        Returns (dx (B, I), dh_prev (B, H)); parameter gradients accumulate."""
        B = cache.h.shape[0]
        dh = _as_batch("dh", dh, (B, self.hidden_size))
        da = np.empty_like(dh)
        dx = np.empty((B, self.input_size))
        dh_prev = np.empty_like(dh)
        self._k.rnn_step_backward(cache.x, cache.h_prev, cache.h, self.W_xh, self.W_hh, self.activation, dh,
                                  da, dx, dh_prev, self.dW_xh, self.dW_hh, self.db_h)
        return dx, dh_prev

    def forward(self, X, h0=None) -> tuple[np.ndarray, dict]:
        """A whole sequence. X (T, B, I) -> H (T, B, H) and the cache for :meth:`backward`."""
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must have shape (T, B, {self.input_size}), got {X.shape}")
        T, B = X.shape[:2]
        X = _as_batch("X", X, (T, B, self.input_size))
        Hs = np.zeros((T + 1, B, self.hidden_size))
        if h0 is not None:
            Hs[0] = _as_batch("h0", h0, (B, self.hidden_size))
        self._k.rnn_forward(X, self.W_xh, self.W_hh, self.b_h, self.activation, Hs)
        return Hs[1:], {"X": X, "Hs": Hs}

    def backward(self, dH, cache: dict) -> tuple[np.ndarray, np.ndarray]:
        """BPTT. dH (T, B, H): gradient on each output state. Returns (dX, dh0)."""
        X, Hs = cache["X"], cache["Hs"]
        T, B = X.shape[:2]
        dH = _as_batch("dH", dH, (T, B, self.hidden_size))
        dA = np.empty_like(dH)
        dX = np.empty_like(X)
        dh0 = np.empty((B, self.hidden_size))
        self._k.rnn_bptt(X, Hs, self.W_xh, self.W_hh, self.activation, dH, dA, dX, self.dW_xh, self.dW_hh,
                         self.db_h, dh0)
        return dX, dh0


class LSTMCell:
    """An LSTM cell over existing parameter arrays (gate blocks ``[i, f, o, g]``).

    Parameters
    ----------
    params, grads : mapping of str to ndarray
        ``{prefix}W_x`` (I, 4H), ``{prefix}W_h`` (H, 4H), optional ``{prefix}b`` (4H,),
        and gradient arrays of the same names and shapes. Kept by reference.
    prefix : str
    backend : {"cython", "numpy"}
    """

    def __init__(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], *,
                 prefix: str = "", backend: str = "cython"):
        self.backend = check_backend(backend)
        self._k = lstm_kernels(backend)
        self.W_x = _lookup(params, prefix + "W_x")
        self.W_h = _lookup(params, prefix + "W_h")
        self.b = _lookup(params, prefix + "b", required=False)
        self.dW_x = _lookup(grads, prefix + "W_x")
        self.dW_h = _lookup(grads, prefix + "W_h")
        self.db = _lookup(grads, prefix + "b", required=self.b is not None)
        self.input_size, H4 = self.W_x.shape
        if H4 % 4:
            raise ValueError(f"{prefix}W_x must have 4H columns, got {H4}")
        H = self.hidden_size = H4 // 4
        if self.W_h.shape != (H, 4 * H):
            raise ValueError(f"{prefix}W_h must have shape {(H, 4 * H)}, got {self.W_h.shape}")
        if self.b is not None and self.b.shape != (4 * H,):
            raise ValueError(f"{prefix}b must have shape {(4 * H,)}, got {self.b.shape}")
        for name, g, p in (("W_x", self.dW_x, self.W_x), ("W_h", self.dW_h, self.W_h), ("b", self.db, self.b)):
            if p is not None and g.shape != p.shape:
                raise ValueError(f"gradient {prefix}{name} must have shape {p.shape}, got {g.shape}")

    def step_forward(self, x, h_prev, c_prev) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
        """One step. x (B, I), h_prev and c_prev (B, H) -> h, c (B, H) and the cache."""
        x = np.asarray(x)
        B = x.shape[0] if x.ndim == 2 else -1
        H = self.hidden_size
        x = _as_batch("x", x, (B, self.input_size))
        h_prev = _as_batch("h_prev", h_prev, (B, H))
        c_prev = _as_batch("c_prev", c_prev, (B, H))
        g = np.empty((B, 4 * H))
        c, tanh_c, h = np.empty((B, H)), np.empty((B, H)), np.empty((B, H))
        self._k.lstm_step_forward(x, h_prev, c_prev, self.W_x, self.W_h, self.b, g, c, tanh_c, h)
        return h, c, LSTMStepCache(x, h_prev, c_prev, g, c, tanh_c, h)

    def step_backward(self, dh, dc, cache: LSTMStepCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Backward through one step. dh (B, H): total gradient on ``h``; dc (B, H) or None:
        gradient on ``c`` from the next step. Returns (dx, dh_prev, dc_prev); parameter
        gradients accumulate."""
        B, H = cache.h.shape
        dh = _as_batch("dh", dh, (B, H))
        dc = None if dc is None else _as_batch("dc", dc, (B, H))
        dg = np.empty((B, 4 * H))
        dx = np.empty((B, self.input_size))
        dh_prev, dc_prev = np.empty((B, H)), np.empty((B, H))
        self._k.lstm_step_backward(cache.x, cache.h_prev, cache.c_prev, cache.gates, cache.tanh_c, self.W_x,
                                   self.W_h, dh, dc, dg, dx, dh_prev, dc_prev, self.dW_x, self.dW_h, self.db)
        return dx, dh_prev, dc_prev

    def forward(self, X, h0=None, c0=None) -> tuple[np.ndarray, dict]:
        """A whole sequence. X (T, B, I) -> H (T, B, H) and the cache for :meth:`backward`."""
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must have shape (T, B, {self.input_size}), got {X.shape}")
        T, B = X.shape[:2]
        H = self.hidden_size
        X = _as_batch("X", X, (T, B, self.input_size))
        Hs, Cs = np.zeros((T + 1, B, H)), np.zeros((T + 1, B, H))
        if h0 is not None:
            Hs[0] = _as_batch("h0", h0, (B, H))
        if c0 is not None:
            Cs[0] = _as_batch("c0", c0, (B, H))
        G, tanhC = np.empty((T, B, 4 * H)), np.empty((T, B, H))
        self._k.lstm_forward(X, self.W_x, self.W_h, self.b, Hs, Cs, G, tanhC)
        return Hs[1:], {"X": X, "Hs": Hs, "Cs": Cs, "G": G, "tanhC": tanhC}

    def backward(self, dH, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """BPTT. dH (T, B, H): gradient on each output state. Returns (dX, dh0, dc0)."""
        X = cache["X"]
        T, B = X.shape[:2]
        H = self.hidden_size
        dH = _as_batch("dH", dH, (T, B, H))
        dG = np.empty((T, B, 4 * H))
        dX = np.empty_like(X)
        dh0, dc0 = np.empty((B, H)), np.empty((B, H))
        self._k.lstm_bptt(X, cache["Hs"], cache["Cs"], cache["G"], cache["tanhC"], self.W_x, self.W_h, dH, dG,
                          dX, self.dW_x, self.dW_h, self.db, dh0, dc0)
        return dX, dh0, dc0
