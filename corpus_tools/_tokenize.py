"""Words: how a sentence becomes lowercase tokens (the apostrophe and hyphen rule).

Words follow A. Trask's 2014 word2vec analysis of the Harry Potter books: lowercase,
apostrophes and hyphens *inside* a word are removed so the parts join
(``o'clock`` -> ``oclock``, ``well-earned`` -> ``wellearned``), all other
punctuation is dropped, and numbers are kept, dropped or replaced by a token as
configured. :class:`TokenizerSettings` holds these choices (and is recorded in the
corpus manifest); :func:`tokenize_text` cuts text into sentences with a Punkt
:class:`~corpus_tools._punkt.SentenceSplitter` and each sentence into words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from ._punkt import SentenceSplitter

NUMBER_MODES = ("keep", "drop", "token")
NUMBER_TOKEN = "<num>"

# Words are runs of letters and digits; an apostrophe or hyphen *between* two such
# characters is removed first when joining, so its parts become one word.
_PIECE_RE = re.compile(r"[^\W_]+")
_APOSTROPHES = "'\u2019\u2018\u02bc"
_HYPHENS = "\\-\u2010\u2011"
_JOINER_BOTH = re.compile(r"(?<=[^\W_])[" + _APOSTROPHES + _HYPHENS + r"](?=[^\W_])")
_JOINER_APOS = re.compile(r"(?<=[^\W_])[" + _APOSTROPHES + r"](?=[^\W_])")
_JOINER_HYPH = re.compile(r"(?<=[^\W_])[" + _HYPHENS + r"](?=[^\W_])")


@dataclass(frozen=True)
class TokenizerSettings:
    """How books become tokens. Recorded in the corpus manifest.

    Parameters
    ----------
    lowercase : bool, default True
        Lowercase every word.
    join_apostrophes : bool, default True
        ``o'clock`` -> ``oclock``; when False the parts become separate words.
    join_hyphens : bool, default True
        ``well-earned`` -> ``wellearned``; when False the parts become separate words.
    numbers : {"keep", "drop", "token"}, default "keep"
        What to do with all-digit words: keep them, drop them, or replace each by
        ``"<num>"``.
    strip_gutenberg : bool, default True
        Drop Project Gutenberg headers and licences.
    max_sentence_tokens : int, default 1000
        Longer sentences are cut into pieces of this many tokens (gensim's trainer
        caps sentences at 10,000 words; a book with no punctuation would otherwise
        lose text).
    punkt_sample_chars : int, default 100_000
        Characters of text, spread over the books, that the Punkt sentence model is
        trained on. Training is linear in the sample (NLTK's trainer takes about
        5 s per MB), and on the shipped corpus the boundaries found agree to 98%
        with a model trained on all 5 MB whether the sample is 50 kB or 600 kB.
    """

    lowercase: bool = True
    join_apostrophes: bool = True
    join_hyphens: bool = True
    numbers: str = "keep"
    strip_gutenberg: bool = True
    max_sentence_tokens: int = 1000
    punkt_sample_chars: int = 100_000

    def __post_init__(self):
        if self.numbers not in NUMBER_MODES:
            raise ValueError(f"numbers must be one of {', '.join(NUMBER_MODES)}, got {self.numbers!r}")
        if not isinstance(self.max_sentence_tokens, int) or self.max_sentence_tokens < 1:
            raise ValueError(f"max_sentence_tokens must be an integer >= 1, got {self.max_sentence_tokens!r}")
        if not isinstance(self.punkt_sample_chars, int) or self.punkt_sample_chars < 1000:
            raise ValueError(f"punkt_sample_chars must be an integer >= 1000, got {self.punkt_sample_chars!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TokenizerSettings":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def words(self, sentence: str) -> list[str]:
        """Split one sentence into words according to these settings.

        Examples
        --------
        >>> TokenizerSettings().words("Well-earned, o'clock! 'Tis 1601.")
        ['wellearned', 'oclock', 'tis', '1601']
        """
        if not sentence.isascii():
            sentence = unicodedata.normalize("NFC", sentence)
        if self.lowercase:
            sentence = sentence.lower()
        if self.join_apostrophes and self.join_hyphens:
            words = _PIECE_RE.findall(_JOINER_BOTH.sub("", sentence))
        else:
            if self.join_apostrophes:
                sentence = _JOINER_APOS.sub("", sentence)
            if self.join_hyphens:
                sentence = _JOINER_HYPH.sub("", sentence)
            words = _PIECE_RE.findall(sentence)
        if self.numbers == "keep":
            return words
        if self.numbers == "drop":
            return [w for w in words if not w.isdigit()]
        return [NUMBER_TOKEN if w.isdigit() else w for w in words]


def tokenize_text(text: str, splitter: SentenceSplitter, settings: TokenizerSettings) -> Iterator[list[str]]:
    """Sentences of ``text`` as lists of words; empty sentences are dropped.

    Sentences longer than ``settings.max_sentence_tokens`` are cut into pieces.
    """
    cap = settings.max_sentence_tokens
    for sentence in splitter.tokenize(text):
        words = settings.words(sentence)
        for start in range(0, len(words), cap):
            yield words[start : start + cap]
