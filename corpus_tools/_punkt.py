"""Punkt sentence splitting, trained on the corpus itself (Kiss & Strunk 2006).

Sentence boundaries come from NLTK's Punkt (T. Kiss and J. Strunk, "Unsupervised
Multilingual Sentence Boundary Detection", Computational Linguistics 32(4), 2006),
trained unsupervised on a sample of the corpus being ingested (``PunktTrainer``), so
no NLTK data is downloaded and abbreviations of the corpus at hand (speaker prefixes
such as ``Glou.`` in the plays) are learned rather than guessed.

Here: training (:func:`train_punkt`), the model as plain JSON for ``punkt.json``
(:func:`punkt_to_dict`, :func:`punkt_from_dict`, :func:`punkt_digest`), and
:class:`SentenceSplitter`, NLTK's splitting decisions computed faster. What a
sentence's words are is :mod:`corpus_tools._tokenize`'s business.
"""
from __future__ import annotations

import hashlib
import json
from typing import Iterable

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
