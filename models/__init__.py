"""models: numpy sequence models with Cython inner loops (RNN, LSTM; the neural stack,
queue and deque build on them).

Estimators
    :class:`RNN`, :class:`LSTM` (``fit(task)``, ``predict``, ``predict_proba``,
    ``score``, ``evaluate``, ``save``), :func:`make_model`, :func:`load` (any
    checkpoint), :data:`MODELS`, :class:`SequenceModel` (the base class),
    :class:`Evaluation`, :class:`LengthResult`, :class:`Progress`, :class:`EvalProgress`.
Tasks
    :mod:`models.tasks` (``BinaryAddition``, ``Copy``, ``Reverse``, ``BigramFlip``,
    ``make_task``).
Building blocks (shared with the memory models and the MLP)
    :class:`ParamSet` (named parameters in one flat vector); optimizers :class:`SGD`,
    :class:`Momentum`, :class:`RMSProp`, :class:`Adam`, :func:`make_optimizer`,
    :func:`clip_grad_norm`; :func:`dropout_mask`, :func:`apply_dropout`; weight
    initialisers :func:`glorot_uniform`, :func:`orthogonal`, :func:`uniform`;
    recurrent cells for controllers :class:`RNNCell`, :class:`LSTMCell` (step by step,
    forward and backward); metrics :class:`Metrics`, :func:`sequence_metrics`;
    curricula :class:`UniformLengths`, :class:`GrowingLengths`; kernels by backend
    :func:`load_kernels`; checkpoints :func:`register_model`, :func:`read_checkpoint`,
    :func:`write_checkpoint`.
Memory models
    :class:`MemoryRNN` (an RNN or LSTM controller with a stack, queue or deque;
    ``memory_trace`` for pictures), :func:`memory_preset` (the training recipe),
    :func:`compare_checkpoints` (the side-by-side table), :func:`inspect_checkpoint`.
Benchmark
    :func:`run_bench` (the resumable Chomsky-hierarchy grid of ``wordstack seq bench``:
    cells in this process, local processes or on Dask), :func:`bench_report` (its
    Markdown report and pictures), :func:`bench_recipe`, :data:`BENCH_MODELS`,
    :func:`score_evaluation` (the paper's score from accuracy by length),
    :data:`PAPER_TABLE2`.
Memories
    :class:`NeuralStack`, :class:`NeuralQueue`, :class:`NeuralDeque` (Grefenstette et
    al. 2015; ``forward``/``backward`` over whole sequences, ``start``/``step``/
    ``backward_step`` for controllers), :data:`MEMORIES`, :data:`MEMORY_BACKENDS`.
Errors
    :class:`ModelsError` and its subclasses; :class:`TrainingInterrupted` (a
    ``KeyboardInterrupt``: training stopped by Ctrl-C or SIGTERM, checkpoint written).

Examples
--------
>>> import models                                                        # doctest: +SKIP
>>> rnn = models.RNN(activation="sigmoid", n_steps=10000).fit("add")     # doctest: +SKIP
>>> rnn.evaluate(64).overall.coarse                                      # doctest: +SKIP
1.0
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # static tools and editors follow the names; nothing is imported at run time
    from . import tasks
    from .tasks._registry import CHOMSKY_TASKS
    from ._kernels import BACKENDS, load_kernels
    from .bench._cells import score_evaluation
    from .bench._grid import GridOutcome as BenchOutcome, GridProgress as BenchProgress, run_grid as run_bench
    from .bench._paper import PAPER_TABLE2
    from .bench._recipes import BENCH_MODELS, bench_recipe
    from .bench._report import write_report as bench_report
    from .core._dropout import apply_dropout, dropout_mask
    from .core._errors import (
        CheckpointError, KernelNotBuiltError, MemoryStateError, ModelsError, TrainingDivergedError,
        TrainingInterrupted, UnknownNameError, VocabularyError)
    from .core._init import glorot_uniform, orthogonal, uniform
    from .core._optim import (
        Adam, Momentum, OPTIMIZERS, Optimizer, RMSProp, SGD, clip_grad_norm, global_norm, make_optimizer)
    from .core._params import ParamSet
    from .estimators._base import SequenceModel
    from .estimators._results import EvalProgress, Evaluation, LengthResult, blas_threads
    from .estimators._memory_model import DEFAULT_POP_BIAS, MemoryRNN
    from .estimators._recurrent import LSTM, MODELS, RNN, make_model
    from .ff._mlp import FitProgress, MLP
    from .ff._sweep import Sweep, SweepRun, fit_table, plot_sweep, sweep_learning_rates
    from .ff._tables import TABLES, Table, make_table
    from .memory._kinds import MEMORIES, MEMORY_KINDS, MemoryKind, register_memory
    from .memory._memories import MEMORY_BACKENDS, NeuralDeque, NeuralQueue, NeuralStack
    from .recurrent._cells import LSTMCell, RNNCell
    from .training._checkpoint import (
        load_model as load, read_checkpoint, register_model, save_model as save, write_checkpoint)
    from .training._curriculum import Curriculum, GrowingLengths, UniformLengths, make_curriculum
    from .training._loop import Progress, TrainState
    from .training._metrics import Metrics, correct_positions, sequence_metrics
    from .training._presets import MEMORY_PRESETS, PLAIN_BASELINE, TASK_PRESETS, memory_preset, preset
    from .workflows._checkpoints import (
        ComparisonRow, TrainOutcome, compare_checkpoints, evaluate_checkpoint, inspect_checkpoint,
        plot_checkpoint, run_checkpoint, train_checkpoint)
    from .workflows._plots import plot_training


_EXPORTS = {
    # errors
    "ModelsError": "core._errors",
    "CheckpointError": "core._errors",
    "KernelNotBuiltError": "core._errors",
    "MemoryStateError": "core._errors",
    "TrainingDivergedError": "core._errors",
    "TrainingInterrupted": "core._errors",
    "UnknownNameError": "core._errors",
    "VocabularyError": "core._errors",
    # tasks
    "CHOMSKY_TASKS": "tasks._registry",
    # memories
    "NeuralStack": "memory._memories",
    "NeuralQueue": "memory._memories",
    "NeuralDeque": "memory._memories",
    "MEMORIES": "memory._kinds",
    "MEMORY_BACKENDS": "memory._memories",
    "MemoryKind": "memory._kinds",
    "MEMORY_KINDS": "memory._kinds",
    "register_memory": "memory._kinds",
    # estimators
    "RNN": "estimators._recurrent",
    "LSTM": "estimators._recurrent",
    "MODELS": "estimators._recurrent",
    "make_model": "estimators._recurrent",
    "MemoryRNN": "estimators._memory_model",
    "DEFAULT_POP_BIAS": "estimators._memory_model",
    "SequenceModel": "estimators._base",
    "Evaluation": "estimators._results",
    "EvalProgress": "estimators._results",
    "LengthResult": "estimators._results",
    "blas_threads": "estimators._results",
    "Progress": "training._loop",
    "TrainState": "training._loop",
    # feed-forward networks on the toy tables (wordstack ff)
    "MLP": "ff._mlp",
    "FitProgress": "ff._mlp",
    "Table": "ff._tables",
    "TABLES": "ff._tables",
    "make_table": "ff._tables",
    "Sweep": "ff._sweep",
    "SweepRun": "ff._sweep",
    "fit_table": "ff._sweep",
    "sweep_learning_rates": "ff._sweep",
    "plot_sweep": "ff._sweep",
    # checkpoint workflows (wordstack seq)
    "train_checkpoint": "workflows._checkpoints",
    "evaluate_checkpoint": "workflows._checkpoints",
    "run_checkpoint": "workflows._checkpoints",
    "plot_checkpoint": "workflows._checkpoints",
    "TrainOutcome": "workflows._checkpoints",
    "compare_checkpoints": "workflows._checkpoints",
    "ComparisonRow": "workflows._checkpoints",
    "inspect_checkpoint": "workflows._checkpoints",
    "memory_preset": "training._presets",
    "MEMORY_PRESETS": "training._presets",
    "PLAIN_BASELINE": "training._presets",
    "preset": "training._presets",
    "TASK_PRESETS": "training._presets",
    "plot_training": "workflows._plots",
    # the Chomsky-hierarchy benchmark (wordstack seq bench)
    "run_bench": "bench._grid:run_grid",
    "BenchProgress": "bench._grid:GridProgress",
    "BenchOutcome": "bench._grid:GridOutcome",
    "bench_report": "bench._report:write_report",
    "bench_recipe": "bench._recipes",
    "BENCH_MODELS": "bench._recipes",
    "PAPER_TABLE2": "bench._paper",
    "score_evaluation": "bench._cells",
    # checkpoints
    "load": "training._checkpoint:load_model",
    "save": "training._checkpoint:save_model",
    "register_model": "training._checkpoint",
    "read_checkpoint": "training._checkpoint",
    "write_checkpoint": "training._checkpoint",
    # building blocks
    "ParamSet": "core._params",
    "Optimizer": "core._optim",
    "SGD": "core._optim",
    "Momentum": "core._optim",
    "RMSProp": "core._optim",
    "Adam": "core._optim",
    "OPTIMIZERS": "core._optim",
    "make_optimizer": "core._optim",
    "clip_grad_norm": "core._optim",
    "global_norm": "core._optim",
    "dropout_mask": "core._dropout",
    "apply_dropout": "core._dropout",
    "glorot_uniform": "core._init",
    "orthogonal": "core._init",
    "uniform": "core._init",
    "RNNCell": "recurrent._cells",
    "LSTMCell": "recurrent._cells",
    "Metrics": "training._metrics",
    "sequence_metrics": "training._metrics",
    "correct_positions": "training._metrics",
    "Curriculum": "training._curriculum",
    "UniformLengths": "training._curriculum",
    "GrowingLengths": "training._curriculum",
    "make_curriculum": "training._curriculum",
    "BACKENDS": "_kernels",
    "load_kernels": "_kernels",
}

__all__ = sorted(_EXPORTS) + ["tasks"]


def __getattr__(name: str):
    if name == "tasks":
        return importlib.import_module(f"{__name__}.tasks")
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
