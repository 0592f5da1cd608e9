"""Sources: find books on disk, decode them and strip Project Gutenberg boilerplate.

A *book* is one file: plain text (``.txt``), text compressed with gzip, bzip2 or xz
(``.gz``, ``.bz2``, ``.xz``, e.g. ``hamlet.txt.gz``) or an EPUB (``.epub``, read in
spine order). Text is decoded as UTF-8 (with or without a byte-order mark). A UTF-8
book with a few invalid bytes stays UTF-8, each invalid sequence replaced by U+FFFD
and a warning naming the file, the count and the first offsets; a book that is not
UTF-8 at all (see :func:`_choose_encoding`) falls back to cp1252, or latin-1 where
cp1252 has no character for a byte, and a warning names the file. Newlines are normalised to
``\\n``. When the Project Gutenberg ``*** START OF ...`` / ``*** END OF ...`` markers
(or the older ``*END*THE SMALL PRINT!`` header) are present, only the text between
them is kept.

Books are read as a stream of paragraph-aligned chunks of about 1 MB, so memory use
does not grow with the size of a book or the number of books.
"""
from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import hashlib
import html.parser
import io
import logging
import lzma
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Iterator
from xml.etree import ElementTree

from ._corpus_dir import is_corpus_dir
from ._errors import CorpusToolsError, NoBooksError
from ._model_dir import is_model_dir

#: Suffixes a folder scan picks up. A file named explicitly is read whatever its suffix.
BOOK_SUFFIXES = (".txt", ".text", ".gz", ".bz2", ".xz", ".epub")
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_CHUNK_CHARS = 1 << 20
_HEADER_LINES = 800  # a Gutenberg START marker is looked for only this far into a book

