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
