"""Accuracy of sequence predictions, as in Grefenstette et al. 2015 (section 4.2):

- per-symbol accuracy: the fraction of target positions predicted right;
- coarse accuracy: the fraction of sequences whose whole target is right;
- fine accuracy: per sequence, the fraction of the target predicted right before the
  first error, averaged over sequences.

A position of a sigmoid (multi-bit) output counts as right when every bit is.
:class:`Metrics` keeps sums, so results of several batches merge exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Metrics", "correct_positions", "sequence_metrics", "batch_metric_sums", "metrics_from_sums",
           "predictions_from_probs"]


@dataclass
class Metrics:
    """Summed counts; the accuracies are properties.

    Attributes
    ----------
    n_sequences, n_symbols : int
    correct_symbols : float
        Target positions predicted right.
    correct_sequences : float
        Sequences whose whole target is right.
    fine_sum : float
        Sum over sequences of the fraction right before the first error.
    loss_sum : float
        Sum of the per-batch losses (scaled as the model's loss), when known.
    """

    n_sequences: int = 0
    n_symbols: int = 0
    correct_symbols: float = 0.0
    correct_sequences: float = 0.0
    fine_sum: float = 0.0
    loss_sum: float = 0.0

    @property
    def per_symbol(self) -> float:
        return self.correct_symbols / self.n_symbols if self.n_symbols else float("nan")

    @property
    def coarse(self) -> float:
        return self.correct_sequences / self.n_sequences if self.n_sequences else float("nan")

    @property
    def fine(self) -> float:
        return self.fine_sum / self.n_sequences if self.n_sequences else float("nan")

    def merge(self, other: "Metrics") -> "Metrics":
        return Metrics(self.n_sequences + other.n_sequences, self.n_symbols + other.n_symbols,
                       self.correct_symbols + other.correct_symbols,
                       self.correct_sequences + other.correct_sequences,
                       self.fine_sum + other.fine_sum, self.loss_sum + other.loss_sum)

    def to_dict(self) -> dict:
        return {"n_sequences": self.n_sequences, "n_symbols": self.n_symbols,
                "correct_symbols": self.correct_symbols, "correct_sequences": self.correct_sequences,
                "fine_sum": self.fine_sum, "loss_sum": self.loss_sum}

    @classmethod
    def from_dict(cls, d: dict) -> "Metrics":
        return cls(**{k: d[k] for k in cls().to_dict()})

    def summary(self) -> dict:
        """The accuracies (per_symbol, coarse, fine) and the counts, JSON-ready."""
        return {"per_symbol": self.per_symbol, "coarse": self.coarse, "fine": self.fine,
                "n_sequences": self.n_sequences, "n_symbols": self.n_symbols}


def predictions_from_probs(head: str, probs: np.ndarray) -> np.ndarray:
    """Class ids ``probs.argmax(-1)`` (softmax) or bits ``probs > 0.5`` (sigmoid)."""
    if head == "softmax":
        return probs.argmax(axis=-1)
    return (probs > 0.5).astype(np.int64)


def correct_positions(head: str, probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Boolean array of shape ``probs.shape[:-1]``: is each position predicted right?"""
    if head == "softmax":
        return probs.argmax(axis=-1) == targets
    return ((probs > 0.5) == (targets > 0.5)).all(axis=-1)


def batch_metric_sums(correct: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per-batch sums for a block: arrays of shape (n,) named like :class:`Metrics` fields.

    Parameters
    ----------
    correct : bool ndarray of shape (n, T, B)
    mask : ndarray of shape (n, T, B); positions with mask > 0 are targets.
    """
    correct = np.asarray(correct, dtype=bool)
    target = np.asarray(mask) > 0
    if correct.shape != target.shape or correct.ndim != 3:
        raise ValueError(f"correct {correct.shape} and mask {target.shape} must have one (n, T, B) shape")
    n_targets = target.sum(axis=1)                                          # (n, B)
    wrong = target & ~correct
    right_before_first_error = (target & (np.cumsum(wrong, axis=1) == 0)).sum(axis=1)
    fine = np.where(n_targets > 0, right_before_first_error / np.maximum(n_targets, 1), 1.0)
    return {"n_sequences": np.full(correct.shape[0], correct.shape[2], dtype=np.int64),
            "n_symbols": n_targets.sum(axis=1),
            "correct_symbols": (target & correct).sum(axis=(1, 2)).astype(np.float64),
            "correct_sequences": (~wrong.any(axis=1)).sum(axis=1).astype(np.float64),
            "fine_sum": fine.sum(axis=1)}


def metrics_from_sums(sums: dict[str, np.ndarray], lo: int = 0, hi: int | None = None,
                      loss_sum: float = 0.0) -> Metrics:
    """:class:`Metrics` of the batches ``lo:hi`` of :func:`batch_metric_sums` output."""
    sl = slice(lo, hi)
    return Metrics(n_sequences=int(sums["n_sequences"][sl].sum()), n_symbols=int(sums["n_symbols"][sl].sum()),
                   correct_symbols=float(sums["correct_symbols"][sl].sum()),
                   correct_sequences=float(sums["correct_sequences"][sl].sum()),
                   fine_sum=float(sums["fine_sum"][sl].sum()), loss_sum=float(loss_sum))


def sequence_metrics(correct: np.ndarray, mask: np.ndarray, loss_sum: float = 0.0) -> Metrics:
    """Metrics from per-position correctness.

    Parameters
    ----------
    correct : bool ndarray of shape (T, B) or (n, T, B)
    mask : ndarray of the same shape; positions with mask > 0 are targets.
    loss_sum : float, optional
        Carried into the result.
    """
    correct = np.asarray(correct, dtype=bool)
    mask = np.asarray(mask)
    if correct.shape != mask.shape:
        raise ValueError(f"correct {correct.shape} and mask {mask.shape} must have one shape")
    if correct.ndim == 2:
        correct, mask = correct[None], mask[None]
    return metrics_from_sums(batch_metric_sums(correct, mask), loss_sum=loss_sum)
