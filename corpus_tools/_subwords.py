"""Subword (character n-gram) vectors of fastText models, computed with numpy alone.

A fastText model (Bojanowski et al. 2017, "Enriching Word Vectors with Subword
Information", TACL 5) represents a word by its character n-grams: the word is
wrapped in ``<`` and ``>``, every run of ``min_n`` to ``max_n`` characters is hashed
into one of ``buckets`` rows of the n-gram matrix, and a word outside the
vocabulary gets the mean of its n-grams' rows. This module reproduces gensim's
implementation (``gensim/models/fasttext.py``: ``ft_ngram_hashes``,
``FastTextKeyedVectors.get_vector``; ``fasttext_inner.pyx``: ``ft_hash_bytes``,
``compute_ngrams_bytes``) bit for bit, without importing gensim, so that an
out-of-vocabulary query costs about what an in-vocabulary one does:

- characters are UTF-8 sequences: an n-gram of n characters is the bytes from the
  start of one character to the end of the n-th, and the lone ``<`` and ``>`` are
  never n-grams (they matter only for ``min_n`` = 1);
- the hash is 32-bit FNV-1a over those bytes, with fastText's quirk that each byte
  is read as a *signed* char: a byte >= 0x80 is sign-extended before the xor
  (``h ^= uint32(int8(b)); h *= 16777619``);
- the row is ``hash % buckets``; the n-grams are taken by start character, then by
  length, and their rows summed in that order in float32 and divided by their
  number (gensim's order, which the bit-for-bit equality depends on).

Vocabulary words keep the vectors gensim stored for them (the word's own vector
averaged with its n-grams'); only words outside the vocabulary are built here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._errors import ModelError

#: The name of the hashing scheme in ``meta.json`` (the only one there is).
HASHING = "fasttext-fnv1a-signed-char"
FNV_OFFSET_BASIS = np.uint32(2166136261)
FNV_PRIME = np.uint32(16777619)
#: Largest n-gram length accepted (fastText's own default is 6; longer n-grams only
#: cost time: every query hashes max_n characters per position).
MAX_NGRAM_CHARS = 64
#: Largest number of n-gram buckets accepted (fastText's default is 2,000,000).
MAX_BUCKETS = 1 << 31


@dataclass(frozen=True)
class SubwordParams:
    """The character n-grams of a fastText model (gensim's ``min_n``, ``max_n``, ``bucket``).

    Parameters
    ----------
    min_n, max_n : int, default 3 and 6
        Shortest and longest n-gram, in characters (``<`` and ``>`` count).
    buckets : int, default 200,000
        Rows of the n-gram matrix that the n-grams are hashed into. fastText's
        default, 2,000,000, is made for corpora of billions of words; a book
        collection has a few hundred thousand distinct n-grams, and the matrix
        (buckets x dimensions float32) is the bulk of the model folder.
    """

    min_n: int = 3
    max_n: int = 6
    buckets: int = 200_000

    def __post_init__(self):
        for name, top in (("min_n", MAX_NGRAM_CHARS), ("max_n", MAX_NGRAM_CHARS), ("buckets", MAX_BUCKETS)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
                raise ValueError(f"{name} must be an integer from 1 to {top:,}, got {v!r}")
        if self.max_n < self.min_n:
            raise ValueError(f"max_n ({self.max_n}) must be >= min_n ({self.min_n}): no n-gram would be left")

    def gensim_kwargs(self) -> dict:
        """Keyword arguments for ``gensim.models.FastText``."""
        return {"min_n": self.min_n, "max_n": self.max_n, "bucket": self.buckets}


def ngram_hashes(word: str, min_n: int, max_n: int, buckets: int) -> np.ndarray:
    """The n-gram rows of ``word``, in gensim's order (``ft_ngram_hashes``).

    Parameters
    ----------
    word : str
        The word as it is hashed (no case folding here); wrapped in ``<`` ``>``.
    min_n, max_n : int
        N-gram lengths in characters (code points).
    buckets : int
        Number of rows of the n-gram matrix.

    Returns
    -------
    ndarray of shape (K,), int64
        Row of each n-gram: by start character, then by length. Empty when the
        wrapped word is shorter than ``min_n``.

    Raises
    ------
    UnicodeEncodeError
        ``word`` holds a lone surrogate (it has no UTF-8 form; gensim fails too).
    """
    data = np.frombuffer(f"<{word}>".encode("utf-8"), dtype=np.uint8)
    starts = np.flatnonzero((data & 0xC0) != 0x80)                     # (C,) first byte of each character
    n_chars = len(starts)
    char_len = np.diff(starts, append=len(data))                       # (C,) 1..4 bytes each
    width = int(char_len.max())
    # Byte k of character c as fastText mixes it in: xor the signed char (sign-extended to 32 bits),
    # then multiply by the FNV prime. A character shorter than ``width`` bytes is padded with the
    # identity step (xor 0, multiply by 1), so all characters take ``width`` steps.
    pos = np.minimum(starts[:, None] + np.arange(width), len(data) - 1)   # (C, width)
    present = np.arange(width) < char_len[:, None]                     # (C, width)
    xor_in = np.where(present, data[pos].view(np.int8).astype(np.int32).astype(np.uint32), np.uint32(0))
    mul_by = np.where(present, FNV_PRIME, np.uint32(1))
    longest = min(max_n, n_chars)
    hashes = np.empty((n_chars, longest), dtype=np.uint32)             # (C, n) hash of chars c .. c+n-1
    keep = np.zeros((n_chars, longest), dtype=bool)
    state = np.full(n_chars, FNV_OFFSET_BASIS, dtype=np.uint32)        # running hash of each start c
    for m in range(longest):                                           # absorb character c + m
        live = n_chars - m                                             # the starts with c + m < C
        h = state[:live]
        for k in range(width):
            h = (h ^ xor_in[m:, k]) * mul_by[m:, k]
        state[:live] = h
        if m + 1 >= min_n:
            hashes[:live, m] = h
            keep[:live, m] = True
    if min_n == 1:                                                     # the lone "<" and ">" are no n-grams
        keep[0, 0] = keep[n_chars - 1, 0] = False
    return hashes[keep].astype(np.int64) % buckets


def subword_vector(ngrams: np.ndarray, word: str, min_n: int, max_n: int) -> np.ndarray | None:
    """The vector fastText gives an out-of-vocabulary ``word``: the mean of its n-grams' rows.

    Equal, bit for bit, to gensim's ``FastTextKeyedVectors.get_vector(word)`` for a
    word outside the vocabulary (``ngrams`` is its ``vectors_ngrams``).

    Parameters
    ----------
    ngrams : ndarray of shape (B, D), float32
        The n-gram matrix (a memory map is fine: only the word's rows are read).
    word : str
    min_n, max_n : int

    Returns
    -------
    ndarray of shape (D,), float32, or None
        None when the word has no n-gram (shorter than ``min_n`` once wrapped;
        gensim returns the zero vector there).
    """
    rows = ngram_hashes(word, min_n, max_n, ngrams.shape[0])
    if len(rows) == 0:
        return None
    gathered = np.asarray(ngrams[rows], dtype=np.float32)               # (K, D)
    total = np.zeros(ngrams.shape[1], dtype=np.float32)
    for row in gathered:                                                # gensim's order, float32 throughout
        total += row
    return total / np.float32(len(rows))





class Subwords:
    """The n-gram side of a fastText model folder: what builds a vector for a word outside the vocabulary.

    Parameters
    ----------
    params : SubwordParams
    ngrams : ndarray of shape (buckets, D), float32
        The n-gram matrix as gensim trained it (``vectors_ngrams``), usually memory-mapped.
    lowercase : bool, default False
        The corpus was lowercased, so a query word is lowercased before it is hashed
        ("Romeoo" is built as "romeoo").
    """

    def __init__(self, params: SubwordParams, ngrams: np.ndarray, *, lowercase: bool = False):
        if ngrams.ndim != 2 or ngrams.shape[0] != params.buckets:
            raise ValueError(f"the n-gram matrix must have shape ({params.buckets}, D) for {params.buckets} buckets, "
                             f"got {ngrams.shape}")
        self.params = params
        self.ngrams = ngrams
        self.lowercase = lowercase

    def form(self, word: str) -> str:
        """The spelling of ``word`` that is hashed (lowercased when the corpus was)."""
        return word.lower() if self.lowercase else word

    def vector(self, word: str) -> np.ndarray | None:
        """The raw (not unit) vector of ``word`` built from its n-grams, or None when it has none.

        Raises
        ------
        ModelError
            The word's rows of the n-gram matrix hold NaN or infinity (a damaged ``ngrams.npy``).
        ValueError
            The word has no UTF-8 form (it holds a lone surrogate).
        """
        try:
            vec = subword_vector(self.ngrams, self.form(word), self.params.min_n, self.params.max_n)
        except UnicodeEncodeError as exc:
            raise ValueError(f"{word!r} cannot be built from subwords: it is not valid text ({exc.reason})") from None
        if vec is not None and not np.isfinite(vec).all():
            raise ModelError(f"the n-gram vectors of {word!r} hold NaN or infinity: the model's n-gram matrix is "
                             "damaged; retrain the model")
        return vec

    @classmethod
    def params_from_meta(cls, entry, where: str) -> tuple[SubwordParams, bool]:
        """The parameters and the lowercase flag of a ``meta.json`` ``subwords`` entry, checked.

        Raises
        ------
        ModelError
            The entry is not a dict, names another hashing scheme, or holds values out of range
            (``where`` names the file in the message).
        """
        if not isinstance(entry, dict) or entry.get("hashing") != HASHING:
            found = entry.get("hashing") if isinstance(entry, dict) else type(entry).__name__
            raise ModelError(f"{where} declares subwords hashed with {found!r}; this wordstack reads {HASHING!r}: "
                             "retrain the model with `wordstack train CORPUS --subwords`")
        try:
            params = SubwordParams(min_n=entry.get("min_n"), max_n=entry.get("max_n"), buckets=entry.get("buckets"))
        except ValueError as exc:
            raise ModelError(f"{where} has malformed subword parameters ({exc}); retrain the model") from None
        lowercase = entry.get("lowercase", False)
        if not isinstance(lowercase, bool):
            raise ModelError(f"{where}: subwords.lowercase must be true or false, got {lowercase!r}; retrain the model")
        return params, lowercase

    def to_meta(self) -> dict:
        """The ``subwords`` entry of ``meta.json``."""
        return {"hashing": HASHING, "min_n": self.params.min_n, "max_n": self.params.max_n,
                "buckets": self.params.buckets, "lowercase": self.lowercase}

__all__ = ["HASHING", "MAX_BUCKETS", "MAX_NGRAM_CHARS", "SubwordParams", "Subwords", "ngram_hashes", "subword_vector"]
