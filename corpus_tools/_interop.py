"""Import and export word vectors in the formats of the original word2vec tool and fastText.

Formats (Mikolov et al.'s ``word2vec.c``, ``-binary 0|1``; fastText's ``.vec``; GloVe's
text without a header) are described, and read, in :mod:`corpus_tools._w2v_stream`.
gzip, bzip2 and xz files (e.g. GoogleNews-style downloads) are decompressed on the fly.

An imported file becomes an ordinary model directory (``meta.json``,
``vocab.txt``, ``vectors.npy``, ``norms.npy``; see :mod:`corpus_tools._model_dir`)
without the gensim pickle: it can be queried, evaluated, mapped and exported,
but not trained further. The file order is kept as the row order, which is the
frequency order for files written by word2vec, fastText or gensim (most frequent
first); word counts are not part of these formats and are recorded as 0.

Both directions stream: :func:`import_vectors` reads the file through one 64 MiB
buffer and writes each block of unit rows to the folder being built as it comes
(:func:`corpus_tools._model_dir.stream_model_dir`), a thread reading and parsing the
next block while one is written (:func:`corpus_tools._w2v_stream.read_ahead`; the
kernel reads the file further ahead still), and :func:`export_vectors`
reads a model folder block by block (:func:`corpus_tools._model_dir.iter_model_rows`),
so a 3.6 GB file is imported or exported in a few hundred MB of memory. What grows
with the file is 4 bytes a word for the norms and 8 for the hashes that find
duplicated words at the end (a candidate is confirmed by its text).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ._page_cache import WriteBehind
from ._model_dir import check_model_out, iter_model_rows, model_meta, stream_model_dir
from ._vectors import Vectors
from ._w2v_stream import CHUNK_BYTES, FORMATS, MAX_DIMENSIONS, VectorsFileError, VectorsStream, read_ahead
from .atomic import atomic_path, check_file_replaceable

logger = logging.getLogger(__name__)

#: Formats that :func:`export_vectors` writes and :func:`read_word2vec` reads.
VECTOR_FORMATS = FORMATS

_EXPORT_REFUSAL = ("wordstack never replaces a vectors file: the format has no room for a mark that says "
                   "wordstack wrote it, so it could be yours")
#: Whitespace inside a word of a block of ``\n``-separated words.
_INNER_SPACE = re.compile(r"[^\S\n]")


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


def read_word2vec(path: str | os.PathLike, *, format: str = "auto", unicode_errors: str = "strict",
                  limit: int | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Read a word2vec (binary or text), fastText ``.vec`` or GloVe-style text file into memory.

    For a file too big for memory, :func:`import_vectors` streams it into a model
    folder instead.

    Parameters
    ----------
    path : str or path
        The file; gzip, bzip2 and xz compression are detected from its first bytes.
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
        number), words that are not UTF-8 or hold a tab or newline.
    FileNotFoundError
        ``path`` does not exist.
    """
    with VectorsStream(path, format=format, unicode_errors=unicode_errors, limit=limit) as stream:
        words: list[str] = []
        blocks: list[np.ndarray] = []
        for chunk in stream.chunks():
            words.extend(chunk.words.decode("utf-8").split("\n")[:-1])
            blocks.append(np.array(chunk.rows))
        vectors = np.concatenate(blocks)
    return words, vectors, {"format": stream.format, "header": stream.header}


