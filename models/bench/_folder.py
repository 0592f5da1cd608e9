"""The results folder of ``wordstack seq bench``: its marker, its lock, and which cells a
grid has to run.

The folder is wordstack's when it holds ``bench.json`` (format ``wordstack-bench-results``):
the test protocol every cell in it was tested with (training and test lengths, sequences
per length, test seed), the options that replaced the recipe (``--steps``), and an id.
A grid is refused a folder that exists, is not empty and has no such marker (someone
else's), and a folder whose protocol differs from the one asked (its results would not
be comparable). Nothing in the folder that wordstack did not write is touched; result
files are replaced only when they are results (:func:`models.bench._cells.is_cell_result`),
checkpoints only when they are checkpoints.

A damaged result file (unreadable, truncated, not a result of its cell) is reported,
renamed to ``seed<k>.json.damaged`` (kept, not deleted) and its cell run again: from its
checkpoint, so a cell whose training had finished is only tested again (the same
numbers: training and test data are seeded).
"""
from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from corpus_tools.atomic import atomic_path, exclusive_lock, folder_entries, read_small_json

from ._cells import read_cell, wants_redraw, wants_retest
from ._recipes import CELL_BUDGET_SECONDS, cell_redraws, test_strengths

__all__ = ["MARKER", "RESULTS_FORMAT", "Protocol", "open_results", "read_marker", "grid_lock", "plan_cells",
           "is_results_folder", "record_plan"]

MARKER = "bench.json"
RESULTS_FORMAT = "wordstack-bench-results"
_LOCK = ".bench.lock"


@dataclass(frozen=True)
class Protocol:
    """What makes the cells of one results folder comparable."""

    train_lengths: tuple[int, int]
    test_lengths: tuple[int, int]
    n_per_length: int
    test_seed: int
    n_steps: int | None = None           # --steps: the budget replaced for every cell

    def to_json(self) -> dict:
        return {"train_lengths": list(self.train_lengths), "test_lengths": list(self.test_lengths),
                "n_per_length": self.n_per_length, "test_seed": self.test_seed, "n_steps": self.n_steps}

    @classmethod
    def from_json(cls, d: dict) -> "Protocol":
        return cls(tuple(d["train_lengths"]), tuple(d["test_lengths"]), int(d["n_per_length"]),
                   int(d["test_seed"]), None if d.get("n_steps") is None else int(d["n_steps"]))


def read_marker(out: str | Path) -> dict | None:
    """The marker of a results folder, or None when it has none (or an unreadable one)."""
    data = read_small_json(Path(out) / MARKER, 1 << 16)
    if data is None or data.get("format") != RESULTS_FORMAT or not isinstance(data.get("protocol"), dict):
        return None
    try:
        Protocol.from_json(data["protocol"])
    except (KeyError, TypeError, ValueError):
        return None
    return data


def is_results_folder(out: str | Path) -> bool:
    return Path(out).is_dir() and read_marker(out) is not None


def _differences(have: Protocol, want: Protocol) -> str:
    names = {"train_lengths": "--train-lengths", "test_lengths": "--test-lengths", "n_per_length": "--n-per-length",
             "test_seed": "--test-seed", "n_steps": "--steps"}
    a, b = have.to_json(), want.to_json()
    return ", ".join(f"{names[k]} {a[k]!r} there, {b[k]!r} asked" for k in a if a[k] != b[k])


