"""The stdout side of a command: the shared ``--json`` option, JSON output, and the
formats of per-model results (neighbour tables, the exit rule when no model answered)."""
from __future__ import annotations

import json
from typing import Any, Callable

import click

from ._queries import answered


def json_option(f: Callable) -> Callable:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, singular for one: ``counted(1, "epoch")`` is "1 epoch", ``counted(5000, "book")``
    "5,000 books"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def echo_json_line(obj: Any) -> None:
    """One JSON object on one line (JSON Lines, for answers streamed one by one)."""
    click.echo(json.dumps(obj, ensure_ascii=False))


# ----------------------------------------------------------------------------- per-model results
# The payloads of wordstack._queries (shared with the server): per-model entries holding a
# model's label, then its answer ("neighbors", ...) or "error" / "unknown" / "suggestions".


def subword_notes(results: list[dict]) -> list[str]:
    """One line per model that built query words from subwords: "romeoo (from subwords)",
    after the model's label when several models answered side by side."""
    notes = []
    for r in results:
        if r.get("subword_terms"):
            built = ", ".join(f"{w} (from subwords)" for w in r["subword_terms"])
            notes.append(f"  {r['label']}: {built}" if len(results) > 1 else f"  {built}")
    return notes


def neighbors_table(query: str, results: list[dict], n: int) -> str:
    """Side-by-side neighbour columns headed by each model's label.

    A model that could not answer shows "unknown word" in its column and its
    full error (with suggestions) under the table; words a subword model built
    from their n-grams are named under it too (:func:`subword_notes`).
    """
    columns = [(r["label"], r["neighbors"] if "neighbors" in r else f"unknown word {r['unknown']!r}")
               for r in results]
    widths = [max(28, len(h) + 2) for h, _ in columns]            # each column as wide as its label needs
    lines = [f"{query}", "  " + "".join(h.ljust(width) for (h, _), width in zip(columns, widths)).rstrip()]
    for rank in range(n):
        cells = []
        for (_, col), width in zip(columns, widths):
            if isinstance(col, str):
                cells.append((col if rank == 0 else "").ljust(width))
            elif rank < len(col):
                nb = col[rank]
                cells.append(f"{rank + 1:>2}. {nb['word']:<{width - 12}} {nb['score']:.3f}".ljust(width))
            else:
                cells.append("".ljust(width))
        row = "  " + "".join(cells).rstrip()
        if row.strip():
            lines.append(row)
    lines += [f"  {r['error']}" for r in results if "error" in r]
    lines += subword_notes(results)
    return "\n".join(lines)


def echo_neighbors(query: str, results: list[dict], n: int) -> bool:
    """Print :func:`neighbors_table`, unless the only model could not answer (the caller
    reports that error alone). True when the table was printed."""
    if len(results) == 1 and not answered(results):
        return False
    click.echo(neighbors_table(query, results, n))
    return True


def finish(results: list[dict], as_json: bool, payload: dict) -> None:
    """End a per-model command: print ``payload`` as JSON (exit 1 when no model
    answered), or, for text, raise the error(s) when no model answered."""
    if as_json:
        echo_json(payload)
        if not answered(results):
            raise SystemExit(1)
        return
    if not answered(results):
        errors = [r["error"] for r in results]
        raise click.ClickException(errors[0] if len(errors) == 1 else "; ".join(errors))
