"""Pieces shared by every command: error handling, output options, progress bars.

Kept free of heavy imports: ``wordstack --help`` and the query path must start fast.
"""
from __future__ import annotations

import inspect
import json
import os
import sys
from typing import Any, Callable

import click

#: Exceptions that are the user's input problems, shown as "Error: ..." with exit 1.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, NotADirectoryError,
                                                 IsADirectoryError, PermissionError)


def _user_error_types() -> tuple[type[BaseException], ...]:
    types = list(USER_ERRORS)
    ct = sys.modules.get("corpus_tools._errors")
    if ct is not None:
        types.append(ct.CorpusToolsError)
    for mod_name in ("models._errors",):
        mod = sys.modules.get(mod_name)
        if mod is not None and hasattr(mod, "ModelsError"):
            types.append(mod.ModelsError)
    return tuple(types)


class WordstackGroup(click.Group):
    """A click group that turns library errors into clean ``Error: ...`` lines (exit 1).

    Set ``WORDSTACK_DEBUG=1`` to see the full traceback instead.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("\nInterrupted; files written so far are intact.", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001
            if os.environ.get("WORDSTACK_DEBUG"):
                raise
            if isinstance(exc, _user_error_types()):
                raise click.ClickException(str(exc)) from exc
            raise


def configure_logging(verbose: int | None = None) -> None:
    """Set up logging for a command that runs library code which logs.

    With no ``-v``, library warnings (skipped books...) are left to the commands,
    which report them themselves; ``-v`` shows INFO, ``-vv`` DEBUG. Called lazily
    (not for every command) so the query path does not pay for importing logging.
    """
    import logging

    if verbose is None:
        ctx = click.get_current_context(silent=True)
        verbose = (ctx.find_root().obj or {}).get("verbose", 0) if ctx else 0
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose == 0:
        logging.getLogger("corpus_tools").setLevel(logging.ERROR)
        logging.getLogger("gensim").setLevel(logging.ERROR)


def json_option(f: Callable) -> Callable:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def warn(message: str) -> None:
    click.echo(click.style("warning: ", fg="yellow") + message, err=True)


def progress_bar(total: int | None, desc: str, unit: str = "it"):
    """A tqdm bar on stderr (imported lazily), disabled when stderr is not a terminal
    unless ``WORDSTACK_PROGRESS=1``."""
    from tqdm.auto import tqdm

    force = os.environ.get("WORDSTACK_PROGRESS")
    disable = None if force is None else force == "0"
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=disable, dynamic_ncols=True,
                leave=True)


def example(text: str) -> Callable:
    """Append an ``Example:`` block to a command's help."""

    def deco(f: Callable) -> Callable:
        # cleandoc first: the block below is not indented, so a multi-paragraph docstring
        # would otherwise keep its indentation and be shown as an indented block
        doc = inspect.cleandoc(f.__doc__ or "").rstrip()
        lines = "\n".join("    " + line for line in text.strip().splitlines())
        f.__doc__ = f"{doc}\n\n\b\nExample:\n{lines}\n"
        return f

    return deco


def parse_int_range(value: str, name: str = "lengths") -> tuple[int, int]:
    """Parse ``"8:64"`` (or ``"12"``) into an inclusive (low, high) pair of positive ints."""
    text = value.strip()
    lo_s, sep, hi_s = text.partition(":")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if sep else lo
    except ValueError:
        raise click.BadParameter(f"{name} must look like 8:64 or 12, got {value!r}") from None
    if lo < 1 or hi < lo:
        raise click.BadParameter(f"{name} must satisfy 1 <= low <= high, got {value!r}")
    return lo, hi
