"""The ``wordstack`` command line: one click group, thin over corpus_tools and models.

Commands live beside this file by area (``_words.py``, ...); each parses options,
calls one library function and formats the result. Library errors become
``Error: ...`` lines with exit status 1 (see :class:`wordstack._common.WordstackGroup`).
"""
from __future__ import annotations

import click

from . import __version__
from ._common import WordstackGroup, configure_logging
from ._ff import ff as FF_GROUP
from ._seq import seq as SEQ_GROUP
from ._vectors_cli import COMMANDS as VECTOR_COMMANDS
from ._words import COMMANDS as WORD_COMMANDS


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


for _command in WORD_COMMANDS + VECTOR_COMMANDS:
    cli.add_command(_command)
cli.add_command(SEQ_GROUP)
cli.add_command(FF_GROUP)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="wordstack")


if __name__ == "__main__":  # pragma: no cover
    main()
