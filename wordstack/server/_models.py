"""The models a server answers from, loaded once, and their vocabularies by prefix.

Each model folder is loaded once at start-up with ``corpus_tools.load_vectors``
(vectors memory-mapped, no pickle); a :class:`PrefixIndex` of its vocabulary is
built beside it, so a completion is two binary searches and a partial sort.
"""
from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .._queries import model_entry
from ._params import ApiError


class PrefixIndex:
    """The words of a vocabulary that start with a prefix, most frequent first.

    The vocabulary is sorted once (O(V log V) at load); a query finds the range of
    words with the prefix by two binary searches, then takes the ``n`` of lowest
    frequency rank in it (``np.partition``, linear in the range), so even the prefix
    "s" of a million-word vocabulary is answered in milliseconds.

    Parameters
    ----------
    words : sequence of str
        The vocabulary, most frequent first (a model folder's row order).
    """

    def __init__(self, words: Sequence[str]):
        order = sorted(range(len(words)), key=words.__getitem__)
        self._words = words
        self._sorted = [words[i] for i in order]          # (V,) the words in code-point order
        self._rank = np.asarray(order, dtype=np.int64)    # (V,) their rows: frequency ranks

    def ranks(self, prefix: str, n: int) -> np.ndarray:
        """Rows (frequency ranks) of at most ``n`` words starting with ``prefix``, lowest first."""
        if not prefix:
            return np.arange(min(n, len(self._words)))
        lo = bisect.bisect_left(self._sorted, prefix)
        last = ord(prefix[-1])
        if last < 0x10FFFF:   # the first string after every string that starts with prefix
            hi = bisect.bisect_left(self._sorted, prefix[:-1] + chr(last + 1), lo)
        else:                 # pragma: no cover - a prefix ending in the last code point
            hi = len(self._sorted)
        ranks = self._rank[lo:hi]
        if len(ranks) > n:
            ranks = np.partition(ranks, n - 1)[:n]
        return np.sort(ranks)

    def complete(self, prefix: str, n: int) -> list[int]:
        """Rows of the ``n`` most frequent words starting with ``prefix`` as typed, lowercased,
        or with its spaces written as ``_`` (gensim's phrases), most frequent first."""
        variants = {v for p in (prefix, prefix.lower()) for v in (p, re.sub(r"\s+", "_", p))}
        found = np.unique(np.concatenate([self.ranks(v, n) for v in variants if v]))
        return [int(i) for i in found[:n]]


@dataclass
class ServedModel:
    """One model of a server: its id (in ``?model=``), its vectors and its prefix index."""

    id: str
    vectors: object
    prefixes: PrefixIndex = field(repr=False)

    def describe(self) -> dict:
        """The model in ``/api/models``: its id, :func:`wordstack._queries.model_entry`, vocabulary size."""
        return {"id": self.id, **model_entry(self.vectors), "vocab_size": len(self.vectors)}


class ModelSet:
    """The models a server answers from, side by side, in the order given.

    Each model's id is its folder name (``shakespeare-64d``), made unique by a suffix
    (``-2``, ``-3``) when two folders share a name. With ``screen`` (the default) each
    model small enough gets its int8 screen (:meth:`corpus_tools.Vectors.enable_screen`):
    the same exact answers, read from a quarter of the bytes; built here, before a
    server forks its workers, so that they share one copy.
    """

    def __init__(self, vectors_list: Sequence, *, screen: bool = True):
        if not vectors_list:
            raise ValueError("a server needs at least one model folder")
        self.models: list[ServedModel] = []
        seen: set[str] = set()
        for vecs in vectors_list:
            base = vecs.path.name if vecs.path is not None else "model"
            ident, k = base, 1
            while ident in seen:
                k += 1
                ident = f"{base}-{k}"
            seen.add(ident)
            if screen and hasattr(vecs, "enable_screen"):
                vecs.enable_screen()
            self.models.append(ServedModel(ident, vecs, PrefixIndex(vecs.words)))

    @classmethod
    def load(cls, model_dirs: Sequence[str | os.PathLike]) -> "ModelSet":
        """Load each model folder once (memory-mapped, no pickle).

        Raises
        ------
        corpus_tools.ModelError
            A folder is missing or not a complete model folder (the message names it).
        """
        import corpus_tools as ct

        return cls([ct.load_vectors(d) for d in model_dirs])

    def __len__(self) -> int:
        return len(self.models)

    def select(self, ids: Sequence[str]) -> list[ServedModel]:
        """The models named by ``ids`` (``?model=``), in the order given; all of them when empty."""
        if not ids:
            return list(self.models)
        by_id = {m.id: m for m in self.models}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ApiError(400, f"no model {unknown[0]!r} is served; the models are "
                                f"{', '.join(by_id)} (see /api/models)")
        return [by_id[i] for i in dict.fromkeys(ids)]


def complete(models: Sequence[ServedModel], prefix: str, n: int) -> dict:
    """Vocabulary words starting with ``prefix``, in each model and merged.

    Returns ``{"prefix", "words": [{"word", "count"}], "results": [model entry + "words"]}``:
    each model's ``n`` most frequent matches, and ``words``, the union of them ordered by
    their best frequency rank in any model (then alphabetically), at most ``n``.
    """
    results = []
    best: dict[str, tuple[int, int]] = {}
    for m in models:
        vecs = m.vectors
        rows = m.prefixes.complete(prefix, n)
        words = [{"word": vecs.words[i], "count": int(vecs.counts[i])} for i in rows]
        results.append({**model_entry(vecs), "words": words})
        for i, w in zip(rows, words):
            rank, count = best.get(w["word"], (i, w["count"]))
            best[w["word"]] = (min(rank, i), max(count, w["count"]))
    merged = sorted(best, key=lambda w: (best[w][0], w))[:n]
    return {"prefix": prefix, "words": [{"word": w, "count": best[w][1]} for w in merged], "results": results}


__all__ = ["ModelSet", "PrefixIndex", "ServedModel", "complete"]
