"""The memory-augmented estimator :class:`MemoryRNN`: an RNN or LSTM controller driving a
Neural Stack, Queue or DeQue (Grefenstette et al. 2015, section 3.4), trained by exact
backpropagation through the controller and the memory.

Equations and the backward order: ``models/estimators/_memory_rnn_ref.py`` (numpy reference);
the compiled kernel is ``models/estimators/_memory_rnn.pyx``. Why the training options exist:
README section "Memory models", and the docstring of :class:`MemoryRNN`.
"""
from __future__ import annotations

import logging

import numpy as np

from ._base import SequenceModel
from ..training._checkpoint import register_model
from ..training._curriculum import BlockEndRules, make_curriculum
from ..core._errors import UnknownNameError
from ..core._init import glorot_uniform, orthogonal, uniform
from ..core._backend import check_backend, compiled_kernels
from ..memory._kinds import MEMORY_KINDS, memory_kind
from ._memory_rnn_ref import CONTROLLERS, CONTROLS, memory_layout

__all__ = ["MemoryRNN", "DEFAULT_POP_BIAS", "DEFAULT_PUSH_BIAS", "MEMORY_CHOICES"]

logger = logging.getLogger(__name__)

#: Initial pop bias by memory when ``pop_bias`` is None (the registry's, with the
#: reasons: :mod:`models.memory._kinds`): stack -1, queue -3, deque -3 at both ends.
DEFAULT_POP_BIAS = {name: kind.pop_bias for name, kind in MEMORY_KINDS.items()}

#: Initial push bias by memory when ``push_bias`` is None: 0 (push strength 0.5), except
#: at the deque's bottom end, -6 (see :mod:`models.memory._kinds`).
DEFAULT_PUSH_BIAS = {name: kind.push_bias for name, kind in MEMORY_KINDS.items()}

#: ``memory`` values (None: no memory, the controller alone).
MEMORY_CHOICES = tuple(MEMORY_KINDS)


def memory_rnn_kernels(backend: str):
    """The whole-model kernels: ``_memory_rnn`` (compiled) or ``_memory_rnn_ref`` (numpy)."""
    if check_backend(backend) == "numpy":
        from . import _memory_rnn_ref as kernels
    else:
        with compiled_kernels("models.estimators._memory_rnn"):
            from . import _memory_rnn as kernels
    return kernels


def _is_number(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float, np.number)) and bool(np.isfinite(x))


