"""The report of a results folder: a Markdown page (tables tasks x models beside the
paper's Table 2), a heatmap of the scores, and the accuracy-by-length curve of each task.

Everything is rebuilt from the cells' JSON files (:mod:`models.bench._cells`), so a report
can be made at any time, also while the grid runs: cells not finished yet show as "–"
with the count of seeds done ("2/3 seeds").
"""
from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from corpus_tools.atomic import atomic_path, read_small_json

from ._cells import MAX_CELL_BYTES, check_cell_result
from ._folder import MARKER, Protocol, read_marker
from ._paper import LEVEL_NAMES, PAPER, PAPER_COLUMNS, PAPER_TABLE2, PAPER_VERIFIED
from ._recipes import BENCH_MODELS, MODEL_LABELS, chomsky_tasks, task_level

__all__ = ["ModelScores", "BenchTable", "collect_results", "render_markdown", "write_report", "REPORT_MARK",
           "MODEL_LABELS", "ReportOutcome"]

#: The first line of every report wordstack writes: what may be replaced.
REPORT_MARK = "<!-- wordstack seq bench report: rebuilt from the cells' JSON files; edits are overwritten -->"

_LEVEL_ORDER = ("regular", "dcf", "cs", "other")


@dataclass
class ModelScores:
    """One (task, model): the finished seeds' results."""

    expected: int                                   # seeds the grid plans (0: unknown)
    results: list[dict] = field(default_factory=list)
    diverged: int = 0

    @property
    def seeds_done(self) -> int:
        return len(self.results) + self.diverged

    def _values(self, key: str) -> list[float]:
        return [float(r[key]) for r in self.results]

    @property
    def max(self) -> float | None:
        v = self._values("score")
        return max(v) if v else None

    @property
    def mean(self) -> float | None:
        v = self._values("score")
        return statistics.fmean(v) if v else None

    @property
    def whole_max(self) -> float | None:
        v = self._values("whole_sequence")
        return max(v) if v else None

    @property
    def whole_mean(self) -> float | None:
        v = self._values("whole_sequence")
        return statistics.fmean(v) if v else None

    @property
    def best(self) -> dict | None:
        return max(self.results, key=lambda r: r["score"]) if self.results else None


@dataclass
class BenchTable:
    """Every task and model of a results folder."""

    protocol: Protocol | None
    tasks: list[str]                                # in the paper's order, then others
    models: list[str]
    cells: dict[tuple[str, str], ModelScores]
    damaged: list[str]

    def level_groups(self) -> list[tuple[str, list[str]]]:
        groups = []
        for level in _LEVEL_ORDER:
            members = [t for t in self.tasks if task_level(t) == level]
            if members:
                groups.append((level, members))
        return groups


def collect_results(results: str | os.PathLike) -> BenchTable:
    """Read every cell result of a results folder (see :func:`check_cell_result`).

    Raises
    ------
    ValueError
        ``results`` is not a bench results folder.
    """
    folder = Path(results)
    marker = read_marker(folder) if folder.is_dir() else None
    if marker is None:
        raise ValueError(f"{os.fspath(results)!r} is not a wordstack bench results folder (it has no {MARKER}); "
                         f"give the --out folder of `wordstack seq bench`")
    planned = marker.get("planned") or {}
    planned_models = {str(k): int(v) for k, v in (planned.get("models") or {}).items() if k in BENCH_MODELS}
    tasks_found: list[str] = list(planned.get("tasks") or [])
    cells: dict[tuple[str, str], ModelScores] = {}
    damaged: list[str] = []
    for task_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for model_dir in sorted(p for p in task_dir.iterdir() if p.is_dir() and p.name in BENCH_MODELS):
            for path in sorted(model_dir.glob("seed*.json")):
                data = read_small_json(path, MAX_CELL_BYTES)
                why = check_cell_result(data, task_dir.name, model_dir.name)
                if why is not None:
                    damaged.append(f"{path.relative_to(folder)} {why}")
                    continue
                if task_dir.name not in tasks_found:
                    tasks_found.append(task_dir.name)
                key = (task_dir.name, model_dir.name)
                entry = cells.setdefault(key, ModelScores(planned_models.get(model_dir.name, 0)))
                if data["status"] == "diverged":
                    entry.diverged += 1
                else:
                    entry.results.append(data)
    order = list(chomsky_tasks()) or list(PAPER_TABLE2)
    tasks = [t for t in order if t in tasks_found] + [t for t in tasks_found if t not in order]
    models = [m for m in BENCH_MODELS if m in planned_models or any(k[1] == m for k in cells)]
    for task in tasks:
        for model in models:
            cells.setdefault((task, model), ModelScores(planned_models.get(model, 0)))
    protocol = Protocol.from_json(marker["protocol"])
    return BenchTable(protocol, tasks, models, cells, damaged)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _cell_text(entry: ModelScores, which: str) -> str:
    hi, mean = (entry.max, entry.mean) if which == "score" else (entry.whole_max, entry.whole_mean)
    text = "–" if hi is None else (_pct(hi) if len(entry.results) == 1 else f"{_pct(hi)} / {_pct(mean)}")
    notes = []
    if entry.expected and entry.seeds_done < entry.expected:
        notes.append(f"{entry.seeds_done}/{entry.expected} seeds")
    if entry.diverged:
        notes.append(f"{entry.diverged} diverged")
    return text + (f" ({', '.join(notes)})" if notes else "")


