"""The sequence-model estimators (``fit(task)``, ``predict``, ``evaluate``, ``save``).

- ``_base.py``: :class:`~models.SequenceModel`, the base class (hyperparameters, fit
  through :mod:`models.training`, inference, checkpoints).
- ``_results.py``: what ``evaluate`` returns (:class:`~models.Evaluation`, by length),
  its progress records, the ``lengths`` parser, :func:`~models.blas_threads`.
- ``_recurrent.py``: :class:`~models.RNN`, :class:`~models.LSTM`.
- ``_memory_model.py``: :class:`~models.MemoryRNN`, an RNN/LSTM controller with a
  stack, queue or deque; its whole-model kernel ``_memory_rnn.pyx`` beside the numpy
  twin ``_memory_rnn_ref.py`` (the equations and the backward order).
"""
