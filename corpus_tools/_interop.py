"""Import and export word vectors in the formats of the original word2vec tool and fastText.

Formats (Mikolov et al.'s ``word2vec.c``, ``-binary 0|1``; fastText's ``.vec``):

``word2vec-txt``
    A header line ``V D``, then one line per word: the word, a space and ``D``
    decimal numbers separated by spaces.
``vec``
    fastText's text vectors: the same layout (each number followed by a space).
``word2vec-bin``
    The header line ``V D``, then per word: its UTF-8 bytes, one space and ``D``
    little-endian float32 numbers (``4 D`` bytes), usually followed by a newline.

Text files without a header line (GloVe's layout) are read too; gzip-compressed
files (``.gz``, e.g. GoogleNews-style downloads) are decompressed on the fly.

An imported file becomes an ordinary model directory (``meta.json``,
``vocab.txt``, ``vectors.npy``, ``norms.npy``; see :mod:`corpus_tools._model_dir`)
without the gensim pickle: it can be queried, evaluated, mapped and exported,
but not trained further. The file order is kept as the row order, which is the
frequency order for files written by word2vec, fastText or gensim (most frequent
first); word counts are not part of these formats and are recorded as 0.

Reading is vectorised: text lines are split from their words in Python and all
numbers of a block of lines are parsed by one ``numpy.fromstring`` call, which
is several times faster than gensim's per-number ``float`` conversion.
"""
from __future__ import annotations

import gzip
import logging
import mmap
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._errors import ModelError
from ._model_dir import check_model_out, model_meta, write_model_dir
from ._vectors import Vectors
from .atomic import atomic_path, check_file_replaceable

logger = logging.getLogger(__name__)

#: Formats that :func:`export_vectors` writes and :func:`read_word2vec` reads.
FORMATS = ("word2vec-bin", "word2vec-txt", "vec")
VECTOR_FORMATS = FORMATS

_TEXT_BLOCK_LINES = 8192          # lines parsed by one numpy.fromstring call
_MAX_WORD_BYTES = 4096            # a longer "word" means the file is not what it claims
#: The largest dimension a header may declare. Published vectors have 25 to 1,000
#: dimensions; a larger number is a damaged or hostile header, refused before anything
#: is allocated for it.
MAX_DIMENSIONS = 100_000


_EXPORT_REFUSAL = ("wordstack never replaces a vectors file: the format has no room for a mark that says "
                   "wordstack wrote it, so it could be yours")


class VectorsFileError(ModelError):
    """A word-vectors file is malformed (truncated, wrong header, ragged lines, ...)."""


@dataclass
class ImportResult:
    """What :func:`import_vectors` read and wrote.

    Attributes
    ----------
    path : Path
        The model directory written.
    source : Path
        The file read.
    format : str
        ``"word2vec-bin"`` or ``"word2vec-txt"`` (text, with or without header).
    header : bool
        Whether the file had a ``V D`` header line.
    vocab_size, vector_size : int
    duplicates : list of str
        Words that appeared more than once; the first vector of each was kept.
    seconds : float
    """

    path: Path
    source: Path
    format: str
    header: bool
    vocab_size: int
    vector_size: int
    duplicates: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class ExportResult:
    """What :func:`export_vectors` wrote."""

    path: Path
    format: str
    vocab_size: int
    vector_size: int
    bytes: int
    seconds: float = 0.0


# ----------------------------------------------------------------------------- reading


def _open_bytes(path: Path) -> tuple[bytes | mmap.mmap, object]:
    """The whole file as a bytes-like object: memory-mapped, or decompressed for gzip.

    A gzip file's header line is checked (:func:`_check_header`) before the rest is
    decompressed.
    """
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        with gzip.open(path, "rb") as fh:
            try:
                head = fh.read(4096)
                nl = head.find(b"\n")
                _check_header(path, _parse_header(head[: nl if nl != -1 else len(head)]))
                return head + fh.read(), None
            except (OSError, EOFError) as exc:
                raise VectorsFileError(f"{path} is a damaged gzip file ({exc}); download or export it again") from exc
    fh = open(path, "rb")
    if os.fstat(fh.fileno()).st_size == 0:
        fh.close()
        raise VectorsFileError(f"{path} is empty; expected a word2vec or fastText vectors file")
    return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), fh