_START_RE = re.compile(
    r"^\W*(?:START OF (?:THE |THIS )?PROJECT GUTENBERG|END\W*THE SMALL PRINT)", re.IGNORECASE
)
_END_RE = re.compile(
    r"^\W*(?:END OF (?:THE |THIS )?PROJECT GUTENBERG|End of (?:the )?Project Gutenberg)",
    re.IGNORECASE,
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

logger = logging.getLogger(__name__)


class UnreadableBookError(CorpusToolsError):
    """One book cannot be read (binary, corrupt archive, permission...); it is skipped."""


@dataclass
class BookInfo:
    """What was learned about one book while reading it.

    Attributes
    ----------
    path : str
        The file's path as given (absolute).
    size : int
        Size on disk in bytes.
    sha256 : str
        Hex digest of the bytes on disk.
    encoding : str or None
        The encoding the text was decoded with, once known.
    gutenberg_stripped : bool
        Whether Project Gutenberg markers were found and the boilerplate dropped.
    warnings : list of str
        Non-fatal problems (fallback decoding, ...), each naming the file.
    """

    path: str
    size: int
    sha256: str
    encoding: str | None = None
    gutenberg_stripped: bool = False
    warnings: list[str] = field(default_factory=list)


def _own_kind(folder: Path) -> str | None:
    """"corpus" or "model" when ``folder`` is one of wordstack's own (recognised by its marker)."""
    if is_corpus_dir(folder):
        return "corpus"
    if is_model_dir(folder):
        return "model"
    return None


def own_folders_message(folders: list[tuple[Path, str]]) -> str:
    """The one warning about wordstack folders left out of a search for books."""
    shown = ", ".join(f"{path} ({kind})" for path, kind in folders[:5])
    more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
    return (f"not reading wordstack's own corpus and model folders as books: {shown}{more}; "
            "name their files directly to read them anyway")


def _scan_folder(root: Path, own: list[tuple[Path, str]]) -> list[Path]:
    """The book files under ``root``, sorted; hidden entries and wordstack's own folders left out."""
    kind = _own_kind(root)
    if kind is not None:
        own.append((root, kind))
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            kind = _own_kind(here / d)
            if kind is not None:
                own.append((here / d, kind))
            else:
                keep.append(d)
        dirnames[:] = keep
        found.extend(here / f for f in filenames
                     if not f.startswith(".") and f.lower().endswith(BOOK_SUFFIXES) and (here / f).is_file())
    return sorted(found)


def _in_own_folder(path: Path, cache: dict[Path, str | None], own: list[tuple[Path, str]]) -> bool:
    """True when a folder above ``path`` is one of wordstack's own (first one found is noted in ``own``)."""
    for folder in path.parents:
        if folder not in cache:
            cache[folder] = _own_kind(folder)
            if cache[folder] is not None:
                own.append((folder, cache[folder]))
        if cache[folder] is not None:
            return True
    return False


def find_books(paths: Iterable[str | os.PathLike], *,
               own_folders: list[tuple[Path, str]] | None = None) -> list[Path]:
    """Expand files, folders (recursively) and glob patterns into a list of book files.

    Folders that are wordstack corpus or model folders (recognised by their
    marker, see :func:`corpus_tools._corpus_dir.is_corpus_dir` and
    :func:`corpus_tools._model_dir.is_model_dir`) are not searched, nor are the
    files of a glob pattern inside one: ingest never reads its own output. A file
    named explicitly is read wherever it is.

    Parameters
    ----------
    paths : iterable of str or path
        Files, folders or glob patterns (``books/**/*.txt``).
    own_folders : list, optional
        Receives ``(folder, "corpus" or "model")`` for each folder left out; without
        it, one warning naming them is logged.

    Returns
    -------
    list of Path
        Absolute paths, folders expanded in sorted order, duplicates removed, in the
        order given.

    Raises
    ------
    NoBooksError
        A path does not exist, or nothing readable was found at all.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    own: list[tuple[Path, str]] = []
    cache: dict[Path, str | None] = {}
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise NoBooksError("no books given; name files, folders or glob patterns of books")
    for raw in paths:
        candidates: list[Path]
        p = Path(raw).expanduser()
        if p.is_dir():
            skipped = len(own)
            root = p.resolve()
            candidates = [] if _in_own_folder(root, cache, own) else _scan_folder(root, own)
            if not candidates:
                why = f" ({own_folders_message(own[skipped:])})" if len(own) > skipped else ""
                raise NoBooksError(
                    f"folder {raw!r} holds no books: wordstack reads files ending in "
                    f"{', '.join(BOOK_SUFFIXES)}; put books there or name the files directly{why}"
                )
        elif p.is_file():
            candidates = [p.resolve()]
        elif glob.has_magic(raw):
            candidates = sorted(Path(m).resolve() for m in glob.glob(os.path.expanduser(raw), recursive=True))
            candidates = [c for c in candidates if c.is_file() and not _in_own_folder(c, cache, own)]
            if not candidates:
                raise NoBooksError(f"pattern {raw!r} matches no files; check the pattern and quote it")
        else:
            raise NoBooksError(f"{raw!r}: no such file or folder; check the path")
        for c in candidates:
            if c not in seen:
                seen.add(c)
                found.append(c)
    if own_folders is not None:
        own_folders.extend(own)
    elif own:
        logger.warning(own_folders_message(own))
    return found


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes on disk, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _open_raw(path: Path) -> IO[bytes]:
    opener = _COMPRESSED.get(path.suffix.lower())
    return opener(path, "rb") if opener else open(path, "rb")


# ----------------------------------------------------------------------------- EPUB


class _XHTMLText(html.parser.HTMLParser):
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "title"}
    _SKIP = {"script", "style", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _epub_chapters(path: Path) -> Iterator[str]:
    """Text of each spine document of an EPUB, in reading order."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableBookError(f"{path}: not a readable EPUB (zip) file: {exc}") from exc
    with zf:
        try:
            container = ElementTree.fromstring(zf.read("META-INF/container.xml"))
            rootfile = next(e for e in container.iter() if e.tag.endswith("rootfile")).attrib["full-path"]
            opf = ElementTree.fromstring(zf.read(rootfile))
        except (KeyError, StopIteration, ElementTree.ParseError, zipfile.BadZipFile) as exc:
            raise UnreadableBookError(
                f"{path}: EPUB has no valid META-INF/container.xml or package file ({exc})"
            ) from exc
        base = posixpath.dirname(rootfile)
        manifest = {
            e.attrib.get("id"): e.attrib.get("href")
            for e in opf.iter()
            if e.tag.endswith("item") and e.attrib.get("href")
        }
        spine = [e.attrib.get("idref") for e in opf.iter() if e.tag.endswith("itemref")]
        for idref in spine:
            href = manifest.get(idref)
            if not href:
                continue
            name = posixpath.normpath(posixpath.join(base, href))
            try:
                raw = zf.read(name)
            except KeyError:
                continue
            parser = _XHTMLText()
            parser.feed(raw.decode("utf-8", errors="replace"))
            parser.close()
            yield "".join(parser.parts)


# ----------------------------------------------------------------------------- text


_DETECT_BLOCK = 1 << 20   # bytes decoded at a time while choosing the encoding
_LEAD_BYTES = bytes(range(0xC2, 0xF5))   # the first byte of every well-formed multi-byte UTF-8 character
_SHOWN_OFFSETS = 5        # invalid sequences whose offsets a warning lists


@dataclass
class _Utf8Scan:
    """What one pass of UTF-8 decoding found: well-formed multi-byte characters and invalid sequences."""

    multibyte: int = 0                  # well-formed non-ASCII characters
    invalid: int = 0                    # invalid sequences (each would become one U+FFFD)
    offsets: list[int] = field(default_factory=list)   # byte offsets of the first invalid sequences

    def count_valid(self, segment) -> None:
        segment = bytes(segment)
        self.multibyte += len(segment) - len(segment.translate(None, _LEAD_BYTES))


def _scan_utf8(raw: IO[bytes], head: bytes) -> _Utf8Scan:
    """Decode the stream (``head`` already read from it) as UTF-8, counting invalid sequences.

    Blocks are decoded with ``final=False``: a character cut in two by a block boundary
    is carried over to the next block, not counted as invalid.
    """
    scan = _Utf8Scan()
    pending = b""
    offset = 0                      # stream offset of data[0]
    block = head
    while True:
        final = not block
        data = pending + block
        view = memoryview(data)
        pos = 0
        while True:
            try:
                _, consumed = codecs.utf_8_decode(view[pos:], "strict", final)
            except UnicodeDecodeError as exc:
                scan.count_valid(view[pos:pos + exc.start])
                if len(scan.offsets) < _SHOWN_OFFSETS:
                    scan.offsets.append(offset + pos + exc.start)
                scan.invalid += 1
                pos += exc.end
                continue
            scan.count_valid(view[pos:pos + consumed])
            pos += consumed
            break
        pending = data[pos:]
        offset += pos
        if final:
            return scan
        block = raw.read(_DETECT_BLOCK)


def _choose_encoding(scan: _Utf8Scan) -> str | None:
    """``"utf-8"`` when the book is UTF-8 (perhaps with a few invalid bytes), None when it is not.

    The rule is the share of invalid sequences among the book's non-ASCII sequences:
    a book is not UTF-8 at all when its invalid sequences outnumber its well-formed
    multi-byte characters. A cp1252 or latin-1 book has almost no well-formed UTF-8
    pairs by chance (an accented letter is one byte, followed by a letter), so nearly
    all of its non-ASCII bytes are invalid; a UTF-8 book with a few stray bytes has far
    more well-formed accented letters and curly quotes than broken ones. A share of
    bytes (say 1 in 1,000) would misread short books, and would replace the one
    accented letter of an otherwise ASCII latin-1 book by U+FFFD where cp1252 reads
    it right (with no multi-byte characters, cp1252 changes nothing else).
    """
    return "utf-8" if scan.invalid <= scan.multibyte else None


def _detect_encoding(path: Path) -> tuple[str, _Utf8Scan | None]:
    """Decode the whole stream once to choose the encoding; raise if it looks binary.

    Returns the encoding and, for UTF-8, what the scan found (its ``invalid`` count
    says whether to read with ``errors="replace"``).
    """
    try:
        with _open_raw(path) as raw:
            head = raw.read(8192)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                return "utf-16", None
            if b"\x00" in head:
                raise UnreadableBookError(
                    f"{path}: looks like a binary file (NUL bytes in its first 8 KB), not text; skipped"
                )
            bom = head.startswith(codecs.BOM_UTF8)
            scan = _scan_utf8(raw, head[3:] if bom else head)
        if _choose_encoding(scan):
            return ("utf-8-sig" if bom else "utf-8"), scan
        with _open_raw(path) as raw:
            data_ok = True
            for block in iter(lambda: raw.read(1 << 20), b""):
                try:
                    block.decode("cp1252")
                except UnicodeDecodeError:
                    data_ok = False
                    break
        return ("cp1252" if data_ok else "latin-1"), None
    except (OSError, EOFError, lzma.LZMAError) as exc:
        kind = path.suffix.lower().lstrip(".") or "text"
        raise UnreadableBookError(f"{path}: cannot read {kind} file ({exc}); skipped") from exc


def _invalid_utf8_warning(path: Path, scan: _Utf8Scan, bom: bool) -> str:
    where = ", ".join(str(o + (3 if bom else 0)) for o in scan.offsets)
    more = ", ..." if scan.invalid > len(scan.offsets) else ""
    of = " of the decompressed text" if path.suffix.lower() in _COMPRESSED else ""
    n = scan.invalid
    return (f"{path}: {n} invalid UTF-8 byte sequence{'s' if n != 1 else ''} (at byte offset{'s' if n != 1 else ''} "
            f"{where}{more}{of}), each replaced by U+FFFD; the rest is read as UTF-8")


def _text_lines(path: Path, info: BookInfo) -> Iterator[str]:
    if path.suffix.lower() == ".epub":
        info.encoding = "epub"
        for chapter in _epub_chapters(path):
            yield from io.StringIO(chapter, newline=None)
            yield "\n"
        return
    encoding, scan = _detect_encoding(path)
    info.encoding = encoding
    errors = "strict"
    if encoding in ("cp1252", "latin-1"):
        info.warnings.append(f"{path}: not valid UTF-8; decoded as {encoding} (check accented letters)")
    elif scan is not None and scan.invalid:
        errors = "replace"
        info.warnings.append(_invalid_utf8_warning(path, scan, bom=encoding == "utf-8-sig"))
    try:
        with _open_raw(path) as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=None)
            checked = 0
            for line in text:
                if checked < 65536:
                    checked += len(line)
                    if len(_CONTROL_RE.findall(line)) > max(8, len(line) // 100):
                        raise UnreadableBookError(
                            f"{path}: looks like a binary file (control characters), not text; skipped"
                        )
                yield line
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError) as exc:
        raise UnreadableBookError(f"{path}: cannot read ({exc}); skipped") from exc


