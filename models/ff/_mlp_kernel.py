"""The MLP's numpy kernel: parameter layout, forward and backward over all rows.

The equations (forward, losses, backward, the ``[W_l; b_l]`` storage) are in the
docstring of :mod:`models.ff._mlp`; :class:`MLPKernel` keeps activations transposed,
units by rows.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import expit

from ..core._params import ParamSet

__all__ = ["MLPKernel", "ACTIVATIONS", "LOSSES", "param_shapes", "parse_layers"]

#: Hidden-layer activations (the output layer is always a sigmoid).
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: Losses of the sigmoid outputs.
LOSSES = ("squared", "cross_entropy")



# ---------------------------------------------------------------------------- validation

def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def parse_layers(layers) -> tuple[int, ...]:
    """Check a ``layers`` value: at least two sizes (inputs, outputs), each an int >= 1.

    Raises
    ------
    ValueError
        Naming the bad entry and what a valid value looks like.
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (Sequence, np.ndarray)):
        raise ValueError(f"layers must be a sequence of layer sizes such as (3, 4, 1), got {layers!r}")
    sizes = tuple(layers)
    if len(sizes) < 2:
        raise ValueError(f"layers must list at least the input and the output size, e.g. (3, 1) or (3, 4, 1); "
                         f"got {layers!r}")
    for i, size in enumerate(sizes):
        if not _is_int(size) or size < 1:
            raise ValueError(f"layers[{i}] must be an integer >= 1 (a layer size), got {size!r} in {layers!r}")
    return tuple(int(s) for s in sizes)


