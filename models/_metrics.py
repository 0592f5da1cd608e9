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

__all__ = ["Metrics", "correct_positions", "sequence_metrics", "predictions_from_probs"]


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
    target = np.asarray(mask) > 0
    if correct.shape != target.shape:
        raise ValueError(f"correct {correct.shape} and mask {target.shape} must have one shape")
    if correct.ndim == 3:                                    # (n, T, B) -> (T, n*B)
        correct = correct.transpose(1, 0, 2).reshape(correct.shape[1], -1)
        target = target.transpose(1, 0, 2).reshape(target.shape[1], -1)
    n_targets = target.sum(axis=0)                           # (B,)
    has_target = n_targets > 0
    wrong = target & ~correct
    right_before_first_error = (target & (np.cumsum(wrong, axis=0) == 0)).sum(axis=0)
    fine = np.where(has_target, right_before_first_error / np.maximum(n_targets, 1), 1.0)
    return Metrics(n_sequences=int(correct.shape[1]), n_symbols=int(n_targets.sum()),
                   correct_symbols=float((target & correct).sum()),
                   correct_sequences=float((~wrong.any(axis=0)).sum()),
                   fine_sum=float(fine.sum()), loss_sum=float(loss_sum))
