"""Which sequence lengths to train on, and what changes at the end of each data block.

- :class:`UniformLengths`: every batch's length drawn uniformly from the valid lengths
  in [low, high] (the protocol of Grefenstette et al. 2015: train on 8-64).
- :class:`GrowingLengths`: start with short sequences and lengthen when training
  accuracy passes a threshold (the curriculum of Trask's 2016 neural-stack
  walk-through): lengths are drawn from [low, current], and ``current`` grows by
  ``step`` each time the per-symbol accuracy of a block of training batches reaches
  ``threshold``, up to ``high``.

Both draw from a ``numpy.random.Generator`` given by the caller and keep their state in
JSON-able dicts for checkpoints.

At the end of every data block the training loop (:func:`models.training._loop.run_training`)
calls the end-of-block decisions, in this order: :class:`BlockEndRules` (the restart
rule, the final learning rate and its decay, strength sharpening; the memory models'
options), then :meth:`Curriculum.update` (grow). They are decided from the learning
curve only, at block ends, so they are reproducible and survive checkpoints.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core._errors import UnknownNameError

__all__ = ["Curriculum", "UniformLengths", "GrowingLengths", "CURRICULA", "make_curriculum", "BlockEndRules"]

logger = logging.getLogger(__name__)


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


@dataclass
class BlockEndRules:
    """The decisions taken at the end of a data block besides the curriculum's growth.

    - The restart rule (``restart_after``): when a run (or its latest restart) has
      trained ``restart_after`` sequences and has not yet learned the shortest lengths
      (no learning-curve record at ``threshold`` per-symbol accuracy, and a growing
      curriculum still at ``start_length``), ``restart(step)`` draws fresh parameters
      and clears the optimizer; ``restarts`` lists the steps at which that happened.
    - The final phase: from the first block end at the longest lengths (``high``, with a
      growing curriculum), or from the first block end at or after ``final_phase_at *
      n_steps`` (any curriculum) if that comes first, the learning rate is
      ``final_learning_rate`` (``"linear"`` ``final_decay``: falling linearly to about 0
      at ``n_steps``) and the kernel's strength sharpening is ``sharpen``.

    The loop calls :meth:`block_end` at every block end before the last step; a resumed
    fit calls it once at its start for the decisions a finished fit left pending.
    """

    learning_rate: float
    n_steps: int
    batch_size: int
    threshold: float
    grow: bool
    start_length: int
    high: int
    restart: Callable[[int], None]
    restarts: list[int] = field(default_factory=list)
    restart_after: int | None = None
    final_learning_rate: float | None = None
    final_decay: str = "constant"
    sharpen: float = 0.0
    #: Fraction of ``n_steps`` from which the final phase starts whatever the curriculum (None: never by steps).
    final_phase_at: float | None = None
    #: The sharpening in force (0 before the final phase); kernels made later take it.
    sharpen_now: float = 0.0

    def block_end(self, state, step: int, optimizer=None, kernel=None) -> None:
        """Decide at ``step`` (or, resuming inside a block, at the last block end before
        it), from ``state.history``; set the optimizer's learning rate and the kernel's
        ``sharpen``."""
        if state.block_steps <= 0:
            return
        at_end = step % state.block_steps == 0
        step -= step % state.block_steps
        if at_end and self.restart_after is not None:
            self._maybe_restart(state, step)
        reached = self._final_phase_start(state, step)
        self.sharpen_now = float(self.sharpen) if reached is not None else 0.0
        if kernel is not None:
            kernel.sharpen = self.sharpen_now
        if optimizer is None:
            return
        lr = self.learning_rate
        if self.final_learning_rate is not None and reached is not None:
            lr = self.final_learning_rate
            if self.final_decay == "linear" and self.n_steps > reached:
                lr *= max(self.n_steps - step, 1) / (self.n_steps - reached)
        if optimizer.learning_rate != lr:
            if lr != self.learning_rate:
                logger.info("learning rate %g from step %d (trained at the longest lengths)", lr, step)
            optimizer.learning_rate = lr

    def _final_phase_start(self, state, step: int) -> int | None:
        """The step the final phase started at (up to ``step``), or None (not yet).

        The first block end since the latest restart at the longest lengths (a growing
        curriculum), or the first block end at or after ``final_phase_at * n_steps``,
        whichever comes first.
        """
        starts = []
        if self.final_phase_at is not None:
            timed = math.ceil(self.final_phase_at * self.n_steps / state.block_steps) * state.block_steps
            if 0 < timed <= step:
                starts.append(timed)
        if self.grow:
            since = self.restarts[-1] if self.restarts else 0
            grown = next((r["step"] for r in state.history if since < r["step"] <= step
                          and r["step"] % state.block_steps == 0 and r["max_length"] >= self.high), None)
            if grown is not None:
                starts.append(grown)
        return min(starts) if starts else None

    def _maybe_restart(self, state, step: int) -> None:
        since = self.restarts[-1] if self.restarts else 0
        if (step - since) * self.batch_size < self.restart_after:
            return
        for record in state.history:          # a block at the threshold has a record at it
            if record["step"] > since and (record["per_symbol"] >= self.threshold
                                           or (self.grow and record["max_length"] > self.start_length)):
                return
        self.restart(step)
