"""The Chomsky-hierarchy benchmark grid of Delétang et al. (ICLR 2023): what
``wordstack seq bench`` calls.

- ``_recipes.py``: the models of the grid, the training recipe and budget of each
  (task, model), the test protocol (lengths 41-500, sequences per length, test seed).
- ``_cells.py``: one cell: train (or resume) into its checkpoint, test on every length,
  the result JSON (the paper's score, whole-sequence share, the curve by length).
- ``_folder.py``: the results folder: its marker, lock, and which cells are to run.
- ``_workers.py``: where cells run: this process, local worker processes, Dask.
- ``_grid.py``: :func:`~models.run_bench`, the resumable grid runner.
- ``_report.py`` and ``_plots.py``: the Markdown report beside the paper's Table 2
  (``_paper.py``), the heatmap and the curves by length.
"""
