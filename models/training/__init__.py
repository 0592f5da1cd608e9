"""Training: the loop, the curricula and their end-of-block rules, checkpoints, metrics.

- ``_loop.py``: :func:`run_training` (data blocks, kernel steps, learning curve,
  divergence, Ctrl-C and periodic checkpoints), :class:`TrainState`, :class:`Progress`.
- ``_curriculum.py``: which lengths to train on (uniform, growing) and **what changes at
  the end of a data block**: the curriculum steps, the restart rule, the final learning
  rate and strength sharpening (:class:`BlockEndRules`), called by the loop.
- ``_checkpoint.py``: the checkpoint file format (zip of meta.json + .npy, no pickle).
- ``_metrics.py``: per-symbol, coarse and fine accuracy.
- ``_presets.py``: the training recipes of ``wordstack seq train`` per task and memory.
"""
