"""Tokenization: Punkt sentences trained on the corpus itself, then lowercase words.

Sentence boundaries come from NLTK's Punkt (Kiss & Strunk 2006), trained
unsupervised on a sample of the corpus being ingested (``PunktTrainer``), so no
NLTK data is downloaded and abbreviations of the corpus at hand (speaker prefixes
such as ``Glou.`` in the plays) are learned rather than guessed.

Words follow A. Trask's 2014 word2vec analysis of the Harry Potter books: lowercase,
apostrophes and hyphens *inside* a word are removed so the parts join
(``o'clock`` -> ``oclock``, ``well-earned`` -> ``wellearned``), all other
punctuation is dropped, and numbers are kept, dropped or replaced by a token as
configured.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Iterable, Iterator

from nltk.tokenize.punkt import (
    _ORTHO_BEG_LC,
    _ORTHO_LC,
    _ORTHO_MID_UC,
    _ORTHO_UC,
    PunktLanguageVars,
    PunktParameters,
    PunktSentenceTokenizer,
    PunktToken,
    PunktTrainer,
)

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


# ----------------------------------------------------------------------------- Punkt


def train_punkt(texts: Iterable[str]) -> PunktParameters:
    """Train a Punkt sentence model on ``texts`` (no downloaded data).

    Parameters
    ----------
    texts : iterable of str
        Pieces of the corpus; statistics accumulate across them.

    Returns
    -------
    nltk.tokenize.punkt.PunktParameters
    """
    trainer = PunktTrainer()
    for text in texts:
        trainer.train(text, finalize=False)
    trainer.finalize_training()
    return trainer.get_params()


def punkt_to_dict(params: PunktParameters) -> dict:
    """A JSON-safe, deterministic (sorted) form of Punkt parameters."""
    return {
        "abbrev_types": sorted(params.abbrev_types),
        "collocations": sorted([a, b] for a, b in params.collocations),
        "sent_starters": sorted(params.sent_starters),
        "ortho_context": {k: int(v) for k, v in sorted(params.ortho_context.items()) if v},
    }


def punkt_from_dict(d: dict) -> PunktParameters:
    """Inverse of :func:`punkt_to_dict`."""
    p = PunktParameters()
    p.abbrev_types = set(d["abbrev_types"])
    p.collocations = {tuple(c) for c in d["collocations"]}
    p.sent_starters = set(d["sent_starters"])
    for k, v in d["ortho_context"].items():
        p.ortho_context[k] = int(v)
    return p


def punkt_digest(d: dict) -> str:
    """SHA-256 of the canonical JSON of a Punkt parameter dict."""
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


class _Tok:
    """Punkt's view of one token string, after NLTK's first-pass annotation."""

    __slots__ = ("tok", "period_final", "sentbreak", "abbr", "ellipsis", "type_no_period",
                 "type_no_sentperiod", "is_initial", "first_upper", "first_lower")


class SentenceSplitter:
    """Punkt sentence splitting with NLTK's decisions, computed faster.

    NLTK's ``PunktSentenceTokenizer`` builds token objects and runs its
    annotation passes afresh for every candidate boundary (each ``.``, ``?`` or
    ``!``); that is most of the cost of ingesting a corpus. This class applies
    exactly the same rules (the same regular expressions, first-pass
    annotation, collocation, orthographic, sentence-starter and initial
    heuristics, and boundary realignment) to the same learned
    ``PunktParameters``, but caches each token string's first-pass annotation
    and each whitespace-folded context's decision. ``tests/corpus_tools``
    checks that its output equals NLTK's, sentence for sentence, on the whole
    shipped corpus and on generated text.

    Parameters
    ----------
    params : nltk.tokenize.punkt.PunktParameters
        A model from :func:`train_punkt`.
    """

    _CACHE_MAX = 500_000
    _PUNCTUATION = frozenset(PunktSentenceTokenizer.PUNCTUATION)
    _SENT_END = frozenset(PunktLanguageVars.sent_end_chars)

    def __init__(self, params: PunktParameters):
        import regex  # NLTK's own engine (a dependency of nltk): identical matching

        lang = PunktLanguageVars()
        self.params = params
        period = lang.period_context_re()
        word = lang._word_tokenizer_re()
        realign = lang.re_boundary_realignment
        self._period_re = regex.compile(period.pattern, period.flags)
        self._word_re = regex.compile(word.pattern, word.flags)
        self._realign_re = regex.compile(realign.pattern, realign.flags)
        tok_cls = PunktToken
        self._re_numeric = regex.compile(tok_cls._RE_NUMERIC.pattern, tok_cls._RE_NUMERIC.flags)
        self._re_ellipsis = regex.compile(tok_cls._RE_ELLIPSIS.pattern, tok_cls._RE_ELLIPSIS.flags)
        self._re_initial = regex.compile(tok_cls._RE_INITIAL.pattern, tok_cls._RE_INITIAL.flags)
        self._abbrev = params.abbrev_types
        self._colloc = params.collocations
        self._starters = params.sent_starters
        self._ortho = params.ortho_context
        self._toks: dict[str, _Tok] = {}
        self._decisions: dict[str, bool] = {}

    # -- tokens ------------------------------------------------------------

    def _tok(self, tok: str) -> _Tok:
        t = self._toks.get(tok)
        if t is not None:
            return t
        if len(self._toks) >= self._CACHE_MAX:
            self._toks.clear()
        t = _Tok()
        typ = self._re_numeric.sub("##number##", tok.lower())
        t.tok = tok
        t.period_final = tok.endswith(".")
        t.sentbreak = t.abbr = t.ellipsis = False
        if tok in self._SENT_END:
            t.sentbreak = True
        elif self._re_ellipsis.match(tok):
            t.ellipsis = True
        elif t.period_final and not tok.endswith(".."):
            low = tok[:-1].lower()
            if low in self._abbrev or low.split("-")[-1] in self._abbrev:
                t.abbr = True
            else:
                t.sentbreak = True
        t.type_no_period = typ[:-1] if len(typ) > 1 and typ[-1] == "." else typ
        t.type_no_sentperiod = t.type_no_period if t.sentbreak else typ
        t.is_initial = self._re_initial.match(tok) is not None
        t.first_upper = tok[0].isupper()
        t.first_lower = tok[0].islower()
        self._toks[tok] = t
        return t

    def _ortho_heuristic(self, t: _Tok):
        # NLTK PunktSentenceTokenizer._ortho_heuristic
        if t.tok in self._PUNCTUATION:
            return False
        ctx = self._ortho.get(t.type_no_sentperiod, 0)
        if t.first_upper and (ctx & _ORTHO_LC) and not (ctx & _ORTHO_MID_UC):
            return True
        if t.first_lower and ((ctx & _ORTHO_UC) or not (ctx & _ORTHO_BEG_LC)):
            return False
        return "unknown"

    def _is_break(self, t1: _Tok, t2: _Tok) -> bool:
        # NLTK PunktSentenceTokenizer._second_pass_annotation, returning t1's final sentbreak
        if not t1.period_final:
            return t1.sentbreak
        typ = t1.type_no_period
        next_typ = t2.type_no_sentperiod
        if (typ, next_typ) in self._colloc:
            return False
        if (t1.abbr or t1.ellipsis) and not t1.is_initial:
            if self._ortho_heuristic(t2) is True:
                return True
            if t2.first_upper and next_typ in self._starters:
                return True
        if t1.is_initial or typ == "##number##":
            starter = self._ortho_heuristic(t2)
            if starter is False:
                return False
            if (starter == "unknown" and t1.is_initial and t2.first_upper
                    and not (self._ortho.get(next_typ, 0) & _ORTHO_LC)):
                return False
        return t1.sentbreak

    def text_contains_sentbreak(self, text: str) -> bool:
        """True if ``text`` holds a sentence break before its last token (NLTK's rule)."""
        key = " ".join(text.split())
        hit = self._decisions.get(key)
        if hit is not None:
            return hit
        words: list[str] = []
        for line in text.split("\n"):
            if line.strip():
                words.extend(self._word_re.findall(line))
        hit = False
        prev = None
        for w in words:
            t = self._tok(w)
            if prev is not None and self._is_break(prev, t):
                hit = True
                break
            prev = t
        if len(self._decisions) >= self._CACHE_MAX:
            self._decisions.clear()
        self._decisions[key] = hit
        return hit

    # -- boundaries ----------------------------------------------------------

    def _contexts(self, text: str):
        # NLTK PunktSentenceTokenizer._match_potential_end_contexts
        prev_start = prev_stop = 0
        prev_match = None
        for match in self._period_re.finditer(text):
            mstart = match.start()
            before = text[prev_stop:mstart]
            # the last character of string.whitespace, as NLTK's _get_last_whitespace_index
            idx = max(before.rfind(" "), before.rfind("\n"), before.rfind("\t"), before.rfind("\r"),
                      before.rfind("\x0b"), before.rfind("\x0c"))
            if idx > 0:
                idx += prev_stop + 1
            else:
                idx = prev_start
            if prev_match is not None and prev_stop <= idx:
                yield prev_match, text[prev_start:prev_stop] + prev_match.group() + prev_match.group("after_tok")
            prev_match = match
            prev_start, prev_stop = idx, mstart
        if prev_match is not None:
            yield prev_match, text[prev_start:prev_stop] + prev_match.group() + prev_match.group("after_tok")

    def _slices(self, text: str):
        last_break = 0
        for match, context in self._contexts(text):
            if self.text_contains_sentbreak(context):
                yield last_break, match.end()
                last_break = match.start("next_tok") if match.group("next_tok") else match.end()
        yield last_break, len(text.rstrip())

    def span_tokenize(self, text: str):
        """(start, end) offsets of each sentence, as NLTK's ``span_tokenize``."""
        realign = 0
        slices = self._slices(text)
        cur = next(slices, None)
        while cur is not None:
            nxt = next(slices, None)
            start, stop = cur[0] + realign, cur[1]
            if nxt is None:
                if start < stop:
                    yield start, stop
                break
            m = self._realign_re.match(text, nxt[0], max(nxt[0], nxt[1]))
            if m:
                yield start, nxt[0] + len(m.group(0).rstrip())
                realign = m.end() - nxt[0]
            else:
                realign = 0
                if start < stop:
                    yield start, stop
            cur = nxt

    def tokenize(self, text: str) -> list[str]:
        """The sentences of ``text``, as NLTK's ``PunktSentenceTokenizer.tokenize``."""
        return [text[s:e] for s, e in self.span_tokenize(text)]


def tokenize_text(text: str, splitter: SentenceSplitter, settings: TokenizerSettings) -> Iterator[list[str]]:
    """Sentences of ``text`` as lists of words; empty sentences are dropped.

    Sentences longer than ``settings.max_sentence_tokens`` are cut into pieces.
    """
    cap = settings.max_sentence_tokens
    for sentence in splitter.tokenize(text):
        words = settings.words(sentence)
        for start in range(0, len(words), cap):
            yield words[start : start + cap]
