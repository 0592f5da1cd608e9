"""The grid runner of ``wordstack seq bench``: every (task, model, seed) cell, resumable.

:func:`run_grid` opens (or creates) the results folder (:mod:`models.bench._folder`),
plans the cells, skips the finished ones (a valid result file: never run again), and runs
the rest on a backend (:mod:`models.bench._workers`): this process (``jobs=1``), ``jobs``
local worker processes, or a Dask cluster (``scheduler``). The driver writes every result
file itself as the cells finish, atomically.

Stopping: SIGINT (Ctrl-C) or SIGTERM stops the grid cleanly. No new cell starts; each
running cell's training saves its checkpoint and stops (a cell being tested stops at
once: its training is complete in its checkpoint, only the test is run again); then
:class:`models.TrainingInterrupted` is raised. Run the same command again: finished cells
are skipped, interrupted ones resume from their checkpoints (their training time adds
up across sessions). A second signal stops the running cells at once (they lose at most
``checkpoint_seconds`` of training).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from corpus_tools.atomic import atomic_path

from ..core._errors import TrainingInterrupted
from ..training._checkpoint import is_checkpoint
from ._cells import CellProgress, CellSpec, cell_files, set_aside_damaged, write_cell
from ._folder import MARKER, Protocol, grid_lock, open_results, plan_cells, record_plan
from ._recipes import (N_PER_LENGTH, TEST_LENGTHS, TEST_SEED, TRAIN_LENGTHS, bench_recipe, check_models,
                       check_tasks, chomsky_tasks, test_strengths, cell_redraws, CELL_BUDGET_SECONDS)
from ._workers import DaskBackend, Event, InlineBackend, ProcessBackend, check_scheduler, import_distributed

__all__ = ["GridProgress", "GridOutcome", "run_grid", "DEFAULT_SEEDS", "parse_models"]

logger = logging.getLogger(__name__)

#: Seeds per model unless a model says otherwise (``rnn:1``).
DEFAULT_SEEDS = 3
#: The models of a full grid: the RNN once, the others with :data:`DEFAULT_SEEDS` seeds.
DEFAULT_MODELS = {"rnn": 1, "lstm": None, "stack": None, "queue": None, "deque": None}


@dataclass
class GridProgress:
    """What a :func:`run_grid` callback receives: when a cell starts, reports progress
    (about every half second per cell) or finishes.

    ``finished`` is the result of the cell that just finished (else None), ``message`` a
    warning to show (a damaged file set aside, a failed cell).
    """

    total: int                      # cells in the grid
    done: int                       # finished, earlier runs included
    skipped: int                    # finished before this run
    failed: int                     # cells that failed in this run
    running: dict[str, CellProgress]
    seconds: float                  # since this run started
    eta_seconds: float | None
    finished: dict | None = None
    message: str | None = None


@dataclass
class GridOutcome:
    """What :func:`run_grid` did."""

    out: Path
    total: int
    skipped: int                                  # finished before this run
    results: list[dict] = field(default_factory=list)            # finished in this run
    failures: dict[str, str] = field(default_factory=dict)       # cell -> message
    set_aside: list[str] = field(default_factory=list)           # damaged files renamed
    where: str = ""


def parse_models(spec, seeds: int = DEFAULT_SEEDS) -> dict[str, int]:
    """Models and their seed counts from ``"rnn:1,lstm,stack"``, a list of names, or a dict
    (a count of None takes ``seeds``)."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    if isinstance(spec, dict):
        items = list(spec.items())
    else:
        parts = spec.split(",") if isinstance(spec, str) else list(spec)
        items = []
        for part in parts:
            name, sep, count = str(part).strip().partition(":")
            if sep:
                try:
                    items.append((name, int(count)))
                except ValueError:
                    raise ValueError(f"a model's seed count is an integer, as in rnn:1; got {part!r}") from None
            else:
                items.append((name, None))
    names = check_models([name for name, _ in items])
    counts = {}
    for name, count in items:
        key = check_models([name])[0]
        k = seeds if count is None else count
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"model {name!r} needs at least 1 seed, got {k!r}")
        counts[key] = k
    return {name: counts[name] for name in names}


