"""How a failure reaches the user: library errors become ``Error: ...`` with exit status 1.

:class:`WordstackGroup` is the class of the ``wordstack`` group (and so of every
command under it). Kept free of heavy imports: ``wordstack --help`` and the query
path must start fast.
"""
from __future__ import annotations

import os
import sys
from typing import Any

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
