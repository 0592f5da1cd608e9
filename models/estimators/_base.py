"""The estimator base class shared by the recurrent models (and the models built on them).

:class:`SequenceModel` holds the hyperparameters (keyword-only, stored as given, checked
by :meth:`~SequenceModel._validate_params`), and implements ``fit`` (through
:mod:`models.training._loop`), ``predict``, ``predict_proba``, ``score``, ``evaluate`` and
checkpoints. A subclass supplies the architecture:

- ``_param_shapes(n_inputs, n_outputs)``: names and shapes of its parameters;
- ``_init_params(rng)``: fill ``self.params_`` with initial values;
- ``_new_kernel(batch_size, max_length)``: its whole-model kernel (``bind``,
  ``set_dropout``, ``loss_and_grad``, ``forward``; see
  :class:`models.recurrent._rnn_ref.SequenceKernelBase`) for the chosen backend;
- ``_dropout_widths()``: widths of the input and output connections dropout acts on.

Learned attributes end in ``_``: ``task_``, ``params_`` (a :class:`models.ParamSet`),
``optimizer_``, ``train_state_`` (with ``history_``, the learning curve).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from ..training._checkpoint import check_param_shapes, save_model
from ..training._curriculum import CURRICULA, BlockEndRules, make_curriculum
from ..core._errors import CheckpointError, UnknownNameError
from ..core._hyper import GradientEstimator, check_int, check_number
from ..training._metrics import Metrics, correct_positions, predictions_from_probs, sequence_metrics
from ..core._params import ParamSet
from ..training._loop import Progress, TrainState, block_steps_for, run_training
from ..tasks import Batch, Task, make_task, task_from_spec
from ._results import EvalProgress, Evaluation, LengthResult, blas_threads, parse_lengths as _parse_lengths

__all__ = ["SequenceModel"]

logger = logging.getLogger(__name__)


class SequenceModel(GradientEstimator):
    """Base of the sequence-to-sequence estimators (see :class:`models.RNN`, :class:`models.LSTM`)."""

    #: short lowercase name (``rnn``, ``lstm``)
    kind: ClassVar[str] = ""
    #: Time-step rows of training data generated at a time (a block; at most 256 steps).
    #: The curriculum moves, and a run's data stream is laid out, in blocks; smaller
    #: blocks react sooner, larger ones cost less per step.
    block_rows: ClassVar[int] = 1 << 17
    #: The most memory one sequence may take to run (``predict``, ``evaluate``, ``seq
    #: run``): 1 GiB. Inference keeps O(T) per sequence (see :meth:`_inference_bytes_per_step`,
    #: a few KB a step for the default models), so this allows a few hundred thousand
    #: steps; longer inputs are refused with an error that names the limit.
    INFERENCE_MEMORY_LIMIT: ClassVar[int] = 1 << 30
    #: Sequences are run together up to this much working memory.
    _INFERENCE_CHUNK_BYTES: ClassVar[int] = 64 << 20

    def __init__(self, *, hidden_size: int = 16, bias: bool = True, init: str = "glorot",
                 init_scale: float = 1.0, dropout: float = 0.0, optimizer: str = "sgd",
                 learning_rate: float = 0.1, momentum: float = 0.9, rms_decay: float = 0.9,
                 beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                 clip_norm: float | None = None, batch_size: int = 1, n_steps: int = 10_000,
                 lengths=None, curriculum: str = "uniform", curriculum_start: int | None = None,
                 curriculum_step: int = 4, curriculum_threshold: float = 0.98,
                 divergence_factor: float = 10.0, n_threads: int | None = 1, seed: int = 0,
                 backend: str = "cython"):
        self._set_hyperparams(locals())
        self._validate_params()

    # ------------------------------------------------------------------ parameters

    def _validate_params(self) -> None:
        """Check every hyperparameter; errors name the parameter, the value and the fix."""
        def integer(name, minimum):
            check_int(name, getattr(self, name), minimum)

        def number(name, lo=None, hi=None, lo_open=False, hi_open=False):
            check_number(name, getattr(self, name), lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)

        integer("hidden_size", 1)
        integer("batch_size", 1)
        integer("n_steps", 0)
        integer("curriculum_step", 1)
        integer("seed", 0)
        if self.n_threads is not None:
            integer("n_threads", 1)
        if self.curriculum_start is not None:
            integer("curriculum_start", 1)
        number("curriculum_threshold", 0, 1, lo_open=True)
        number("divergence_factor", 1, lo_open=True)
        self._validate_training_params()
        if self.curriculum not in CURRICULA:
            raise UnknownNameError(f"unknown curriculum {self.curriculum!r}; choose one of {', '.join(CURRICULA)}")
        _parse_lengths(self.lengths)

    # ------------------------------------------------------------------ architecture hooks

    def _param_shapes(self, n_inputs: int, n_outputs: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _cell_and_head_shapes(self, cell: dict, bias_name: str, bias_size: int,
                              n_outputs: int) -> dict[str, tuple[int, ...]]:
        """``cell``'s weight shapes, then its bias (with ``bias``), then the output layer
        ``W_hy`` and ``b_y``: the parameter layout of the plain recurrent models."""
        shapes = dict(cell)
        if self.bias:
            shapes[bias_name] = (bias_size,)
        shapes["W_hy"] = (self.hidden_size, n_outputs)
        if self.bias:
            shapes["b_y"] = (n_outputs,)
        return shapes

    def _init_params(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _new_kernel(self, batch_size: int, max_length: int):
        raise NotImplementedError

    def _dropout_widths(self) -> tuple[int, int]:
        return self.task_.n_inputs, self.hidden_size

    # ------------------------------------------------------------------ set-up

    def set_params(self, **params):
        """Set hyperparameters (see :meth:`GradientEstimator.set_params`); the cached inference
        kernel is dropped, since it was built with the old ones (backend, the memory's
        inference strengths, ...). Returns ``self``."""
        super().set_params(**params)
        self._eval_kernel = None
        self._eval_capacity = (0, 0)
        return self

    def _check_fitted(self) -> None:
        if getattr(self, "params_", None) is None:
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit(task) or load a checkpoint")

    def _setup(self, task: Task, *, initialize: bool = True) -> None:
        """Create ``params_`` for ``task`` (initialised from ``seed`` when asked)."""
        if not isinstance(task, Task):
            raise ValueError(f"task must be a models.tasks.Task or a task name, got {task!r}")
        self.task_ = task
        self.params_ = ParamSet(self._param_shapes(task.n_inputs, task.n_outputs))
        if initialize:
            self._init_params(np.random.default_rng([int(self.seed), 0]))
        self._eval_kernel = None
        self._eval_capacity = (0, 0)

    def _train_lengths(self, task: Task) -> np.ndarray:
        lengths = _parse_lengths(self.lengths) or task.default_lengths
        return task.valid_lengths(*lengths)

    def _make_curriculum(self, task: Task):
        valid = self._train_lengths(task)
        return make_curriculum(self.curriculum, valid, start=self.curriculum_start, step=self.curriculum_step,
                               threshold=self.curriculum_threshold)

    def _data_config(self, task: Task) -> dict[str, Any]:
        """What fixes the training data stream (must not change on resume)."""
        return {"seed": int(self.seed), "batch_size": int(self.batch_size),
                "lengths": [int(x) for x in self._train_lengths(task)[[0, -1]]],
                "curriculum": self.curriculum, "curriculum_start": self.curriculum_start,
                "curriculum_step": int(self.curriculum_step),
                "curriculum_threshold": float(self.curriculum_threshold), "dropout": float(self.dropout)}

    def _make_block_end_rules(self, task: Task, *, resume: bool) -> BlockEndRules | None:
        """The end-of-block decisions besides the curriculum (None: none; the memory
        models have a restart rule and a final phase)."""
        return None

    # ------------------------------------------------------------------ fit

    def fit(self, task: Task | str, *, checkpoint: str | os.PathLike | None = None, resume: bool = False,
            callback: Callable[[Progress], None] | None = None, checkpoint_seconds: float = 30.0):
        """Train for ``n_steps`` optimizer steps of ``batch_size`` sequences.

        Parameters
        ----------
        task : Task or str
            A :mod:`models.tasks` task (or its name, e.g. ``"add"``).
        checkpoint : path-like, optional
            Save the model here every ``checkpoint_seconds``, at the end, and on Ctrl-C or
            SIGTERM (then :class:`models.TrainingInterrupted` is raised).
        resume : bool
            Continue the training state this model already has (from an earlier ``fit``
            or :func:`models.load`) up to ``n_steps``, instead of starting afresh. The
            continued run is step-for-step identical to an uninterrupted one.
        callback : callable, optional
            Called with a :class:`models.Progress` after each block of steps.
        checkpoint_seconds : float

        Returns
        -------
        self

        Raises
        ------
        TrainingDivergedError
            The loss or gradient became NaN/inf, or the loss grew far above its start.
        TrainingInterrupted
            SIGINT (Ctrl-C) or SIGTERM arrived (in the main thread); the run stopped after
            its current steps and saved the checkpoint. ``fit(task, resume=True)``
            continues it.

        Notes
        -----
        Reproducibility: the same hyperparameters (``seed`` included), task, backend and
        BLAS thread count (``n_threads``, 1 by default) give bit-identical weights.
        """
        self._validate_params()
        if isinstance(task, str):
            task = make_task(task)
        state: TrainState | None = getattr(self, "train_state_", None) if resume else None
        curriculum = self._make_curriculum(task)
        config = self._data_config(task)
        fresh = state is None
        if not fresh:
            if task != self.task_:
                raise ValueError(f"cannot resume training of a model of task {self.task_!r} on task {task!r}")
            if state.config and state.config != config:
                diff = {k: (state.config.get(k), v) for k, v in config.items() if state.config.get(k) != v}
                raise ValueError(f"cannot resume: data settings changed since the checkpoint "
                                 f"(saved, now: {diff}); keep them, or train a fresh model")
            if state.curriculum:
                curriculum.load_state_dict(state.curriculum)
        else:
            self._setup(task)
            max_steps = task.sequence_length(curriculum.high)
            block_steps = block_steps_for(self.batch_size, max_steps, self.block_rows)
            state = TrainState(block_steps=block_steps, log_steps=max(1, min(128, block_steps // 8, int(self.n_steps) // 50)), config=config,
                               curriculum=curriculum.state_dict())
        self.train_state_ = state
        max_len = task.sequence_length(curriculum.high)
        opt = getattr(self, "optimizer_", None)
        if fresh or opt is None or opt.theta is not self.params_.theta:
            self.optimizer_ = self._make_optimizer().bind(self.params_)
        rules = self._make_block_end_rules(task, resume=not fresh)
        if rules is not None and not fresh and state.step < self.n_steps:
            rules.block_end(state, state.step, self.optimizer_)   # what a finished fit left pending
        self._rules = rules
        with blas_threads(self.n_threads):
            kernel = self._new_kernel(self.batch_size, max_len)
            self._fit_kernel = kernel            # the kernel of the fit in progress (for inspection)
            save = None
            if checkpoint is not None:
                path = Path(checkpoint)

                def save():
                    self.save(path)
            try:
                run_training(self, task, state, curriculum, kernel, self.optimizer_,
                             n_steps=int(self.n_steps), batch_size=int(self.batch_size), seed=int(self.seed),
                             dropout=float(self.dropout), dropout_widths=self._dropout_widths(),
                             divergence_factor=float(self.divergence_factor), callback=callback, save=save,
                             checkpoint_seconds=checkpoint_seconds, rules=rules)
            finally:
                self._rules = self._fit_kernel = None
        return self

    @property
    def history_(self) -> list[dict]:
        """The learning curve: one record per block of training steps."""
        state = getattr(self, "train_state_", None)
        return [] if state is None else state.history

    @property
    def n_parameters_(self) -> int:
        self._check_fitted()
        return self.params_.size

    # ------------------------------------------------------------------ inference

    def _new_inference_kernel(self, batch_size: int, max_length: int):
        """The kernel for forward passes only (the plain models: the training kernel)."""
        return self._new_kernel(batch_size, max_length)

    def _inference_bytes_per_step(self) -> int:
        """Bytes one sequence takes to run, per time step: the kernel's buffers and the
        chunk's inputs, targets, mask and probabilities (an estimate, on the high side).
        The plain models' kernels keep their training buffers, about 13 H doubles a step."""
        H, I, O = self.hidden_size, self.task_.n_inputs, self.task_.n_outputs
        return 8 * (13 * H + 3 * I + 4 * O + 3)

    def _check_inference_steps(self, n_steps: int) -> None:
        """ValueError, naming the limit, for sequences too long to run (see
        :attr:`INFERENCE_MEMORY_LIMIT`)."""
        per_step = self._inference_bytes_per_step()
        limit = self.INFERENCE_MEMORY_LIMIT
        if n_steps * per_step <= limit:
            return
        steps = limit // per_step
        task = self.task_
        lo, hi = 0, steps                        # the longest length whose sequences fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if task.sequence_length(mid) <= steps else (lo, mid - 1)
        raise ValueError(f"a sequence of {n_steps:,} steps needs about {n_steps * per_step / 2**30:.1f} GiB to run "
                         f"through this {self.kind} model ({per_step:,} bytes a step); the limit is "
                         f"{limit / 2**30:g} GiB (SequenceModel.INFERENCE_MEMORY_LIMIT): at most {steps:,} steps, "
                         f"a {task.length_name} of {lo:,} for {task.name}")

    def _inference_chunk(self, n_steps: int) -> int:
        """Sequences of ``n_steps`` steps to run at once (at least 1)."""
        return max(1, self._INFERENCE_CHUNK_BYTES // (max(n_steps, 1) * self._inference_bytes_per_step()))

    def _kernel_for(self, batch_size: int, max_length: int):
        """The cached inference kernel, replaced by one of this size when it is too small."""
        cap_b, cap_t = self._eval_capacity
        if self._eval_kernel is None or batch_size > cap_b or max_length > cap_t:
            self._eval_kernel = None                     # free the old one first
            self._eval_kernel = self._new_inference_kernel(batch_size, max_length)
            self._eval_capacity = (batch_size, max_length)
        return self._eval_kernel

    def _release_large_kernel(self) -> None:
        """Keep the cached inference kernel only while it is of working size (not the
        one a single very long sequence needed)."""
        cap_b, cap_t = self._eval_capacity
        if cap_b * cap_t * self._inference_bytes_per_step() > 2 * self._INFERENCE_CHUNK_BYTES:
            self._eval_kernel = None
            self._eval_capacity = (0, 0)

    def _forward(self, inputs: np.ndarray, targets: np.ndarray | None = None,
                 mask: np.ndarray | None = None,
                 progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, float]:
        """Probabilities (T, B, O) and the summed loss (times B / B_chunk) of a batch, by the
        inference kernel, a chunk of sequences at a time; ``progress(n)`` gets the
        sequence-steps done as they are done."""
        self._check_fitted()
        inputs = np.asarray(inputs, dtype=np.float64)
        task = self.task_
        if inputs.ndim != 3 or inputs.shape[2] != task.n_inputs:
            raise ValueError(f"inputs must have shape (T, B, {task.n_inputs}) for this model, got {inputs.shape}")
        if not np.isfinite(inputs).all():
            raise ValueError("inputs contain NaN or infinite values")
        T, B, _ = inputs.shape
        O = task.n_outputs
        if T == 0 or B == 0:
            return np.zeros((T, B, O)), 0.0
        self._check_inference_steps(T)
        chunk = min(B, self._inference_chunk(T))
        probs = np.empty((T, B, O))
        loss = 0.0
        with blas_threads(self.n_threads):
            kernel = self._kernel_for(chunk, T)
            for s in range(0, B, chunk):
                x = np.ascontiguousarray(inputs[:, s:s + chunk])[None]              # (1, T, b, I)
                b = x.shape[2]
                if targets is None:
                    y = np.zeros((1, T, b), np.int64) if task.head == "softmax" else np.zeros((1, T, b, O))
                    m = np.zeros((1, T, b))
                else:
                    y = np.ascontiguousarray(targets[:, s:s + chunk])[None]
                    m = np.ascontiguousarray(mask[:, s:s + chunk], dtype=np.float64)[None]
                p = np.zeros((1, T, b, O))
                kernel.bind(x, y, m, p)
                loss += kernel.infer(0, progress) * b
                probs[:, s:s + b] = p[0]
        self._release_large_kernel()
        return probs, loss

    @staticmethod
    def _inputs_of(X) -> np.ndarray:
        return X.inputs if isinstance(X, Batch) else X

    def predict_proba(self, X) -> np.ndarray:
        """Output probabilities.

        Parameters
        ----------
        X : Batch or ndarray of shape (T, B, I)

        Returns
        -------
        ndarray of shape (T, B, O)
            Softmax distributions, or per-bit sigmoid probabilities.

        Raises
        ------
        ValueError
            Inputs of the wrong shape, NaN, or sequences too long to run within
            :attr:`INFERENCE_MEMORY_LIMIT` (the message names the longest that fits).
        """
        return self._forward(self._inputs_of(X))[0]

    def predict(self, X) -> np.ndarray:
        """Predicted symbols: int ids of shape (T, B) (softmax tasks) or 0/1 bits of
        shape (T, B, O) (sigmoid tasks)."""
        probs = self.predict_proba(X)
        return predictions_from_probs(self.task_.head, probs)

    def score(self, batch: Batch) -> float:
        """Coarse accuracy on ``batch``: the fraction of sequences whose whole target is right."""
        if not isinstance(batch, Batch):
            raise ValueError("score() takes a models.tasks.Batch (inputs, targets and mask)")
        probs = self.predict_proba(batch)
        return sequence_metrics(correct_positions(self.task_.head, probs, batch.targets), batch.mask).coarse

    def metrics(self, batch: Batch) -> Metrics:
        """Per-symbol, coarse and fine accuracy (and the loss) on ``batch``."""
        probs, loss = self._forward(batch.inputs, batch.targets, batch.mask)
        return sequence_metrics(correct_positions(self.task_.head, probs, batch.targets), batch.mask,
                                loss / max(batch.batch_size, 1))

    def evaluate(self, lengths=None, *, task: Task | None = None, n_sequences: int = 1000,
                 n_per_length: int | None = None, seed: int = 12345,
                 callback: Callable[[EvalProgress], None] | None = None) -> Evaluation:
        """Accuracy by length on fresh random sequences.

        Parameters
        ----------
        lengths : (low, high), "low:high" or int, optional
            Lengths to test (default: the training lengths); lengths the task does not
            accept (odd ones for bigram flip) are skipped.
        task : Task, optional
            Default: the task the model was trained on.
        n_sequences : int
            Total number of test sequences, spread evenly over the lengths
            (``ceil(n_sequences / number of lengths)`` each) unless ``n_per_length`` is given.
        seed : int
            Seed of the test data: length L uses ``default_rng([seed, L])``.
        callback : callable, optional
            Called with an :class:`EvalProgress` every few hundred steps of the
            sequences being run (and after each chunk of them).

        Raises
        ------
        ValueError
            The longest sequences would take more than :attr:`INFERENCE_MEMORY_LIMIT`
            to run (the message names the longest length that fits).

        Notes
        -----
        Memory: the sequences of a length are drawn and run a chunk at a time (as many as
        fit in 64 MiB of working memory), so it does not grow with ``n_sequences``, and
        a sequence of T steps takes O(T) (O(T W) for the memory models, whose inference
        keeps no per-step strengths).
        """
        self._check_fitted()
        task = task or self.task_
        span = _parse_lengths(lengths, "lengths") if lengths is not None else None
        valid = task.valid_lengths(*span) if span else self._train_lengths(task)
        if n_per_length is None:
            if isinstance(n_sequences, bool) or not isinstance(n_sequences, (int, np.integer)) or n_sequences < 1:
                raise ValueError(f"n_sequences must be an integer >= 1, got {n_sequences!r}")
            n_per_length = -(-int(n_sequences) // len(valid))
        elif isinstance(n_per_length, bool) or not isinstance(n_per_length, (int, np.integer)) or n_per_length < 1:
            raise ValueError(f"n_per_length must be an integer >= 1, got {n_per_length!r}")
        n = int(n_per_length)
        longest = task.sequence_length(int(valid[-1]))
        self._check_inference_steps(longest)
        chunk = min(n, self._inference_chunk(longest))    # one kernel serves every length
        done = EvalProgress(int(valid[0]), 0, sum(n * task.sequence_length(int(L)) for L in valid), 0,
                            n * len(valid), 0.0)
        start = time.monotonic()

        def tick(steps: int) -> None:
            done.steps += steps
            done.seconds = time.monotonic() - start
            if callback is not None:
                callback(dataclasses.replace(done))

        results = []
        self._kernel_for(chunk, longest)
        for length in valid:
            done.length = int(length)
            metrics, loss = Metrics(), 0.0
            for batch in task.sample_chunks(np.random.default_rng([int(seed), int(length)]), n, int(length), chunk):
                probs, chunk_loss = self._forward(batch.inputs, batch.targets, batch.mask, progress=tick)
                metrics = metrics.merge(sequence_metrics(correct_positions(task.head, probs, batch.targets),
                                                         batch.mask))
                loss += chunk_loss
                done.sequences += batch.batch_size
                tick(0)
            results.append(LengthResult(int(length), dataclasses.replace(metrics, loss_sum=loss / n)))
        self._release_large_kernel()
        return Evaluation(task.name, results)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint (atomic; see :mod:`models.training._checkpoint`)."""
        self._check_fitted()
        return save_model(self, path)

    def _checkpoint_payload(self) -> tuple[dict, dict]:
        hyper = self.get_params()
        if hyper.get("lengths") is not None:
            hyper["lengths"] = list(_parse_lengths(hyper["lengths"]))
        meta: dict[str, Any] = {"model": type(self).__name__, "kind": self.kind, "hyperparams": hyper,
                                "task": self.task_.spec(),
                                "param_shapes": {k: list(v) for k, v in self.params_.shapes.items()},
                                "n_parameters": self.params_.size}
        arrays = {f"params/{name}": value for name, value in self.params_.values.items()}
        opt = getattr(self, "optimizer_", None)
        if opt is not None:
            scalars, states = opt.state_dict()
            meta["optimizer"] = scalars
            arrays.update({f"optimizer/{k}": v for k, v in states.items()})
        state = getattr(self, "train_state_", None)
        if state is not None:
            meta["train_state"] = state.to_json()
        return meta, arrays

    @classmethod
    def _from_checkpoint(cls, meta: dict, arrays: dict, *, backend: str | None = None):
        hyper = dict(meta["hyperparams"])
        known = set(cls._get_param_names())
        unknown = sorted(set(hyper) - known)
        if unknown:
            logger.warning("ignoring unknown hyperparameters in checkpoint: %s", ", ".join(unknown))
        hyper = {k: v for k, v in hyper.items() if k in known}
        if isinstance(hyper.get("lengths"), list):
            hyper["lengths"] = tuple(hyper["lengths"])
        if backend is not None:
            hyper["backend"] = backend
        model = cls(**hyper)
        task = task_from_spec(meta["task"])
        check_param_shapes(meta, model._param_shapes(task.n_inputs, task.n_outputs))    # before allocating
        model._setup(task, initialize=False)
        params = {}
        for name, shape in model.params_.shapes.items():
            value = arrays.get(f"params/{name}")
            if value is None:
                raise CheckpointError(f"parameter {name!r} is missing from the checkpoint")
            if tuple(value.shape) != shape or value.dtype != np.float64:
                raise CheckpointError(f"parameter {name!r} has shape {value.shape} {value.dtype}, expected {shape} float64")
            params[name] = value
        model.params_.assign(params)
        if not np.isfinite(model.params_.theta).all():
            raise CheckpointError("the checkpoint's parameters contain NaN or infinite values")
        if "optimizer" in meta:
            model.optimizer_ = model._make_optimizer().bind(model.params_)
            states = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("optimizer/")}
            model.optimizer_.load_state_dict(meta["optimizer"], states)
        if "train_state" in meta:
            model.train_state_ = TrainState.from_json(meta["train_state"])
        return model