def _parse_header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _check_header(path: Path, header: tuple[int, int] | None) -> None:
    """Refuse a ``V D`` header whose dimension no vectors file has, before allocating for it."""
    if header is None:
        return
    vector_size = header[1]
    if vector_size < 1:
        raise VectorsFileError(f"{path}: the header gives dimension {vector_size}; it must be >= 1")
    if vector_size > MAX_DIMENSIONS:
        raise VectorsFileError(
            f"{path}: the header gives dimension {vector_size:,}; wordstack reads at most {MAX_DIMENSIONS:,} "
            "dimensions (published vectors have 25 to 1,000): the header is damaged or this is not a vectors file"
        )


def _vectors(n: int) -> str:
    return f"{n:,} vector{'s' if n != 1 else ''}"


def _looks_like_text(buf, start: int, vector_size: int) -> bool:
    """True when the first entry after the header is a text line of ``vector_size`` numbers."""
    end = buf.find(b"\n", start, start + 64 * 1024)
    if end == -1:
        end = min(len(buf), start + 64 * 1024)
    line = bytes(buf[start:end])
    try:
        parts = line.decode("ascii").split()
    except UnicodeDecodeError:
        # A non-ASCII word is fine; the numbers after it must be ASCII.
        word, _, rest = line.partition(b" ")
        try:
            parts = [""] + rest.decode("ascii").split()
        except UnicodeDecodeError:
            return False
    if len(parts) != vector_size + 1:
        return False
    try:
        [float(p) for p in parts[1:]]
    except ValueError:
        return False
    return True


def _decode_word(raw: bytes, path: Path, where: str, unicode_errors: str) -> str:
    try:
        return raw.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError as exc:
        raise VectorsFileError(
            f"{path} {where}: the word {raw[:40]!r} is not valid UTF-8 ({exc.reason}); "
            "pass unicode_errors='replace' (CLI: --unicode-errors replace) to read it anyway"
        ) from None


def _read_binary(buf, start: int, vocab_size: int, vector_size: int, path: Path,
                 unicode_errors: str, limit: int | None) -> tuple[list[str], np.ndarray]:
    """The words and vectors of a binary file whose header (``vocab_size vector_size``) ends at ``start``.

    Each entry takes at least ``4 * vector_size + 1`` bytes (a word, a space, the
    numbers), so the header's claim is compared with the file's
    size before the array is allocated: a file too short for it is walked (without
    storing anything) to say where it ends, and refused.
    """
    n = vocab_size if limit is None else min(limit, vocab_size)
    nbytes = 4 * vector_size
    pos = start
    size = len(buf)
    need = n * (nbytes + 1)
    fits = need <= size - start
    vectors = np.empty((n, vector_size), dtype=np.float32) if fits else None  # (V, D)
    words: list[str] = []
    for i in range(n):
        while pos < size and buf[pos:pos + 1] == b"\n":  # the C tool ends each vector with "\n"
            pos += 1
        space = buf.find(b" ", pos, pos + _MAX_WORD_BYTES)
        if space == -1 or space + 1 + nbytes > size:
            got = f"it ends inside entry {i + 1}" if pos < size else "it ends there"
            if space == -1 and size - pos >= _MAX_WORD_BYTES:
                raise VectorsFileError(
                    f"{path}: entry {i + 1} at byte {pos} has no space within {_MAX_WORD_BYTES} bytes; "
                    "this is not a word2vec binary file (for a text file use --format word2vec-txt)"
                )
            short = "" if fits else (f" ({_vectors(n)} of {vector_size} numbers need at least {need:,} bytes "
                                     f"after the header; the file has {size - start:,})")
            raise VectorsFileError(
                f"{path} is truncated: the header announces {_vectors(vocab_size)} of {vector_size} float32 "
                f"numbers, but {got} after {i} complete one{'s' if i != 1 else ''}{short}; "
                "download or export the file again"
            )
        if vectors is not None:
            words.append(_decode_word(bytes(buf[pos:space]), path, f"entry {i + 1} (byte {pos})", unicode_errors))
            vectors[i] = np.frombuffer(buf, dtype="<f4", count=vector_size, offset=space + 1)
        pos = space + 1 + nbytes
    assert vectors is not None, f"{n} entries of {nbytes + 1} bytes or more fit in {size - start} bytes"
    if limit is None or limit >= vocab_size:
        rest = bytes(buf[pos:pos + 64]).strip()
        if rest:
            raise VectorsFileError(
                f"{path}: the header announces {_vectors(vocab_size)} but more data follows the last one "
                f"(at byte {pos}); correct the header's first number or the file"
            )
    return words, vectors


