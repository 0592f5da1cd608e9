"""The recurrent estimators: :class:`RNN` (Elman) and :class:`LSTM`, each with an output
layer and a softmax or sigmoid head chosen by the task, trained by backpropagation
through time. Equations: ``models/recurrent/_rnn_ref.py`` and ``models/recurrent/_lstm_ref.py``.
"""
from __future__ import annotations

import numpy as np

from ._base import SequenceModel
from ..training._checkpoint import register_model
from ..core._errors import UnknownNameError
from ..core._init import glorot_uniform, orthogonal, uniform
from ..recurrent._kernels import lstm_kernels, rnn_kernels

__all__ = ["RNN", "LSTM", "MODELS", "make_model"]

ACTIVATIONS = ("tanh", "sigmoid")

_COMMON_DOC = """
    hidden_size : int, default 16
        Number of hidden units H (>= 1).
    bias : bool, default True
        Learn biases (hidden and output).
    init : {"glorot", "uniform"}, default "glorot"
        "glorot": Glorot-uniform input and output weights, orthogonal recurrent
        weights, zero biases. "uniform": every weight from U(-init_scale, init_scale)
        (Trask's tutorial uses init_scale=1), zero biases.
    init_scale : float, default 1.0
    dropout : float, default 0.0
        Fraction of inputs and of hidden outputs (toward the output layer) dropped while
        training, inverted scaling; never on the recurrent state; off at evaluation.
    optimizer : {"sgd", "momentum", "rmsprop", "adam"}, default "sgd"
    learning_rate : float, default 0.1
    momentum : float, default 0.9
        For "momentum".
    rms_decay : float, default 0.9
        For "rmsprop".
    beta1, beta2, epsilon : float, default 0.9, 0.999, 1e-8
        For "adam" (epsilon also for "rmsprop").
    clip_norm : float or None, default None
        Clip the gradient to this global L2 norm.
    batch_size : int, default 1
        Sequences per update (all of one length).
    n_steps : int, default 10000
        Optimizer steps in ``fit`` (``n_steps * batch_size`` training sequences).
    lengths : (low, high), "low:high", int or None
        Training lengths (bit widths for addition); None: the task's default.
    curriculum : {"uniform", "grow"}, default "uniform"
        "uniform": lengths uniform over the range. "grow": start at
        ``curriculum_start`` (default: low) and add ``curriculum_step`` whenever the
        training per-symbol accuracy of a block reaches ``curriculum_threshold``.
    curriculum_start, curriculum_step, curriculum_threshold : int, int, float
    divergence_factor : float, default 10
        Stop when a block's loss per symbol exceeds this multiple of the first batch's.
    n_threads : int or None, default 1
        BLAS threads while training and predicting (None: the library default).
    seed : int, default 0
        Seeds initialisation, data and dropout.
    backend : {"cython", "numpy"}, default "cython"
        Compiled kernels, or the numpy reference (same numbers, ~50x slower).

    Attributes
    ----------
    task_ : models.tasks.Task
    params_ : models.ParamSet
    optimizer_ : models.Optimizer
    train_state_ : TrainState
    history_ : list of dict
        Learning curve, one record per block of steps (step, loss, accuracies...).

    Notes
    -----
    Full reproducibility: the same hyperparameters (``seed`` included), task, backend
    and ``n_threads`` give bit-identical weights, also across an interrupted and resumed
    ``fit``. The two backends agree to about 1e-12 per step, so long runs on different
    backends can drift apart.
"""


