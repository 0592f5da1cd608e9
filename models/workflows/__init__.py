"""What ``wordstack seq`` calls: library functions over checkpoint files.

- ``_checkpoints.py``: train, evaluate, run, compare and inspect checkpoints.
- ``_plots.py``: learning curves and accuracy by length; ``_inspect.py``: pictures of a
  memory's push/pop and cell strengths.
"""
