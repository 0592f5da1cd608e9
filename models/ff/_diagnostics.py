"""Training diagnostics of the MLP: how often updates change direction, and runs of
epochs with the loss above its start (the divergence rule)."""
from __future__ import annotations

import numpy as np

__all__ = ["DirectionChanges"]


class DirectionChanges:
    """How often each parameter's update changes direction.

    The update of epoch e is ``u_e = theta_{e+1} - theta_e``; its direction is
    ``sign(u_e)``. A change is counted when an update moves a parameter the opposite way
    to its last non-zero update (zero updates -- a dropped unit, a saturated one -- are
    no direction and are skipped). Too small a learning rate gives almost no changes,
    too large a one makes weights jump back and forth (Trask's gradient-descent tutorial
    counts the same for plain gradient descent, where ``sign(u_e) = -sign(gradient)``).

    Parameters
    ----------
    size : int
        Number of parameters P.
    """

    def __init__(self, size: int):
        self.counts = np.zeros(size, dtype=np.int64)
        self.last = np.zeros(size)                  # sign of each parameter's last non-zero update

    def update(self, snapshots: np.ndarray) -> None:
        """Count the changes along ``snapshots`` (k + 1, P): theta before a run of k epochs
        and after each of them."""
        if snapshots.shape[0] < 2:
            return
        signs = np.sign(np.diff(snapshots, axis=0))                             # (k, P)
        signs = np.concatenate([self.last[None], signs])                        # (k + 1, P), row 0 = carried
        rows = np.arange(signs.shape[0])[:, None]
        last_nonzero = np.maximum.accumulate(np.where(signs != 0, rows, 0), axis=0)
        filled = np.take_along_axis(signs, last_nonzero, axis=0)                # zeros take the last direction
        self.counts += np.count_nonzero(filled[1:] * filled[:-1] < 0, axis=0)
        self.last = filled[-1].copy()


def _streak_above(losses: np.ndarray, initial: float, streak: int, patience: int) -> tuple[int, int | None]:
    """Run lengths of ``losses > initial`` continued from ``streak`` epochs before the
    block: (the run length after the block, the first index where it reaches
    ``patience``, or None)."""
    above = losses > initial
    index = np.arange(losses.size)
    # index of the last epoch at or below the initial loss, up to each position
    # (-1 - streak stands for the run carried in from the previous block)
    last_below = np.maximum.accumulate(np.where(above, -1 - streak, index))
    runs = index - last_below
    hits = np.flatnonzero(runs >= patience)
    return int(runs[-1]), (int(hits[0]) if hits.size else None)
