"""The training loop shared by every sequence model: data in blocks, curriculum,
optimizer steps, metrics, divergence checks, checkpoints and exact resumption.

How a run is laid out (what makes it reproducible and resumable):

- Steps are grouped in *blocks* of ``block_steps`` optimizer steps. Block ``j`` draws
  its lengths (from the curriculum) and its data from ``default_rng([seed, 1, j])``
  and its dropout masks from ``default_rng([seed, 2, j])``, so any block can be
  regenerated from the seed alone. The curriculum changes only between blocks.
- A checkpoint records the block, the offset inside it, the parameters, the optimizer
  state and the partial metrics of the current block. Resuming regenerates the block,
  replays the dropout draws of the steps already done, and continues: an interrupted
  and resumed run ends with exactly the weights of an uninterrupted one.
- Per step the loop makes two calls (the model kernel's ``loss_and_grad`` and the
  optimizer's ``step``); metrics are computed per block from the probabilities the
  kernel wrote, vectorised.

Divergence: a NaN or infinite loss or gradient stops training at once (the parameters
are not updated with it); so does a block whose loss per target symbol exceeds
``divergence_factor`` times the loss per symbol of the very first batch. Either raises
:class:`models.TrainingDivergedError`; the last checkpoint on disk is left as it was.

Ctrl-C (SIGINT) and SIGTERM (what a job scheduler sends before it kills) are deferred to
the end of the current run of kernel steps, a checkpoint is written (when a path was
given), then :class:`models.TrainingInterrupted` (a ``KeyboardInterrupt`` that says which
signal) is raised. A second signal stops at once.
"""
from __future__ import annotations

import logging
import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._curriculum import BlockEndRules, Curriculum
from ..core._dropout import dropout_mask
from ..core._errors import TrainingDivergedError, TrainingInterrupted
from ._metrics import Metrics, batch_metric_sums, correct_positions

__all__ = ["TrainState", "Progress", "run_training", "block_steps_for"]

logger = logging.getLogger(__name__)

_DATA_STREAM = 1
_MAX_HISTORY = 4000
_DROPOUT_STREAM = 2


