"""A picture of what a memory model does with one input (``wordstack seq inspect``):
push and pop strengths per step, and the strength of every memory cell after every
step, so one sees whether the controller pushes during the source and pops during the
target. matplotlib (Agg) is imported only here."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from corpus_tools.pictures import save_figure

__all__ = ["plot_memory_trace"]


def _step_labels(model, batch, predictions) -> tuple[list[str], list[str]]:
    """Per step: the input symbol ("|" for the separator, "" during the target) and the
    predicted output symbol on target steps."""
    task = model.task_
    symbols = task.symbols
    out_symbols = list(getattr(task, "output_symbols", symbols))      # the Chomsky tasks' differ from the inputs'
    V = task.n_symbols
    x = batch.inputs[:, 0]                                           # (T, I)
    inputs = []
    for row in x:
        if row[task.separator] > 0.5:
            inputs.append("|")
        elif row[:V].sum() > 0.5:
            inputs.append(symbols[int(row[:V].argmax())])
        else:
            inputs.append("")
    outputs = [out_symbols[int(p)] if batch.mask[t, 0] > 0 else "" for t, p in enumerate(predictions)]
    return inputs, outputs


def plot_memory_trace(model, batch, trace: dict, info: dict, path: str | os.PathLike) -> Path:
    """Write the picture of :func:`models.inspect_checkpoint` (see there) with
    :func:`corpus_tools.pictures.save_figure`: .png, .svg or .pdf, by the extension of ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    push, pop, strengths = trace["push"], trace["pop"], trace["strengths"]        # (T, P), (T, P), (T, L)
    T, P = push.shape
    predictions = trace["probs"].argmax(axis=1)
    inputs, outputs = _step_labels(model, batch, predictions)
    two_ended = P == 2                 # the deque: pushes and pops at both ends
    # the cells that ever hold a visible strength (the deque's 2T cells run from the bottom end up)
    used = np.flatnonzero((strengths > 0.02).any(axis=0))
    lo, hi = (int(used[0]), int(used[-1]) + 1) if used.size else (0, strengths.shape[1])
    cells = strengths[:, lo:hi]
    ops = np.concatenate([push, pop], axis=1).T                                   # (2P, T)
    op_names = (["push top", "push bottom", "pop top", "pop bottom"] if two_ended else ["push", "pop"])

    width = min(22.0, max(8.0, 0.16 * T + 3.0))
    fig, (ax_ops, ax_cells) = plt.subplots(
        2, 1, figsize=(width, 2.2 + 0.25 * len(op_names) + min(6.0, 0.05 * cells.shape[1] + 2.5)),
        sharex=True, gridspec_kw={"height_ratios": [0.6 + 0.25 * len(op_names), min(6.0, 0.05 * cells.shape[1] + 2.5)]},
        constrained_layout=True)
    right = info["output"] == info["target"]
    fig.suptitle(f"{model.kind} on {model.task_.name}: input {info['input']!r}\n"
                 f"output {info['output']!r} ({'right' if right else 'target ' + repr(info['target'])})",
                 fontsize=10)

    im = ax_ops.imshow(ops, aspect="auto", cmap="magma", vmin=0.0, vmax=1.0, interpolation="nearest",
                       extent=(-0.5, T - 0.5, len(op_names) - 0.5, -0.5))
    ax_ops.set_yticks(range(len(op_names)))
    ax_ops.set_yticklabels(op_names, fontsize=8)
    ax_ops.set_title("push and pop strengths per step", fontsize=9)

    ax_cells.imshow(cells.T, aspect="auto", cmap="magma", vmin=0.0, vmax=1.0, origin="lower",
                    interpolation="nearest", extent=(-0.5, T - 0.5, lo - 0.5, hi - 0.5))
    if two_ended:                 # cell C + t is pushed at the top at step t, C - 1 - t at the bottom
        C = strengths.shape[1] // 2
        ax_cells.axhline(C - 0.5, color="white", lw=0.6, ls=":")
        ax_cells.set_ylabel("cell (bottom pushes below the dotted line, top pushes above)", fontsize=8)
    else:
        ax_cells.set_ylabel("cell (pushed at step)", fontsize=8)
    ax_cells.set_title("strength of each memory cell after each step", fontsize=9)
    ax_cells.yaxis.set_major_locator(MaxNLocator(integer=True))
    sep = [t for t, s in enumerate(inputs) if s == "|"]
    for ax in (ax_ops, ax_cells):
        for t in sep:
            ax.axvline(t, color="white", lw=0.8, ls="--")
    ax_cells.set_xticks(range(T))
    ax_cells.set_xticklabels([f"{i}\n{o}" for i, o in zip(inputs, outputs)], fontsize=6 if T > 60 else 7,
                             family="monospace")
    ax_cells.set_xlabel("step: input symbol (top line, | = separator) and predicted output (bottom line)",
                        fontsize=8)
    fig.colorbar(im, ax=[ax_ops, ax_cells], shrink=0.6, label="strength")

    try:
        return save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)