def import_vectors(path: str | os.PathLike, out: str | os.PathLike, *, format: str = "auto",
                   unicode_errors: str = "strict", limit: int | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   chunk_bytes: int = CHUNK_BYTES) -> ImportResult:
    """Turn a word2vec / fastText / GloVe vectors file into a wordstack model directory, streaming.

    Parameters
    ----------
    path : str or path
        The vectors file (see :func:`read_word2vec`); gzip, bzip2 and xz files are
        decompressed as they are read.
    out : str or path
        The model directory to write (atomically; an existing one is replaced
        only when the import succeeds, and only when it is a wordstack model
        folder holding nothing else: anything else raises
        :class:`~corpus_tools.OutputFolderError` before the file is read).
    format, unicode_errors, limit
        As for :func:`read_word2vec`.
    progress : callable, optional
        ``progress(done, total)`` in bytes of the file on disk, after each block.
    chunk_bytes : int, default 64 MiB
        The read buffer; memory use is about three times this, plus 12 bytes a word.

    Returns
    -------
    ImportResult

    Raises
    ------
    VectorsFileError
        The file is malformed (see :func:`read_word2vec`), a vector holds NaN or
        infinity, or the model folder the header announces would not fit on the disk.

    Notes
    -----
    The directory has no gensim pickle: queries, evaluation and maps read it
    with numpy alone (see :func:`corpus_tools.load_vectors`). Rows keep the
    file's order; duplicated words keep their first vector (as gensim does).
    """
    from ._w2v_scan import line_hashes, normalise_rows

    t0 = time.perf_counter()
    source = Path(path).expanduser()
    out = Path(out).expanduser()
    check_model_out(out, inputs=[source])  # before reading a byte: a folder of the user's is never replaced
    with VectorsStream(source, format=format, unicode_errors=unicode_errors, limit=limit,
                       chunk_bytes=chunk_bytes, row_buffers=3, progress=progress) as stream:
        hashes = np.empty(1 << 16, dtype=np.uint64)   # (V,), doubled as needed (never sized by the header)
        norms = np.empty(0, dtype=np.float32)
        with stream_model_dir(out, stream.vector_size, inputs=[source]) as folder:
            for chunk in read_ahead(stream.chunks()):    # chunk k+1 read and parsed while k is written
                n = len(chunk.rows)
                if chunk.first == 0 and not stream.at_eof:     # a small file's own end tells whether it lies
                    _check_disk_space(stream, out)
                if len(norms) < n:
                    norms = np.empty(n, dtype=np.float32)
                bad = normalise_rows(chunk.rows, norms, True)   # unit rows, in place
                if bad != -1:
                    word = chunk.words.split(b"\n")[bad].decode("utf-8")
                    raise VectorsFileError(f"{source}: the vector of {word!r} (entry {chunk.first + bad + 1}) "
                                           "holds NaN or infinity; fix the file")
                if len(hashes) < folder.n_rows + n:
                    grown = np.empty(max(2 * len(hashes), folder.n_rows + n), dtype=np.uint64)
                    grown[:folder.n_rows] = hashes[:folder.n_rows]
                    hashes = grown
                line_hashes(chunk.words, hashes[folder.n_rows:folder.n_rows + n])
                folder.add(chunk.words, chunk.rows, norms[:n])
            duplicates = _drop_duplicates(folder, hashes[:folder.n_rows])
            if duplicates:
                logger.warning("%s: %d duplicated words, kept the first vector of each (e.g. %r)",
                               source, len(duplicates), duplicates[0])
            folder.meta = model_meta(
                vocab_size=folder.n_rows,
                vector_size=stream.vector_size,
                counts="unknown (imported file; rows in file order)",
                imported={
                    "path": str(source.resolve()),
                    "format": stream.format,
                    "header": stream.header,
                    "compression": stream.compression,
                    "size": stream.size,
                    "duplicates": len(duplicates),
                },
            )
            vocab_size = folder.n_rows
    return ImportResult(path=out, source=source, format=stream.format, header=stream.header,
                        vocab_size=vocab_size, vector_size=stream.vector_size, duplicates=duplicates,
                        seconds=time.perf_counter() - t0)


def _check_disk_space(stream: VectorsStream, out: Path) -> None:
    """Refuse a header announcing a model folder larger than the free space, before writing it.

    Called once the first buffer is read and more follows: an uncompressed binary file
    is checked against its own size already, but a compressed one, or a text file, could
    otherwise fill the disk before its end shows that its header lies.
    """
    if stream.expected is None:
        return
    need = stream.expected * (4 * stream.vector_size + 4 + 3)        # vectors.npy, norms.npy, "\t0\n"
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    free = shutil.disk_usage(parent).free
    if need > free:
        raise VectorsFileError(
            f"{stream.path}: the header announces {stream.expected:,} vectors of {stream.vector_size} numbers, "
            f"a model folder of {need / 1e9:,.1f} GB, but {parent} has {free / 1e9:,.1f} GB free; free some space, "
            "import fewer vectors (--limit N) or check the file's header"
        )


def _drop_duplicates(folder, hashes: np.ndarray) -> list[str]:
    """Drop the later rows of each word written twice; the words dropped, in file order.

    Rows whose hashes collide are candidates; their words are read back from
    ``vocab.txt`` and compared, so a collision of two different words drops nothing.
    """
    if len(hashes) < 2 or not np.any((s := np.sort(hashes))[1:] == s[:-1]):
        return []
    order = np.argsort(hashes, kind="stable")
    same = np.flatnonzero(hashes[order][1:] == hashes[order][:-1])
    candidates = sorted(set(order[same].tolist()) | set(order[same + 1].tolist()))
    words = folder.read_words(set(candidates))
    keep = np.ones(len(hashes), dtype=bool)
    seen: set[str] = set()
    duplicates = []
    for row in candidates:                      # in row order: the first of each word is kept
        if words[row] in seen:
            keep[row] = False
            duplicates.append(words[row])
        else:
            seen.add(words[row])
    if duplicates:
        folder.keep_rows(keep)
    return duplicates


