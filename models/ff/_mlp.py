"""Feed-forward networks (multi-layer perceptrons) trained by full-batch backpropagation.

The smallest models of the package, written for the 4-row toy tables of
:mod:`models.ff._tables` (Trask 2015, "A Neural Network in 11 lines of Python" and its
sequels on gradient descent and on dropout), but usable on any small table.

Layer sizes ``n_0`` (inputs), ``n_1 ... n_{L-1}`` (hidden), ``n_L`` (outputs); N rows.
Forward, for l = 1 .. L::

    z_l = a_{l-1} W_l + b_l                       (N, n_l)     a_0 = the inputs
    s_l = f(z_l)                                  (N, n_l)     hidden layers, f = activation
    a_l = s_l * m_l                               (N, n_l)     m_l: inverted-dropout mask
    o   = sigmoid(z_L)                            (N, n_L)     the output layer is always a sigmoid

Loss, summed over rows and outputs (a sum, not a mean, as in the tutorials: the
full-batch gradient is the sum of the rows' gradients; divide the learning rate by N to
get the mean's steps)::

    squared        L = 1/2 sum (o - t)^2                     dL/dz_L = (o - t) o (1 - o)
    cross_entropy  L = sum softplus(z_L) - t z_L             dL/dz_L = o - t
                     (= -t log o - (1 - t) log(1 - o), computed from z_L: no log(0))

Backward, for l = L .. 1::

    dW_l = a_{l-1}^T dz_l        db_l = sum over rows of dz_l
    da_{l-1} = dz_l W_l^T        dz_{l-1} = (da_{l-1} * m_{l-1}) * f'(z_{l-1})

with f' written through s = f(z): sigmoid ``s (1 - s)``, tanh ``1 - s^2``, relu ``[s > 0]``.

Storage: ``W_l`` (n_{l-1}, n_l) and ``b_l`` (n_l,) are neighbours in the flat vector of a
:class:`models.ParamSet`, so together they are one (n_{l-1} + 1, n_l) matrix ``[W_l; b_l]``,
and with a constant 1 appended to every row of ``a_{l-1}`` each layer is a single matrix
product, forward (``z_l``) and backward (``dW_l`` and ``db_l`` at once). The kernel
(:class:`MLPKernel`) keeps activations transposed, units by rows.

The optimizers (:mod:`models.core._optim`) and the dropout masks (:mod:`models.core._dropout`) are
those of the sequence models.
"""
from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..training._checkpoint import check_param_shapes, register_model, save_model
from ..core._dropout import dropout_mask
from ..core._errors import CheckpointError, TrainingDivergedError, UnknownNameError
from ..core._hyper import GradientEstimator, check_int as _check_int
from ..core._init import glorot_uniform, uniform
from ..core._params import ParamSet
from ._diagnostics import DirectionChanges, _streak_above
from ._mlp_kernel import ACTIVATIONS, LOSSES, MLPKernel, _as_rows, param_shapes, parse_layers

__all__ = ["MLP", "MLPKernel", "FitProgress", "DirectionChanges", "ACTIVATIONS", "LOSSES", "parse_layers"]

logger = logging.getLogger(__name__)

_BLOCK_BUDGET = 1 << 20            # doubles of per-epoch records kept per block (8 MiB)


# ---------------------------------------------------------------------------- the estimator

@dataclass
class FitProgress:
    """Passed to ``MLP.fit``'s callback after each block of epochs."""

    epoch: int                  # epochs done
    n_epochs: int               # epochs asked for
    loss: float                 # training loss of the last epoch done
    error: float                # its mean absolute error
    epochs_per_second: float