def _table(table: BenchTable, which: str, with_paper: bool) -> list[str]:
    head = ["level", "task"] + [MODEL_LABELS[m] for m in table.models]
    if with_paper:
        head += [f"paper {name}" for name in PAPER_COLUMNS.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---", "---"] + ["---:"] * (len(head) - 2)) + "|"]
    for level, tasks in table.level_groups():
        for i, task in enumerate(tasks):
            row = [f"**{LEVEL_NAMES[level]}**" if i == 0 else "", task.replace("_", " ")]
            row += [_cell_text(table.cells[(task, m)], which) for m in table.models]
            if with_paper:
                published = PAPER_TABLE2.get(task, {})
                row += [f"{published[k]:.1f}" if k in published else "–" for k in PAPER_COLUMNS]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def render_markdown(table: BenchTable, *, pictures: dict[str, str] | None = None, command: str | None = None) -> str:
    """The report page (see the module docstring); ``pictures`` maps ``"scores"`` and task
    names to relative picture paths to link."""
    p = table.protocol
    n_done = sum(len(e.results) + e.diverged for e in table.cells.values())
    n_expected = sum(e.expected for e in table.cells.values())
    lines = [REPORT_MARK, "", "# Chomsky-hierarchy benchmark", ""]
    lines += [f"Protocol of {PAPER.rpartition(', Table')[0]}: train on lengths {p.train_lengths[0]}–{p.train_lengths[1]} "
              f"(uniform), test on every length {p.test_lengths[0]}–{p.test_lengths[1]} "
              f"({p.n_per_length} sequences per length, test seed {p.test_seed}, the same sequences for every model). "
              "**Score** = per-token accuracy of each test length, averaged over the lengths, in %; "
              "each of our cells shows *max / mean* over its seeds (one number for one seed). "
              + (f"Training budget replaced by --steps {p.n_steps} for every cell. " if p.n_steps else "")
              + f"{n_done} cell{'s' if n_done != 1 else ''} finished"
              + (f" of {n_expected} planned" if n_expected else "") + ".", ""]
    verified = "checked against the paper" if PAPER_VERIFIED else "not verified against the PDF here"
    lines += ["## Score (per-token accuracy, %)", ""] + _table(table, "score", True) + [""]
    lines += [f"*paper* columns: transcribed from {PAPER} (score in %, maximum over seeds; {verified}). "
              "Their Stack-RNN (after Joulin & Mikolov 2015) and Tape-RNN drive a memory of fixed size with a "
              "vanilla RNN: each step mixes push, pop and no-op (the tape: write, then stay, move or jump) by a "
              "softmax, shifting the whole memory; ours are the unbounded continuous stack, queue and deque of "
              "Grefenstette et al. 2015 with an LSTM controller.", ""]
    lines += ["## Whole sequences right (%)", "", "The share of test sequences whose every target symbol is "
              "right, averaged over the lengths (max / mean over seeds; the paper does not report it).", ""]
    lines += _table(table, "whole", False) + [""]
    if pictures and "scores" in pictures:
        lines += [f"![scores: tasks x models, ours beside the paper's]({pictures['scores']})", ""]
    curves = [t for t in table.tasks if pictures and t in pictures]
    if curves:
        lines += ["## Accuracy by length", ""] + [f"- [{t.replace('_', ' ')}]({pictures[t]})" for t in curves] + [""]
    lines += _strength_lines(table)
    lines += _redraw_lines(table)
    lines += _cost_lines(table)
    if table.damaged:
        lines += ["## Damaged result files (left out)", ""] + [f"- {d}" for d in table.damaged] + [""]
    if command:
        lines += ["Rebuild this page (after more cells finish) with:", "", "```bash", command, "```", ""]
    return "\n".join(lines)


def _strength_lines(table: BenchTable) -> list[str]:
    """Which cells chose hard memory strengths on the training lengths, and their scores there."""
    chosen = [(task, model, r) for (task, model), e in table.cells.items() for r in e.results if r.get("inference")]
    if not chosen:
        return []
    lines = ["## Memory strengths at test", "",
             "These cells were tested with the push and pop strengths chosen on the training lengths: each "
             "trained model is scored there with soft strengths and with hard ones (rounded to 0 or 1), and "
             "tested with hard ones when they score at least as well (`models/bench/_recipes.py`, "
             "`VALIDATED_STRENGTHS`). Per-token % on the training lengths:", "",
             "| cell | soft | hard | tested with | score |", "|---|---|---|---|---|"]
    for task, model, r in sorted(chosen, key=lambda c: (c[0], c[1], c[2]["seed"])):
        inf = r["inference"]
        found = inf.get("in_distribution") or {}
        lines.append(f"| {task}/{model}/seed{r['seed']} | {_pct(found.get('soft'))} | {_pct(found.get('hard'))} | "
                     f"{inf.get('strengths')} | {_pct(r['score'])} |")
    return lines + [""]


def _redraw_lines(table: BenchTable) -> list[str]:
    """The cells that drew fresh runs: every run's scores on the training lengths, and which was tested."""
    cells = [(task, model, r) for (task, model), e in table.cells.items() for r in e.results
             if isinstance(r.get("draws"), list) and len(r["draws"]) > 1]
    if not cells:
        return []
    lines = ["## Fresh runs", "",
             "These cells trained a fresh run (seed + 1000 per draw) because the first fitted the training "
             "lengths with hard strengths scoring below soft ones there (`models/bench/_recipes.py`, "
             "`REDRAWS`); the first run that passes is tested, and the cell's training time counts every "
             "run. Per-token % on the training lengths, soft / hard:", "",
             "| cell | runs (soft / hard) | tested | score |", "|---|---|---|---|"]
    for task, model, r in sorted(cells, key=lambda c: (c[0], c[1], c[2]["seed"])):
        runs = []
        for d in r["draws"]:
            found = d.get("in_distribution") or {}
            runs.append(f"seed {d.get('seed')}: {_pct(found.get('soft'))} / {_pct(found.get('hard'))}")
        tested = next((d.get("seed") for d in r["draws"] if d.get("tested")), None)
        lines.append(f"| {task}/{model}/seed{r['seed']} | {'; '.join(runs)} | seed {tested} | {_pct(r['score'])} |")
    return lines + [""]


def _cost_lines(table: BenchTable) -> list[str]:
    results = [r for e in table.cells.values() for r in e.results]
    if not results:
        return []
    train = [r["train"]["seconds"] for r in results]
    test = [r["test"]["seconds"] for r in results]
    worst = max(results, key=lambda r: r["test"]["seconds"])
    return ["## Cost", "",
            f"Training: {statistics.fmean(train):,.0f} s a cell on average (at most {max(train):,.0f} s), "
            f"{sum(train) / 3600:,.1f} core-hours in all. Testing on {table.protocol.test_lengths[0]}–"
            f"{table.protocol.test_lengths[1]}: {statistics.fmean(test):,.1f} s a cell on average, at most "
            f"{max(test):,.1f} s ({worst['task']}, {MODEL_LABELS.get(worst['model'], worst['model'])}).", ""]


def _is_report(path: Path) -> bool:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return fh.readline().rstrip("\n") == REPORT_MARK
    except (OSError, UnicodeDecodeError):
        return False


@dataclass
class ReportOutcome:
    markdown: Path
    pictures: list[Path]
    table: BenchTable


def write_report(results: str | os.PathLike, out: str | os.PathLike | None = None, *, pictures: bool = True,
                 command: str | None = None) -> ReportOutcome:
    """Write the report of the results folder ``results`` to ``out`` (default
    ``results/README.md``), with its pictures beside it (``bench-scores.png`` and
    ``bench-curve-<task>.png``). A file already there is replaced only if wordstack wrote it.

    Raises
    ------
    ValueError
        ``results`` is not a bench results folder, or ``out`` does not end in ``.md``.
    OverwriteRefusedError
        A file of someone else's is at ``out`` (or at a picture's path).
    """
    table = collect_results(results)
    target = Path(out) if out is not None else Path(results) / "README.md"
    if target.suffix.lower() != ".md":
        raise ValueError(f"the report is Markdown: name it FILE.md, got {os.fspath(target)!r}")
    refusal = "is not a report wordstack wrote (its first line is not wordstack's mark)"
    from corpus_tools.atomic import check_file_replaceable

    check_file_replaceable(target, _is_report, refusal)
    links: dict[str, str] = {}
    written: list[Path] = []
    if pictures and any(e.results for e in table.cells.values()):
        from ._plots import plot_curves, plot_scores

        written.append(plot_scores(table, target.parent / "bench-scores.png"))
        links["scores"] = written[-1].name
        for task in table.tasks:
            if any(table.cells[(task, m)].results for m in table.models):
                written.append(plot_curves(table, task, target.parent / f"bench-curve-{task}.png"))
                links[task] = written[-1].name
    text = render_markdown(table, pictures=links, command=command)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, replace_if=_is_report, refusal=refusal) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return ReportOutcome(target, written, table)
