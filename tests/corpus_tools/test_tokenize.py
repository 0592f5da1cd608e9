"""Tokenizer: word rules, settings, and the fast Punkt splitter against NLTK as the oracle."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st
from nltk.tokenize.punkt import PunktSentenceTokenizer

import corpus_tools as ct
from corpus_tools._punkt import punkt_digest, punkt_from_dict, punkt_to_dict

T = ct.TokenizerSettings


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It's five o'clock.", ["its", "five", "oclock"]),
        ("A well-earned rest -- at last!", ["a", "wellearned", "rest", "at", "last"]),
        ("'Tis Feed'st o'er", ["tis", "feedst", "oer"]),
        ("Curly \u2019apostrophe\u2019 don\u2019t", ["curly", "apostrophe", "dont"]),
        ("Numbers 1601 and 2nd, 3.14", ["numbers", "1601", "and", "2nd", "3", "14"]),
        ("Caf\u0065\u0301 na\u00efve \u00c9COLE", ["caf\u00e9", "na\u00efve", "\u00e9cole"]),
        ("under_score and @#$% symbols", ["under", "score", "and", "symbols"]),
        ("", []),
    ],
)
def test_words_default_rules(text, expected):
    assert T().words(text) == expected


def test_words_options():
    s = "Well-earned o'clock 1601 Rest"
    assert T(join_apostrophes=False).words(s) == ["wellearned", "o", "clock", "1601", "rest"]
    assert T(join_hyphens=False).words(s) == ["well", "earned", "oclock", "1601", "rest"]
    assert T(numbers="drop").words(s) == ["wellearned", "oclock", "rest"]
    assert T(numbers="token").words(s) == ["wellearned", "oclock", "<num>", "rest"]
    assert T(lowercase=False).words(s) == ["Wellearned", "oclock", "1601", "Rest"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"numbers": "words"}, "numbers must be one of keep, drop, token, got 'words'"),
        ({"max_sentence_tokens": 0}, "max_sentence_tokens must be an integer >= 1, got 0"),
        ({"punkt_sample_chars": 10}, "punkt_sample_chars must be an integer >= 1000, got 10"),
    ],
)
def test_settings_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        T(**kwargs)


def test_settings_round_trip():
    s = T(numbers="token", join_hyphens=False)
    assert T.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
@settings(max_examples=300, deadline=None)
def test_words_are_idempotent_and_clean(text):
    """Re-tokenizing the tokens gives the tokens back; tokens hold only letters and digits."""
    words = T().words(text)
    assert T().words(" ".join(words)) == words
    assert all(w.isalnum() and w == w.lower() for w in words)


# ----------------------------------------------------------------------------- Punkt


@pytest.fixture(scope="module")
def shipped_texts():
    books = ct.find_books([ct.shipped_corpus()])
    return [ct.read_text(b) for b in books]


@pytest.fixture(scope="module")
def punkt_params(shipped_texts):
    return ct.train_punkt(t[20_000:40_000] for t in shipped_texts[::3])


def test_splitter_matches_nltk_on_shipped_books(shipped_texts, punkt_params):
    fast = ct.SentenceSplitter(punkt_params)
    nltk_tok = PunktSentenceTokenizer(punkt_params)
    for text in shipped_texts[::8]:  # every book is checked in the slow test below
        assert list(fast.span_tokenize(text)) == list(nltk_tok.span_tokenize(text))
    assert fast.tokenize(shipped_texts[0]) == nltk_tok.tokenize(shipped_texts[0])


@pytest.mark.slow
def test_splitter_matches_nltk_on_whole_shipped_corpus(shipped_texts, punkt_params):
    fast = ct.SentenceSplitter(punkt_params)
    nltk_tok = PunktSentenceTokenizer(punkt_params)
    for text in shipped_texts:
        assert fast.tokenize(text) == nltk_tok.tokenize(text)


_PUNKTY = st.lists(
    st.sampled_from(list("abcXYZ .?!.,;:'\"()[]-\n\t") + ["Mr.", "Dr.", "e.g.", "J.", "12.", "...", "U.S."]),
    max_size=60,
).map("".join)


@given(_PUNKTY)
@settings(max_examples=400, deadline=None)
def test_splitter_matches_nltk_on_generated_text(text):
    params = punkt_from_dict({
        "abbrev_types": ["mr", "dr", "e.g", "u.s"],
        "collocations": [["##number##", "abc"]],
        "sent_starters": ["xyz"],
        "ortho_context": {"abc": 38, "xyz": 2, "a": 4},
    })
    assert ct.SentenceSplitter(params).tokenize(text) == PunktSentenceTokenizer(params).tokenize(text)


def test_punkt_dict_round_trip_is_stable(punkt_params):
    d = punkt_to_dict(punkt_params)
    again = punkt_to_dict(punkt_from_dict(json.loads(json.dumps(d))))
    assert again == d
    assert punkt_digest(again) == punkt_digest(d)
    assert len(d["abbrev_types"]) > 0  # speaker prefixes such as "glou" are learned


def test_tokenize_text_caps_sentence_length(punkt_params):
    splitter = ct.SentenceSplitter(punkt_params)
    sents = list(ct.tokenize_text("word " * 2500 + "end.", splitter, T(max_sentence_tokens=1000)))
    assert [len(s) for s in sents] == [1000, 1000, 501]
