"""Read word2vec / fastText / GloVe vectors files in one streamed pass, with bounded memory.

Formats (Mikolov et al.'s ``word2vec.c``, ``-binary 0|1``; fastText's ``.vec``):

``word2vec-txt``
    A header line ``V D``, then one line per word: the word, a space and ``D``
    decimal numbers separated by spaces (fastText's ``.vec`` ends each with a space).
    GloVe's files are the same without the header line.
``word2vec-bin``
    The header line ``V D``, then per word: its UTF-8 bytes, one space and ``D``
    little-endian float32 numbers (``4 D`` bytes), usually followed by a newline.

:class:`VectorsStream` reads the file through one fixed buffer (:data:`CHUNK_BYTES`,
64 MiB) and yields :class:`Chunk` objects, each a block of words and a view of a
reused array of their vectors; the caller consumes a chunk before asking for the
next. Memory is the buffer and that array, whatever the file's size: a 3.6 GB file
costs no more than a 100 MB one. gzip, bzip2 and xz files (told by their first
bytes, whatever their name) are decompressed on the fly through the same buffer.
The binary entries are parsed by a Cython kernel (:mod:`corpus_tools._w2v_scan`);
the text lines in blocks whose numbers one ``numpy.fromstring`` call parses.

A header is checked before anything is allocated for it: a dimension above
:data:`MAX_DIMENSIONS`, or (for an uncompressed binary file) more vectors than the
file's size can hold, is refused at once, the latter with where the file ends.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import queue
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np

from ._errors import ModelError
from ._page_cache import drop_read

T = TypeVar("T")

#: Bytes read from the file at a time (and the size of the array the vectors are copied to).
CHUNK_BYTES = 64 << 20
#: Bytes of an uncompressed file read by one call (see :class:`_Buffer`).
READ_BYTES = 256 << 10
#: The largest dimension a header may declare. Published vectors have 25 to 1,000
#: dimensions; a larger number is a damaged or hostile header, refused before anything
#: is allocated for it.
MAX_DIMENSIONS = 100_000
#: Formats read and written.
FORMATS = ("word2vec-bin", "word2vec-txt", "vec")

_TEXT_BLOCK_LINES = 8192          # lines parsed by one numpy.fromstring call
_MAX_WORD_BYTES = 4096            # a longer "word" means the file is not what it claims
_SNIFF_BYTES = 64 * 1024          # how much after the header tells text from binary
_COMPRESSED = ((b"\x1f\x8b", "gzip", gzip.GzipFile), (b"BZh", "bzip2", bz2.BZ2File),
               (b"\xfd7zXZ\x00", "xz", lzma.LZMAFile))


class VectorsFileError(ModelError):
    """A word-vectors file is malformed (truncated, wrong header, ragged lines, ...)."""


@dataclass
class Chunk:
    """A block of consecutive entries of a vectors file.

    Attributes
    ----------
    words : bytes
        Their words, UTF-8 (checked), each followed by ``\\n``; none is empty or
        holds a tab, newline or carriage return.
    rows : ndarray of shape (n, D), float32
        Their vectors as stored in the file. A view of a buffer that the next
        chunk overwrites: copy what must outlive it.
    first : int
        The 0-based entry number of ``rows[0]`` in the file.
    """

    words: bytes
    rows: np.ndarray
    first: int


def _vectors(n: int) -> str:
    return f"{n:,} vector{'s' if n != 1 else ''}"


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


def _looks_like_text(sample: bytes, vector_size: int) -> bool:
    """True when the first entry of ``sample`` (the bytes after the header) is a text line of ``vector_size`` numbers."""
    end = sample.find(b"\n")
    line = sample[: end if end != -1 else len(sample)]
    try:
        parts = line.decode("ascii").split()
    except UnicodeDecodeError:
        # A non-ASCII word is fine; the numbers after it must be ASCII.
        _, _, rest = line.partition(b" ")
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


def _bad_word(path: Path, where: str, word: str) -> VectorsFileError:
    return VectorsFileError(f"{path}: {where} has the word {word!r}, which is empty or holds a tab or newline; "
                            "wordstack vocabularies cannot store it: fix the file")


def _not_utf8(path: Path, where: str, raw: bytes, reason: str) -> VectorsFileError:
    return VectorsFileError(f"{path} {where}: the word {raw[:40]!r} is not valid UTF-8 ({reason}); "
                            "pass unicode_errors='replace' (CLI: --unicode-errors replace) to read it anyway")


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


class _Buffer:
    """One fixed bytearray over a stream: ``data[start:stop]`` is read and not yet consumed.

    An uncompressed file is read :data:`READ_BYTES` at a time into the buffer, not in
    one call per buffer: on a file not in the page cache, the kernel's sequential
    read-ahead keeps the disk busy while each small read is copied, where one 64 MiB
    read waited for its pages in larger, slower steps (0.58 s against 1.0-1.2 s for a
    960 MB file here, ``cat`` 0.8-1.3 s).
    """

    def __init__(self, stream, raw, capacity: int, path: Path, kind: str | None):
        self.stream, self.raw, self.path, self.kind = stream, raw, path, kind
        self.data = bytearray(capacity)
        self.start = self.stop = 0
        self.offset = 0          # position in the (decompressed) stream of data[0]
        self.eof = False
        self._piece = READ_BYTES if kind is None else capacity

    def grow(self, capacity: int) -> None:
        if capacity > len(self.data):
            data = bytearray(capacity)
            data[: self.stop - self.start] = self.data[self.start:self.stop]
            self.offset += self.start
            self.stop -= self.start
            self.start = 0
            self.data = data

    def fill(self) -> None:
        """Move the unconsumed bytes to the front and read until the buffer is full or the stream ends."""
        if self.start:
            n = self.stop - self.start
            self.data[:n] = self.data[self.start:self.stop]
            self.offset += self.start
            self.start, self.stop = 0, n
        view = memoryview(self.data)
        try:
            while self.stop < len(self.data) and not self.eof:
                got = self.stream.readinto(view[self.stop:self.stop + self._piece])
                if not got:
                    self.eof = True
                else:
                    self.stop += got
        except (OSError, EOFError, lzma.LZMAError) as exc:
            if self.kind is None:
                raise
            raise VectorsFileError(f"{self.path} is a damaged {self.kind} file ({exc}); "
                                   "download or export it again") from exc
        finally:
            view.release()
        drop_read(self.raw)          # a multi-GB source does not push the user's files out of the cache

    def position(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for a compressed file)."""
        return self.raw.tell()