# ----------------------------------------------------------------------------- writing


def export_vectors(model: str | os.PathLike | Vectors, out: str | os.PathLike, *,
                   format: str = "word2vec-bin", precision: int = 6,
                   progress: Callable[[int, int], None] | None = None,
                   chunk_bytes: int = CHUNK_BYTES) -> ExportResult:
    """Write a model's vectors for the word2vec tool, gensim, fastText and friends.

    Parameters
    ----------
    model : str, path or Vectors
        A model directory (read block by block: a model of any size is exported in
        bounded memory) or loaded vectors.
    out : str or path
        The file to write (atomically). It must not exist: a vectors file carries no
        mark of who wrote it, so wordstack never replaces one (it could be the user's).
    format : {"word2vec-bin", "word2vec-txt", "vec"}, default "word2vec-bin"
        Binary is exact (float32) and compact; the text formats round each
        number to ``precision`` significant digits.
    precision : int, default 6
        Significant digits in the text formats (9 reproduces float32 exactly).
    progress : callable, optional
        ``progress(done, total)`` in rows, after each block.
    chunk_bytes : int, default 64 MiB
        Vectors read at a time from a model folder; memory use is about three times this.

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
    from ._w2v_scan import pack_binary

    t0 = time.perf_counter()
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision must be an integer from 1 to 17, got {precision!r}")
    out = Path(out).expanduser()
    check_file_replaceable(out, False, _EXPORT_REFUSAL)
    if isinstance(model, Vectors):
        for i, w in enumerate(model.words):
            if not w or any(ch.isspace() for ch in w):
                raise _spaced_word(w, i, format)
        (n_words, dim), blocks = model.unit.shape, _vectors_blocks(model)
    else:
        _, (n_words, dim), folder_blocks = iter_model_rows(model, block_bytes=chunk_bytes)
        blocks = ((words, np.multiply(unit, norms[:, None], out=unit)) for words, unit, norms in folder_blocks)
    packed = np.empty(0, dtype=np.uint8)
    done = 0
    with atomic_path(out, replace_if=False, refusal=_EXPORT_REFUSAL) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(f"{n_words} {dim}\n".encode("ascii"))
            behind = WriteBehind(fh)                                # a big file does not fill the page cache
            for words, raw in blocks:                               # raw: (b, D) float32, the original vectors
                text = words.decode("utf-8")
                spaced = _INNER_SPACE.search(text)
                if spaced:
                    row = text.count("\n", 0, spaced.start())
                    raise _spaced_word(text.split("\n")[row], done + row, format)
                if format == "word2vec-bin":
                    raw = np.ascontiguousarray(raw, dtype="<f4") if sys.byteorder == "little" else raw.astype("<f4")
                    need = len(words) + raw.nbytes + len(raw)
                    if len(packed) < need:
                        packed = np.empty(need, dtype=np.uint8)
                    fh.write(memoryview(packed)[:pack_binary(words, raw, packed)])
                else:
                    row_fmt = " ".join([f"%.{precision}g"] * dim)
                    tail = " \n" if format == "vec" else "\n"
                    lines = (w + " " + row_fmt % tuple(row) + tail
                             for w, row in zip(text.split("\n"), raw.astype(np.float64).tolist()))
                    fh.write("".join(lines).encode("utf-8"))
                behind.written()
                done += len(raw)
                if progress is not None:
                    progress(done, n_words)
    return ExportResult(path=out, format=format, vocab_size=n_words, vector_size=dim,
                        bytes=out.stat().st_size, seconds=time.perf_counter() - t0)


def _spaced_word(word: str, row: int, format: str) -> ValueError:
    return ValueError(
        f"the word {word!r} (row {row + 1}) contains whitespace; {format} separates words from numbers by a "
        "space, so it cannot be exported: join its parts with '_' (as phrases are) and export again"
    )


def _vectors_blocks(vecs: Vectors, block: int = 16384):
    """(words, raw rows) of loaded vectors, block by block."""
    for s in range(0, len(vecs.words), block):
        yield ("\n".join(vecs.words[s:s + block]) + "\n").encode("utf-8"), _raw_block(vecs, s, block)


def _raw_block(vecs: Vectors, start: int, size: int) -> np.ndarray:
    """Rows ``start:start+size`` of the original (not normalised) vectors, float32 of shape (b, D)."""
    unit = np.asarray(vecs.unit[start:start + size], dtype=np.float32)
    return unit * np.asarray(vecs.norms[start:start + size], dtype=np.float32)[:, None]


__all__ = ["FORMATS", "MAX_DIMENSIONS", "VECTOR_FORMATS", "ExportResult", "ImportResult", "VectorsFileError",
           "export_vectors", "import_vectors", "read_word2vec"]