def block_steps_for(batch_size: int, max_steps_per_sequence: int, rows: int = 1 << 17) -> int:
    """Optimizer steps per data block: about ``rows`` time-step rows of data, 1 to 1024 steps."""
    return int(max(1, min(1024, rows // max(1, batch_size * max_steps_per_sequence))))


@dataclass
class TrainState:
    """Where a training run stands (saved in checkpoints)."""

    step: int = 0
    block: int = 0
    offset: int = 0
    block_steps: int = 0
    seconds: float = 0.0
    config: dict = field(default_factory=dict)
    curriculum: dict = field(default_factory=dict)
    log_steps: int = 1
    first_loss_per_symbol: float | None = None
    partial: dict = field(default_factory=dict)
    block_partial: dict = field(default_factory=dict)
    history: list = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "block": self.block, "offset": self.offset,
                "block_steps": self.block_steps, "seconds": self.seconds, "config": self.config,
                "curriculum": self.curriculum,
                "log_steps": self.log_steps, "first_loss_per_symbol": self.first_loss_per_symbol,
                "partial": self.partial, "block_partial": self.block_partial,
                "history": self.history}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "TrainState":
        return cls(step=int(d["step"]), block=int(d["block"]), offset=int(d["offset"]),
                   block_steps=int(d["block_steps"]), seconds=float(d["seconds"]),
                   config=dict(d.get("config") or {}), curriculum=dict(d.get("curriculum") or {}),
                   log_steps=int(d.get("log_steps", 1)), first_loss_per_symbol=d.get("first_loss_per_symbol"),
                   partial=dict(d.get("partial") or {}), block_partial=dict(d.get("block_partial") or {}),
                   history=list(d.get("history") or []))


@dataclass
class Progress:
    """What a training callback receives after each learning-curve record (every
    ``log_steps`` steps: an eighth of a data block, at most 128 and about a fiftieth of
    the run).

    ``loss`` is the mean loss per sequence over those steps (the models sum the loss
    over time steps), ``loss_per_symbol`` the mean per target symbol; accuracies are
    those of the training batches of those steps.

    Callbacks run when a data block ends (or training stops), once for each record of
    the block: the model's parameters at that moment are those at the end of the block,
    which can be later than ``step``. To test a model at exact step counts, train in
    chunks instead (``set_params(n_steps=...)`` and ``fit(task, resume=True)`` continue
    exactly).
    """

    step: int
    n_steps: int
    sequences: int
    seconds: float
    sequences_per_second: float
    loss: float
    loss_per_symbol: float
    per_symbol: float
    coarse: float
    fine: float
    max_length: int

    @property
    def eta_seconds(self) -> float:
        left = (self.n_steps - self.step)
        rate = self.sequences_per_second
        return float("inf") if rate <= 0 else left * (self.sequences / max(self.step, 1)) / rate


class _Group:
    """The batches of one length inside a block."""

    __slots__ = ("length", "block", "probs", "stats", "losses", "steps")

    def __init__(self, length, block, probs, steps):
        self.length = length
        self.block = block
        self.probs = probs
        self.stats = np.zeros((len(block), 4))               # filled by the kernel, per batch
        self.steps = steps                                   # block positions of its batches
        self.losses = np.zeros(len(block))


def _make_block(task, curriculum: Curriculum, seed: int, index: int, n_steps: int, batch_size: int,
                n_outputs: int):
    rng = np.random.default_rng([seed, _DATA_STREAM, index])
    lengths = curriculum.sample(rng, n_steps)                 # (n_steps,)
    groups: list[_Group] = []
    if lengths.size and (lengths == lengths[0]).all():           # one length: one group
        block = task.sample_block(rng, n_steps, batch_size, int(lengths[0]))
        probs = np.zeros(block.inputs.shape[:3] + (n_outputs,))
        steps = np.arange(n_steps)
        return [_Group(int(lengths[0]), block, probs, steps)], [0] * n_steps, steps.tolist()
    group_of = np.empty(n_steps, dtype=np.int64)
    k_of = np.empty(n_steps, dtype=np.int64)
    for length in np.unique(lengths):
        steps = np.flatnonzero(lengths == length)
        block = task.sample_block(rng, len(steps), batch_size, int(length))
        probs = np.zeros(block.inputs.shape[:3] + (n_outputs,))
        group_of[steps] = len(groups)
        k_of[steps] = np.arange(len(steps))
        groups.append(_Group(int(length), block, probs, steps))
    return groups, group_of.tolist(), k_of.tolist()


#: The signals that stop training cleanly: Ctrl-C, and what job schedulers (Slurm, systemd,
#: Kubernetes, ``kill``) send before they kill.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _deferred_stop_signals():
    """Turn SIGINT and SIGTERM into a flag (the signal's number) checked between steps.

    Main thread only (elsewhere signals cannot be handled); the previous handlers are
    restored on exit. A second signal while the first is pending stops at once.
    """
    flag = [0]
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag[0]:                       # a second Ctrl-C (or SIGTERM): stop right now
            raise TrainingInterrupted(signum)
        flag[0] = signum

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)


_SUM_NAMES = ("n_sequences", "n_symbols", "correct_symbols", "correct_sequences", "fine_sum", "loss_sum")


def _step_metric_sums(head: str, groups: list[_Group], block_steps: int, lo: int, hi: int,
                      kernel_counts: bool = True) -> np.ndarray:
    """Metric sums (rows named by _SUM_NAMES) of each block position, shape (6, block_steps),
    for the positions [lo, hi) (from the counts the kernel wrote, or derived here from the
    probabilities when it does not count), zero elsewhere."""
    sums = np.zeros((len(_SUM_NAMES), block_steps))
    for g in groups:
        a, b = np.searchsorted(g.steps, [lo, hi])            # g.steps is sorted
        if a == b:
            continue
        if not kernel_counts:                                # derive the counts from probs
            counts = batch_metric_sums(correct_positions(head, g.probs[a:b], g.block.targets[a:b]),
                                       g.block.mask[a:b])
            for row, name in enumerate(("n_symbols", "correct_symbols", "correct_sequences", "fine_sum")):
                g.stats[a:b, row] = counts[name]
        steps = g.steps[a:b]
        sums[0, steps] = g.block.inputs.shape[2]             # sequences per batch
        sums[1:5, steps] = g.stats[a:b].T                    # counts written by the kernel
        sums[5, steps] = g.losses[a:b]
    return sums


def _range_metrics(sums: np.ndarray, lo: int, hi: int) -> Metrics:
    """Metrics of block positions [lo, hi) from the (6, block_steps) array of sums."""
    total = sums[:, lo:hi].sum(axis=1)
    return Metrics(int(total[0]), int(total[1]), float(total[2]), float(total[3]), float(total[4]),
                   float(total[5]))


def _diverged(step: int, what: str) -> TrainingDivergedError:
    return TrainingDivergedError(
        f"training diverged at step {step}: {what}. Lower the learning rate (--lr), clip gradients "
        f"(--clip 1.0), or use another optimizer (--optimizer adam); the last checkpoint is unchanged.",
        step)


def run_training(model, task, state: TrainState, curriculum: Curriculum, kernel, optimizer, *,
                 n_steps: int, batch_size: int, seed: int, dropout: float, dropout_widths: tuple[int, int],
                 divergence_factor: float, callback: Callable[[Progress], None] | None = None,
                 save: Callable[[], None] | None = None, checkpoint_seconds: float = 30.0,
                 rules: BlockEndRules | None = None) -> TrainState:
    """Train until ``state.step == n_steps`` (see the module docstring). Returns ``state``.

    ``kernel`` is the model's whole-model kernel (``bind``, ``set_dropout``,
    ``loss_and_grad``), ``optimizer`` an :class:`models.Optimizer` bound to the model's
    parameters, ``save`` writes a checkpoint of the model (which holds ``state``).
    At each block end before the last step, ``rules`` (if any) decide first, then the
    curriculum (:mod:`models.training._curriculum`).
    """
    head = task.head
    n_outputs = task.n_outputs
    B = batch_size
    block_steps = state.block_steps
    x_keep = h_keep = None
    if dropout > 0:
        rows = kernel.max_length * kernel.batch_size
        x_keep = np.ones((rows, dropout_widths[0]))
        h_keep = np.ones((rows, dropout_widths[1]))
        kernel.set_dropout(x_keep, h_keep)
    use_dropout = dropout > 0
    run_steps = kernel.run_steps
    kernel_counts = getattr(kernel, "fills_stats", True)
    opt_kernel = optimizer.kernel
    isfinite = math.isfinite
    last_save = time.monotonic()
    session_start = time.monotonic()
    session_seqs = 0
    interrupted = False

    with _deferred_stop_signals() as stop_flag:
        while state.step < n_steps:
            t0 = time.monotonic()
            groups, group_of, k_of = _make_block(task, curriculum, seed, state.block, block_steps, B, n_outputs)
            k_array = np.asarray(k_of, dtype=np.int64)
            drop_rng = np.random.default_rng([seed, _DROPOUT_STREAM, state.block]) if use_dropout else None
            start = state.offset
            stop = min(block_steps, start + (n_steps - state.step))
            if use_dropout:                    # replay the draws of the steps already done
                for i in range(start):
                    g = groups[group_of[i]]
                    rows = g.block.inputs.shape[1] * B
                    drop_rng.random((rows, dropout_widths[0]))
                    drop_rng.random((rows, dropout_widths[1]))
            # Runs of consecutive steps on one group go to the kernel in one call
            # (kernel.run_steps: no Python between steps); with dropout, one step per
            # call, after drawing its masks.
            losses = np.zeros(stop - start)
            norms = np.zeros(stop - start)
            i = start
            while i < stop:
                gi = group_of[i]
                g = groups[gi]
                kernel.bind(g.block.inputs, g.block.targets, g.block.mask, g.probs, g.stats)
                j = i + 1
                if not use_dropout:
                    while j < stop and group_of[j] == gi:
                        j += 1
                    n_done = run_steps(opt_kernel, k_array[i:j], losses[i - start:], norms[i - start:])
                else:
                    rows = g.block.inputs.shape[1] * B
                    dropout_mask(drop_rng, (rows, dropout_widths[0]), dropout, out=x_keep[:rows])
                    dropout_mask(drop_rng, (rows, dropout_widths[1]), dropout, out=h_keep[:rows])
                    loss = losses[i - start] = kernel.loss_and_grad(k_of[i], True)
                    n_done = 0
                    if isfinite(loss):
                        norms[i - start] = opt_kernel.step()
                        n_done = int(isfinite(norms[i - start]))
                if n_done < j - i:
                    bad = i + n_done - start
                    what = (f"the loss is {losses[bad]}" if not isfinite(losses[bad])
                            else f"the gradient norm is {norms[bad]}")
                    raise _diverged(state.step + bad, what)
                i = j
                if stop_flag[0]:
                    interrupted = True
                    break
            losses = losses[:i - start].tolist()
            for j, loss in enumerate(losses, start):
                g = groups[group_of[j]]
                g.losses[k_of[j]] = loss
            if state.first_loss_per_symbol is None and losses:
                g = groups[group_of[start]]
                state.first_loss_per_symbol = losses[0] * B / max(float(g.block.mask[k_of[start]].sum()), 1.0)
            state.step += len(losses)
            session_seqs += (i - start) * B
            state.seconds += time.monotonic() - t0
            state.offset = i
            # Learning-curve records every `log_steps` block positions; the metrics of a
            # record (and of the block, for the curriculum) cut by a stop are kept in
            # state.partial / state.block_partial so that a resumed run completes them.
            log_steps = state.log_steps
            sums = _step_metric_sums(head, groups, block_steps, start, i, kernel_counts)
            block_done = Metrics.from_dict(state.block_partial) if state.block_partial else Metrics()
            block_done = block_done.merge(_range_metrics(sums, start, i))
            chunk_lo = (start // log_steps) * log_steps
            while chunk_lo < i:
                chunk_hi = min(chunk_lo + log_steps, block_steps)
                done = _range_metrics(sums, max(start, chunk_lo), min(i, chunk_hi))
                if chunk_lo < start and state.partial:
                    done = Metrics.from_dict(state.partial).merge(done)
                if i < chunk_hi:
                    state.partial = done.to_dict()
                    break
                state.partial = {}
                step_at = state.step - (i - chunk_hi)
                n_batches = done.n_sequences / B
                loss_mean = done.loss_sum / max(n_batches, 1)
                loss_per_symbol = done.loss_sum * B / max(done.n_symbols, 1)
                record = {"step": step_at, "sequences": step_at * B, "seconds": round(state.seconds, 4),
                          "loss": loss_mean, "loss_per_symbol": loss_per_symbol,
                          "per_symbol": done.per_symbol, "coarse": done.coarse, "fine": done.fine,
                          "max_length": int(curriculum.current_max)}
                state.history.append(record)
                if len(state.history) > _MAX_HISTORY:             # keep the curve, thinned
                    state.history = state.history[1::2]
                first = state.first_loss_per_symbol
                if first is not None and first > 0 and loss_per_symbol > divergence_factor * first:
                    raise _diverged(step_at, f"the loss per symbol {loss_per_symbol:.4g} is more than "
                                             f"{divergence_factor:g}x the initial {first:.4g}")
                if rules is not None and chunk_hi == block_steps and step_at < n_steps:
                    rules.block_end(state, step_at, optimizer, kernel)       # never at the last step
                if callback is not None:
                    rate = session_seqs / max(time.monotonic() - session_start, 1e-9)
                    callback(Progress(step=step_at, n_steps=n_steps, sequences=step_at * B,
                                      seconds=state.seconds, sequences_per_second=rate, loss=loss_mean,
                                      loss_per_symbol=loss_per_symbol, per_symbol=done.per_symbol,
                                      coarse=done.coarse, fine=done.fine,
                                      max_length=int(curriculum.current_max)))
                chunk_lo = chunk_hi
            if i == block_steps:                               # block complete
                if not np.isfinite(optimizer.theta).all():
                    raise _diverged(state.step, "a parameter became NaN or infinite")
                if curriculum.update(block_done.per_symbol):
                    logger.info("curriculum: lengths now up to %d (step %d)", curriculum.current_max, state.step)
                state.curriculum = curriculum.state_dict()
                state.block_partial = {}
                state.block += 1
                state.offset = 0
            else:
                state.block_partial = block_done.to_dict()
            if stop_flag[0] and state.step < n_steps:
                interrupted = True
            if interrupted:
                if save is not None:
                    save()
                raise TrainingInterrupted(stop_flag[0])
            if save is not None and time.monotonic() - last_save >= checkpoint_seconds:
                save()
                last_save = time.monotonic()
    if save is not None:
        save()
    return state