@register_model
class MemoryRNN(SequenceModel):
    """An RNN or LSTM controller with a differentiable Stack, Queue or DeQue.

    At step t the controller reads ``[embedding(x_t), r_{t-1}]`` (the symbol's embedding
    and the memory's previous read), and from its state ``h_t`` emits the push and pop
    strengths (sigmoid), the value(s) to push (tanh) and the output (softmax over the
    symbols). The deque has a push, pop and value for each end and its read is
    ``[read_top, read_bottom]``. Equations: ``models/estimators/_memory_rnn_ref.py``.

    Parameters
    ----------
    controller : {"lstm", "rnn"}, default "lstm"
        The recurrent cell (the RNN uses tanh units).
    memory : {"stack", "queue", "deque"} or None, default "stack"
        None: no memory (the controller alone, with the embedding).
    memory_width : int, default 32
        Width W of each pushed value.
    embedding_size : int, default 32
        Symbols are embedded by a learned (I, D) matrix before the controller; 0 feeds
        the one-hot inputs directly.
    push_bias : float, (float, float) or None, default None
        Initial bias of the push strength(s); a (top, bottom) pair for the deque. None:
        :data:`DEFAULT_PUSH_BIAS` of the memory (0; the deque (0, -6)).
    pop_bias : float, (float, float) or None, default None
        Initial bias of the pop strength(s); None: :data:`DEFAULT_POP_BIAS` of the memory
        (stack -1, queue -3, deque -3 at both ends).
    controls : {"sigmoid", "softmax"}, default "sigmoid"
        How the push and pop strengths of each end are made from the controller's state.
        "sigmoid": one sigmoid each (Grefenstette et al.), so a push and a pop can both be
        near 1 at the same step. "softmax": one softmax over three logits, push, pop and
        no-op (the actions of Joulin & Mikolov's Stack-RNN, which Deletang et al.'s
        Chomsky-hierarchy table uses), so push + pop <= 1 and the model chooses one of
        them; the layer gets one no-op column per end (initial bias 0, against which
        ``push_bias`` and ``pop_bias`` are then logits).
    stop_gradient : bool, default True
        While training, cut the gradient through the controller's recurrent state where
        the separator is read, so that the target phase's loss reaches the source phase
        only through the memory. Forward computations (and so predictions) are
        unchanged. A PyTorch prototype of this model needed it: without it the controller
        learned to carry the start of the target in its own state and, for the stack, to
        bury the memory by pushing during the target. With the rest of this recipe
        (``models.memory_preset``) runs without it generalised too (stack reversal, five
        seeds, and queue copy, two seeds, all >= 0.997 on 65-128); it stays on as the
        safer default. Needs a task with a separator (copy, reverse, bigram flip; the
        Chomsky-hierarchy tasks' output-phase flag, which turns on at the first output
        step); ignored otherwise.
    aux_hidden, aux_memory : float, default 0.0
        Weights of auxiliary losses predicting the previous input symbol ``x_{t-1}``
        from the hidden state ``h_t`` and from the read ``r_{t-1}`` the controller
        receives (the memory-facing input), on the source steps. They pull the pushed
        values toward the symbols. Symbol tasks only (``task.symbolic``) whose input and
        output alphabets have the same size (their classifiers have the outputs' size).
    final_learning_rate : float or None, default 3e-4
        With the ``grow`` curriculum: the learning rate once a data block has been
        trained at the longest lengths (decided at block ends, like the restart rule).
        A run that is right on every training sequence keeps being pushed by Adam
        toward larger margins at full speed; at 3e-3 that ended in a sudden collapse to
        chance (loss log 16) after 4,300 steps in one of our deque runs. The lower rate
        also lowers the leftover pop strength that costs the queue its longest tests.
        None: keep ``learning_rate``.
    final_decay : {"constant", "linear"}, default "constant"
        "linear": from the first block end at the longest lengths the final rate falls
        linearly to about 0 at ``n_steps`` (then a run trained further with a larger
        ``n_steps`` is not the same as one trained straight to it).
    sharpen : float, default 0.0
        In the same final phase, add ``sharpen * sum s (1 - s)`` over every push and pop
        strength ``s`` of every step (averaged over the batch) to the objective: it drives
        the strengths to 0 or 1. A model whose strengths stay near, say, 0.94 can match
        its pops to its pushes well enough for 64 steps, but the small mismatch adds up
        step by step and the read drifts into the next value on longer sequences. From the
        start it stops the queue from learning at all (the push strengths of 0.5 are
        driven apart before the read means anything).
    final_phase_at : float or None, default None
        Start the final phase (``final_learning_rate`` and ``sharpen``) at the first
        block end at or after this fraction of ``n_steps`` (in (0, 1]), whatever the
        curriculum, if a growing curriculum has not started it earlier by reaching the
        longest lengths. A uniform curriculum (the Chomsky-hierarchy benchmark's) never
        reaches them by growing, so without this it never has a final phase. None: only
        by growing.
    inference_strengths : {"soft", "hard"}, default "soft"
        How ``predict``, ``evaluate`` and ``run`` use the push and pop strengths.
        "hard": each is rounded to 0 or 1 (above or below 0.5), so that a memory
        operation is all or nothing and the stack, queue or deque holds whole values.
        Training is unchanged (it needs the soft strengths' gradient). A model that has
        learned the algorithm with strengths near 0 and 1 (say 0.94 and 0.03) stops
        drifting with length this way: on reversal trained on lengths 1-40, four LSTM+stack
        seeds of five went from 76-100 % to 100 % per token on every length 41-500. A model
        whose strengths carry meaning between 0 and 1 gets worse: compare both on the
        training lengths (as ``wordstack seq bench`` does) before choosing "hard".
    restart_after : int or None, default 32000
        The restart rule: when a run (or its latest restart) has trained this many
        sequences and has not yet learned the shortest lengths (no learning-curve record
        at ``curriculum_threshold`` per-symbol training accuracy, and a ``grow``
        curriculum still at its start), the parameters are drawn afresh
        (initialisation stream ``[seed, 0, k]`` for the k-th restart), the optimizer state
        is cleared, and training goes on with the next data. ``n_steps`` counts the
        steps of every attempt. The decision is taken at the end of a data block, so it
        is reproducible and survives checkpoints (``restarts_`` lists the steps at which
        restarts happened). None: never restart.
    forget_bias : float, default 1.0
        LSTM forget-gate bias at initialisation.
    hidden_size : int, default 64
    optimizer, learning_rate, clip_norm, batch_size : default "adam", 3e-3, 1.0, 16
    n_steps : int, default 5000
        Optimizer steps (80,000 training sequences with the default batch), restarts
        included.
    curriculum, curriculum_start : default "grow", 12
        Start at source length 12 and add ``curriculum_step`` (4) whenever a block's
        training per-symbol accuracy reaches ``curriculum_threshold`` (0.98).
    bias, init, ..., backend
        As :class:`models.LSTM` (``bias`` must stay True: the strengths' biases are
        what ``push_bias``/``pop_bias`` set).

    Notes
    -----
    Memory. Training keeps, per sequence, the strength of every memory cell after every
    step (T x L doubles, L = T cells, 2T for the deque: O(T^2)), because the backward
    pass, which runs from the last step to the first, needs the strengths before and
    after each step, and they cannot be recomputed backwards (a pop clamps them at 0);
    at the training lengths (up to 129 steps by default) that is a few hundred KB.
    ``predict``, ``predict_proba``, ``score``, ``evaluate`` (and ``wordstack seq eval``
    and ``run``) use an inference kernel that keeps no per-step history it does not read
    again: two rolling rows of strengths, the pushed values (O(T W)) and the controller's
    states for the output layer (O(T H)), so memory is O(T (W + H)) per sequence and time
    O(T^2 W) at worst for T steps, with the probabilities of the training forward pass.
    An input that would take more than ``INFERENCE_MEMORY_LIMIT`` (1 GiB, about 280,000
    steps at the default sizes) is refused with an error naming the limit.
    :meth:`memory_trace` keeps the whole (T, L) trace, so it is refused sooner.

    ``loss`` in the learning curve is the task loss; the auxiliary losses only add to
    the gradient. Full reproducibility: as :class:`models.LSTM` (same hyperparameters,
    task, backend and ``n_threads`` give bit-identical weights, across an interrupted
    and resumed ``fit`` too).

    Examples
    --------
    >>> from models import MemoryRNN, tasks
    >>> model = MemoryRNN(controller="lstm", memory="stack", hidden_size=64, optimizer="adam",
    ...                   learning_rate=3e-3, clip_norm=1.0, batch_size=16, n_steps=2000)
    >>> model.fit(tasks.Reverse(vocab_size=16))                              # doctest: +SKIP
    >>> model.evaluate((65, 128)).overall.coarse                              # doctest: +SKIP
    """

    def __init__(self, *, controller: str = "lstm", memory: str | None = "stack", memory_width: int = 32,
                 embedding_size: int = 32, push_bias=None, pop_bias=None, controls: str = "sigmoid",
                 stop_gradient: bool = True, aux_hidden: float = 0.0, aux_memory: float = 0.0,
                 restart_after: int | None = 32_000, final_learning_rate: float | None = 3e-4,
                 final_decay: str = "constant", sharpen: float = 0.0, final_phase_at: float | None = None,
                 inference_strengths: str = "soft",
                 forget_bias: float = 1.0, hidden_size: int = 64,
                 optimizer: str = "adam", learning_rate: float = 3e-3, clip_norm: float | None = 1.0,
                 batch_size: int = 16, n_steps: int = 5000, curriculum: str = "grow", curriculum_start: int | None = 12, **params):
        self._set_hyperparams(locals())
        super().__init__(hidden_size=hidden_size, optimizer=optimizer, learning_rate=learning_rate,
                         clip_norm=clip_norm, batch_size=batch_size, n_steps=n_steps, curriculum=curriculum,
                         curriculum_start=curriculum_start, **params)

    @property
    def kind(self) -> str:                      # type: ignore[override]
        """``lstm+stack``, ``rnn+queue``, ... (``lstm`` alone without a memory)."""
        return self.controller if self.memory is None else f"{self.controller}+{self.memory}"

    # ------------------------------------------------------------------ validation

    def _validate_params(self):
        super()._validate_params()
        if self.controller not in CONTROLLERS:
            raise UnknownNameError(f"unknown controller {self.controller!r}; choose one of {', '.join(CONTROLLERS)}")
        if self.memory is not None and self.memory not in MEMORY_KINDS:
            raise UnknownNameError(f"unknown memory {self.memory!r}; choose one of {', '.join(MEMORY_KINDS)} "
                                   f"(or None for no memory)")
        for name, minimum in (("memory_width", 1), ("embedding_size", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not _is_number(self.forget_bias):
            raise ValueError(f"forget_bias must be a finite number, got {self.forget_bias!r}")
        for name in ("push_bias", "pop_bias"):
            value = getattr(self, name)
            if value is None or _is_number(value):
                continue
            pair = isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_number(v) for v in value)
            if not pair:
                raise ValueError(f"{name} must be a finite number, a (top, bottom) pair of them for the deque, or "
                                 f"None (the memory's default), got {value!r}")
            if self.memory is None or memory_kind(self.memory).ends != 2:
                raise ValueError(f"{name} {value!r} is a (top, bottom) pair, which only the deque has; give one "
                                 f"number for the {self.memory}")
        if self.controls not in CONTROLS:
            raise ValueError(f"controls must be one of {', '.join(map(repr, CONTROLS))}, got {self.controls!r}")
        if self.inference_strengths not in ("soft", "hard"):
            raise ValueError(f"inference_strengths must be 'soft' or 'hard', got {self.inference_strengths!r}")
        if self.inference_strengths == "hard" and self.memory is None:
            raise ValueError("inference_strengths='hard' rounds a memory's push and pop strengths; this model has "
                             "no memory (memory=None): leave it 'soft'")
        for name in ("aux_hidden", "aux_memory", "sharpen"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0 (0 switches the loss off), got {value!r}")
        if self.aux_memory > 0 and self.memory is None:
            raise ValueError("aux_memory needs a memory (the loss predicts from its read); set memory or aux_memory=0")
        if self.restart_after is not None and (isinstance(self.restart_after, bool)
                                               or not isinstance(self.restart_after, (int, np.integer))
                                               or self.restart_after < 1):
            raise ValueError(f"restart_after must be a number of training sequences >= 1, or None (never restart), "
                             f"got {self.restart_after!r}")
        if self.final_learning_rate is not None and (not _is_number(self.final_learning_rate)
                                                     or self.final_learning_rate <= 0):
            raise ValueError(f"final_learning_rate must be a number > 0, or None (keep learning_rate), got "
                             f"{self.final_learning_rate!r}")
        if self.final_phase_at is not None and (not _is_number(self.final_phase_at)
                                                or not 0 < self.final_phase_at <= 1):
            raise ValueError(f"final_phase_at must be a fraction of n_steps in (0, 1], or None (the final phase "
                             f"only once a growing curriculum reaches the longest lengths), got "
                             f"{self.final_phase_at!r}")
        if self.final_decay not in ("linear", "constant"):
            raise ValueError(f"final_decay must be 'linear' or 'constant', got {self.final_decay!r}")
        if not isinstance(self.stop_gradient, (bool, np.bool_)):
            raise ValueError(f"stop_gradient must be True or False, got {self.stop_gradient!r}")
        if not self.bias:
            raise ValueError("MemoryRNN needs bias=True (push_bias and pop_bias are biases)")

    def _bias_pair(self, value, default: str) -> tuple[float, ...]:
        """Per-end initial biases: (b,) for the stack and queue, (top, bottom) for the deque;
        ``value`` None takes the registry's ``default`` (``"push_bias"``, ``"pop_bias"``)."""
        if value is None:
            value = getattr(memory_kind(self.memory), default) if self.memory is not None else 0.0
        P = self._layout[0]
        if isinstance(value, (tuple, list)):
            return tuple(float(v) for v in value)
        return (float(value),) * P

    @property
    def push_bias_(self) -> tuple[float, ...]:
        """The push bias(es) used at initialisation: ``push_bias`` or the memory's default,
        one per end ((top, bottom) for the deque)."""
        return self._bias_pair(self.push_bias, "push_bias")

    @property
    def pop_bias_(self) -> tuple[float, ...]:
        """The pop bias(es) used at initialisation (see :attr:`push_bias_`)."""
        return self._bias_pair(self.pop_bias, "pop_bias")

    def _check_task(self, task):
        if (self.aux_hidden > 0 or self.aux_memory > 0) and not getattr(task, "symbolic", False):
            raise ValueError(f"the auxiliary losses predict input symbols and need a symbol task (copy, reverse, "
                             f"bigram-flip, the Chomsky-hierarchy tasks), not {getattr(task, 'name', task)!r}; set "
                             f"aux_hidden=0 and aux_memory=0")
        if (self.aux_hidden > 0 or self.aux_memory > 0) and task.n_symbols != task.n_outputs:
            # their classifiers (A_h, A_r) are sized by the output alphabet, which is the input's in copy,
            # reverse and bigram flip but not in every Chomsky-hierarchy task
            raise ValueError(f"the auxiliary losses need a task whose input and output alphabets are the same size; "
                             f"{task.name!r} reads {task.n_symbols} symbols and writes {task.n_outputs}: set "
                             f"aux_hidden=0 and aux_memory=0")

    def _make_block_end_rules(self, task, *, resume):
        self._check_task(task)
        if not resume or getattr(self, "restarts_", None) is None:
            self.restarts_: list[int] = []
        return BlockEndRules(learning_rate=self.learning_rate, n_steps=int(self.n_steps),
                             batch_size=int(self.batch_size), threshold=self.curriculum_threshold,
                             grow=self.curriculum == "grow", start_length=self._curriculum_start_length,
                             high=int(self._train_lengths(task)[-1]),
                             restart=self._restart, restarts=self.restarts_, restart_after=self.restart_after,
                             final_learning_rate=self.final_learning_rate, final_decay=self.final_decay,
                             sharpen=self.sharpen,
                             final_phase_at=None if self.final_phase_at is None else float(self.final_phase_at))

    @property
    def _curriculum_start_length(self) -> int:
        valid = self._train_lengths(self.task_)
        start = valid[0] if self.curriculum_start is None else min(int(self.curriculum_start), int(valid[-1]))
        return int(start)

    def _restart(self, step: int) -> None:
        """The restart rule's action (decided by :class:`models.training._curriculum.BlockEndRules`):
        fresh parameters (stream ``[seed, 0, k]`` for the k-th restart) and optimizer
        state, in place."""
        self.restarts_.append(int(step))
        k = len(self.restarts_)
        logger.info("restart %d at step %d: the run had not learned length %d", k, step,
                    self._curriculum_start_length)
        self.params_.theta[...] = 0.0
        self._init_params(np.random.default_rng([int(self.seed), 0, k]))
        opt = getattr(self, "optimizer_", None)
        if opt is not None and opt.theta is self.params_.theta:
            opt.load_state_dict({"name": opt.name, "t": 0}, {f"state{i}": np.zeros_like(v)
                                                         for i, v in enumerate(opt.state)})

    def _checkpoint_payload(self):
        meta, arrays = super()._checkpoint_payload()
        meta["restarts"] = list(getattr(self, "restarts_", None) or [])
        return meta, arrays

    @classmethod
    def _from_checkpoint(cls, meta, arrays, *, backend=None):
        model = super()._from_checkpoint(meta, arrays, backend=backend)
        model.restarts_ = [int(s) for s in meta.get("restarts", [])]
        return model

    def _setup(self, task, *, initialize=True):
        self._check_task(task)
        super()._setup(task, initialize=initialize)

    def _make_curriculum(self, task):
        """As the base class, except that a ``curriculum_start`` beyond the longest
        training length (the default 12 with 8-bit addition) starts at the longest."""
        valid = self._train_lengths(task)
        start = self.curriculum_start
        if start is not None and start > valid[-1]:
            start = int(valid[-1])
        return make_curriculum(self.curriculum, valid, start=start, step=self.curriculum_step,
                               threshold=self.curriculum_threshold)

    # ------------------------------------------------------------------ architecture

    @property
    def _layout(self) -> tuple[int, int]:
        return memory_layout(self.memory, int(self.memory_width))

    def _param_shapes(self, n_inputs, n_outputs):
        H, D = self.hidden_size, self.embedding_size
        P, R = self._layout
        W = self.memory_width
        d_in = (D if D else n_inputs) + R
        shapes: dict[str, tuple[int, ...]] = {}
        if D:
            shapes["E"] = (n_inputs, D)
        if self.controller == "lstm":
            shapes.update({"W_x": (d_in, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,)})
        else:
            shapes.update({"W_xh": (d_in, H), "W_hh": (H, H), "b_h": (H,)})
        if self.memory is not None:
            K = 2 * P + P * W + (P if self.controls == "softmax" else 0)     # + the no-op logits
            shapes.update({"W_mem": (H, K), "b_mem": (K,)})
        shapes.update({"W_hy": (H, n_outputs), "b_y": (n_outputs,)})
        V = n_outputs
        if self.aux_hidden > 0:
            shapes.update({"A_h": (H, V), "a_h": (V,)})
        if self.aux_memory > 0:
            shapes.update({"A_r": (R, V), "a_r": (V,)})
        return shapes

    def _init_params(self, rng):
        p = self.params_
        H = self.hidden_size
        P, _ = self._layout
        if self.init == "uniform":
            for name in p.shapes:
                if len(p.shapes[name]) == 2:
                    p[name][...] = uniform(rng, p[name].shape, self.init_scale)
        else:
            for name, shape in p.shapes.items():
                if len(shape) != 2:
                    continue
                if name in ("W_h", "W_hh"):
                    p[name][...] = orthogonal(rng, shape)
                elif name == "W_x":
                    p[name][...] = np.concatenate([glorot_uniform(rng, (shape[0], H)) for _ in range(4)], axis=1)
                else:
                    p[name][...] = glorot_uniform(rng, shape)
        if self.controller == "lstm":
            p["b"][H:2 * H] = self.forget_bias
        if self.memory is not None:
            p["b_mem"][:P] = self.push_bias_
            p["b_mem"][P:2 * P] = self.pop_bias_

    def _kernel_options(self) -> dict:
        task = self.task_
        symbolic = getattr(task, "symbolic", False)      # a task with symbols and a separator feature
        return {"controller": self.controller, "memory": self.memory, "width": int(self.memory_width),
                "head": task.head, "separator": task.separator if symbolic else -1,
                "stop_gradient": bool(self.stop_gradient),
                "aux_hidden": float(self.aux_hidden), "aux_memory": float(self.aux_memory),
                "sharpen": self._rules.sharpen_now if getattr(self, "_rules", None) is not None else 0.0,
                "controls": self.controls,
                "n_symbols": task.n_symbols if symbolic else 0}

    def _new_kernel(self, batch_size, max_length):
        module = memory_rnn_kernels(self.backend)
        return module.MemoryRNNKernel(self.params_.values, self.params_.grads, batch_size=int(batch_size),
                                      max_length=int(max_length), **self._kernel_options())

    def _new_inference_kernel(self, batch_size, max_length):
        """The kernel of ``predict``, ``evaluate``, ``run``: forward passes only, two rolling rows of
        memory strengths per sequence (see the class notes)."""
        module = memory_rnn_kernels(self.backend)
        return module.MemoryRNNKernel(self.params_.values, self.params_.grads, batch_size=int(batch_size),
                                      max_length=int(max_length), inference=True,
                                      hard=self.inference_strengths == "hard", **self._kernel_options())

    def _inference_bytes_per_step(self) -> int:
        """Per sequence and step, at inference: the controller's pre-activations G (4H for the
        LSTM, H for the RNN) and state h (H), the memory-facing layer M with the pushed values
        (K = 2P + P W), two rows of strengths (2 cells a step), and the chunk's inputs,
        targets, mask and probabilities. The numpy twin keeps a few more rows per step."""
        H, W = self.hidden_size, int(self.memory_width)
        P, R = self._layout
        I, O = self.task_.n_inputs, self.task_.n_outputs
        cells = memory_kind(self.memory).cells_per_step if self.memory is not None else 0
        gates = 4 * H if self.controller == "lstm" else H
        K = 2 * P + P * W + (P if self.controls == "softmax" else 0)
        doubles = gates + H + (K if self.memory else 0) + 2 * cells + 3 * I + 4 * O + 3
        if self.backend == "numpy":
            doubles += (self.embedding_size or I) + 2 * R + 2 * H + P * W
        return 8 * doubles

    # ------------------------------------------------------------------ inspection

    def memory_trace(self, X) -> dict:
        """Push and pop strengths and the strength of every memory cell, for one input.

        Parameters
        ----------
        X : Batch or ndarray of shape (T, 1, I)
            One sequence (e.g. ``task.parse_input(["0123"])``).

        Returns
        -------
        dict
            ``push``, ``pop``: ndarray of shape (T, P) (P = 1, or 2 for the deque:
            [top, bottom]); ``strengths``: ndarray of shape (T, L), the strength of each
            cell after each step (L = T cells, pushed in step order; the deque's 2T
            cells run from the bottom end to the top end); ``probs`` (T, O).
        """
        self._check_fitted()
        if self.memory is None:
            raise ValueError("this model has no memory to inspect (memory=None)")
        inputs = np.asarray(self._inputs_of(X), dtype=np.float64)
        if inputs.ndim != 3 or inputs.shape[1] != 1 or inputs.shape[2] != self.task_.n_inputs:
            raise ValueError(f"memory_trace takes one sequence of shape (T, 1, {self.task_.n_inputs}), "
                             f"got {inputs.shape}")
        if not np.isfinite(inputs).all():
            raise ValueError("inputs contain NaN or infinite values")
        T = inputs.shape[0]
        cells = memory_kind(self.memory).cells_per_step * T
        need = 8 * T * cells * 3 + T * self._inference_bytes_per_step()       # strengths, their copy, push/pop
        if need > self.INFERENCE_MEMORY_LIMIT:
            steps = int((self.INFERENCE_MEMORY_LIMIT / (24 * memory_kind(self.memory).cells_per_step)) ** 0.5)
            raise ValueError(f"memory_trace keeps the strength of every memory cell after every step ({T:,} x "
                             f"{cells:,} for {T:,} steps, about {need / 2**30:.1f} GiB); the limit is "
                             f"{self.INFERENCE_MEMORY_LIMIT / 2**30:g} GiB (INFERENCE_MEMORY_LIMIT): at most about "
                             f"{steps:,} steps (predict and evaluate keep no trace)")
        kernel = self._new_kernel(1, T)
        x = np.ascontiguousarray(inputs)[None]
        y = np.zeros((1, T, 1), np.int64)
        m = np.zeros((1, T, 1))
        probs = np.zeros((1, T, 1, self.task_.n_outputs))
        kernel.bind(x, y, m, probs)
        kernel.forward(0)
        trace = kernel.memory_trace()
        return {"push": trace["push"][:, 0], "pop": trace["pop"][:, 0], "strengths": trace["strengths"][0],
                "probs": probs[0, :, 0]}
