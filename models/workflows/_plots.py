"""Pictures of a trained model: the learning curve (loss and accuracy against steps) and
accuracy by length, with the training lengths shaded. matplotlib (Agg) is imported
only here."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from corpus_tools.pictures import save_figure

__all__ = ["plot_training"]


def plot_training(model, evaluation, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write a picture with the learning curve of ``model`` and ``evaluation`` by length.

    Parameters
    ----------
    model : SequenceModel
        A fitted model (its ``history_`` is the learning curve).
    evaluation : Evaluation
        From ``model.evaluate(...)``.
    path : path-like
        Output picture, .png, .svg or .pdf (:func:`corpus_tools.pictures.save_figure`: written
        atomically; an existing file is replaced only if wordstack drew it).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    history = model.history_
    fig, (ax_curve, ax_len) = plt.subplots(1, 2, figsize=(12, 5.0), constrained_layout=True)
    kind = type(model).__name__
    task = model.task_
    fig.suptitle(title or f"{kind} (hidden {model.hidden_size}) on {task.name}: "
                         f"{model.train_state_.step if model.train_state_ else 0:,} steps x batch {model.batch_size}")

    # learning curve
    if history:
        steps = np.array([h["step"] for h in history])
        loss = np.array([h["loss_per_symbol"] for h in history])
        ax_curve.plot(steps, loss, color="tab:red", lw=1.4, label="loss per symbol")
        ax_curve.set_yscale("log")
        ax_curve.set_xlabel("training step")
        ax_curve.set_ylabel("loss per target symbol (log)", color="tab:red")
        ax_curve.tick_params(axis="y", labelcolor="tab:red")
        ax_acc = ax_curve.twinx()
        ax_acc.plot(steps, [h["per_symbol"] for h in history], color="tab:blue", lw=1.2, label="per-symbol acc.")
        ax_acc.plot(steps, [h["coarse"] for h in history], color="tab:green", lw=1.2, label="coarse acc.")
        if any(h["max_length"] != history[0]["max_length"] for h in history):
            top = max(h["max_length"] for h in history)
            ax_acc.plot(steps, [h["max_length"] / top for h in history], color="gray", ls=":", lw=1,
                        label=f"curriculum max length / {top}")
        ax_acc.set_ylim(-0.02, 1.02)
        ax_acc.set_ylabel("training accuracy")
        lines = ax_curve.get_lines() + ax_acc.get_lines()
        ax_curve.legend(lines, [ln.get_label() for ln in lines], loc="upper center", bbox_to_anchor=(0.5, -0.14),
                        ncol=len(lines), fontsize=8, frameon=False)
    else:
        ax_curve.text(0.5, 0.5, "no training history", ha="center", va="center", transform=ax_curve.transAxes)
    ax_curve.set_title("learning curve (training batches)")
    ax_curve.grid(alpha=0.3)

    # accuracy by length
    results = evaluation.results
    lengths = np.array([r.length for r in results])
    ax_len.plot(lengths, [r.metrics.per_symbol for r in results], "o-", ms=3, color="tab:blue", label="per-symbol")
    ax_len.plot(lengths, [r.metrics.fine for r in results], "s-", ms=3, color="tab:orange", label="fine")
    ax_len.plot(lengths, [r.metrics.coarse for r in results], "^-", ms=3, color="tab:green", label="coarse")
    lo, hi = model.train_state_.config.get("lengths", [None, None]) if model.train_state_ else (None, None)
    if lo is not None:
        ax_len.axvspan(lo - 0.5, hi + 0.5, color="gold", alpha=0.25, label=f"trained on {lo}-{hi}")
    ax_len.set_ylim(-0.02, 1.02)
    ax_len.set_xlabel(f"{task.length_name} (test sequences)")
    ax_len.set_ylabel("accuracy")
    n = results[0].metrics.n_sequences if results else 0
    ax_len.set_title(f"accuracy by {task.length_name} ({n} test sequences each)")
    ax_len.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, frameon=False)
    ax_len.grid(alpha=0.3)

    try:
        return save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)
