"""Feed-forward networks on the toy tables (``wordstack ff``).

- ``_mlp.py``: :class:`~models.MLP`, full-batch backprop with the shared optimizers.
- ``_sweep.py``: learning-rate and width sweeps, and their picture.
- ``_tables.py``: the toy tables (XOR, ...).
"""