def _bad_text_line(lines: list[bytes], first_lineno: int, vector_size: int, path: Path) -> VectorsFileError:
    """Find the line of a block that does not parse and describe it."""
    for k, line in enumerate(lines):
        word, _, rest = line.strip(b"\r\n").partition(b" ")
        parts = rest.split()
        lineno = first_lineno + k
        if len(parts) != vector_size:
            return VectorsFileError(
                f"{path} line {lineno}: {word[:40].decode('utf-8', 'replace')!r} has {len(parts)} "
                f"number{'s' if len(parts) != 1 else ''}, "
                f"expected {vector_size} (the dimension of the header or first line); fix or remove that line"
            )
        for p in parts:
            try:
                float(p)
            except ValueError:
                return VectorsFileError(
                    f"{path} line {lineno}: {p[:40].decode('utf-8', 'replace')!r} is not a number; "
                    "fix or remove that line"
                )
    return VectorsFileError(f"{path} lines {first_lineno}-{first_lineno + len(lines) - 1} do not parse as numbers")


def _iter_lines(buf, start: int, lineno: int):
    """(line number, line) for each non-empty line from byte ``start`` (line ``lineno``) on."""
    pos = start
    size = len(buf)
    while pos < size:
        end = buf.find(b"\n", pos)
        if end == -1:
            end = size
        line = buf[pos:end]
        if line.strip():
            yield lineno, line
        lineno += 1
        pos = end + 1


def _read_text(buf, start: int, first_lineno: int, vocab_size: int | None, vector_size: int, path: Path,
               unicode_errors: str, limit: int | None) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    blocks: list[np.ndarray] = []
    want = None if vocab_size is None else (vocab_size if limit is None else min(limit, vocab_size))
    if vocab_size is None and limit is not None:
        want_max = limit
    else:
        want_max = want
    block_lines: list[bytes] = []
    block_rests: list[bytes] = []
    block_start = 0
    n_read = 0

    def flush():
        if not block_rests:
            return
        try:
            nums = np.fromstring(b" ".join(block_rests), dtype=np.float32, sep=" ")
        except ValueError:
            raise _bad_text_line(block_lines, block_start, vector_size, path) from None
        if nums.size != len(block_rests) * vector_size:
            raise _bad_text_line(block_lines, block_start, vector_size, path)
        blocks.append(nums.reshape(len(block_rests), vector_size))
        block_lines.clear()
        block_rests.clear()

    lines = _iter_lines(buf, start, first_lineno)
    for lineno, line in lines:
        if want_max is not None and n_read >= want_max:
            if limit is None or (vocab_size is not None and limit >= vocab_size):
                raise VectorsFileError(
                    f"{path}: the header announces {_vectors(vocab_size)} but line {lineno} holds another one; "
                    f"correct the header's first number (count the vector lines) or remove the extra lines"
                )
            break
        line = line.rstrip(b"\r")
        word, _, rest = line.partition(b" ")
        rest = rest.strip()
        if rest.count(b" ") + 1 != vector_size and len(rest.split()) != vector_size:
            raise _bad_text_line([line], lineno, vector_size, path)
        if not block_lines:
            block_start = lineno
        words.append(_decode_word(word, path, f"line {lineno}", unicode_errors))
        block_lines.append(line)
        block_rests.append(rest)
        n_read += 1
        if len(block_rests) >= _TEXT_BLOCK_LINES:
            flush()
    flush()
    if want is not None and n_read < want:
        raise VectorsFileError(
            f"{path}: the header announces {_vectors(vocab_size)} but the file holds only {n_read}; "
            f"correct the header to '{n_read} {vector_size}' or download/export the file again"
        )
    vectors = np.concatenate(blocks) if blocks else np.empty((0, vector_size), np.float32)
    return words, vectors


