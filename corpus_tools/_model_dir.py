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

:func:`write_model_dir` writes the whole folder into a temporary folder and swaps
it in at the end (:func:`corpus_tools.atomic.atomic_dir`), so an interrupted
training or import leaves the previous model untouched. :func:`read_model_dir`
reads it with numpy alone (``vectors.npy`` memory-mapped, no pickle), so a model
folder received from someone else is safe to query. This module imports numpy and
the standard library only: it is on the query path.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import numpy as np

from ._errors import ModelError
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
    return name in (META, GENSIM_MODEL, *SIZED_FILES, *OPTIONAL_SIZED_FILES) or (
        name.startswith(GENSIM_MODEL + ".") and name.endswith(".npy")  # gensim's large arrays beside its pickle
    )


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
    words, counts = _read_vocab(path / VOCAB, n_rows)
    if len(words) != n_rows:
        found = (f"more than {n_rows} words" if len(words) > n_rows
                 else f"only {len(words)} word{'s' if len(words) != 1 else ''}")
        raise ModelError(
            f"{path} is inconsistent: {VOCAB} has {found}, {VECTORS} has shape "
            f"{unit_shape}, {NORMS} has shape {norms_shape}; retrain or re-import the model"
        )
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


__all__ = ["GENSIM_MODEL", "MAX_META_BYTES", "META", "MODEL_FORMAT", "ModelFiles", "NGRAMS", "NORMS",
           "OPTIONAL_SIZED_FILES", "SIZED_FILES", "VECTORS", "VOCAB", "check_model_out", "is_model_dir",
           "model_dir_foreign", "model_meta", "read_model_dir", "read_ngrams", "unit_rows", "write_model_dir"]
