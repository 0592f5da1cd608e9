"""Pictures wordstack draws: the one writer both packages use, and the mark that tells them apart.

Every picture (``wordstack map``, ``clusters``, ``seq plot``, ``seq inspect``, ``ff
sweep``) is written by :func:`save_figure`: in the format its name asks for (``.png``,
``.svg`` or ``.pdf``; any other name is refused with the choices), atomically, and
with wordstack's mark in the file's own metadata:

PNG
    a ``tEXt`` chunk ``Software`` = ``wordstack <version>`` (before the image data);
SVG
    ``<dc:creator><cc:Agent><dc:title>wordstack <version>`` in the ``<metadata>`` block;
PDF
    ``/Creator (wordstack <version>)`` in the document information dictionary.

A file already at the path is replaced only if :func:`is_wordstack_picture` finds that
mark, so a picture wordstack drew can be redrawn in place, but a file the user owns
(``thesis.pdf``, a photo) is never overwritten: :class:`corpus_tools.OverwriteRefusedError`.

This module is public API: ``models`` draws its pictures with it
(``from corpus_tools.pictures import save_figure``). It imports only the standard
library; matplotlib is the caller's (the figure is passed in).
"""
from __future__ import annotations

import os
import re
import struct
from pathlib import Path

from .atomic import atomic_path, check_file_replaceable

__all__ = ["CREATOR", "PICTURE_FORMATS", "check_picture_path", "is_wordstack_picture", "picture_format",
           "save_figure"]

#: The formats a picture may be written in, by file-name extension.
PICTURE_FORMATS = ("png", "svg", "pdf")
#: The start of the mark: ``wordstack`` and the version that wrote the picture.
CREATOR = "wordstack"

_SCAN_BYTES = 1 << 16           # how much of a file the recogniser reads, at its head or its tail
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_MARK = re.compile(r"<dc:creator>\s*<cc:Agent>\s*<dc:title>" + CREATOR + r"\b")
_PDF_MARK = re.compile(rb"/Creator\s*\(" + CREATOR.encode() + rb"\b")
_REFUSAL = ("it is not a picture wordstack drew (wordstack replaces a picture only when it carries "
            "wordstack's mark, so a file of yours is never overwritten)")


def _creator() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return CREATOR
    try:
        return f"{CREATOR} {version('wordstack')}"
    except PackageNotFoundError:
        return CREATOR


def picture_format(path: str | os.PathLike) -> str:
    """The format a picture at ``path`` is written in: its extension, one of :data:`PICTURE_FORMATS`.

    Raises
    ------
    ValueError
        The extension is missing or not one of png, svg, pdf; the message lists them.
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in PICTURE_FORMATS:
        return suffix
    choices = ", ".join(f".{f}" for f in PICTURE_FORMATS)
    what = f"ends in .{suffix}" if suffix else "has no extension"
    raise ValueError(f"picture file {str(path)!r} {what}; wordstack draws pictures as {choices}: "
                     f"name the file so (e.g. {Path(path).with_suffix('.png').name})")


def is_wordstack_picture(path: str | os.PathLike) -> bool:
    """True when ``path`` is a PNG, SVG or PDF file carrying wordstack's mark (see the module docstring).

    Reads at most 64 KB of the file (its head; for a PDF its tail): bounded for any file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SCAN_BYTES)
            if head.startswith(_PNG_SIGNATURE):
                return _png_has_mark(head)
            if head.startswith(b"%PDF-"):
                size = os.fstat(fh.fileno()).st_size
                fh.seek(max(0, size - _SCAN_BYTES))
                return bool(_PDF_MARK.search(fh.read(_SCAN_BYTES)))
    except OSError:
        return False
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith(("<?xml", "<svg", "<!DOCTYPE svg")):
        return bool(_SVG_MARK.search(text))
    return False


def _png_has_mark(head: bytes) -> bool:
    """Whether the text chunks before the image data hold ``Software`` = ``wordstack ...``."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(head):
        length, kind = struct.unpack(">I4s", head[pos:pos + 8])
        if kind in (b"IDAT", b"IEND"):
            return False
        data = head[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            keyword, _, text = data.partition(b"\0")
        elif kind == b"iTXt":                 # keyword, flag, method, language, translated keyword, text
            keyword, _, rest = data.partition(b"\0")
            text = rest[2:].split(b"\0", 2)[-1]
        else:
            keyword = text = b""
        if keyword == b"Software" and text.startswith(CREATOR.encode()):
            return True
        pos += 12 + length
    return False


def check_picture_path(path: str | os.PathLike) -> str:
    """Check, before drawing, that a picture may be written at ``path``; return its format.

    Raises
    ------
    ValueError
        The extension is not one of :data:`PICTURE_FORMATS`.
    OverwriteRefusedError
        A file is there that wordstack did not draw.
    """
    fmt = picture_format(path)
    check_file_replaceable(Path(path).expanduser(), is_wordstack_picture, _REFUSAL)
    return fmt


def save_figure(fig, path: str | os.PathLike, *, dpi: float = 100) -> Path:
    """Write a matplotlib figure to ``path`` with wordstack's mark, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path
        Its extension chooses the format (:data:`PICTURE_FORMATS`). An existing file
        is replaced only when it is a picture wordstack drew.
    dpi : float, default 100
        Resolution of the PNG (and of raster parts of an SVG or PDF).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        The extension is not png, svg or pdf.
    OverwriteRefusedError
        A file is at ``path`` that wordstack did not draw; nothing is written.
    """
    fmt = picture_format(path)
    path = Path(path).expanduser()
    key = "Software" if fmt == "png" else "Creator"
    with atomic_path(path, replace_if=is_wordstack_picture, refusal=_REFUSAL) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata={key: _creator()})
    return path
