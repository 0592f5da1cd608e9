"""The model folder: the one place that knows its files, writes them and reads them back.

A model folder holds

``meta.json``
    ``format`` (:data:`MODEL_FORMAT`); for a trained model all training
    parameters, the corpus it came from (path, manifest and sentences digests),
    vocabulary size, dimensions, per-epoch loss and speed; for an imported file
    where it came from. ``files`` records the size of each of the three files
    below, so that a truncated copy is detected on load.
``vocab.txt``
    One ``word<TAB>count`` a line, most frequent first; line *i* is row *i* of
    the vectors (imported files record count 0).
``vectors.npy``
    float32 array of shape (V, D): the word vectors scaled to unit length.
``norms.npy``
    float32 array of shape (V,): their original lengths (vector = unit * norm).
``ngrams.npy``, subword (fastText) models only
    float32 array of shape (buckets, D): the character n-gram vectors, from which a
    word outside the vocabulary is built (:mod:`corpus_tools._subwords`); its hashing
    parameters are ``meta.json``'s ``subwords`` entry (``min_n``, ``max_n``, ``buckets``,
    ``hashing``, ``lowercase``). It is memory-mapped: a query reads only the rows of its
    word's n-grams. A folder without it is a plain word2vec model, as release 0.1 wrote.
``word2vec.model`` (+ ``*.npy`` beside it), trained models only
    The full gensim model (``Word2Vec`` or ``FastText``), to continue training. It is a pickle: load it only
    from a source you trust. Nothing on the query path reads it.
``index-<16 hex digits>.faiss``, optional
    An approximate nearest-neighbour index of the unit rows (faiss's own binary
    format, no pickle), written by :func:`corpus_tools.build_index` and recorded
    under ``index`` in ``meta.json`` (see :mod:`corpus_tools._index`). A new one gets
    a new name, so that the rename of ``meta.json`` switches from the old to the
    new in one step.

:func:`write_model_dir` writes the whole folder into a temporary folder and swaps
it in at the end (:func:`corpus_tools.atomic.atomic_dir`), so an interrupted
training or import leaves the previous model untouched. :func:`read_model_dir`
reads it with numpy alone (``vectors.npy`` memory-mapped, no pickle), so a model
folder received from someone else is safe to query. This module imports numpy and
the standard library only: it is on the query path.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

import numpy as np

from ._errors import ModelError
from ._page_cache import WriteBehind
from .atomic import atomic_dir, check_folder_replaceable, folder_entries, read_small_json, recover_dir

MODEL_FORMAT = "wordstack-word2vec/1"
META = "meta.json"
VOCAB = "vocab.txt"
VECTORS = "vectors.npy"
NORMS = "norms.npy"
GENSIM_MODEL = "word2vec.model"
NGRAMS = "ngrams.npy"
#: The files every model folder has, whose sizes ``meta.json`` records.
SIZED_FILES = (VECTORS, NORMS, VOCAB)
#: The files some model folders have; ``meta.json`` records their sizes too when they are there.
OPTIONAL_SIZED_FILES = (NGRAMS,)
#: Largest ``meta.json`` the recogniser reads (a real one is a few kB).
MARKER_MAX_BYTES = 1 << 20
#: The name of an index file (:func:`index_file_name`), and the lock its builds hold.
INDEX_FILE = re.compile(r"index-[0-9a-f]{16}\.faiss")
INDEX_LOCK = ".index.lock"
#: What an interrupted atomic rewrite of meta.json (an index build) can leave: atomic_path's temporary name.
_META_TMP = re.compile(re.escape(f".{META}.") + r"[^/]*\.tmp")


class ModelFiles(NamedTuple):
    """A model folder's contents as :func:`read_model_dir` returns them."""

    words: list[str]
    unit: np.ndarray    # (V, D) float32, unit rows; a np.memmap when read with mmap
    norms: np.ndarray   # (V,) float32
    counts: np.ndarray  # (V,) int64
    meta: dict