def _strip_gutenberg(lines: Iterator[str], info: BookInfo) -> Iterator[str]:
    """Drop a Project Gutenberg header (up to the START marker) and licence (from END)."""
    head: list[str] = []
    for line in lines:
        if _START_RE.match(line):
            info.gutenberg_stripped = True
            head = []
            break
        if _END_RE.match(line):
            info.gutenberg_stripped = True
            yield from head
            return
        head.append(line)
        if len(head) >= _HEADER_LINES:
            break
    yield from head
    for line in lines:
        if _END_RE.match(line):
            info.gutenberg_stripped = True
            return
        if _START_RE.match(line) and not info.gutenberg_stripped:
            continue
        yield line


def read_book(path: str | os.PathLike, *, strip_gutenberg: bool = True,
              chunk_chars: int = _CHUNK_CHARS) -> tuple[BookInfo, Iterator[str]]:
    """Open one book for reading.

    Parameters
    ----------
    path : str or path
        The book file.
    strip_gutenberg : bool, default True
        Drop Project Gutenberg header and licence when their markers are present.
    chunk_chars : int
        Approximate size of the text chunks yielded; chunks end at paragraph breaks
        where the text has them.

    Returns
    -------
    info : BookInfo
        Size and hash are filled at once; ``encoding`` and ``warnings`` once the
        chunks have been consumed.
    chunks : iterator of str
        The decoded, newline-normalised text.

    Raises
    ------
    UnreadableBookError
        While iterating: the file is binary, a corrupt archive or undecodable.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        sha = file_sha256(path)
    except OSError as exc:
        raise UnreadableBookError(f"{path}: cannot open ({exc.strerror or exc}); skipped") from exc
    info = BookInfo(path=str(path), size=size, sha256=sha)

    def chunks() -> Iterator[str]:
        if size == 0:
            return
        lines = _text_lines(path, info)
        if strip_gutenberg:
            lines = _strip_gutenberg(lines, info)
        buf: list[str] = []
        n = 0
        for line in lines:
            buf.append(line)
            n += len(line)
            if n >= chunk_chars and not line.strip():
                yield "".join(buf)
                buf, n = [], 0
        if buf:
            yield "".join(buf)

    return info, chunks()


def read_text(path: str | os.PathLike, *, strip_gutenberg: bool = True) -> str:
    """The whole decoded text of a book (convenience for small books and tests)."""
    _, chunks = read_book(path, strip_gutenberg=strip_gutenberg)
    return "".join(chunks)
