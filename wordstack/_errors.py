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


#: The libraries' public base classes of their input errors, by package name.
LIBRARY_ERRORS: tuple[tuple[str, str], ...] = (("corpus_tools", "CorpusToolsError"), ("models", "ModelsError"))


def _user_error_types() -> tuple[type[BaseException], ...]:
    """USER_ERRORS plus the library error classes, taken only from packages already imported.

    A library error can only have been raised by an imported library, so a package
    not in ``sys.modules`` is skipped: translating an error never imports gensim,
    NLTK or numpy (the packages export their error classes lazily and lightly).
    """
    types = list(USER_ERRORS)
    for package, name in LIBRARY_ERRORS:
        module = sys.modules.get(package)
        if module is None:
            continue
        try:
            error = getattr(module, name)
        except (AttributeError, ImportError):
            continue
        if isinstance(error, type) and issubclass(error, BaseException):
            types.append(error)
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
