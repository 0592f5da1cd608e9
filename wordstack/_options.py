"""What every command's declaration shares: the ``Example:`` block of its help, option parsers."""
from __future__ import annotations

import inspect
from typing import Callable

import click


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


PICTURE_HELP = "Picture to write: .png, .svg or .pdf; an existing file is replaced only if wordstack drew it."


def picture_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """click callback of a picture ``--out``: checked before any work is done.

    The extension must be .png, .svg or .pdf (a usage error lists them), and a file
    already there must be a picture wordstack drew (else corpus_tools'
    OverwriteRefusedError: "Error: ..." naming the file and the fix).
    """
    if value is None:
        return None
    from corpus_tools.pictures import check_picture_path

    try:
        check_picture_path(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


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