def read_word2vec(path: str | os.PathLike, *, format: str = "auto", unicode_errors: str = "strict",
                  limit: int | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Read a word2vec (binary or text), fastText ``.vec`` or GloVe-style text file.

    Parameters
    ----------
    path : str or path
        The file; ``.gz`` compression is detected from its first bytes.
    format : {"auto", "word2vec-bin", "word2vec-txt", "vec"}, default "auto"
        ``auto`` tells binary from text by the first entry after the header.
    unicode_errors : {"strict", "replace", "ignore"}, default "strict"
        How to decode words that are not valid UTF-8 (the C tool can cut a
        multi-byte character in half).
    limit : int, optional
        Read only the first ``limit`` vectors (the most frequent ones).

    Returns
    -------
    words : list of str
    vectors : ndarray of shape (V, D), float32
        As stored in the file (not normalised).
    info : dict
        ``format`` (``word2vec-bin`` or ``word2vec-txt``) and ``header`` (bool).

    Raises
    ------
    VectorsFileError
        Truncated binary data, a header whose counts do not match the file,
        lines with the wrong number of numbers or non-numbers (with the line
        number), words that are not UTF-8.
    FileNotFoundError
        ``path`` does not exist.
    """
    path = Path(path).expanduser()
    if format not in ("auto",) + FORMATS:
        raise ValueError(f"format must be one of auto, {', '.join(FORMATS)}; got {format!r}")
    if unicode_errors not in ("strict", "replace", "ignore"):
        raise ValueError(f"unicode_errors must be 'strict', 'replace' or 'ignore', got {unicode_errors!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
    if not path.exists():
        raise FileNotFoundError(f"vectors file {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise VectorsFileError(f"{path} is a folder; import expects a vectors file (.bin, .txt, .vec)")
    buf, fh = _open_bytes(path)
    try:
        nl = buf.find(b"\n", 0, 4096)
        first = bytes(buf[: nl if nl != -1 else min(len(buf), 4096)])
        header = _parse_header(first)
        _check_header(path, header)
        if header is not None:
            vocab_size, vector_size = header
            start = nl + 1 if nl != -1 else len(buf)
            if format == "auto":
                binary = vocab_size > 0 and not _looks_like_text(buf, start, vector_size)
            else:
                binary = format == "word2vec-bin"
            if binary:
                words, vectors = _read_binary(buf, start, vocab_size, vector_size, path, unicode_errors, limit)
            else:
                words, vectors = _read_text(buf, start, 2, vocab_size, vector_size, path, unicode_errors, limit)
        else:
            if format == "word2vec-bin":
                raise VectorsFileError(
                    f"{path}: the first line {first[:60]!r} is not a 'V D' header; word2vec binary files start "
                    "with one (is this a text file? then drop --format or use word2vec-txt)"
                )
            parts = first.split()
            if len(parts) < 2:
                raise VectorsFileError(
                    f"{path}: the first line {first[:60]!r} is neither a 'V D' header nor 'word x1 x2 ...'; "
                    "expected a word2vec, fastText .vec or GloVe text file"
                )
            binary = False
            vector_size = len(parts) - 1
            words, vectors = _read_text(buf, 0, 1, None, vector_size, path, unicode_errors, limit)
    finally:
        if isinstance(buf, mmap.mmap):
            buf.close()
        if fh is not None:
            fh.close()
    if not words:
        raise VectorsFileError(f"{path} holds no vectors")
    return words, vectors, {"format": "word2vec-bin" if binary else "word2vec-txt", "header": header is not None}


def _check_words(words: list[str], path: Path) -> None:
    for i, w in enumerate(words):
        if not w or any(ch in w for ch in "\t\n\r"):
            raise VectorsFileError(
                f"{path}: entry {i + 1} has the word {w!r}, which is empty or holds a tab or newline; "
                "wordstack vocabularies cannot store it: fix the file"
            )


def import_vectors(path: str | os.PathLike, out: str | os.PathLike, *, format: str = "auto",
                   unicode_errors: str = "strict", limit: int | None = None) -> ImportResult:
    """Turn a word2vec / fastText / GloVe vectors file into a wordstack model directory.

    Parameters
    ----------
    path : str or path
        The vectors file (see :func:`read_word2vec`).
    out : str or path
        The model directory to write (atomically; an existing one is replaced
        only when the import succeeds, and only when it is a wordstack model
        folder holding nothing else: anything else raises
        :class:`~corpus_tools.OutputFolderError` before the file is read).
    format, unicode_errors, limit
        As for :func:`read_word2vec`.

    Returns
    -------
    ImportResult

    Notes
    -----
    The directory has no gensim pickle: queries, evaluation and maps read it
    with numpy alone (see :func:`corpus_tools.load_vectors`). Rows keep the
    file's order; duplicated words keep their first vector (as gensim does).
    """
    t0 = time.perf_counter()
    source = Path(path).expanduser()
    check_model_out(out, inputs=[source])  # before reading a byte: a folder of the user's is never replaced
    words, vectors, info = read_word2vec(source, format=format, unicode_errors=unicode_errors, limit=limit)
    _check_words(words, source)
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    keep = np.ones(len(words), dtype=bool)
    for i, w in enumerate(words):
        if w in seen:
            keep[i] = False
            duplicates.append(w)
        else:
            seen[w] = i
    if duplicates:
        logger.warning("%s: %d duplicated words, kept the first vector of each (e.g. %r)",
                       source, len(duplicates), duplicates[0])
        words = [w for w, k in zip(words, keep) if k]
        vectors = vectors[keep]
    if not np.all(np.isfinite(vectors)):
        bad = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise VectorsFileError(f"{source}: the vector of {words[bad]!r} (entry {bad + 1}) holds NaN or infinity; "
                               "fix the file")
    out = Path(out).expanduser()
    meta = model_meta(
        vocab_size=len(words),
        vector_size=int(vectors.shape[1]),
        counts="unknown (imported file; rows in file order)",
        imported={
            "path": str(source.resolve()),
            "format": info["format"],
            "header": info["header"],
            "size": source.stat().st_size,
            "duplicates": len(duplicates),
        },
    )
    write_model_dir(out, words, vectors, np.zeros(len(words), dtype=np.int64), meta)
    return ImportResult(path=out, source=source, format=info["format"], header=info["header"],
                        vocab_size=len(words), vector_size=int(vectors.shape[1]), duplicates=duplicates,
                        seconds=time.perf_counter() - t0)


# ----------------------------------------------------------------------------- writing


def export_vectors(model: str | os.PathLike | Vectors, out: str | os.PathLike, *,
                   format: str = "word2vec-bin", precision: int = 6) -> ExportResult:
    """Write a model's vectors for the word2vec tool, gensim, fastText and friends.

    Parameters
    ----------
    model : str, path or Vectors
        A model directory (or loaded vectors).
    out : str or path
        The file to write (atomically). It must not exist: a vectors file carries no
        mark of who wrote it, so wordstack never replaces one (it could be the user's).
    format : {"word2vec-bin", "word2vec-txt", "vec"}, default "word2vec-bin"
        Binary is exact (float32) and compact; the text formats round each
        number to ``precision`` significant digits.
    precision : int, default 6
        Significant digits in the text formats (9 reproduces float32 exactly).

    Returns
    -------
    ExportResult

    Raises
    ------
    ValueError
        A word contains a space, tab or newline (the formats separate words from
        numbers by a space), or the format is unknown.
    OverwriteRefusedError
        A file already exists at ``out`` (checked before the model is read).

    Notes
    -----
    The vectors written are the original ones (unit vector times norm), in the
    model's row order (most frequent first). Load them elsewhere with e.g.
    ``gensim.models.KeyedVectors.load_word2vec_format(out, binary=True)``.
    """
    t0 = time.perf_counter()
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision must be an integer from 1 to 17, got {precision!r}")
    out = Path(out).expanduser()
    check_file_replaceable(out, False, _EXPORT_REFUSAL)
    vecs = model if isinstance(model, Vectors) else Vectors.load(model)
    for i, w in enumerate(vecs.words):
        if not w or any(ch.isspace() for ch in w):
            raise ValueError(
                f"the word {w!r} (row {i + 1}) contains whitespace; {format} separates words from numbers by a "
                "space, so it cannot be exported: join its parts with '_' (as phrases are) and export again"
            )
    n_words, dim = len(vecs.words), vecs.vector_size
    block = 4096
    with atomic_path(out, replace_if=False, refusal=_EXPORT_REFUSAL) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(f"{n_words} {dim}\n".encode("ascii"))
            if format == "word2vec-bin":
                for s in range(0, n_words, block):
                    raw = _raw_block(vecs, s, block).astype("<f4")   # (b, D)
                    fh.write(b"".join(w.encode("utf-8") + b" " + row.tobytes() + b"\n"
                                      for w, row in zip(vecs.words[s:s + block], raw)))
            else:
                row_fmt = " ".join([f"%.{precision}g"] * dim)
                tail = " \n" if format == "vec" else "\n"
                for s in range(0, n_words, block):
                    raw = _raw_block(vecs, s, block).astype(np.float64)
                    fh.write("".join(w + " " + row_fmt % tuple(row) + tail
                                     for w, row in zip(vecs.words[s:s + block], raw.tolist())).encode("utf-8"))
    return ExportResult(path=out, format=format, vocab_size=n_words, vector_size=dim,
                        bytes=out.stat().st_size, seconds=time.perf_counter() - t0)


def _raw_block(vecs: Vectors, start: int, size: int) -> np.ndarray:
    """Rows ``start:start+size`` of the original (not normalised) vectors, float32 of shape (b, D)."""
    unit = np.asarray(vecs.unit[start:start + size], dtype=np.float32)
    return unit * np.asarray(vecs.norms[start:start + size], dtype=np.float32)[:, None]


__all__ = ["FORMATS", "MAX_DIMENSIONS", "VECTOR_FORMATS", "ExportResult", "ImportResult", "VectorsFileError",
           "export_vectors", "import_vectors", "read_word2vec"]
