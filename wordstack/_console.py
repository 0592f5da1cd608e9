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
    which report them themselves, and other libraries (Dask's distributed) show
    warnings only; ``-v`` shows INFO, ``-vv`` DEBUG. Called lazily
    (not for every command) so the query path does not pay for importing logging.
    """
    import logging

    if verbose is None:
        ctx = click.get_current_context(silent=True)
        verbose = (ctx.find_root().obj or {}).get("verbose", 0) if ctx else 0
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    # The handler itself filters by level: a library that sets its own loggers' level at
    # import (distributed sets "distributed" to INFO) still only reaches stderr with -v.
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if verbose == 0:
        logging.getLogger("corpus_tools").setLevel(logging.ERROR)
        logging.getLogger("gensim").setLevel(logging.ERROR)
        if "distributed" in sys.modules:  # imported already: it may have its own handler, not the root's
            logging.getLogger("distributed").setLevel(logging.WARNING)


#: Seconds between redraws of a bar: on a terminal, and when forced into a log file.
REDRAW_SECONDS = {"terminal": 0.1, "log": 2.0}


def progress_bar(total: int | None, desc: str, unit: str = "it", scale: bool = False):
    """A tqdm bar on stderr (imported lazily), disabled when stderr is not a terminal
    unless ``WORDSTACK_PROGRESS=1``.

    Redraws are throttled (:data:`REDRAW_SECONDS`): a forced bar written to a log file
    redraws every 2 s at most, however many updates arrive, so a log of 5,000 books
    holds a few lines, not one redraw per book. Callers report progress with
    ``update()``, which honours the throttle (``refresh()`` would not). ``scale``
    shows amounts with k/M/G prefixes (1024-based for bytes, unit "B").
    """
    from tqdm.auto import tqdm

    force = os.environ.get("WORDSTACK_PROGRESS")
    disable = None if force is None else force == "0"
    isatty = getattr(sys.stderr, "isatty", None)
    where = "terminal" if isatty is not None and isatty() else "log"
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=disable, dynamic_ncols=True,
                leave=True, mininterval=REDRAW_SECONDS[where], unit_scale=scale, unit_divisor=1024 if scale and unit == "B" else 1000)


class Progress:
    """Base of the callbacks that drive one :func:`progress_bar` from a library's progress reports.

    :meth:`open` makes the bar (at once, or on the first report: the total may be
    known only then); :meth:`close` ends it and is safe to call again, so commands
    call it in ``finally``.
    """

    def __init__(self):
        self.bar = None

    def open(self, total: int | None, desc: str, unit: str, scale: bool = False):
        if self.bar is None:
            self.bar = progress_bar(total, desc, unit=unit, scale=scale)
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class IngestProgress(Progress):
    """Maps corpus_tools.ingest's progress(stage, done, total) onto a bar of books tokenized."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "punkt" and done == 0:
            click.echo("Training the Punkt sentence model on a sample of the books...", err=True)
        elif stage == "tokenize":
            if total > 0:
                self.open(total, "tokenizing", "book")
            if self.bar is not None:
                self.bar.update(done - self.bar.n)   # throttled, unlike refresh()
                if done >= total:
                    self.close()
        elif stage == "phrases" and done == 0:
            click.echo("Detecting phrases...", err=True)


class EpochProgress(Progress):
    """corpus_tools.train's on_epoch: one tick per epoch, with words/s and loss."""

    def __init__(self, epochs: int, desc: str = "training"):
        super().__init__()
        self.open(epochs, desc, "epoch")

    def __call__(self, rep) -> None:
        loss = "" if rep.loss is None else f", loss {rep.loss:,.0f}"  # fastText has no loss
        self.bar.set_postfix_str(f"{rep.words_per_second:,.0f} words/s{loss}", refresh=False)
        self.bar.update(1)
        if rep.epoch >= rep.epochs:
            self.bar.close()  # at once, not only in the caller's finally; a second close is harmless


class AmountProgress(Progress):
    """A library's ``progress(done, total)`` (bytes of a file, rows of a model) as one bar."""

    def __init__(self, desc: str, unit: str = "B", scale: bool = True):
        super().__init__()
        self.desc, self.unit, self.scale = desc, unit, scale
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        if self.finished:
            return
        self.finished = done >= total
        bar = self.open(total, self.desc, self.unit, self.scale)
        bar.update(done - bar.n)
        if done >= total:
            self.close()


class IndexProgress(Progress):
    """corpus_tools.build_index's progress(stage, done, total): rows added, then the exact searches."""

    STAGES = {"add": ("building the graph", "word"), "exact": ("exact search for recall", "query")}

    stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.STAGES:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
        bar = self.open(total, *self.STAGES[stage])
        bar.update(done - bar.n)
        if done >= total:
            self.close()