@register_model
class RNN(SequenceModel):
    __doc__ = """Vanilla (Elman) RNN with an output layer, trained by BPTT.

    ``h_t = f(x_t W_xh + h_{t-1} W_hh + b_h)``, ``y_t = head(h_t W_hy + b_y)``; the head
    (softmax or sigmoid) and the loss (cross-entropy, summed over time steps, averaged
    over the batch) follow the task.

    Parameters
    ----------
    activation : {"tanh", "sigmoid"}, default "tanh"
        Hidden unit nonlinearity f.""" + _COMMON_DOC + """
    Examples
    --------
    Trask's binary-addition setting:

    >>> from models import RNN, tasks
    >>> model = RNN(hidden_size=16, activation="sigmoid", learning_rate=0.1, n_steps=10000, seed=0)
    >>> model.fit(tasks.BinaryAddition())                                    # doctest: +SKIP
    >>> model.evaluate(64, n_sequences=1000).overall.coarse                   # doctest: +SKIP
    1.0
    """

    kind = "rnn"

    def __init__(self, *, activation: str = "tanh", **params):
        self.activation = activation
        super().__init__(**params)

    def _validate_params(self):
        super()._validate_params()
        if self.activation not in ACTIVATIONS:
            raise UnknownNameError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")

    def _param_shapes(self, n_inputs, n_outputs):
        H = self.hidden_size
        return self._cell_and_head_shapes({"W_xh": (n_inputs, H), "W_hh": (H, H)}, "b_h", H, n_outputs)

    def _init_params(self, rng):
        p = self.params_
        if self.init == "uniform":
            for name in ("W_xh", "W_hh", "W_hy"):
                p[name][...] = uniform(rng, p[name].shape, self.init_scale)
        else:
            p["W_xh"][...] = glorot_uniform(rng, p["W_xh"].shape)
            p["W_hh"][...] = orthogonal(rng, p["W_hh"].shape)
            p["W_hy"][...] = glorot_uniform(rng, p["W_hy"].shape)

    def _new_kernel(self, batch_size, max_length):
        module = rnn_kernels(self.backend)
        return module.RNNKernel(self.params_.values, self.params_.grads, activation=self.activation,
                                head=self.task_.head, batch_size=int(batch_size), max_length=int(max_length))


@register_model
class LSTM(SequenceModel):
    __doc__ = """LSTM (input, forget and output gates; forget-gate bias initialised to
    ``forget_bias``) with an output layer, trained by BPTT.

    Gate order in ``W_x`` (I, 4H), ``W_h`` (H, 4H) and ``b`` (4H,) is ``[i, f, o, g]``.

    Parameters
    ----------
    forget_bias : float, default 1.0
        Initial bias of the forget gate (Gers et al. 2000; Jozefowicz et al. 2015);
        needs ``bias=True``.""" + _COMMON_DOC + """
    Examples
    --------
    >>> from models import LSTM, tasks
    >>> model = LSTM(hidden_size=64, optimizer="adam", learning_rate=3e-3, batch_size=16,
    ...              clip_norm=1.0, lengths=(8, 64), n_steps=2000)
    >>> model.fit(tasks.Reverse(vocab_size=16))                              # doctest: +SKIP
    >>> model.evaluate((65, 128)).overall.coarse                              # doctest: +SKIP
    """

    kind = "lstm"

    def __init__(self, *, forget_bias: float = 1.0, **params):
        self.forget_bias = forget_bias
        super().__init__(**params)

    def _validate_params(self):
        super()._validate_params()
        fb = self.forget_bias
        if isinstance(fb, bool) or not isinstance(fb, (int, float, np.number)) or not np.isfinite(fb):
            raise ValueError(f"forget_bias must be a finite number, got {fb!r}")

    def _param_shapes(self, n_inputs, n_outputs):
        H = self.hidden_size
        return self._cell_and_head_shapes({"W_x": (n_inputs, 4 * H), "W_h": (H, 4 * H)}, "b", 4 * H, n_outputs)

    def _init_params(self, rng):
        p = self.params_
        H = self.hidden_size
        if self.init == "uniform":
            for name in ("W_x", "W_h", "W_hy"):
                p[name][...] = uniform(rng, p[name].shape, self.init_scale)
        else:
            # Glorot per gate block for the input weights, orthogonal per gate for the recurrent ones.
            I = p["W_x"].shape[0]
            p["W_x"][...] = np.concatenate([glorot_uniform(rng, (I, H)) for _ in range(4)], axis=1)
            p["W_h"][...] = orthogonal(rng, (H, 4 * H))
            p["W_hy"][...] = glorot_uniform(rng, p["W_hy"].shape)
        if self.bias:
            p["b"][H:2 * H] = self.forget_bias

    def _new_kernel(self, batch_size, max_length):
        module = lstm_kernels(self.backend)
        return module.LSTMKernel(self.params_.values, self.params_.grads, head=self.task_.head,
                                 batch_size=int(batch_size), max_length=int(max_length))


#: Model classes by ``--model`` name.
MODELS = {"rnn": RNN, "lstm": LSTM}


def make_model(name: str, **params) -> SequenceModel:
    """A model by name (``rnn``, ``lstm``) with the given hyperparameters."""
    cls = MODELS.get(str(name).lower())
    if cls is None:
        raise UnknownNameError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return cls(**params)