def open_results(out: str | Path, protocol: Protocol) -> dict:
    """Create the results folder ``out`` with its marker, or check the one there.

    Returns
    -------
    dict
        The marker.

    Raises
    ------
    ValueError
        ``out`` is a file, a folder of someone else's (not empty, no marker), or results
        of another protocol.
    """
    out = Path(out)
    shown = os.fspath(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {shown!r} is a file; name a folder for the results (e.g. results/)")
    marker = read_marker(out) if out.is_dir() else None
    if marker is None:
        entries = folder_entries(out) if out.is_dir() else []
        if entries:
            listing = ", ".join(entries[:6]) + (f" and {len(entries) - 6} more" if len(entries) > 6 else "")
            raise ValueError(f"--out {shown!r} is not a wordstack bench results folder (no {MARKER}; it holds "
                             f"{listing}); choose a new folder name, nothing was written")
        marker = {"format": RESULTS_FORMAT, "version": 1, "id": uuid.uuid4().hex,
                  "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "protocol": protocol.to_json()}
        out.mkdir(parents=True, exist_ok=True)
        _write_marker(out, marker, replace=False)
        return marker
    have = Protocol.from_json(marker["protocol"])
    if have != protocol:
        raise ValueError(f"the results in {shown!r} were made with another protocol ({_differences(have, protocol)}); "
                         f"give the same options to continue that grid, or choose a new --out")
    return marker


def _write_marker(out: Path, marker: dict, *, replace: bool) -> None:
    with atomic_path(out / MARKER, replace_if=(lambda p: read_marker(p.parent) is not None) if replace else False) as tmp:
        tmp.write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


def record_plan(out: str | Path, marker: dict, tasks: list[str], models: dict[str, int]) -> dict:
    """Add a grid's tasks and models (with their seed counts) to the marker's ``planned``
    cells, which the report counts seeds against ("2/3 seeds")."""
    planned = dict(marker.get("planned") or {})
    known = list(planned.get("tasks") or [])
    counts = {str(k): int(v) for k, v in (planned.get("models") or {}).items()}
    for model, k in models.items():
        counts[model] = max(k, counts.get(model, 0))
    new = {"tasks": known + [t for t in tasks if t not in known], "models": counts}
    if new != planned:
        marker = {**marker, "planned": new}
        _write_marker(Path(out), marker, replace=True)
    return marker


@contextlib.contextmanager
def grid_lock(out: str | Path) -> Iterator[None]:
    """Hold the folder's lock for a grid run; another run on the same folder is refused."""
    def busy() -> None:
        raise ValueError(f"another `wordstack seq bench` is running on {os.fspath(out)!r}; wait for it to finish "
                         f"(or stop it: it resumes), or choose another --out")

    with exclusive_lock(Path(out) / _LOCK, on_wait=busy):
        yield


@dataclass
class CellPlan:
    """The cells of a grid and what is on disk for each."""

    cells: list[tuple[str, str, int]]              # (task, model, seed), in running order
    done: dict[tuple[str, str, int], dict]         # finished results
    damaged: dict[tuple[str, str, int], str]       # why their result file is damaged
    partial: set                                   # cells with a checkpoint and no result
    retest: set = field(default_factory=set)       # finished cells to test again (see _cells.wants_retest)
    redraw: set = field(default_factory=set)       # finished cells to run again (see _cells.wants_redraw)

    @property
    def to_run(self) -> list[tuple[str, str, int]]:
        return [c for c in self.cells if c not in self.done]


def plan_cells(out: str | Path, tasks: list[str], models: dict[str, int]) -> CellPlan:
    """Every (task, model, seed) of the grid, seed by seed (all seed-0 cells first, so that
    an early report covers every task), and what the folder already holds for each."""
    n_seeds = max(models.values()) if models else 0
    cells = [(task, model, seed) for seed in range(n_seeds) for task in tasks for model, k in models.items()
             if seed < k]
    plan = CellPlan(cells, {}, {}, set(), set())
    if not Path(out).is_dir():
        return plan
    for cell in cells:
        state = read_cell(out, *cell)
        if state.status == "done" and wants_redraw(state.result, cell_redraws(*cell[:2]), CELL_BUDGET_SECONDS):
            plan.redraw.add(cell)         # its run failed the recipe's redraw check: the cell runs again
            if state.checkpoint:
                plan.partial.add(cell)
        elif state.status == "done" and state.checkpoint and wants_retest(state.result, test_strengths(*cell[:2])):
            plan.retest.add(cell)         # tested under another rule: its checkpoint is tested again
            plan.partial.add(cell)
        elif state.status == "done":
            plan.done[cell] = state.result
        elif state.status == "damaged":
            plan.damaged[cell] = state.reason
        if state.status != "done" and state.checkpoint:
            plan.partial.add(cell)
    return plan
