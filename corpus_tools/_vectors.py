"""Query word vectors: nearest neighbours, analogies, the odd one out.

Reads a model directory (its format: :mod:`corpus_tools._model_dir`) with numpy
alone: ``vectors.npy`` is memory-mapped, ``vocab.txt`` is plain text, ``meta.json``
is JSON. No pickle is loaded, so a model directory received from someone else is
safe to query, and nothing heavier than numpy is imported.

Similarities are cosines. The unit-length vectors are stored on disk, so a query
is one matrix-vector product over the vocabulary and a partial sort. A subword
(fastText) model also answers words outside its vocabulary, from the memory-mapped
n-gram matrix (:mod:`corpus_tools._subwords`, numpy only); on a word2vec model an
unknown word raises :class:`UnknownWordError` with close vocabulary words.
:func:`query_terms` turns typed queries into vocabulary terms, joining known phrases.

When the folder has a nearest-neighbour index (``wordstack index``, see
:mod:`corpus_tools._index`), :meth:`Vectors.most_similar` and :meth:`Vectors.analogy`
ask it for candidates (``exact=False``, the default) and score them exactly as the
full product would: the answers have the same form and the same scores, and recall
@10 is what ``meta.json`` records. faiss is imported, and the index opened and
checked, on the first such query only. ``exact=True`` skips the index.
:meth:`Vectors.doesnt_match` compares the given words with each other and searches
no vocabulary, so it never needs the index.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from . import _screen
from ._errors import UnknownWordError
from ._model_dir import read_model_dir, read_ngrams, unit_rows
from ._subwords import Subwords


@dataclass(frozen=True)
class Neighbor:
    """A vocabulary word and its cosine similarity to the query."""

    word: str
    score: float


class Vectors:
    """Word vectors of one model directory.

    Use :meth:`load` (or :func:`corpus_tools.load_vectors`). Rows are unit length
    and ordered by corpus frequency, most frequent first.

    Attributes
    ----------
    path : Path or None
    words : list of str
        The vocabulary; ``words[i]`` is row ``i``.
    counts : ndarray of shape (V,)
        Corpus frequency of each word.
    meta : dict
        The model's ``meta.json`` (training parameters, corpus digest, ...).
    subwords : Subwords or None
        A fastText model's n-grams: words outside the vocabulary are built from them
        (:meth:`from_subwords` tells which words a query builds so).

    Examples
    --------
    >>> vecs = Vectors.load("models/shakespeare-256d")     # doctest: +SKIP
    >>> [n.word for n in vecs.most_similar("romeo", topn=3)]  # doctest: +SKIP
    ['juliet', 'tybalt', 'mercutio']
    """

    def __init__(self, words: Sequence[str], unit: np.ndarray, norms: np.ndarray | None = None,
                 counts: np.ndarray | None = None, meta: dict | None = None, path: Path | None = None,
                 subwords: Subwords | None = None):
        unit = np.asanyarray(unit)  # keeps a np.memmap a memmap
        if unit.ndim != 2:
            raise ValueError(f"vectors must be a 2-D array (V, D), got shape {unit.shape}")
        if len(words) != unit.shape[0]:
            raise ValueError(f"{len(words)} words but {unit.shape[0]} vector rows")
        self.words = list(words)
        self.unit = unit
        # the same memory as a plain ndarray, for the query path: indexing and products on a
        # np.memmap wrap every result in a memmap (__array_finalize__), ~30 us a query
        self._matrix = np.asarray(unit)
        self.norms = np.ones(len(words), np.float32) if norms is None else np.asarray(norms)
        self.counts = np.zeros(len(words), np.int64) if counts is None else np.asarray(counts)
        self.meta = meta or {}
        self.path = path
        if subwords is not None and subwords.ngrams.shape[1] != unit.shape[1]:
            raise ValueError(f"the n-gram matrix has {subwords.ngrams.shape[1]} dimensions, the vectors {unit.shape[1]}")
        self.subwords = subwords
        self.index = {w: i for i, w in enumerate(self.words)}
        self._padded = None
        self._ann = None
        self._ann_lock = threading.Lock()
        self._screen = None

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_vectors(cls, words: Sequence[str], vectors: np.ndarray, counts=None, meta=None) -> "Vectors":
        """Build from raw (not normalised) vectors of shape (V, D)."""
        unit, norms = unit_rows(vectors)
        return cls(words, unit, norms, counts, meta)

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = True) -> "Vectors":
        """Load a model directory, memory-mapping the vectors.

        Raises
        ------
        ModelError
            The folder or one of its files is missing, truncated or inconsistent;
            the message names the file.
        """
        path = Path(path).expanduser()
        words, unit, norms, counts, meta = read_model_dir(path, mmap=mmap)
        ngrams = read_ngrams(path, meta, unit.shape[1], mmap=mmap)
        subwords = None if ngrams is None else Subwords(ngrams[0], ngrams[2], lowercase=ngrams[1])
        return cls(words, unit, norms, counts, meta, path, subwords)

    # ------------------------------------------------------------------ basics

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return self.key(word) is not None

    @property
    def vector_size(self) -> int:
        return int(self.unit.shape[1])

    @property
    def label(self) -> str:
        """Short description: dimensions and epochs (and the folder name)."""
        p = self.meta.get("params", {})
        parts = [f"{self.vector_size}d"]
        if "epochs" in p:
            parts.append(f"{p['epochs']} epoch" + ("s" if p["epochs"] != 1 else ""))
        if self.subwords is not None:
            parts.append("subwords")
        name = self.path.name if self.path else None
        return (f"{name} " if name else "") + "(" + ", ".join(parts) + ")"

    @property
    def has_index(self) -> bool:
        """True when the model folder records a nearest-neighbour index (``wordstack index``)."""
        return self.path is not None and isinstance(self.meta.get("index"), dict)

    @property
    def index_info(self) -> dict | None:
        """What ``meta.json`` records about the index (library, M, ef_search, recall@10, ...), or None."""
        return dict(self.meta["index"]) if self.has_index else None

    def _index(self):
        """The opened index (checked against the vectors on first use; see :func:`corpus_tools._index.load_index`)."""
        if self._ann is None:
            from ._index import load_index

            with self._ann_lock:
                if self._ann is None:
                    self._ann = load_index(self.path, self.meta, self.unit)
        return self._ann

    def key(self, word: str) -> str | None:
        """The vocabulary entry ``word`` refers to, or None.

        Tries the word as given, lowercased, and, for a phrase written with
        spaces ("expecto patronum"), joined with ``_`` as gensim Phrases does.
        """
        for cand in (word, word.lower()):
            if cand in self.index:
                return cand
            if " " in cand.strip():
                joined = "_".join(cand.split())
                if joined in self.index:
                    return joined
        return None

    def _row(self, word: str) -> int:
        k = self.key(word)
        if k is None:
            raise UnknownWordError(word, self.suggest(word), model=self.label)
        return self.index[k]

    @property
    def has_subwords(self) -> bool:
        """True for a subword (fastText) model, which builds words outside its vocabulary."""
        return self.subwords is not None

    def from_subwords(self, word: str) -> bool:
        """True when ``word`` is outside the vocabulary and this model builds it from subwords."""
        return self.subwords is not None and self.key(word) is None

    def _subword_vector(self, word: str) -> np.ndarray:
        """The raw vector of an out-of-vocabulary ``word`` from its n-grams (UnknownWordError without any)."""
        vec = None if self.subwords is None else self.subwords.vector(word)
        if vec is None or not vec.any():
            raise UnknownWordError(word, self.suggest(word), model=self.label)
        return vec

    def _term(self, word: str) -> tuple[int | None, np.ndarray]:
        """The vocabulary row of ``word`` and its unit vector; row None when built from subwords."""
        if not self.from_subwords(word):
            i = self._row(word)
            return i, self._matrix[i]
        vec = self._subword_vector(word)
        return None, vec / np.linalg.norm(vec)

    def vector(self, word: str, *, unit: bool = True) -> np.ndarray:
        """The vector of ``word`` (unit length unless ``unit=False``).

        On a subword model a word outside the vocabulary gets the mean of its
        n-gram vectors (``unit=False``: exactly gensim's ``FastTextKeyedVectors.get_vector``).
        """
        if self.from_subwords(word):
            vec = self._subword_vector(word)
            return (vec / np.linalg.norm(vec)).astype(np.float32) if unit else vec
        i = self._row(word)
        v = np.array(self.unit[i], dtype=np.float32)
        return v if unit else v * self.norms[i]

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (built from subwords where a subword model has to)."""
        return float(np.dot(self._term(w1)[1], self._term(w2)[1]))

    # ------------------------------------------------------------------ queries

    def enable_screen(self, max_elements: int = _screen.MAX_SCREEN_ELEMENTS) -> bool:
        """Keep an int8 copy of the vectors that makes exact queries read a quarter of the bytes.

        Exact queries (no index, or ``exact=True``) then score every row in int8 and
        re-score in float32 only the rows that could be among the best: the same answer
        as the full float32 product (see :mod:`corpus_tools._screen` for the proof),
        3-4x faster once the matrix is out of the processor's caches, as it is between
        a server's requests. The copy costs one byte per vector element, in RAM, and is
        built in about a millisecond per million elements. ``wordstack serve`` enables
        it for every model it loads; a one-off query gains nothing from it.

        Returns
        -------
        bool
            True when the screen is (now) on; False when the model is larger than
            ``max_elements`` elements, has more than 1,024 dimensions, or is not float32.
        """
        if self._screen is None:
            matrix = self._matrix
            if (matrix.dtype != np.float32 or not matrix.flags.c_contiguous
                    or not _screen.screen_fits(matrix.shape, max_elements)):
                return False
            self._screen = _screen.Int8Screen(matrix)
        return True

    def _nearest(self, query: np.ndarray, exclude: Iterable[int], topn: int,
                 restrict_vocab: int | None = None, exact: bool = True) -> list[Neighbor]:
        if not isinstance(topn, int) or topn < 1:
            raise ValueError(f"topn must be an integer >= 1, got {topn!r}")
        norm = float(np.linalg.norm(query))
        if norm == 0:
            return []
        if restrict_vocab is not None and restrict_vocab >= len(self):
            restrict_vocab = None
        # restrict_vocab below half the vocabulary: exact over those rows costs at most
        # half a full product, and a graph search that must skip most rows loses recall.
        if not exact and self.has_index and (restrict_vocab is None or 2 * restrict_vocab >= len(self)):
            return self._nearest_indexed(query / norm, set(exclude), topn, restrict_vocab)
        n_rows = len(self) if restrict_vocab is None else restrict_vocab
        exclude = [i for i in set(exclude) if i < n_rows]
        k = min(topn, n_rows - len(exclude))
        if k <= 0:
            return []
        if self._screen is not None:
            rows, scores = self._screen.top(query / norm, k, exclude, n_rows)
            words = self.words
            return [Neighbor(words[i], s) for i, s in zip(rows.tolist(), scores.tolist())]
        mat = self._matrix[:n_rows]
        scores = mat @ (query / norm).astype(mat.dtype, copy=False)
        scores[exclude] = -np.inf
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        words = self.words
        return [Neighbor(words[i], s) for i, s in zip(top.tolist(), scores[top].tolist())]

    def _nearest_indexed(self, query: np.ndarray, exclude: set[int], topn: int,
                         restrict_vocab: int | None) -> list[Neighbor]:
        """The index's candidates without ``exclude``, ordered as :meth:`_nearest` orders all
        rows (score, then row), with the inner products the index computed from the same
        float32 unit rows."""
        limit = len(self) if restrict_vocab is None else restrict_vocab
        k = min(topn + len(exclude), limit)
        rows, scores = self._index().search(query.astype(np.float32), k, restrict_vocab, combined=len(exclude) > 1)
        found = [(-s, i) for i, s in zip(rows.tolist(), scores.tolist()) if i not in exclude]
        found.sort()
        words = self.words
        return [Neighbor(words[i], -s) for s, i in found[:topn]]

    def most_similar(self, positive: str | Sequence[str], topn: int = 10, *,
                     negative: Sequence[str] = (), restrict_vocab: int | None = None,
                     exact: bool = False) -> list[Neighbor]:
        """Nearest words to one word, or to the normalised sum of several.

        Parameters
        ----------
        positive : str or sequence of str
            Query word(s); several are averaged as unit vectors (gensim's rule).
        topn : int, default 10
        negative : sequence of str, optional
            Words whose unit vectors are subtracted.
        restrict_vocab : int, optional
            Only consider the this many most frequent words. With an index: at least
            half the vocabulary is searched through the index (skipping the other
            rows), less by exact search over those rows.
        exact : bool, default False
            Score every row even when the folder has a nearest-neighbour index
            (``wordstack index``); without one, every query is exact.

        Returns
        -------
        list of Neighbor
            Best first; the query words themselves are excluded.

        Raises
        ------
        UnknownWordError
            A query word is not in the vocabulary (with close matches), and the model
            has no subwords to build it from.
        IndexMismatchError
            The folder's index does not match its vectors (rebuild it, or pass ``exact=True``).
        """
        if isinstance(positive, str):
            positive = [positive]
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        terms_pos = [self._term(w) for w in positive]
        terms_neg = [self._term(w) for w in negative]
        query = np.zeros(self.vector_size, dtype=np.float64)
        for _, vec in terms_pos:
            query += vec
        for _, vec in terms_neg:
            query -= vec
        rows = [i for i, _ in terms_pos + terms_neg if i is not None]  # words built from subwords have no row
        return self._nearest(query, rows, topn, restrict_vocab, exact)

    def analogy(self, a: str, b: str, c: str, topn: int = 10, *,
                restrict_vocab: int | None = None, exact: bool = False) -> list[Neighbor]:
        """Words ``d`` with ``a : b :: c : d``, ranked by cos(d, b - a + c) (3CosAdd).

        With an index (and ``exact=False``) the query vector ``b - a + c`` of unit
        vectors, normalised, is looked up like a word: ``topn + 3`` candidates, the
        three inputs dropped.

        Examples
        --------
        ``analogy("man", "king", "woman")`` -> ``queen`` on a good model.
        """
        return self.most_similar([b, c], topn, negative=[a], restrict_vocab=restrict_vocab, exact=exact)

    def doesnt_match(self, words: Sequence[str]) -> tuple[str, list[Neighbor]]:
        """The word that fits least with the others.

        Returns
        -------
        odd : str
            The word whose cosine to the mean of all the words' unit vectors is lowest.
        scores : list of Neighbor
            Every word with that cosine, lowest first.
        """
        if len(words) < 3:
            raise ValueError(f"odd-one-out needs at least 3 words, got {len(words)}")
        terms = [self._term(w) for w in words]
        names = [w if i is None else self.words[i] for w, (i, _) in zip(words, terms)]  # subword-built: as typed
        mat = np.array([vec for _, vec in terms], dtype=np.float64)                    # (N, D)
        mean = mat.mean(axis=0)
        mean /= np.linalg.norm(mean) or 1.0
        sims = mat @ mean
        order = np.argsort(sims, kind="stable")
        ranked = [Neighbor(names[i], float(sims[i])) for i in order]
        return ranked[0].word, ranked

    # ------------------------------------------------------------------ suggestions

    def suggest(self, word: str, n: int = 5, max_distance: int | None = None) -> list[str]:
        """Vocabulary words closest to ``word`` by edit distance (adjacent swaps count 1).

        Ties are broken by frequency (most frequent first). Only words within
        ``max_distance`` edits (default: 1 for words of one or two letters, 2 up
        to 8 letters, else 3) are returned.
        """
        q = word.lower()
        if max_distance is None:
            max_distance = 1 if len(q) <= 2 else 2 if len(q) <= 8 else 3
        if not self.words or not q:
            return []
        codes, lengths = self._padded_vocab()
        cand = np.flatnonzero(np.abs(lengths - len(q)) <= max_distance)
        if cand.size == 0:
            return []
        sub_lengths = lengths[cand]
        dist = _levenshtein_many(q, codes[cand, : int(sub_lengths.max()) or 1], sub_lengths)
        ok = dist <= max_distance
        cand, dist = cand[ok], dist[ok]
        order = np.lexsort((cand, dist))[:n]
        return [self.words[i] for i in cand[order]]

    def _padded_vocab(self):
        if self._padded is None:
            lengths = np.fromiter((len(w) for w in self.words), dtype=np.int64, count=len(self.words))
            width = int(lengths.max()) if len(lengths) else 0
            codes = np.zeros((len(self.words), max(width, 1)), dtype=np.int32)
            for i, w in enumerate(self.words):
                codes[i, : len(w)] = [ord(ch) for ch in w]
            self._padded = (codes, lengths)
        return self._padded


def _levenshtein_many(q: str, codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Edit distance from ``q`` to each padded word (rows of ``codes``), vectorised over words.

    Insertions, deletions, substitutions and transpositions of two adjacent
    letters each cost 1 (the optimal-string-alignment form of Damerau-Levenshtein:
    "romoe" is one edit from "romeo").
    """
    n_words, width = codes.shape
    qc = np.array([ord(ch) for ch in q], dtype=np.int32)
    # prev[:, j] = distance between q[:i-1] and word[:j]; before = the row above that
    prev = np.tile(np.arange(width + 1, dtype=np.int32), (n_words, 1))
    before = None
    for i in range(1, len(q) + 1):
        cur = np.empty_like(prev)
        cur[:, 0] = i
        sub_cost = (codes != qc[i - 1]).astype(np.int32)
        for j in range(1, width + 1):
            best = np.minimum(np.minimum(prev[:, j] + 1, cur[:, j - 1] + 1), prev[:, j - 1] + sub_cost[:, j - 1])
            if before is not None and j > 1:
                swap = (codes[:, j - 2] == qc[i - 1]) & (codes[:, j - 1] == qc[i - 2])
                best = np.where(swap, np.minimum(best, before[:, j - 2] + 1), best)
            cur[:, j] = best
        before, prev = prev, cur
    return prev[np.arange(n_words), lengths]


def query_terms(vectors: Vectors, texts: str | Sequence[str]) -> list[str]:
    """Split query texts into vocabulary terms, joining known phrases.

    Each text is split on whitespace and read left to right; at each position
    the longest run of words that the model knows as a phrase (gensim Phrases
    joins them with ``_``: "expecto patronum" -> ``expecto_patronum``) is taken,
    else the single word. Unknown words are kept as typed, so that a query
    raises :class:`UnknownWordError` with suggestions.

    Parameters
    ----------
    vectors : Vectors
    texts : str or sequence of str
        One text (e.g. a line typed in interactive mode) or several (command
        line arguments, each read on its own).

    Returns
    -------
    list of str

    Examples
    --------
    >>> query_terms(vecs, "expecto patronum")        # doctest: +SKIP
    ['expecto_patronum']
    >>> query_terms(vecs, ["king", "queen"])          # doctest: +SKIP
    ['king', 'queen']
    """
    if isinstance(texts, str):
        texts = [texts]
    terms: list[str] = []
    for text in texts:
        tokens = text.split()
        i = 0
        while i < len(tokens):
            for j in range(len(tokens), i + 1, -1):
                key = vectors.key("_".join(tokens[i:j]))
                if key is not None:
                    terms.append(key)
                    i = j
                    break
            else:
                terms.append(vectors.key(tokens[i]) or tokens[i])
                i += 1
    return terms


def load_vectors(path: str | os.PathLike, *, mmap: bool = True) -> Vectors:
    """Load a model directory for querying (no pickle; numpy only). See :class:`Vectors`."""
    return Vectors.load(path, mmap=mmap)