def unit_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split vectors of shape (V, D) into unit rows and their lengths, as stored on disk.

    Returns
    -------
    unit : ndarray of shape (V, D), float32
        Each row divided by its length (all-zero rows stay zero).
    norms : ndarray of shape (V,), float32
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1).astype(np.float32)                    # (V,)
    unit = vectors / np.where(norms > 0, norms, 1.0).astype(np.float32)[:, None]  # (V, D)
    return unit, norms


def model_meta(**fields) -> dict:
    """The start of a ``meta.json``: the format and the time of writing, then ``fields`` in order."""
    return {"format": MODEL_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}


# ----------------------------------------------------------------------------- recognising our folders


def is_model_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder whose ``meta.json`` carries :data:`MODEL_FORMAT` (release 0.1 on)."""
    meta = read_small_json(Path(path) / META, MARKER_MAX_BYTES)
    return meta is not None and meta.get("format") == MODEL_FORMAT


def _is_model_file(name: str) -> bool:
    return name in (META, GENSIM_MODEL, INDEX_LOCK, *SIZED_FILES, *OPTIONAL_SIZED_FILES) or (
        name.startswith(GENSIM_MODEL + ".") and name.endswith(".npy")  # gensim's large arrays beside its pickle
    ) or bool(INDEX_FILE.fullmatch(name) or _META_TMP.fullmatch(name))


def index_file_name() -> str:
    """A fresh name for an index file of a model folder (matches :data:`INDEX_FILE`)."""
    return f"index-{os.urandom(8).hex()}.faiss"


def model_dir_foreign(path: str | os.PathLike) -> list[str]:
    """The entries of the folder ``path`` that are not part of a wordstack model folder.

    All of them when its ``meta.json`` lacks the model format stamp; otherwise
    anything but the files of the module docstring (a user's notes, a subfolder).
    See :data:`corpus_tools.atomic.Foreign`.
    """
    names = folder_entries(path)
    if not is_model_dir(path):
        return names
    return [n for n in names if not _is_model_file(n)]


def check_model_out(out: str | os.PathLike, inputs=()) -> Path:
    """Refuse ``out`` unless a model folder may be written there (before any work is done).

    Raises
    ------
    corpus_tools.OutputFolderError
        ``out`` holds files wordstack did not write, is the current folder, or is
        (or holds) one of ``inputs``; see :func:`corpus_tools.atomic.check_folder_replaceable`.
    """
    return check_folder_replaceable(out, kind="model", foreign=model_dir_foreign, inputs=inputs)


def write_model_dir(out: str | os.PathLike, words: list[str], vectors: np.ndarray, counts: Iterable[int],
                    meta: dict, *, extra: Callable[[Path], None] | None = None,
                    ngrams: np.ndarray | None = None) -> None:
    """Write a model folder atomically (see the module docstring).

    Parameters
    ----------
    out : str or path
        The folder; an existing one is replaced only when writing succeeds, and
        only when it is a wordstack model folder (or empty): see :func:`check_model_out`.
    words : list of str
        The vocabulary, in row order.
    vectors : ndarray of shape (V, D)
        Raw (not normalised) vectors; stored as unit rows plus their norms.
    counts : iterable of int
        Corpus frequency of each word.
    meta : dict
        Stored as ``meta.json``, with ``files`` (each file's size) added.
    extra : callable, optional
        Called with the temporary folder after the vectors and the vocabulary are
        written, to add more files (the trained gensim model).
    ngrams : ndarray of shape (buckets, D), optional
        A fastText model's n-gram matrix, written as ``ngrams.npy`` (float32) unless
        ``extra`` put that file there; ``meta`` then carries its ``subwords`` entry.
    """
    unit, norms = unit_rows(vectors)
    with atomic_dir(out, kind="model", foreign=model_dir_foreign) as tmp:
        np.save(tmp / VECTORS, unit)
        np.save(tmp / NORMS, norms)
        with open(tmp / VOCAB, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(f"{w}\t{int(c)}\n" for w, c in zip(words, counts))
        if extra is not None:
            extra(tmp)
        if ngrams is not None and not (tmp / NGRAMS).exists():   # ``extra`` may have linked it in already
            np.save(tmp / NGRAMS, np.ascontiguousarray(ngrams, dtype=np.float32))
        sized = [*SIZED_FILES, *(name for name in OPTIONAL_SIZED_FILES if (tmp / name).is_file())]
        meta = {**meta, "files": {name: (tmp / name).stat().st_size for name in sized}}
        with open(tmp / META, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, ensure_ascii=False)
            fh.write("\n")


def check_model_files(path: str | os.PathLike) -> tuple[Path, dict, tuple[int, int]]:
    """Check a model folder's files without reading any array or the vocabulary.

    ``meta.json`` is refused when larger than :data:`MAX_META_BYTES`; each file's size
    is compared with what ``meta.json`` records; the ``.npy`` headers (shape, dtype)
    are read and checked against each file's size and against each other.

    Returns
    -------
    path : Path
    meta : dict
    shape : (int, int)
        ``vectors.npy``'s shape (V, D).

    Raises
    ------
    ModelError
        The folder or one of its files is missing, truncated or inconsistent.
    """
    path = Path(path).expanduser()
    recover_dir(path)
    if path.exists() and not path.is_dir():
        raise ModelError(
            f"{str(path)!r} is a file, not a model folder: a model folder holds {META}, {VOCAB}, {VECTORS} "
            f"and {NORMS}, as `wordstack train CORPUS --out DIR` or `wordstack import FILE --out DIR` write "
            "them; pass such a folder (--model DIR)"
        )
    if not path.is_dir():
        raise ModelError(
            f"model folder {str(path)!r} does not exist; train one with "
            f"`wordstack train CORPUS --out {path}` or pass --model with an existing folder"
        )
    meta = _read_meta(path / META, path)
    expected = meta.get("files", {})
    if not isinstance(expected, dict):
        expected = {}
    for name in SIZED_FILES:
        f = path / name
        if not f.is_file():
            raise ModelError(f"{f} is missing; the model folder is incomplete: retrain or re-import it")
        if name in expected and f.stat().st_size != expected[name]:
            raise ModelError(
                f"{f} is truncated or altered ({f.stat().st_size} bytes, meta.json records "
                f"{expected[name]}); retrain or re-import the model"
            )
    unit_shape = _npy_shape(path / VECTORS, ndim=2)                      # (V, D)
    norms_shape = _npy_shape(path / NORMS, ndim=1)                       # (V,)
    n_rows, dim = unit_shape
    if norms_shape != (n_rows,):
        raise ModelError(f"{path} is inconsistent: {VECTORS} has shape {unit_shape}, {NORMS} has shape "
                         f"{norms_shape}; retrain or re-import the model")
    for key, value, what in (("vocab_size", n_rows, "rows"), ("vector_size", dim, "dimensions")):
        if meta.get(key) not in (None, value):
            raise ModelError(f"{path / VECTORS} has {value} {what} but {path / META} says {key} {meta[key]!r}; "
                             "retrain or re-import the model")
    return path, meta, (n_rows, dim)


def _vocab_mismatch(path: Path, found: str, shape: tuple[int, int]) -> ModelError:
    return ModelError(f"{path} is inconsistent: {VOCAB} has {found}, {VECTORS} has shape "
                      f"{shape}, {NORMS} has shape {shape[:1]}; retrain or re-import the model")


def read_model_dir(path: str | os.PathLike, *, mmap: bool = True) -> ModelFiles:
    """Read and check a model folder, memory-mapping the vectors unless ``mmap=False``.

    A folder received from someone else is untrusted: ``meta.json`` is refused when
    larger than :data:`MAX_META_BYTES`, the ``.npy`` headers (shape, dtype) are read and
    checked against each file's size, ``vocab.txt``'s line count and ``meta.json``
    before any array is read, and ``vocab.txt`` is read no further than the number of
    rows of ``vectors.npy``. Nothing is allocated for what a header merely claims.

    Raises
    ------
    ModelError
        The folder or one of its files is missing, truncated or inconsistent;
        the message names the file and the fix.
    """
    path, meta, unit_shape = check_model_files(path)
    n_rows = unit_shape[0]
    words, counts = _read_vocab(path / VOCAB, n_rows)
    if len(words) != n_rows:
        raise _vocab_mismatch(path, f"more than {n_rows} words" if len(words) > n_rows
                              else f"only {len(words)} word{'s' if len(words) != 1 else ''}", unit_shape)
    try:
        unit = np.load(path / VECTORS, mmap_mode="r" if mmap else None, allow_pickle=False)
        norms = np.load(path / NORMS, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelError(f"cannot read the vectors in {path} ({exc}); retrain or re-import the model") from exc
    return ModelFiles(words, unit, norms, np.asarray(counts, dtype=np.int64), meta)


def read_ngrams(path: str | os.PathLike, meta: dict, vector_size: int, *, mmap: bool = True):
    """The n-gram matrix of a subword model folder and its parameters, or None for a word2vec folder.

    Like the other arrays, ``ngrams.npy`` is untrusted: ``meta.json``'s ``subwords``
    entry is checked first, then the file's size against what ``meta.json`` recorded,
    then its ``.npy`` header (float32, C order, exactly shape (buckets, ``vector_size``),
    exactly the file's size) before it is memory-mapped: nothing is allocated for what
    a header claims.

    Returns
    -------
    (SubwordParams, bool, ndarray) or None
        The hashing parameters, whether queries are lowercased, and the matrix.

    Raises
    ------
    ModelError
        The entry is malformed, the file is missing, truncated, altered or of another
        shape, or an ``ngrams.npy`` is there that ``meta.json`` does not declare.
    """
    from ._subwords import Subwords

    path = Path(path).expanduser()
    f = path / NGRAMS
    if "subwords" not in meta:
        if f.exists():
            raise ModelError(f"{f} is there but {path / META} declares no subwords; the folder was altered: "
                             "retrain the model (or remove the file if you put it there)")
        return None
    params, lowercase = Subwords.params_from_meta(meta["subwords"], str(path / META))
    if not f.is_file():
        raise ModelError(f"{f} is missing; {path / META} declares a subword model: retrain the model")
    expected = meta.get("files", {}).get(NGRAMS) if isinstance(meta.get("files"), dict) else None
    if expected is not None and f.stat().st_size != expected:
        raise ModelError(f"{f} is truncated or altered ({f.stat().st_size:,} bytes, meta.json records "
                         f"{expected}); retrain the model")
    shape = _npy_shape(f, ndim=2)
    if shape != (params.buckets, vector_size):
        raise ModelError(f"{f} has shape {shape}, but {path / META} declares {params.buckets:,} buckets of "
                         f"{vector_size} dimensions ({params.buckets}, {vector_size}); retrain the model")
    try:
        ngrams = np.load(f, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelError(f"cannot read the n-gram vectors in {f} ({exc}); retrain the model") from exc
    return params, lowercase, ngrams


#: meta.json is a few kilobytes; a larger one is refused before it is read.
MAX_META_BYTES = 1 << 20
#: A vocab.txt line longer than this (a word and its count) is not a vocabulary entry.
_MAX_VOCAB_LINE = 1 << 16


def _read_meta(meta_path: Path, path: Path) -> dict:
    """``meta.json``, refused unread when over :data:`MAX_META_BYTES`; it must be a wordstack model's."""
    if not meta_path.is_file():
        raise ModelError(f"{meta_path} is missing: {str(path)!r} is not a complete wordstack model; retrain it")
    size = meta_path.stat().st_size
    if size > MAX_META_BYTES:
        raise ModelError(f"{meta_path} is {size:,} bytes; a model's meta.json has a few kilobytes and wordstack "
                         f"reads at most {MAX_META_BYTES:,}: this is not a wordstack model; retrain or re-import it")
    try:
        with open(meta_path, "rb") as fh:
            meta = json.loads(fh.read(MAX_META_BYTES + 1).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelError(f"{meta_path} is corrupt ({exc}); retrain or re-import the model") from exc
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ModelError(f"{meta_path} has format {found!r}; this wordstack reads {MODEL_FORMAT!r}")
    return meta


def _npy_shape(npy_path: Path, ndim: int) -> tuple[int, ...]:
    """The shape of a float32 ``.npy`` file from its header, checked against the file's size."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with open(npy_path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version not in readers:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, fortran_order, dtype = readers[version](fh)
            offset = fh.tell()
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise ModelError(f"cannot read the vectors: {npy_path} is not a readable .npy file ({exc}); "
                         "retrain or re-import the model") from exc
    if len(shape) != ndim or dtype != np.float32 or fortran_order:
        raise ModelError(f"cannot read the vectors: {npy_path} holds a {dtype} array of shape {shape}; a model has a "
                         f"{ndim}-dimensional float32 array there: retrain or re-import the model")
    size = npy_path.stat().st_size
    expected = offset + 4 * int(np.prod(shape, dtype=object))
    if size != expected:
        state = "truncated" if size < expected else "longer than its header says"
        raise ModelError(f"cannot read the vectors: {npy_path} is {state} ({size:,} bytes; its header announces "
                         f"shape {shape}, {expected:,} bytes); retrain or re-import the model")
    return tuple(int(n) for n in shape)


def _read_vocab(vocab_path: Path, n_rows: int) -> tuple[list[str], list[int]]:
    """The words and counts of ``vocab.txt``, in row order: at most ``n_rows`` + 1 lines are read."""
    words: list[str] = []
    counts: list[int] = []
    try:
        with open(vocab_path, encoding="utf-8", newline="\n") as fh:
            for lineno in range(1, n_rows + 2):
                line = fh.readline(_MAX_VOCAB_LINE + 1)
                if not line:
                    break
                if len(line) > _MAX_VOCAB_LINE:
                    raise ModelError(f"{vocab_path} line {lineno} is longer than {_MAX_VOCAB_LINE:,} characters; "
                                     "expected 'word<TAB>count': retrain or re-import the model")
                word, _, count = line.rstrip("\n").partition("\t")
                if not word or not count.isdigit():
                    raise ModelError(f"{vocab_path} line {lineno} is malformed: expected 'word<TAB>count'")
                words.append(word)
                counts.append(int(count))
    except UnicodeDecodeError as exc:
        raise ModelError(f"{vocab_path} is not valid UTF-8 ({exc}); retrain or re-import the model") from exc
    return words, counts


# ----------------------------------------------------------------------------- streamed folders (big models)

#: The fixed length of the ``.npy`` header that :class:`ModelDirStream` writes, so that the
#: row count can be filled in when the last row is written (numpy's own headers are
#: 64-byte aligned too; 128 bytes hold any (V, D) of 20-digit numbers).
NPY_HEADER_BYTES = 128
#: Rows moved at a time when a streamed folder drops rows, and the vocabulary read at a time.
_STREAM_BYTES = 64 << 20


def npy_header(n_rows: int, dim: int) -> bytes:
    """A :data:`NPY_HEADER_BYTES`-long ``.npy`` (version 1.0) header of a C-order float32 (n_rows, dim) array."""
    body = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n_rows, dim)
    size = NPY_HEADER_BYTES - 10
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + (body.ljust(size - 1) + "\n").encode("latin1")


class ModelDirStream:
    """Write the files of a model folder block of rows by block of rows, with bounded memory.

    What :func:`stream_model_dir` yields. ``vectors.npy`` is written as a header
    (row count filled in at the end) followed by the rows in order, with plain
    sequential writes, not through a memory map: the rows pass through the page cache
    and never count in the process's memory. ``vocab.txt`` is appended as the words
    come; only the norms (4 bytes a word) are kept until the end.
    """

    def __init__(self, folder: Path, dim: int):
        self.folder, self.dim, self.n_rows = folder, dim, 0
        self.meta: dict | None = None
        self._norms: list[np.ndarray] = []
        self._vectors = open(folder / VECTORS, "wb")
        self._vectors.write(npy_header(0, dim))
        self._vocab = open(folder / VOCAB, "wb")
        self._behind = WriteBehind(self._vectors)    # a big model does not fill the page cache

    def add(self, words: bytes, unit: np.ndarray, norms: np.ndarray) -> None:
        """Append rows: ``words`` (UTF-8, each word followed by ``\\n``, no tab), ``unit`` of shape (n, D)
        (unit rows, float32) and their ``norms`` (n,). Imported files have no counts: 0 is recorded."""
        unit = np.ascontiguousarray(unit, dtype="<f4")
        if unit.ndim != 2 or unit.shape[1] != self.dim or len(norms) != len(unit):
            raise ValueError(f"rows of shape {unit.shape} and {len(norms)} norms for a folder of {self.dim} "
                             "dimensions")
        self._vectors.write(memoryview(unit).cast("B"))
        self._behind.written()
        self._vocab.write(words.replace(b"\n", b"\t0\n"))
        self._norms.append(np.array(norms, dtype=np.float32))
        self.n_rows += len(unit)

    def read_words(self, rows: set[int]) -> dict[int, str]:
        """The words of some rows written so far (one pass over ``vocab.txt``)."""
        self._vocab.flush()
        found: dict[int, str] = {}
        with open(self.folder / VOCAB, "rb") as fh:
            for i, line in enumerate(fh):
                if i in rows:
                    found[i] = line.rpartition(b"\t")[0].decode("utf-8")
                    if len(found) == len(rows):
                        break
        return found

    def keep_rows(self, keep: np.ndarray) -> None:
        """Drop the rows where ``keep`` (bool, one per row written) is False: vectors, words and norms."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_rows,):
            raise ValueError(f"keep has shape {keep.shape}; {self.n_rows} rows were written")
        self._vectors.close()
        self._vocab.close()
        row_bytes = 4 * self.dim
        per = max(1, _STREAM_BYTES // max(row_bytes, 1))
        src, dst = self.folder / VECTORS, self.folder / (VECTORS + ".kept")
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fout.write(npy_header(0, self.dim))
            fin.seek(NPY_HEADER_BYTES)
            for s in range(0, self.n_rows, per):
                rows = np.frombuffer(fin.read(min(per, self.n_rows - s) * row_bytes), dtype="<f4")
                fout.write(rows.reshape(-1, self.dim)[keep[s:s + per]].tobytes())
        os.replace(dst, src)
        src, dst = self.folder / VOCAB, self.folder / (VOCAB + ".kept")
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fout.writelines(line for line, k in zip(fin, keep) if k)
        os.replace(dst, src)
        norms = np.concatenate(self._norms) if self._norms else np.empty(0, np.float32)
        self._norms = [norms[keep]]
        self.n_rows = int(keep.sum())
        self._vectors = open(self.folder / VECTORS, "r+b")
        self._vectors.seek(0, os.SEEK_END)
        self._behind = WriteBehind(self._vectors)
        self._vocab = open(self.folder / VOCAB, "ab")

    def _finish(self) -> None:
        if self.meta is None:
            raise RuntimeError("ModelDirStream: set .meta before the folder is closed")
        self._vectors.seek(0)
        self._vectors.write(npy_header(self.n_rows, self.dim))
        self._vectors.close()
        self._vocab.close()
        norms = np.concatenate(self._norms) if self._norms else np.empty(0, np.float32)
        np.save(self.folder / NORMS, norms)
        meta = {**self.meta, "files": {name: (self.folder / name).stat().st_size for name in SIZED_FILES}}
        with open(self.folder / META, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, ensure_ascii=False)
            fh.write("\n")

    def _close(self) -> None:
        self._vectors.close()
        self._vocab.close()


@contextlib.contextmanager
def stream_model_dir(out: str | os.PathLike, dim: int, inputs=()) -> Iterator[ModelDirStream]:
    """Write a model folder atomically from blocks of rows (see :class:`ModelDirStream`).

    Like :func:`write_model_dir`, the folder is built beside ``out`` and swapped in at
    the end; an exception (or Ctrl-C) leaves ``out`` as it was. Set ``.meta`` before
    the block ends (``files`` is added).
    """
    with atomic_dir(out, kind="model", foreign=model_dir_foreign, inputs=inputs) as tmp:
        stream = ModelDirStream(tmp, dim)
        try:
            yield stream
        except BaseException:
            stream._close()
            raise
        stream._finish()


def iter_model_rows(path: str | os.PathLike, block_bytes: int = _STREAM_BYTES
                    ) -> tuple[dict, tuple[int, int], Iterator[tuple[bytes, np.ndarray, np.ndarray]]]:
    """Read a model folder block by block, with bounded memory (what export streams from).

    The files are checked as :func:`read_model_dir` checks them; ``vocab.txt`` is read
    in blocks, each checked (``word<TAB>count`` lines, UTF-8) as it comes, and the
    rows of ``vectors.npy`` are read into one reused buffer (no memory map: the pages
    read do not stay in the process's memory), ``block_bytes`` of them at a time.

    Returns
    -------
    meta : dict
    shape : (int, int)
    blocks : iterator of (words, unit, norms)
        ``words`` holds each word followed by ``\\n`` (UTF-8); ``unit`` (n, D) float32 is a
        view of the reused buffer; ``norms`` (n,).
    """
    path, meta, (n_rows, dim) = check_model_files(path)
    per = max(1, block_bytes // (4 * max(dim, 1)))

    def blocks():
        norms = np.load(path / NORMS, allow_pickle=False)
        buf = np.empty((min(per, max(n_rows, 1)), dim), dtype="<f4")        # (n, D), reused
        with open(path / VOCAB, "rb") as vocab, open(path / VECTORS, "rb") as vectors:
            offset = _npy_data_offset(vectors)
            vectors.seek(offset)
            carry = b""
            done = 0
            while done < n_rows:
                want = min(per, n_rows - done)
                while carry.count(b"\n") < want:
                    more = vocab.read(1 << 20)
                    if not more:
                        break
                    carry += more
                ends = np.flatnonzero(np.frombuffer(carry, dtype=np.uint8) == 10)
                if len(ends) < want:
                    raise _vocab_mismatch(path, f"only {done + len(ends)} words", (n_rows, dim))
                block, carry = carry[: ends[want - 1] + 1], carry[ends[want - 1] + 1:]
                if not _VOCAB_BLOCK.fullmatch(block):
                    bad = next(i for i, line in enumerate(block.split(b"\n")) if not _VOCAB_LINE.fullmatch(line))
                    raise ModelError(f"{path / VOCAB} line {done + bad + 1} is malformed: expected 'word<TAB>count'")
                try:
                    block.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ModelError(f"{path / VOCAB} is not valid UTF-8 ({exc}); retrain or re-import the model"
                                     ) from exc
                rows = buf[:want]
                if vectors.readinto(memoryview(rows).cast("B")) != rows.nbytes:
                    raise ModelError(f"{path / VECTORS} is truncated; retrain or re-import the model")
                yield _COUNT.sub(b"\n", block), rows, norms[done:done + want]
                done += want
            if carry.strip() or vocab.read(1).strip():
                raise _vocab_mismatch(path, f"more than {n_rows} words", (n_rows, dim))

    return meta, (n_rows, dim), blocks()


_VOCAB_LINE = re.compile(rb"[^\t\n]+\t[0-9]+")
_VOCAB_BLOCK = re.compile(rb"(?:[^\t\n]+\t[0-9]+\n)*")
_COUNT = re.compile(rb"\t[0-9]+\n")


def _npy_data_offset(fh) -> int:
    """Where the array's data starts in an open ``.npy`` file (its header already checked)."""
    fh.seek(0)
    version = np.lib.format.read_magic(fh)
    (np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0)(fh)
    return fh.tell()


__all__ = ["GENSIM_MODEL", "INDEX_FILE", "INDEX_LOCK", "MAX_META_BYTES", "META", "MODEL_FORMAT", "ModelDirStream",
           "ModelFiles", "NGRAMS", "NORMS", "OPTIONAL_SIZED_FILES", "NPY_HEADER_BYTES", "SIZED_FILES", "VECTORS", "VOCAB", "check_model_files",
           "check_model_out", "index_file_name", "is_model_dir", "iter_model_rows", "model_dir_foreign", "model_meta",
           "npy_header", "read_model_dir", "read_ngrams", "stream_model_dir", "unit_rows", "write_model_dir"]
