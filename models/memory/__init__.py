"""The differentiable Neural Stack, Queue and DeQue (Grefenstette et al. 2015).

- ``_kinds.py``: **the registry of memory kinds** (class, ends, initial biases,
  recipe changes per task); the rest of the package asks it.
- ``_memories.py``: :class:`~models.NeuralStack`, :class:`~models.NeuralQueue`,
  :class:`~models.NeuralDeque`: their inputs, and where their kernels are.
- ``_base.py``: what every memory shares (validation, buffers, passes, results).
- ``_memory_ref.py``: the numpy reference with the equations (pop gradients
  included); ``_memory.pyx`` / ``_memory.pxd``: the Cython kernels, and the
  ``MEMORY_OPS`` table of per-step C functions the controller kernel calls.
"""
