"""The ``wordstack`` command line: one click group, thin over corpus_tools and models.

Commands live in ``wordstack/commands/``, one module per area, each listing its
commands in ``COMMANDS``; every command parses options, calls one library function
and formats the result. What commands share lives once in the ``wordstack/_*.py``
helpers: ``_word_models`` (which word-vector models to query), ``_output`` (stdout:
``--json``, neighbour tables), ``_console`` (stderr: warnings, logging, progress
bars), ``_options`` (``Example:`` help blocks, option parsers) and ``_errors``
(library errors become ``Error: ...`` lines with exit status 1, see
:class:`wordstack._errors.WordstackGroup`).
"""
from __future__ import annotations

import click

from . import __version__
from ._console import configure_logging
from ._errors import WordstackGroup
from .commands import ff, seq, serve, vectors, words


@click.group(cls=WordstackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wordstack")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """wordstack: word vectors over your own books, and sequence models with neural memories.

    \b
    Start here:
      wordstack demo               ingest the shipped Shakespeare, train, compare two models
      wordstack similar romeo      nearest words (trains the default model on first use)
      wordstack ingest BOOKS --out corpus/ && wordstack train corpus/ --out model/

    Set WORDSTACK_HOME to keep models somewhere else than ~/.local/share/wordstack.
    """
    ctx.obj = {"verbose": verbose}
    if verbose:
        configure_logging(verbose)


for _area in (words, vectors, serve, seq, ff):
    for _command in _area.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="wordstack")


if __name__ == "__main__":  # pragma: no cover
    main()
