"""models: numpy sequence models with Cython inner loops (RNN, LSTM; the neural stack,
queue and deque build on them).

Estimators
    :class:`RNN`, :class:`LSTM` (``fit(task)``, ``predict``, ``predict_proba``,
    ``score``, ``evaluate``, ``save``), :func:`make_model`, :func:`load` (any
    checkpoint), :data:`MODELS`, :class:`SequenceModel` (the base class),
    :class:`Evaluation`, :class:`LengthResult`, :class:`Progress`.
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
Memories
    :class:`NeuralStack`, :class:`NeuralQueue`, :class:`NeuralDeque` (Grefenstette et
    al. 2015; ``forward``/``backward`` over whole sequences, ``start``/``step``/
    ``backward_step`` for controllers), :data:`MEMORIES`, :data:`MEMORY_BACKENDS`.
Errors
    :class:`ModelsError` and its subclasses.

Examples
--------
>>> import models                                                        # doctest: +SKIP
>>> rnn = models.RNN(activation="sigmoid", n_steps=10000).fit("add")     # doctest: +SKIP
>>> rnn.evaluate(64).overall.coarse                                      # doctest: +SKIP
1.0
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # errors
    "ModelsError": "_errors",
    "CheckpointError": "_errors",
    "KernelNotBuiltError": "_errors",
    "MemoryStateError": "_errors",
    "TrainingDivergedError": "_errors",
    "UnknownNameError": "_errors",
    "VocabularyError": "_errors",
    # memories
    "NeuralStack": "memory",
    "NeuralQueue": "memory",
    "NeuralDeque": "memory",
    "MEMORIES": "memory",
    "MEMORY_BACKENDS": "memory",
    # estimators
    "RNN": "_recurrent",
    "LSTM": "_recurrent",
    "MODELS": "_recurrent",
    "make_model": "_recurrent",
    "MemoryRNN": "_memory_model",
    "DEFAULT_POP_BIAS": "_memory_model",
    "SequenceModel": "_base",
    "Evaluation": "_base",
    "LengthResult": "_base",
    "blas_threads": "_base",
    "Progress": "_training",
    "TrainState": "_training",
    # feed-forward networks on the toy tables (wordstack ff)
    "MLP": "_mlp",
    "FitProgress": "_mlp",
    "Table": "_tables",
    "TABLES": "_tables",
    "make_table": "_tables",
    "Sweep": "_mlp_sweep",
    "SweepRun": "_mlp_sweep",
    "fit_table": "_mlp_sweep",
    "sweep_learning_rates": "_mlp_sweep",
    "plot_sweep": "_mlp_sweep",
    # checkpoint workflows (wordstack seq)
    "train_checkpoint": "_workflow",
    "evaluate_checkpoint": "_workflow",
    "run_checkpoint": "_workflow",
    "plot_checkpoint": "_workflow",
    "TrainOutcome": "_workflow",
    "compare_checkpoints": "_workflow",
    "ComparisonRow": "_workflow",
    "inspect_checkpoint": "_workflow",
    "memory_preset": "_presets",
    "MEMORY_PRESETS": "_presets",
    "PLAIN_BASELINE": "_presets",
    "preset": "_presets",
    "TASK_PRESETS": "_presets",
    "plot_training": "_plot",
    # checkpoints
    "load": "_checkpoint:load_model",
    "save": "_checkpoint:save_model",
    "register_model": "_checkpoint",
    "read_checkpoint": "_checkpoint",
    "write_checkpoint": "_checkpoint",
    # building blocks
    "ParamSet": "_params",
    "Optimizer": "_optim",
    "SGD": "_optim",
    "Momentum": "_optim",
    "RMSProp": "_optim",
    "Adam": "_optim",
    "OPTIMIZERS": "_optim",
    "make_optimizer": "_optim",
    "clip_grad_norm": "_optim",
    "global_norm": "_optim",
    "dropout_mask": "_dropout",
    "apply_dropout": "_dropout",
    "glorot_uniform": "_init",
    "orthogonal": "_init",
    "uniform": "_init",
    "RNNCell": "_cells",
    "LSTMCell": "_cells",
    "Metrics": "_metrics",
    "sequence_metrics": "_metrics",
    "correct_positions": "_metrics",
    "Curriculum": "_curriculum",
    "UniformLengths": "_curriculum",
    "GrowingLengths": "_curriculum",
    "make_curriculum": "_curriculum",
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
