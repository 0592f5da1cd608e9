"""Which sequence lengths to train on.

- :class:`UniformLengths`: every batch's length drawn uniformly from the valid lengths
  in [low, high] (the protocol of Grefenstette et al. 2015: train on 8-64).
- :class:`GrowingLengths`: start with short sequences and lengthen when training
  accuracy passes a threshold (the curriculum of Trask's 2016 neural-stack
  walk-through): lengths are drawn from [low, current], and ``current`` grows by
  ``step`` each time the per-symbol accuracy of a block of training batches reaches
  ``threshold``, up to ``high``.

Both draw from a ``numpy.random.Generator`` given by the caller and keep their state in
JSON-able dicts for checkpoints.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core._errors import UnknownNameError

__all__ = ["Curriculum", "UniformLengths", "GrowingLengths", "CURRICULA", "make_curriculum"]


class Curriculum:
    """Base class. ``lengths`` is the sorted array of valid lengths the task accepts."""

    name = ""

    def __init__(self, lengths: np.ndarray):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1 or self.lengths.size == 0:
            raise ValueError("a curriculum needs at least one valid length")

    @property
    def low(self) -> int:
        return int(self.lengths[0])

    @property
    def high(self) -> int:
        return int(self.lengths[-1])

    @property
    def current_max(self) -> int:
        """The longest length currently drawn."""
        return self.high

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` lengths (int64)."""
        allowed = self.lengths[self.lengths <= self.current_max]
        if allowed.size == 1:                       # one length: nothing to draw
            return np.full(n, allowed[0], dtype=np.int64)
        return allowed[rng.integers(0, allowed.size, size=n)]

    def update(self, per_symbol_accuracy: float) -> bool:
        """Report a block's training accuracy; True when the lengths changed."""
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(f"curriculum state is for {state.get('name')!r}, not {self.name!r}")


class UniformLengths(Curriculum):
    """Lengths uniform over the valid lengths in [low, high]."""

    name = "uniform"


class GrowingLengths(Curriculum):
    """Start at ``start`` and grow by ``step`` whenever training accuracy >= ``threshold``.

    Parameters
    ----------
    lengths : ndarray
        Valid lengths, sorted.
    start : int, optional
        First ``current`` maximum (default: the lowest length).
    step : int
        Growth of the maximum per promotion (>= 1).
    threshold : float
        Per-symbol training accuracy that triggers a promotion, in (0, 1].
    """

    name = "grow"

    def __init__(self, lengths, *, start: int | None = None, step: int = 4, threshold: float = 0.98):
        super().__init__(lengths)
        if isinstance(step, bool) or int(step) != step or step < 1:
            raise ValueError(f"curriculum step must be an integer >= 1, got {step!r}")
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"curriculum threshold must be in (0, 1], got {threshold!r}")
        start = self.low if start is None else int(start)
        if not self.low <= start <= self.high:
            raise ValueError(f"curriculum start must lie in {self.low}:{self.high}, got {start}")
        self.step = int(step)
        self.threshold = float(threshold)
        self.current = start

    @property
    def current_max(self) -> int:
        return self.current

    def update(self, per_symbol_accuracy: float) -> bool:
        if self.current < self.high and per_symbol_accuracy >= self.threshold:
            self.current = min(self.high, self.current + self.step)
            return True
        return False

    def state_dict(self):
        return {"name": self.name, "current": self.current}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.current = int(state["current"])


CURRICULA = {"uniform": UniformLengths, "grow": GrowingLengths}


def make_curriculum(name: str, lengths: np.ndarray, *, start: int | None = None, step: int = 4,
                    threshold: float = 0.98) -> Curriculum:
    if name == "uniform":
        return UniformLengths(lengths)
    if name == "grow":
        return GrowingLengths(lengths, start=start, step=step, threshold=threshold)
    raise UnknownNameError(f"unknown curriculum {name!r}; choose one of {', '.join(CURRICULA)}")
