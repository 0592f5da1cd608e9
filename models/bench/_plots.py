"""Pictures of a results folder: the heatmap of scores (tasks x models, the paper's
columns beside ours) and a task's accuracy by length. matplotlib (Agg) is imported only
here; pictures are written by :func:`corpus_tools.pictures.save_figure` (atomically, with
wordstack's mark: a picture wordstack drew is redrawn in place, any other file is refused)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from corpus_tools.pictures import save_figure

from ._paper import LEVEL_NAMES, PAPER_COLUMNS, PAPER_TABLE2, PAPER_VERIFIED
from ._recipes import MODEL_LABELS

__all__ = ["plot_scores", "plot_curves"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_scores(table, path: str | Path) -> Path:
    """Heatmap of the per-token score (%, max over seeds) of every task and model, the
    paper's published columns to the right, levels separated by lines."""
    plt = _pyplot()
    groups = table.level_groups()
    tasks = [t for _, members in groups for t in members]
    ours = [MODEL_LABELS[m] for m in table.models]
    paper = [f"paper\n{name}" for name in PAPER_COLUMNS.values()]
    values = np.full((len(tasks), len(ours) + len(paper)), np.nan)
    notes = [["" for _ in range(values.shape[1])] for _ in tasks]
    for i, task in enumerate(tasks):
        for j, model in enumerate(table.models):
            entry = table.cells[(task, model)]
            if entry.max is not None:
                values[i, j] = 100 * entry.max
                notes[i][j] = f"{100 * entry.max:.0f}"
            if entry.expected and entry.seeds_done < entry.expected:
                notes[i][j] = f"{notes[i][j] or '–'}\n{entry.seeds_done}/{entry.expected}"
        for j, key in enumerate(PAPER_COLUMNS, start=len(ours)):
            if key in PAPER_TABLE2.get(task, {}):
                values[i, j] = PAPER_TABLE2[task][key]
                notes[i][j] = f"{values[i, j]:.0f}"
    fig, ax = plt.subplots(figsize=(1.0 * values.shape[1] + 3.5, 0.42 * len(tasks) + 2.2), constrained_layout=True)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for i in range(len(tasks)):
        for j in range(values.shape[1]):
            text = notes[i][j] or "–"
            dark = np.isnan(values[i, j]) or values[i, j] > 60
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="black" if dark else "white")
    ax.set_xticks(range(values.shape[1]), ours + paper, fontsize=8)
    ax.set_yticks(range(len(tasks)), [t.replace("_", " ") for t in tasks], fontsize=8)
    ax.axvline(len(ours) - 0.5, color="white", linewidth=4)
    row = 0
    for level, members in groups[:-1]:
        row += len(members)
        ax.axhline(row - 0.5, color="white", linewidth=3)
    levels = ", ".join(LEVEL_NAMES[level].split(" (")[0].lower() for level, _ in groups)
    p = table.protocol
    checked = "" if PAPER_VERIFIED else " (paper: transcribed, not verified)"
    ax.set_title(f"Per-token accuracy (%), trained on {p.train_lengths[0]}-{p.train_lengths[1]}, tested on "
                 f"{p.test_lengths[0]}-{p.test_lengths[1]}: max over seeds{checked}\nrows by level: {levels}",
                 fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.6, label="%")
    try:
        return save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)


#: Test lengths averaged in the curves (a centred running mean): with a few sequences per
#: length the raw curve jumps between a few values and hides the trend.
CURVE_WINDOW = 11


def _smooth(values, window: int = CURVE_WINDOW):
    """Centred running mean of ``values`` (the ends average what they have)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    if v.size == 0 or window <= 1:
        return v
    kernel = np.ones(min(window, v.size))
    return np.convolve(v, kernel, mode="same") / np.convolve(np.ones_like(v), kernel, mode="same")


def plot_curves(table, task: str, path: str | Path) -> Path:
    """Per-token accuracy against test length for every model of ``task``: each seed a thin
    line, the best seed thick, each a running mean over :data:`CURVE_WINDOW` lengths."""
    plt = _pyplot()
    fig, (ax_tok, ax_seq) = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True, sharex=True)
    colors = plt.get_cmap("tab10")
    for k, model in enumerate(table.models):
        entry = table.cells[(task, model)]
        best = entry.best
        for result in entry.results:
            curve = result["by_length"]
            thick = result is best
            label = f"{MODEL_LABELS[model]} ({100 * result['score']:.1f})" if thick else None
            ax_tok.plot(curve["lengths"], _smooth(curve["per_token"]), color=colors(k), linewidth=1.6 if thick else 0.6,
                        alpha=1.0 if thick else 0.5, label=label)
            ax_seq.plot(curve["lengths"], _smooth(curve["whole_sequence"]), color=colors(k), linewidth=1.6 if thick else 0.6,
                        alpha=1.0 if thick else 0.5)
    for ax, what in ((ax_tok, "per-token accuracy"), (ax_seq, "whole sequences right")):
        ax.set_xlabel("test length")
        ax.set_ylabel(what)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    ax_tok.legend(fontsize=8, title="best seed (score %)", title_fontsize=8)
    fig.suptitle(f"{task.replace('_', ' ')}: accuracy by length (running mean over {CURVE_WINDOW} "
                 "lengths; best seed thick, others thin)", fontsize=10)
    try:
        return save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)
