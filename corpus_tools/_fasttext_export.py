"""Export a subword model folder as a fastText ``.bin`` (what the fastText tool's
``fasttext.load_model``, ``print-word-vectors`` and ``nn`` read, and gensim's
``load_facebook_model``), without unpickling anything.

The file is written by gensim's own ``save_facebook_model``, whose output the fastText
tool reads (tested with the ``fasttext`` wheel), from the pickle-free files of the
model folder:

- the n-gram matrix is ``ngrams.npy`` as trained;
- fastText stores each vocabulary word's *own* input vector and averages it with its
  n-grams' when asked (``(own + sum of n-gram rows) / (n-grams + 1)``); the folder keeps
  that average (``vectors.npy`` x ``norms.npy``), so the own vector is recovered as
  ``average x (n-grams + 1) - sum of n-gram rows``, exact to float32 rounding
  (the fastText tool gives back each word's vector to about 1e-6 relative);
- the output matrix (the training state of negative sampling or hierarchical softmax)
  is not part of a model folder's query files; it is written as zeros, the value
  word2vec and fastText start training from. Word vectors, nearest neighbours and
  analogies do not use it; the vectors themselves are unchanged.

gensim is imported to write the file (export is not a query; nothing is unpickled).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ._interop import ExportResult
from ._subwords import ngram_hashes
from ._vectors import Vectors
from .atomic import atomic_path, check_file_replaceable

_REFUSAL = ("wordstack never replaces a vectors file: the format has no room for a mark that says "
            "wordstack wrote it, so it could be yours")


def _own_vectors(vecs: Vectors) -> np.ndarray:
    """Each vocabulary word's own input vector, float32 of shape (V, D), undoing fastText's averaging."""
    sub = vecs.subwords
    own = np.empty((len(vecs), vecs.vector_size), dtype=np.float32)
    for i, word in enumerate(vecs.words):
        rows = ngram_hashes(word, sub.params.min_n, sub.params.max_n, sub.params.buckets)
        average = np.asarray(vecs.unit[i], np.float32) * np.float32(vecs.norms[i])
        own[i] = average * np.float32(len(rows) + 1) - np.asarray(sub.ngrams[rows], np.float32).sum(axis=0)
    return own


class _KeyedVectorsStandIn:
    """What gensim's writer reads of ``FastText.wv``: the attributes, and the vocabulary size as ``len``."""

    def __init__(self, size: int, **attributes):
        self.__dict__.update(attributes)
        self._size = size

    def __len__(self) -> int:
        return self._size


def _model_for_gensim(vecs: Vectors) -> SimpleNamespace:
    """The attributes ``gensim.models.fasttext.save_facebook_model`` reads from a FastText model."""
    params = vecs.meta.get("params", {})
    sub = vecs.subwords
    counts = {w: int(c) for w, c in zip(vecs.words, vecs.counts)}
    wv = _KeyedVectorsStandIn(
        len(vecs), bucket=sub.params.buckets, min_n=sub.params.min_n, max_n=sub.params.max_n,
        index_to_key=list(vecs.words), get_vecattr=lambda word, attr: counts[word],
        vectors_vocab=_own_vectors(vecs), vectors_ngrams=np.ascontiguousarray(sub.ngrams, dtype=np.float32),
    )
    output = np.zeros((len(vecs), vecs.vector_size), dtype=np.float32)   # see the module docstring
    return SimpleNamespace(
        wv=wv, vector_size=vecs.vector_size, epochs=int(params.get("epochs", 5)), hs=int(params.get("hs", 0)),
        negative=int(params.get("negative", 5)), min_count=int(params.get("min_count", 5)),
        sg=int(params.get("sg", 1)), sample=float(params.get("sample", 1e-3)), window=int(params.get("window", 5)),
        corpus_total_words=int(vecs.meta.get("corpus", {}).get("tokens") or int(np.sum(vecs.counts))),
        syn1=output, syn1neg=output,
    )


def export_fasttext_bin(model: str | os.PathLike | Vectors, out: str | os.PathLike) -> ExportResult:
    """Write a subword model as a fastText ``.bin`` file (see the module docstring).

    Parameters
    ----------
    model : str, path or Vectors
        A subword model folder (``wordstack train --subwords``), or its loaded vectors.
    out : str or path
        The file to write (atomically); it must not exist.

    Returns
    -------
    ExportResult

    Raises
    ------
    ValueError
        The model has no subwords (a word2vec model: export ``vec`` instead), or a word
        holds whitespace (fastText's dictionary separates words by it).
    OverwriteRefusedError
        A file already exists at ``out``.
    """
    t0 = time.perf_counter()
    out = Path(out).expanduser()
    check_file_replaceable(out, False, _REFUSAL)
    vecs = model if isinstance(model, Vectors) else Vectors.load(model)
    if not vecs.has_subwords:
        raise ValueError(f"{vecs.label} is a word2vec model: a fastText .bin holds character n-grams it does not "
                         "have; export it with --format vec (fastText reads it as -pretrainedVectors), or train "
                         "with `wordstack train --subwords`")
    for i, w in enumerate(vecs.words):
        if not w or any(ch.isspace() for ch in w):
            raise ValueError(f"the word {w!r} (row {i + 1}) contains whitespace, which fastText's dictionary cannot "
                             "hold: join its parts with '_' and train again")
    from gensim.models.fasttext import save_facebook_model

    stand_in = _model_for_gensim(vecs)
    with atomic_path(out, replace_if=False, refusal=_REFUSAL) as tmp:
        save_facebook_model(stand_in, str(tmp))
    return ExportResult(path=out, format="fasttext-bin", vocab_size=len(vecs), vector_size=vecs.vector_size,
                        bytes=out.stat().st_size, seconds=time.perf_counter() - t0)


__all__ = ["export_fasttext_bin"]
