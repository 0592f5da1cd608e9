"""Recurrent cells: the RNN and LSTM forward steps and BPTT, each kernel beside its numpy twin.

- ``_rnn.pyx`` / ``_rnn_ref.py``: tanh/sigmoid RNN steps, whole-sequence forward and
  BPTT, :class:`RNNKernel`; ``_rnn_ref.py`` also holds ``SequenceKernelBase``, the
  contract of every whole-model kernel (``bind``, ``loss_and_grad``, ``forward``).
- ``_lstm.pyx`` / ``_lstm_ref.py``: the same for the LSTM (gate blocks [i, f, o, g]).
- ``_seqkernel.pyx``: the Cython base of the whole-model kernels (batches, heads,
  optimizer steps without the GIL); ``_heads_ref.py``: softmax/sigmoid output losses.
- ``_kernels.py``: :func:`rnn_kernels`, :func:`lstm_kernels` — a backend's modules.
- ``_cells.py``: :class:`~models.RNNCell`, :class:`~models.LSTMCell`, step by step,
  for controllers.
"""
