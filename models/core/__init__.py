"""The shared core of :mod:`models`: what every part builds on.

- ``_errors.py``: :class:`~models.ModelsError` and its subclasses.
- ``_backend.py``: the ``backend`` choices and :func:`compiled_kernels`, the one
  place a missing compiled kernel becomes :class:`~models.KernelNotBuiltError`.
- ``_params.py``: :class:`~models.ParamSet`, named parameters in one flat vector.
- ``_hyper.py``: hyperparameter checks, ``get_params``/``set_params``/``__repr__``.
- ``_init.py``: weight initialisers; ``_dropout.py``: inverted dropout.
- ``_optim.py``: SGD, momentum, RMSProp, Adam and clipping; their update kernel
  ``_updates.pyx`` beside its numpy twin ``_updates_ref.py``.
- ``_linalg.pxd``, ``_simd.h``: BLAS and vectorized loops for every Cython kernel.
"""