def _as_rows(name: str, value, n_columns: int, fix: str) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)          # a copy: the caller's array is never kept
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if array.ndim == 1 and n_columns == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != n_columns:
        raise ValueError(f"{name} must have shape (n_rows, {n_columns}), got {array.shape}; {fix}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(array)


# ---------------------------------------------------------------------------- the network

def param_shapes(layers: tuple[int, ...], bias: bool) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the parameters, in storage order: W1, b1, W2, b2, ..."""
    shapes: dict[str, tuple[int, ...]] = {}
    for l in range(1, len(layers)):
        shapes[f"W{l}"] = (layers[l - 1], layers[l])
        if bias:
            shapes[f"b{l}"] = (layers[l],)
    return shapes


class MLPKernel:
    """Forward and backward passes of a feed-forward network over N rows, with every
    buffer allocated once (a training epoch allocates nothing).

    The kernel's buffers hold activations transposed, units by rows: ``a_l^T`` is
    (n_l + 1, N), its last row the ones that multiply the biases. Each layer's units are
    then one contiguous block (element-wise passes run at full speed), and each layer
    is one matrix product forward (``z_l^T = [W_l; b_l]^T [a_{l-1}^T; 1]``) and one
    backward (``[dW_l; db_l] = [a_{l-1}^T; 1] dz_l``).

    Parameters
    ----------
    params : ParamSet
        With the shapes of :func:`param_shapes` (``layers``, ``bias``); the kernel reads
        ``params.theta`` and writes ``params.grad`` through views.
    layers : tuple of int
    activation : {"sigmoid", "tanh", "relu"}
    loss : {"squared", "cross_entropy"}
    bias : bool
    n_rows : int
        N, the rows of every :meth:`bind`.
    """

    def __init__(self, params: ParamSet, layers: tuple[int, ...], *, activation: str, loss: str, bias: bool,
                 n_rows: int):
        self.layers = layers
        self.activation = activation
        self.loss = loss
        self.bias = bool(bias)
        self.n_rows = N = int(n_rows)
        L = self.n_layers = len(layers) - 1
        extra = int(self.bias)
        # [W_l; b_l]: (n_{l-1} + 1, n_l) views of theta and grad (see the module docstring)
        self.weights, self.grads = [], []
        offset = 0
        for l in range(1, L + 1):
            rows, cols = layers[l - 1] + extra, layers[l]
            self.weights.append(params.theta[offset:offset + rows * cols].reshape(rows, cols))
            self.grads.append(params.grad[offset:offset + rows * cols].reshape(rows, cols))
            offset += rows * cols
        if offset != params.size:
            raise ValueError(f"params hold {params.size} numbers, layers {layers} with bias={bias} need {offset}")
        self.weights_T = [w.T for w in self.weights]                           # [W_l; b_l]^T, (n_l, n_{l-1} + 1)
        self.weights_only = [w[:layers[l]] for l, w in enumerate(self.weights)]  # W_l, (n_{l-1}, n_l)
        # a_l^T over a row of ones: (n_l + 1, N); a_0 = the inputs
        self.a_ext = [np.ones((layers[l] + extra, N)) for l in range(L)]
        self.a = [a[:layers[l]] for l, a in enumerate(self.a_ext)]             # a_l^T, (n_l, N), contiguous
        self.s = [None] + [np.empty((layers[l], N)) for l in range(1, L)]       # f(z_l)^T before dropout
        self.z = [None] + [np.empty((layers[l], N)) for l in range(1, L + 1)]   # z_l^T
        self.dz = [None] + [np.empty((layers[l], N)) for l in range(1, L + 1)]  # dz_l^T
        self.dz_T = [None] + [d.T for d in self.dz[1:]]                          # dz_l, (N, n_l)
        self.tmp = [None] + [np.empty((layers[l], N)) for l in range(1, L + 1)]
        self.outputs = np.empty((layers[-1], N))                                 # o^T
        self.targets = np.zeros((layers[-1], N))                                 # t^T
        self._s_used = [None] * L            # s_l of the last forward (a_l itself without dropout)
        self._logits = self.z[L]
        self._act = {"sigmoid": expit, "tanh": np.tanh, "relu": _relu}[activation]

    def bind(self, inputs: np.ndarray, targets: np.ndarray | None = None) -> None:
        """Copy ``inputs`` (N, n_0) and ``targets`` (N, n_L) into the kernel's buffers."""
        self.a[0][...] = inputs.T
        if targets is not None:
            self.targets[...] = targets.T

    # -- forward and backward, side by side

    def forward(self, masks: Sequence[np.ndarray] | None = None, logits: np.ndarray | None = None) -> np.ndarray:
        """Outputs ``o^T`` (n_L, N) of the bound inputs; a buffer overwritten by the next call.

        ``masks[l - 1]`` (n_l, N) multiplies hidden layer l (dropout); ``logits``, if
        given, receives ``z_L^T`` (n_L, N) (it must be C-contiguous).
        """
        L = self.n_layers
        for l in range(1, L):
            z = self.z[l]
            np.dot(self.weights_T[l - 1], self.a_ext[l - 1], out=z)             # z_l = a_{l-1} W_l + b_l
            if masks is None:
                s = self._act(z, out=self.a[l])                                  # a_l = s_l = f(z_l)
            else:
                s = self._act(z, out=self.s[l])
                np.multiply(s, masks[l - 1], out=self.a[l])                     # a_l = s_l * m_l
            self._s_used[l] = s
        z = self.z[L] if logits is None else logits
        np.dot(self.weights_T[L - 1], self.a_ext[L - 1], out=z)                 # z_L
        self._logits = z
        return expit(z, out=self.outputs)                                       # o = sigmoid(z_L)

    def backward(self, masks: Sequence[np.ndarray] | None = None) -> None:
        """Gradient of the loss of the last :meth:`forward` (same masks) into ``params.grad``."""
        L = self.n_layers
        o, dz = self.outputs, self.dz[L]
        if self.loss == "squared":
            tmp = self.tmp[L]
            np.subtract(o, self.targets, out=dz)                                # o - t
            np.multiply(o, o, out=tmp)
            np.subtract(o, tmp, out=tmp)                                        # o (1 - o)
            np.multiply(dz, tmp, out=dz)                                        # dz_L = (o - t) o (1 - o)
        else:
            np.subtract(o, self.targets, out=dz)                                # dz_L = o - t
        for l in range(L, 0, -1):
            np.dot(self.a_ext[l - 1], self.dz_T[l], out=self.grads[l - 1])      # [dW_l; db_l] = [a_{l-1} 1]^T dz_l
            if l == 1:
                break
            da = self.dz[l - 1]
            np.dot(self.weights_only[l - 1], self.dz[l], out=da)                # da_{l-1} = dz_l W_l^T
            if masks is not None:
                np.multiply(da, masks[l - 2], out=da)                           # ds_{l-1} = da_{l-1} * m_{l-1}
            self._activation_grad(self._s_used[l - 1], da, self.tmp[l - 1])     # dz_{l-1} = ds * f'(z_{l-1})

    def _activation_grad(self, s: np.ndarray, d: np.ndarray, tmp: np.ndarray) -> None:
        """``d *= f'(z)``, with f' from s = f(z)."""
        if self.activation == "relu":
            np.greater(s, 0.0, out=tmp)                                         # [z > 0] as 0.0 / 1.0
        else:
            np.multiply(s, s, out=tmp)
            if self.activation == "sigmoid":
                np.subtract(s, tmp, out=tmp)                                    # s (1 - s)
            else:
                np.subtract(1.0, tmp, out=tmp)                                  # 1 - s^2
        np.multiply(d, tmp, out=d)

    def losses(self, logits: np.ndarray, targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Loss and mean absolute error for every leading index of ``logits`` (..., n_L, N),
        against the bound targets (or ``targets`` of shape (n_L, N)).

        Returns
        -------
        loss, error : ndarray of shape ``logits.shape[:-2]``
        """
        t = self.targets if targets is None else targets
        residual = expit(logits) - t
        axes = (-2, -1)
        if self.loss == "squared":
            loss = 0.5 * np.einsum("...ij,...ij->...", residual, residual)
        else:
            loss = (np.logaddexp(0.0, logits) - t * logits).sum(axis=axes)
        return loss, np.abs(residual).mean(axis=axes)

    def loss_and_grad(self, masks: Sequence[np.ndarray] | None = None) -> float:
        """Forward, loss and backward on the bound rows: the loss (gradient in ``params.grad``).

        This is the function the gradient checks differentiate, and what a training
        epoch runs (there the loss is computed afterwards, for a block of epochs at once).
        """
        self.forward(masks)
        self.backward(masks)
        return float(self.losses(self._logits)[0])


def _relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0, out=out)