@contextmanager
def _stop_signals(on_signal: Callable[[int], None]):
    """SIGINT and SIGTERM call ``on_signal(signum)`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: on_signal(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)


class _Driver:
    """Starts cells on the backend, writes what they finish, keeps the progress."""

    def __init__(self, out: Path, plan, specs: dict[str, CellSpec], callback, outcome: GridOutcome):
        self.out, self.plan, self.specs, self.callback, self.outcome = out, plan, specs, callback, outcome
        self.running: dict[str, CellProgress] = {}
        self.start_time = time.monotonic()
        self.done_now = 0
        self.stop_signal = 0
        self.interrupted: list[str] = []

    def report(self, finished: dict | None = None, message: str | None = None) -> None:
        if self.callback is None:
            return
        elapsed = time.monotonic() - self.start_time
        work = self.done_now + sum(p.fraction for p in self.running.values())
        left = self.outcome.total - self.outcome.skipped - len(self.outcome.failures) - work
        eta = left * elapsed / work if work > 0.02 and elapsed > 0 else None
        self.callback(GridProgress(self.outcome.total, self.outcome.skipped + self.done_now, self.outcome.skipped,
                                   len(self.outcome.failures), dict(self.running), elapsed, eta, finished, message))

    def on_event(self, event: Event) -> None:
        cell = event.cell
        if event.kind == "progress":
            self.running[cell] = event.data
            self.report()
            return
        self.running.pop(cell, None)
        if event.kind == "done":
            spec = self.specs[cell]
            if event.checkpoint_bytes is not None:
                _, ckpt = cell_files(self.out, spec.task, spec.model, spec.seed)
                with atomic_path(ckpt, replace_if=is_checkpoint, refusal="is not a wordstack checkpoint") as tmp:
                    tmp.write_bytes(event.checkpoint_bytes)
            write_cell(self.out, event.data)
            self.done_now += 1
            self.outcome.results.append(event.data)
            self.report(finished=event.data)
        elif event.kind == "interrupted":
            self.interrupted.append(cell)
        else:
            self.outcome.failures[cell] = str(event.data)
            logger.warning("cell %s failed: %s", cell, event.data)
            self.report(message=f"{cell} failed: {str(event.data).splitlines()[0]}")

    def begin(self, cell: str) -> None:
        spec = self.specs[cell]
        self.running[cell] = CellProgress(cell, "train", 0, int(spec.hyper["n_steps"]))
        self.report()


def run_grid(out: str | Path, *, tasks=None, models=None, seeds: int = DEFAULT_SEEDS, jobs: int | None = None,
             scheduler=None, n_steps: int | None = None, test_lengths: tuple[int, int] = TEST_LENGTHS,
             n_per_length: int = N_PER_LENGTH, test_seed: int = TEST_SEED, checkpoint_seconds: float = 30.0,
             callback: Callable[[GridProgress], None] | None = None) -> GridOutcome:
    """Run (or resume) the benchmark grid into the results folder ``out``.

    Parameters
    ----------
    out : path
        The results folder (created with its marker; an existing one must be a bench
        results folder of the same protocol).
    tasks : list of str, optional
        Default: the fifteen tasks of :data:`models.tasks.CHOMSKY_TASKS`.
    models : str, list or dict, optional
        ``"rnn:1,lstm,stack,queue,deque"`` (the default): model names, each with an
        optional seed count.
    seeds : int
        Seeds 0 .. seeds-1 for models that do not give their own count.
    jobs : int, optional
        Local worker processes (default 1: the cells run in this process).
    scheduler : "local", str or distributed.Client, optional
        Run the cells on Dask instead: a LocalCluster, a scheduler address, or a Client.
    n_steps : int, optional
        Train every cell this many steps instead of its budget (quick looks, tests).
    test_lengths, n_per_length, test_seed
        The test protocol (default: every length 41-500, :data:`N_PER_LENGTH` each, seed
        :data:`TEST_SEED`).
    checkpoint_seconds : float
        Seconds between a training cell's checkpoints.
    callback : callable, optional
        Receives a :class:`GridProgress` as cells start, progress and finish.

    Returns
    -------
    GridOutcome

    Raises
    ------
    TrainingInterrupted
        SIGINT or SIGTERM stopped the grid (see the module docstring); run again to resume.
    ValueError
        Unknown tasks or models, ``jobs`` with ``scheduler``, or a results folder that is
        someone else's or of another protocol.

    Notes
    -----
    With ``jobs`` > 1 the workers are started by ``spawn``, which imports the main module
    of the calling program again: a script that calls ``run_bench(jobs=2)`` must do so
    under ``if __name__ == "__main__":`` (the ``wordstack`` command does).
    Reproducibility: a cell's numbers depend on its recipe and seed only (every cell
    trains and tests with one BLAS thread), not on where it ran.
    """
    if jobs is not None and scheduler is not None:
        raise ValueError("--jobs sizes the local worker processes; with --dask the cluster's workers run the cells "
                         "(a LocalCluster has one per core): drop --jobs, or drop --dask")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if scheduler is not None:                # before anything is written
        check_scheduler(scheduler)
        import_distributed()
    if tasks is None:
        tasks = list(chomsky_tasks())
        if not tasks:
            raise ValueError("this wordstack has no Chomsky-hierarchy tasks registered; name tasks with --tasks")
    elif isinstance(tasks, str):
        tasks = tasks.split(",")
    tasks = check_tasks(tasks)
    models = parse_models(DEFAULT_MODELS if models is None else models, seeds)
    protocol = Protocol(tuple(int(v) for v in TRAIN_LENGTHS), tuple(int(v) for v in test_lengths),
                        int(n_per_length), int(test_seed), None if n_steps is None else int(n_steps))
    if protocol.n_per_length < 1:
        raise ValueError(f"n_per_length must be >= 1, got {n_per_length!r}")
    out = Path(out)
    specs: dict[str, CellSpec] = {}
    for task in tasks:                                   # every recipe checked before anything runs
        for model in models:
            hyper, task_options = bench_recipe(task, model, n_steps=n_steps)
            for seed in range(models[model]):
                spec = CellSpec(task, model, seed, hyper, task_options, protocol.test_lengths,
                                protocol.n_per_length, protocol.test_seed, float(checkpoint_seconds),
                                test_strengths(task, model), cell_redraws(task, model),
                                CELL_BUDGET_SECONDS)
                specs[spec.name] = spec
    marker = open_results(out, protocol)
    with grid_lock(out):
        marker = record_plan(out, marker, tasks, models)
        plan = plan_cells(out, tasks, models)
        outcome = GridOutcome(out, len(plan.cells), len(plan.done))
        for cell, reason in plan.damaged.items():
            aside = set_aside_damaged(out, *cell, reason)
            outcome.set_aside.append(str(aside))
        driver = _Driver(out, plan, specs, callback, outcome)
        for path in outcome.set_aside:
            driver.report(message=f"damaged result set aside as {path}; its cell runs again")
        for t, m, k in sorted(plan.redraw):
            driver.report(message=f"{t}/{m}/seed{k}'s run failed its recipe's check of hard strengths on the training "
                                  "lengths, which now draws a fresh run: running the cell again")
        for t, m, k in sorted(plan.retest):
            driver.report(message=f"{t}/{m}/seed{k} was tested with soft memory strengths; its recipe now "
                                  "chooses them on the training lengths: testing its checkpoint again")
        todo = [f"{t}/{m}/seed{s}" for t, m, s in plan.to_run]
        if scheduler is not None:
            backend = DaskBackend(scheduler, driver.on_event, out / MARKER, marker["id"])
            outcome.where = "Dask"
        elif jobs is not None and jobs > 1:
            backend = ProcessBackend(min(jobs, max(1, len(todo))), driver.on_event)
            outcome.where = f"{jobs} worker processes"
        else:
            backend = InlineBackend(driver.on_event)
            outcome.where = "this process"
        driver.report()
        try:
            _drive(driver, backend, todo, out)
        finally:
            backend.close()
    return outcome


def _drive(driver: _Driver, backend, todo: list[str], out: Path) -> None:
    """Run ``todo`` on ``backend`` until done or stopped."""
    inline = isinstance(backend, InlineBackend)
    signals: list[int] = []

    def on_signal(signum: int) -> None:
        signals.append(signum)
        if inline:                       # outside a training (which defers its own): stop now
            raise TrainingInterrupted(signum)
        backend.stop(signum)             # each running cell checkpoints and stops

    pending = list(todo)
    with _stop_signals(on_signal):
        while pending or backend.running:
            while not signals and pending and len(backend.running) < backend.slots:
                cell = pending.pop(0)
                spec = driver.specs[cell]
                driver.begin(cell)
                backend.start(spec, cell_files(out, spec.task, spec.model, spec.seed)[1])
            if signals and not backend.running:
                break
            backend.wait(0.5)
    if signals:
        raise TrainingInterrupted(signals[0])