@register_model
class MLP(GradientEstimator):
    """A feed-forward network with sigmoid outputs, trained by full-batch gradient descent
    (backpropagation; equations in :mod:`models.ff._mlp`).

    Each epoch is one forward and backward pass over all rows and one optimizer step.

    Parameters
    ----------
    layers : sequence of int, default (3, 4, 1)
        Layer sizes, inputs first and outputs last: ``(3, 1)`` is the "2-layer" network
        of the tutorials (no hidden layer), ``(3, 4, 1)`` the "3-layer" one.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        Hidden units' nonlinearity (the outputs are always sigmoid units).
    loss : {"squared", "cross_entropy"}, default "squared"
        ``1/2 sum (o - t)^2`` (the tutorials'), or the cross-entropy of the sigmoid
        outputs; both summed over rows and outputs.
    bias : bool, default True
        Learn biases. The toy tables' constant input column plays the first layer's
        bias when False (the tutorials' networks have none).
    init : {"uniform", "glorot"}, default "uniform"
        "uniform": weights from U(-init_scale, init_scale) (the tutorials' ``2 *
        random - 1``); "glorot": Glorot-uniform weights. Biases start at zero.
    init_scale : float, default 1.0
    dropout : float, default 0.0
        Fraction of each hidden layer's units dropped in every training epoch
        (inverted dropout, :func:`models.dropout_mask`); off at prediction time.
    optimizer : {"sgd", "momentum", "rmsprop", "adam"}, default "sgd"
        Shared with the sequence models (:func:`models.make_optimizer`).
    learning_rate : float, default 1.0
    momentum, rms_decay, beta1, beta2, epsilon : float
        For "momentum", "rmsprop" and "adam" (see :class:`models.RNN`).
    clip_norm : float or None, default None
        Clip the gradient to this global L2 norm.
    n_epochs : int, default 60000
        Full-batch epochs (optimizer steps) in ``fit``.
    divergence_patience : int or None, default 1000
        Training has diverged when the loss stays above its initial value for this
        many epochs in a row (the steps overshoot and the network does not recover;
        gradient descent with a small enough step never raises the full-batch loss),
        or becomes NaN/infinite. None: only the NaN/infinite check.
    seed : int, default 0
        Seeds the initial weights and the dropout masks.
    backend : {"cython", "numpy"}, default "cython"
        The optimizer's update kernel (the network itself is numpy).

    Attributes
    ----------
    params_ : models.ParamSet
        ``W1``, ``b1``, ``W2``, ... (``W_l`` of shape (layers[l-1], layers[l])).
    optimizer_ : models.Optimizer
    n_epochs_ : int
        Epochs run (fewer than ``n_epochs`` when training diverged).
    loss_curve_, error_curve_ : ndarray of shape (n_epochs_ + 1,)
        Loss and mean absolute error after 0, 1, ..., n_epochs_ updates. Entry e < n_epochs_
        is from the forward pass of epoch e (with dropout, the thinned network's); the
        last entry is the trained network's, dropout off.
    direction_changes_ : dict of str to ndarray of int
        Per parameter (same shapes as ``params_``): how often its update changed
        direction (:class:`DirectionChanges`).
    diverged_at_ : int or None
        The epoch at which training diverged: where the loss became NaN/infinite, or
        where the run of ``divergence_patience`` losses above the initial one began
        (training stops up to a block of epochs after that run completes).
    loss_, error_ : float
        Final loss and mean absolute error on the training rows, dropout off.

    Notes
    -----
    Full reproducibility: the same hyperparameters (``seed`` included), data, backend
    and numpy/BLAS build give bit-identical weights.

    Examples
    --------
    >>> from models import MLP, make_table
    >>> xor = make_table("xor")
    >>> net = MLP(layers=(3, 4, 1), learning_rate=1.0, n_epochs=60000, seed=0)
    >>> net.fit(xor.inputs, xor.targets).error_ < 0.01                       # doctest: +SKIP
    True
    >>> net.predict(xor.inputs).round(2).ravel().tolist()                    # doctest: +SKIP
    [0.0, 1.0, 1.0, 0.01]
    """

    #: Epochs per block: losses, errors, dropout masks and direction changes are
    #: handled for a block of epochs at once (fewer when a block would exceed
    #: ``_BLOCK_BUDGET`` doubles).
    block_epochs = 1024

    def __init__(self, *, layers: Sequence[int] = (3, 4, 1), activation: str = "sigmoid",
                 loss: str = "squared", bias: bool = True, init: str = "uniform", init_scale: float = 1.0,
                 dropout: float = 0.0, optimizer: str = "sgd", learning_rate: float = 1.0,
                 momentum: float = 0.9, rms_decay: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, clip_norm: float | None = None, n_epochs: int = 60_000,
                 divergence_patience: int | None = 1000, seed: int = 0, backend: str = "cython"):
        self._set_hyperparams(locals())
        self._validate_params()

    # ------------------------------------------------------------------ hyperparameters

    def _validate_params(self) -> None:
        """Check every hyperparameter; errors name the parameter, the value and the fix."""
        parse_layers(self.layers)
        if self.activation not in ACTIVATIONS:
            raise UnknownNameError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.loss not in LOSSES:
            raise UnknownNameError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float, np.number)):
            raise ValueError(f"dropout must be a number with 0 <= dropout < 1, got {self.dropout!r}")
        self._validate_training_params()
        if self.dropout > 0 and len(parse_layers(self.layers)) == 2:
            raise ValueError(f"dropout={self.dropout!r} acts on hidden layers and layers={tuple(self.layers)!r} has "
                             f"none: use dropout=0 or add a hidden layer")
        _check_int("n_epochs", self.n_epochs, 0)
        if self.divergence_patience is not None:
            _check_int("divergence_patience", self.divergence_patience, 1)
        _check_int("seed", self.seed, 0)

    # ------------------------------------------------------------------ set-up

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """Widths of the hidden layers (empty for a network without one)."""
        return parse_layers(self.layers)[1:-1]

    def _setup(self, initialize: bool = True) -> None:
        sizes = parse_layers(self.layers)
        self.params_ = ParamSet(param_shapes(sizes, bool(self.bias)))
        if initialize:
            rng = np.random.default_rng([int(self.seed), 0])
            for l in range(1, len(sizes)):
                W = self.params_[f"W{l}"]
                W[...] = (uniform(rng, W.shape, float(self.init_scale)) if self.init == "uniform"
                          else glorot_uniform(rng, W.shape))
        self._predict_kernel = None

    def _new_kernel(self, n_rows: int) -> MLPKernel:
        return MLPKernel(self.params_, parse_layers(self.layers), activation=self.activation, loss=self.loss,
                         bias=bool(self.bias), n_rows=n_rows)

    def _check_data(self, X, y=None) -> tuple[np.ndarray, np.ndarray | None]:
        sizes = parse_layers(self.layers)
        X = _as_rows("X", X, sizes[0], f"the network's layers {sizes} take {sizes[0]} inputs per row")
        if y is None:
            return X, None
        y = _as_rows("y", y, sizes[-1], f"the network's layers {sizes} give {sizes[-1]} outputs per row")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}; give one target row per input row")
        if y.min() < 0.0 or y.max() > 1.0:
            raise ValueError(f"y must lie in [0, 1] (the outputs are sigmoid units), got values from "
                             f"{y.min():g} to {y.max():g}; rescale the targets")
        return X, y

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, *, callback: Callable[[FitProgress], None] | None = None) -> "MLP":
        """Train for ``n_epochs`` full-batch epochs from a fresh initialisation.

        Parameters
        ----------
        X : array-like of shape (n_rows, layers[0])
        y : array-like of shape (n_rows, layers[-1]), or (n_rows,) for one output
            Targets in [0, 1].
        callback : callable, optional
            Called with a :class:`FitProgress` after each block of epochs.

        Returns
        -------
        self

        Raises
        ------
        TrainingDivergedError
            The loss stayed above its initial value for ``divergence_patience`` epochs,
            or became NaN/infinite. The learned attributes then describe the run up to
            there (``diverged_at_`` is the epoch), which is what a sweep plots.
        """
        self._validate_params()
        X, y = self._check_data(X, y)
        self._setup()
        params = self.params_
        self.optimizer_ = optimizer = self._make_optimizer().bind(params)
        N, n_out = y.shape
        hidden = self.hidden_sizes
        n_epochs = int(self.n_epochs)
        rate = float(self.dropout)
        patience = self.divergence_patience
        kernel = self._new_kernel(N)
        kernel.bind(X, y)

        per_epoch = params.size + N * n_out + (N * sum(hidden) if rate > 0 else 0)
        block = max(1, min(int(self.block_epochs), _BLOCK_BUDGET // per_epoch, max(n_epochs, 1)))
        logits = np.empty((block, n_out, N))                     # z_L^T of each epoch of a block
        snapshots = np.empty((block + 1, params.size))           # theta before the block, after each epoch
        drop_rng = np.random.default_rng([int(self.seed), 1])
        directions = DirectionChanges(params.size)
        loss_curve = np.empty(n_epochs + 1)
        error_curve = np.empty(n_epochs + 1)
        epoch = 0
        streak = 0                                               # epochs in a row with the loss above its start
        diverged_at, why = None, ""
        started = time.perf_counter()
        snapshots[0] = params.theta
        with np.errstate(over="ignore", invalid="ignore"):       # NaN/inf are caught below, as divergence
            while epoch < n_epochs and diverged_at is None:
                k_block = min(block, n_epochs - epoch)
                masks = ([dropout_mask(drop_rng, (k_block, width, N), rate) for width in hidden]
                         if rate > 0 else None)
                done, norm = _run_epochs(kernel, optimizer, k_block, masks, logits, snapshots)
                losses, errors = kernel.losses(logits[:done])
                loss_curve[epoch:epoch + done] = losses
                error_curve[epoch:epoch + done] = errors
                directions.update(snapshots[:done + 1])
                snapshots[0] = snapshots[done]
                initial = loss_curve[0]
                bad = np.flatnonzero(~np.isfinite(losses))
                if bad.size:
                    diverged_at, why = epoch + int(bad[0]), f"the loss became {losses[bad[0]]}"
                elif not norm < math.inf:
                    diverged_at, why = epoch + done - 1, f"the gradient's norm became {norm}"
                elif patience is not None:
                    streak, hit = _streak_above(losses, initial, streak, patience)
                    if hit is not None:                          # the run of rising losses began here
                        diverged_at = epoch + hit - patience + 1
                        why = (f"the loss rose above its initial value {initial:.4g} and stayed above it for "
                               f"{patience} epochs (it is {losses[hit]:.4g} at epoch {epoch + hit}): the steps "
                               f"overshoot")
                epoch += done
                if callback is not None:
                    seconds = time.perf_counter() - started
                    callback(FitProgress(epoch=epoch, n_epochs=n_epochs, loss=float(losses[-1]),
                                         error=float(errors[-1]), epochs_per_second=epoch / max(seconds, 1e-9)))
            final_loss, final_error = self._evaluate(X, y)
        loss_curve[epoch] = final_loss
        error_curve[epoch] = final_error
        self.n_epochs_ = epoch
        self.loss_curve_ = loss_curve[:epoch + 1].copy() if epoch < n_epochs else loss_curve
        self.error_curve_ = error_curve[:epoch + 1].copy() if epoch < n_epochs else error_curve
        counts = directions.counts
        self.direction_changes_ = {name: counts[a:b].reshape(params.shapes[name])
                                   for name, (a, b) in _spans(params).items()}
        self.diverged_at_ = diverged_at
        self.loss_, self.error_ = final_loss, final_error
        if diverged_at is not None:
            raise TrainingDivergedError(
                f"training diverged at epoch {diverged_at}: {why}. Lower the learning rate (--lr).", diverged_at)
        logger.debug("MLP %s: %d epochs, loss %.4g, mean absolute error %.4g", self.layers, epoch,
                     final_loss, final_error)
        return self

    def _evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        kernel = self._kernel_for(X.shape[0])
        kernel.bind(X, y)
        kernel.forward()
        loss, error = kernel.losses(kernel._logits, y.T)
        return float(loss), float(error)

    # ------------------------------------------------------------------ inference

    def _check_fitted(self) -> None:
        if getattr(self, "params_", None) is None:
            raise ValueError("this MLP is not fitted yet: call fit(X, y) or load a checkpoint")

    def _kernel_for(self, n_rows: int) -> MLPKernel:
        kernel = getattr(self, "_predict_kernel", None)
        if kernel is None or kernel.n_rows != n_rows:
            kernel = self._predict_kernel = self._new_kernel(n_rows)
        return kernel

    def predict(self, X) -> np.ndarray:
        """The network's outputs, dropout off.

        Parameters
        ----------
        X : array-like of shape (n_rows, layers[0])

        Returns
        -------
        ndarray of shape (n_rows, layers[-1])
            Sigmoid outputs in [0, 1].
        """
        self._check_fitted()
        X, _ = self._check_data(X)
        kernel = self._kernel_for(X.shape[0])
        kernel.bind(X)
        return kernel.forward().T.copy()

    @property
    def n_parameters_(self) -> int:
        self._check_fitted()
        return self.params_.size

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint (atomic; read it back with :func:`models.load`)."""
        self._check_fitted()
        return save_model(self, path)

    def _checkpoint_payload(self) -> tuple[dict, dict]:
        hyper = self.get_params()
        hyper["layers"] = list(parse_layers(hyper["layers"]))
        meta: dict[str, Any] = {"model": "MLP", "kind": "mlp", "hyperparams": hyper,
                                "param_shapes": {k: list(v) for k, v in self.params_.shapes.items()},
                                "n_parameters": self.params_.size}
        arrays = {f"params/{name}": value for name, value in self.params_.values.items()}
        if getattr(self, "n_epochs_", None) is not None:
            meta["fit"] = {"n_epochs": self.n_epochs_, "diverged_at": self.diverged_at_, "loss": self.loss_,
                           "error": self.error_}
            arrays["curves/loss"] = self.loss_curve_
            arrays["curves/error"] = self.error_curve_
            arrays.update({f"direction_changes/{k}": v for k, v in self.direction_changes_.items()})
        opt = getattr(self, "optimizer_", None)
        if opt is not None:
            scalars, states = opt.state_dict()
            meta["optimizer"] = scalars
            arrays.update({f"optimizer/{k}": v for k, v in states.items()})
        return meta, arrays

    @classmethod
    def _from_checkpoint(cls, meta: dict, arrays: dict, *, backend: str | None = None) -> "MLP":
        hyper = {k: v for k, v in meta["hyperparams"].items() if k in cls._get_param_names()}
        hyper["layers"] = tuple(hyper.get("layers", ()))
        if backend is not None:
            hyper["backend"] = backend
        model = cls(**hyper)
        check_param_shapes(meta, param_shapes(parse_layers(model.layers), bool(model.bias)))   # before allocating
        model._setup(initialize=False)
        values = {}
        for name, shape in model.params_.shapes.items():
            value = arrays.get(f"params/{name}")
            if value is None:
                raise CheckpointError(f"parameter {name!r} is missing from the checkpoint")
            if tuple(value.shape) != shape or value.dtype != np.float64:
                raise CheckpointError(f"parameter {name!r} has shape {value.shape} {value.dtype}, "
                                      f"expected {shape} float64")
            values[name] = value
        model.params_.assign(values)
        if not np.isfinite(model.params_.theta).all():
            raise CheckpointError("the checkpoint's parameters contain NaN or infinite values")
        fit = meta.get("fit")
        if fit is not None:
            model.n_epochs_ = int(fit["n_epochs"])
            model.diverged_at_ = fit["diverged_at"]
            model.loss_, model.error_ = float(fit["loss"]), float(fit["error"])
            model.loss_curve_ = arrays["curves/loss"]
            model.error_curve_ = arrays["curves/error"]
            model.direction_changes_ = {name: arrays[f"direction_changes/{name}"] for name in model.params_.shapes}
        if "optimizer" in meta:
            model.optimizer_ = model._make_optimizer().bind(model.params_)
            states = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("optimizer/")}
            model.optimizer_.load_state_dict(meta["optimizer"], states)
        return model


def _run_epochs(kernel: MLPKernel, optimizer, n: int, masks: list[np.ndarray] | None, logits: np.ndarray,
                snapshots: np.ndarray) -> tuple[int, float]:
    """Up to ``n`` training epochs: forward (z_L^T into ``logits[k]``), backward, one
    optimizer step, theta into ``snapshots[k + 1]``. ``masks``: per hidden layer, one
    (n_l, N) mask per epoch. Stops after an epoch whose gradient is NaN/infinite (the
    optimizer then changed nothing). Returns (epochs run, the last gradient norm)."""
    forward, backward, step, theta = kernel.forward, kernel.backward, optimizer.step, optimizer.theta
    epoch_masks = None
    norm = 0.0
    for k in range(n):
        if masks is not None:
            epoch_masks = [m[k] for m in masks]
        forward(epoch_masks, logits[k])
        backward(epoch_masks)
        norm = step()
        snapshots[k + 1] = theta
        if not norm < math.inf:
            return k + 1, norm
    return n, norm


def _spans(params: ParamSet) -> dict[str, tuple[int, int]]:
    spans, offset = {}, 0
    for name, shape in params.shapes.items():
        size = int(np.prod(shape))
        spans[name] = (offset, offset + size)
        offset += size
    return spans
