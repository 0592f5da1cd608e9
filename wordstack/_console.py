"""The stderr side of a command: warnings, the library log level, progress bars.

Kept free of heavy imports: tqdm and logging are imported only when a command
asks for a bar or for logging, so the query path does not pay for them.
"""
from __future__ import annotations

import os
import sys

import click


def warn(message: str) -> None:
    click.echo(click.style("warning: ", fg="yellow") + message, err=True)


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


def progress_bar(total: int | None, desc: str, unit: str = "it"):
    """A tqdm bar on stderr (imported lazily), disabled when stderr is not a terminal
    unless ``WORDSTACK_PROGRESS=1``."""
    from tqdm.auto import tqdm

    force = os.environ.get("WORDSTACK_PROGRESS")
    disable = None if force is None else force == "0"
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=disable, dynamic_ncols=True,
                leave=True)