class VectorsStream:
    """One streamed pass over a vectors file: its header, then :meth:`chunks`.

    Parameters
    ----------
    path : str or path
    format : {"auto", "word2vec-bin", "word2vec-txt", "vec"}, default "auto"
        ``auto`` tells binary from text by the first entry after the header.
    unicode_errors : {"strict", "replace", "ignore"}, default "strict"
    limit : int, optional
        Read only the first ``limit`` vectors.
    chunk_bytes : int, default :data:`CHUNK_BYTES`
        The read buffer (grown only as far as one entry needs).
    row_buffers : int, default 1
        Arrays the vectors of a binary file are copied to, used in turn: a chunk's
        ``rows`` stay valid until ``row_buffers`` more chunks are read (so that
        :func:`read_ahead` can read a chunk while the caller writes the previous one).
    progress : callable, optional
        ``progress(done, total)`` in bytes of the file on disk, after each chunk.

    Attributes
    ----------
    format : str
        ``"word2vec-bin"`` or ``"word2vec-txt"``.
    header : bool
    vocab_size : int or None
        What the header announces.
    vector_size : int
    expected : int or None
        Entries that will be read (``limit`` or the header's count), when known.
    compression : str or None
        ``"gzip"``, ``"bzip2"``, ``"xz"`` or None.
    size : int
        Bytes on disk.
    """

    def __init__(self, path, *, format: str = "auto", unicode_errors: str = "strict", limit: int | None = None,
                 chunk_bytes: int = CHUNK_BYTES, row_buffers: int = 1,
                 progress: Callable[[int, int], None] | None = None):
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
        if isinstance(row_buffers, bool) or not isinstance(row_buffers, int) or row_buffers < 1:
            raise ValueError(f"row_buffers must be an integer >= 1, got {row_buffers!r}")
        self.path, self.unicode_errors, self.limit, self.progress = path, unicode_errors, limit, progress
        self._row_buffers = row_buffers
        raw = open(path, "rb")
        try:
            self.size = os.fstat(raw.fileno()).st_size
            if self.size == 0:
                raise VectorsFileError(f"{path} is empty; expected a word2vec or fastText vectors file")
            magic = raw.read(6)
            raw.seek(0)
            self.compression, stream = None, raw
            for prefix, kind, opener in _COMPRESSED:
                if magic.startswith(prefix):
                    self.compression, stream = kind, opener(fileobj=raw) if kind == "gzip" else opener(raw)
                    break
            if self.compression is None and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(raw.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            capacity = max(chunk_bytes, 4096) if self.compression else max(min(chunk_bytes, self.size + 1), 64)
            self._buf = _Buffer(stream, raw, capacity, path, self.compression)
            self._chunk_bytes = chunk_bytes
            self._read_header(format)
        except BaseException:
            raw.close()
            raise
        self._raw = raw

    # ------------------------------------------------------------------ header

    def _read_header(self, format: str) -> None:
        b, path = self._buf, self.path
        b.grow(max(len(b.data), 4096 + _SNIFF_BYTES) if self.compression else len(b.data))
        b.fill()
        nl = b.data.find(b"\n", 0, min(b.stop, 4096))
        first = bytes(b.data[: nl if nl != -1 else min(b.stop, 4096)])
        header = _parse_header(first)
        _check_header(path, header)
        self.header = header is not None
        if header is not None:
            self.vocab_size, self.vector_size = header
            b.start = nl + 1 if nl != -1 else b.stop
            self.first_lineno = 2
            if format == "auto":
                sample = bytes(b.data[b.start:min(b.stop, b.start + _SNIFF_BYTES)])
                binary = self.vocab_size > 0 and not _looks_like_text(sample, self.vector_size)
            else:
                binary = format == "word2vec-bin"
            self.expected = self.vocab_size if self.limit is None else min(self.limit, self.vocab_size)
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
            self.vocab_size, self.vector_size = None, len(parts) - 1
            self.first_lineno = 1
            self.expected = self.limit
        self.format = "word2vec-bin" if binary else "word2vec-txt"
        self.header_bytes = b.offset + b.start
        if binary:
            b.grow(4 * self.vector_size + _MAX_WORD_BYTES + 2)
        if binary and self.compression is None:
            need = self.expected * (4 * self.vector_size + 1)
            self._fits = need <= self.size - self.header_bytes
        else:
            self._fits = True

    # ------------------------------------------------------------------ chunks

    def chunks(self) -> Iterator[Chunk]:
        """The file's entries, chunk by chunk (see :class:`Chunk`); raises :class:`VectorsFileError`
        where the file is damaged."""
        parts = self._binary_chunks() if self.format == "word2vec-bin" else self._text_chunks()
        total = 0
        for chunk in parts:
            total += len(chunk.rows)
            yield chunk
            if self.progress is not None:
                self.progress(min(self._buf.position(), self.size - 1), self.size)
        if total == 0:
            raise VectorsFileError(f"{self.path} holds no vectors")
        if self.progress is not None:
            self.progress(self.size, self.size)

    def _check_words(self, block: bytes, n: int, first: int, where: Callable[[int], str]) -> bytes:
        """``block`` (n words, each ending in ``\\n``) as UTF-8, decoded as ``unicode_errors`` says."""
        try:
            block.decode("utf-8")
            return block
        except UnicodeDecodeError as exc:
            if self.unicode_errors == "strict":
                i = block.count(b"\n", 0, exc.start)
                line_start = block.rfind(b"\n", 0, exc.start) + 1
                raw = block[line_start:block.find(b"\n", exc.start)]
                raise _not_utf8(self.path, where(first + i), raw, exc.reason) from None
        text = block.decode("utf-8", errors=self.unicode_errors)
        if text.startswith("\n") or "\n\n" in text:   # "ignore" dropped every byte of a word
            i = 0 if text.startswith("\n") else text[: text.index("\n\n") + 1].count("\n")
            raise _bad_word(self.path, f"entry {first + i + 1}", "")
        return text.encode("utf-8")

    def _binary_chunks(self) -> Iterator[Chunk]:
        from ._w2v_scan import scan_binary

        b, path, dim = self._buf, self.path, self.vector_size
        nbytes, want = 4 * dim, self.expected
        rows_cap = max(1, min(want, len(b.data) // (nbytes + 1) + 1)) if want else 1
        pool = [np.empty((rows_cap, dim), dtype=np.float32) for _ in range(self._row_buffers)]  # (n, D) each
        turn = 0
        words = np.empty(len(b.data), dtype=np.uint8)
        swap = sys.byteorder != "little"
        done, pos = 0, b.start

        def entry(i: int) -> str:
            return f"entry {i + 1}"

        while done < want:
            room = min(rows_cap, want - done)
            rows = pool[turn]
            if len(words) < b.stop - pos:
                words = np.empty(len(b.data), dtype=np.uint8)
            n, pos, wlen, bad, bad_start, bad_end, no_space = scan_binary(
                b.data, pos, b.stop, dim, rows[:room], words, _MAX_WORD_BYTES)
            if bad != -1:
                word = words[bad_start:bad_end].tobytes().decode("utf-8", "replace")
                raise _bad_word(path, entry(done + bad), word)
            if n and self._fits:
                block = self._check_words(words[:wlen].tobytes(), n, done, entry)
                if swap:
                    rows[:n].byteswap(inplace=True)
                yield Chunk(block, rows[:n], done)
                turn = (turn + 1) % len(pool)
            done += n
            if no_space:
                raise VectorsFileError(
                    f"{path}: entry {done + 1} at byte {b.offset + pos} has no space within {_MAX_WORD_BYTES} "
                    "bytes; this is not a word2vec binary file (for a text file use --format word2vec-txt)"
                )
            if done < want and n < room:          # the buffer ends inside the next entry
                if b.eof:
                    raise self._truncated(done, pos)
                b.start = pos
                b.fill()
                pos = b.start
        if self.limit is None or self.limit >= self.vocab_size:
            if b.stop - pos < 64 and not b.eof:
                b.start = pos
                b.fill()
                pos = b.start
            if bytes(b.data[pos:min(b.stop, pos + 64)]).strip():
                raise VectorsFileError(
                    f"{path}: the header announces {_vectors(self.vocab_size)} but more data follows the last one "
                    f"(at byte {b.offset + pos}); correct the header's first number or the file"
                )

    def _truncated(self, done: int, pos: int) -> VectorsFileError:
        b, want, dim = self._buf, self.expected, self.vector_size
        got = f"it ends inside entry {done + 1}" if pos < b.stop else "it ends there"
        need = want * (4 * dim + 1)
        have = b.offset + b.stop - self.header_bytes
        short = "" if need <= have else (f" ({_vectors(want)} of {dim} numbers need at least {need:,} bytes "
                                         f"after the header; the file has {have:,})")
        return VectorsFileError(
            f"{self.path} is truncated: the header announces {_vectors(self.vocab_size)} of {dim} float32 "
            f"numbers, but {got} after {done} complete one{'s' if done != 1 else ''}{short}; "
            "download or export the file again"
        )

    def _text_chunks(self) -> Iterator[Chunk]:
        b, path, dim = self._buf, self.path, self.vector_size
        want_max, vocab_size, limit = self.expected, self.vocab_size, self.limit
        max_line = 48 * dim + _MAX_WORD_BYTES + 64
        lineno, n_read = self.first_lineno, 0
        words: list[str] = []
        lines: list[bytes] = []
        rests: list[bytes] = []
        block_start = lineno
        stop_reading = False

        def flush() -> Chunk:
            try:
                nums = np.fromstring(b" ".join(rests), dtype=np.float32, sep=" ")
            except ValueError:
                raise _bad_text_line(lines, block_start, dim, path) from None
            if nums.size != len(rests) * dim:
                raise _bad_text_line(lines, block_start, dim, path)
            chunk = Chunk(("\n".join(words) + "\n").encode("utf-8"), nums.reshape(len(rests), dim),
                          n_read - len(rests))
            words.clear()
            lines.clear()
            rests.clear()
            return chunk

        while not stop_reading:
            end = b.data.rfind(b"\n", b.start, b.stop)
            if end == -1 and not b.eof:
                if b.stop - b.start >= max_line:
                    raise VectorsFileError(f"{path} line {lineno} is longer than {max_line:,} bytes, more than "
                                           f"a word and {dim} numbers take: this is not a vectors text file")
                if b.stop - b.start >= len(b.data):
                    b.grow(min(2 * len(b.data), max_line + 1))
                b.fill()
                continue
            end = b.stop if end == -1 else end + 1
            text = bytes(b.data[b.start:end])
            b.start = end
            for line in text.split(b"\n")[: -1 if text.endswith(b"\n") else None]:
                if not line.strip():
                    lineno += 1
                    continue
                if want_max is not None and n_read >= want_max:
                    if limit is None or (vocab_size is not None and limit >= vocab_size):
                        raise VectorsFileError(
                            f"{path}: the header announces {_vectors(vocab_size)} but line {lineno} holds another "
                            "one; correct the header's first number (count the vector lines) or remove the extra "
                            "lines"
                        )
                    stop_reading = True
                    break
                line = line.rstrip(b"\r")
                word, _, rest = line.partition(b" ")
                rest = rest.strip()
                if rest.count(b" ") + 1 != dim and len(rest.split()) != dim:
                    raise _bad_text_line([line], lineno, dim, path)
                if not lines:
                    block_start = lineno
                try:
                    w = word.decode("utf-8", errors=self.unicode_errors)
                except UnicodeDecodeError as exc:
                    raise _not_utf8(path, f"line {lineno}", word, exc.reason) from None
                if not w or any(ch in w for ch in "\t\n\r"):
                    raise _bad_word(path, f"entry {n_read + 1}", w)
                words.append(w)
                lines.append(line)
                rests.append(rest)
                n_read += 1
                lineno += 1
                if len(rests) >= _TEXT_BLOCK_LINES:
                    yield flush()
            if rests:                               # a chunk per buffer (or per block of lines)
                yield flush()
            if b.eof and b.start >= b.stop:
                break
            if not stop_reading:
                b.fill()
        if self.header and self.expected is not None and n_read < self.expected:
            raise VectorsFileError(
                f"{path}: the header announces {_vectors(vocab_size)} but the file holds only {n_read}; "
                f"correct the header to '{n_read} {dim}' or download/export the file again"
            )

    @property
    def at_eof(self) -> bool:
        """True once the whole file has been read into the buffer."""
        return self._buf.eof

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        self._buf.stream.close()
        self._raw.close()

    def __enter__(self) -> "VectorsStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc


_DONE = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """Iterate over ``items`` with a thread computing the next item while the caller uses this one.

    The producer runs at most two items ahead of the caller's current one (one waiting
    in a queue of one, one being made), so ``items`` must keep an item valid until
    three more are made: a :class:`VectorsStream` with ``row_buffers=3``. The kernels
    that parse a chunk and the writes of the caller release the GIL, so reading and
    parsing chunk k+1 runs on one core while chunk k is normalised and written on the
    other. An exception in ``items`` is raised here, at the item it replaced; when the
    caller stops early (an error, Ctrl-C, ``break``), the thread is stopped and joined
    before this generator ends, so the caller may close what ``items`` reads from.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:          # noqa: BLE001 - handed to the caller's thread
            put(_Raised(exc))

    thread = threading.Thread(target=produce, name="vectors-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


__all__ = ["CHUNK_BYTES", "Chunk", "FORMATS", "MAX_DIMENSIONS", "READ_BYTES", "VectorsFileError",
           "VectorsStream", "read_ahead"]
