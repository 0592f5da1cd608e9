"""Ingest: corpus directory contents, re-ingest, determinism across jobs, and bad books."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil

import pytest
from gensim.models.word2vec import LineSentence

import corpus_tools as ct

PROSE = (
    "The quick brown fox jumps over the lazy dog. It was not amused! Was it? "
    "Mr. Smith said the dog was well-earned rest's keeper at five o'clock.\n\n"
)


def make_books(folder, n=3, repeat=40):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"book{i}.txt"
        p.write_text(f"Book {i}.\n\n" + PROSE * repeat, encoding="utf-8")
        paths.append(p)
    return paths


def lines(corpus_dir):
    return (corpus_dir / "sentences.txt").read_text(encoding="utf-8").splitlines()


def test_ingest_writes_corpus_and_manifest(tmp_path):
    make_books(tmp_path / "books")
    corpus = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    sents = lines(tmp_path / "c")
    assert corpus.sentences == len(sents) > 0
    assert corpus.tokens == sum(len(s.split()) for s in sents)
    assert all(s == " ".join(s.split()) and s for s in sents)  # single spaces, no empty lines
    assert "the quick brown fox jumps over the lazy dog" in sents
    assert any("wellearned" in s and "oclock" in s for s in sents)
    m = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert m["format"] == "wordstack-corpus/1"
    assert m["settings"] == ct.TokenizerSettings().to_dict()
    assert [os.path.basename(s["path"]) for s in m["sources"]] == ["book0.txt", "book1.txt", "book2.txt"]
    for s in m["sources"]:
        assert s["status"] == "ok"
        assert s["sha256"] == hashlib.sha256(open(s["path"], "rb").read()).hexdigest()
        assert s["size"] == os.path.getsize(s["path"])
        assert s["tokens"] > 0 and s["sentences"] > 0
    assert m["totals"] == {"books": 3, "skipped": 0, "sentences": corpus.sentences, "tokens": corpus.tokens}
    assert m["sentences_sha256"] == hashlib.sha256((tmp_path / "c" / "sentences.txt").read_bytes()).hexdigest()
    assert (tmp_path / "c" / "punkt.json").exists()
    assert ct.load_corpus(tmp_path / "c").manifest_sha256 == corpus.manifest_sha256


def test_corpus_is_restartable_for_gensim(tmp_path):
    make_books(tmp_path / "books", n=2)
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    stream = LineSentence(str(tmp_path / "c" / "sentences.txt"))
    first, second = list(stream), list(stream)
    assert first == second and len(first) > 10


def test_reingest_reuses_unchanged_and_retokenizes_changed(tmp_path):
    books = make_books(tmp_path / "books")
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    before = lines(tmp_path / "c")
    again = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    assert [s.action for s in again.sources] == ["reused"] * 3
    assert lines(tmp_path / "c") == before

    books[1].write_text("Completely new text. Nothing else here.\n", encoding="utf-8")
    os.utime(books[0])  # touched but unchanged: recognised by its hash
    third = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    assert [s.action for s in third.sources] == ["reused", "tokenized", "reused"]
    assert "completely new text" in lines(tmp_path / "c")
    assert len(list((tmp_path / "c" / "shards").iterdir())) == 3


def test_reingest_after_removing_a_book_drops_its_text(tmp_path):
    books = make_books(tmp_path / "books")
    books[2].write_text("Only in book two. Unique marker words.\n", encoding="utf-8")
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    books[2].unlink()
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    assert "unique marker words" not in lines(tmp_path / "c")
    assert len(list((tmp_path / "c" / "shards").iterdir())) == 2


def test_changed_settings_retokenize_everything(tmp_path):
    make_books(tmp_path / "books", n=2)
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    c2 = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1,
                   settings=ct.TokenizerSettings(join_hyphens=False))
    assert [s.action for s in c2.sources] == ["tokenized", "tokenized"]
    assert any("well earned" in s for s in lines(tmp_path / "c"))


def test_output_identical_for_any_number_of_jobs(tmp_path):
    make_books(tmp_path / "books", n=6, repeat=10)
    ct.ingest([tmp_path / "books"], tmp_path / "c1", jobs=1)
    ct.ingest([tmp_path / "books"], tmp_path / "c2", jobs=2)
    assert (tmp_path / "c1" / "sentences.txt").read_bytes() == (tmp_path / "c2" / "sentences.txt").read_bytes()


def test_shipped_corpus_ingested(shakespeare_corpus):
    corpus = ct.load_corpus(shakespeare_corpus)
    assert len(corpus.sources) == 42 and not corpus.skipped
    assert 880_000 < corpus.tokens < 940_000
    text = (shakespeare_corpus / "sentences.txt").read_text(encoding="utf-8")
    assert " romeo " in text and " juliet " in text and "oclock" in text


# ----------------------------------------------------------------------------- bad input


def test_empty_and_binary_books_are_skipped_and_reported(tmp_path):
    make_books(tmp_path / "books", n=1)
    (tmp_path / "books" / "empty.txt").write_bytes(b"")
    (tmp_path / "books" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (tmp_path / "books" / "broken.txt.gz").write_bytes(gzip.compress(b"text " * 1000)[:40])
    corpus = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=2)
    status = {os.path.basename(s.path): (s.status, s.reason) for s in corpus.sources}
    assert status["book0.txt"] == ("ok", None)
    assert status["empty.txt"][0] == "skipped" and "empty" in status["empty.txt"][1]
    assert status["image.txt"][0] == "skipped" and "binary" in status["image.txt"][1]
    assert status["broken.txt.gz"][0] == "skipped" and "broken.txt.gz" in status["broken.txt.gz"][1]
    assert len(corpus.skipped) == 3 and corpus.tokens > 0
    m = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert m["totals"]["skipped"] == 3 and m["totals"]["books"] == 1


def test_non_utf8_book_is_decoded_and_warned(tmp_path):
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "old.txt").write_bytes("Caf\u00e9 society. The na\u00efve hero.".encode("cp1252"))
    corpus = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    assert "caf\u00e9 society" in lines(tmp_path / "c")
    assert corpus.sources[0].encoding == "cp1252"
    assert any("old.txt" in w and "cp1252" in w for w in corpus.warnings)


def test_single_10mb_line_book(tmp_path):
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "line.txt").write_text(("word " * 2_000_000).strip(), encoding="utf-8")
    corpus = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    assert corpus.tokens == 2_000_000
    with open(tmp_path / "c" / "sentences.txt", encoding="utf-8") as fh:
        assert max(len(line.split()) for line in fh) == corpus.settings.max_sentence_tokens


def test_all_books_unreadable(tmp_path):
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "empty.txt").write_bytes(b"")
    with pytest.raises(ct.NoBooksError, match="none of the 1 book"):
        ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)


def test_missing_path(tmp_path):
    with pytest.raises(ct.NoBooksError, match="no such file or folder"):
        ct.ingest([tmp_path / "missing"], tmp_path / "c")


def test_empty_folder(tmp_path):
    (tmp_path / "books").mkdir()
    with pytest.raises(ct.NoBooksError, match="holds no books"):
        ct.ingest([tmp_path / "books"], tmp_path / "c")


def test_refuses_to_write_into_unrelated_folder(tmp_path):
    make_books(tmp_path / "books", n=1)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("keep me")
    with pytest.raises(ct.CorpusError, match="not a wordstack corpus"):
        ct.ingest([tmp_path / "books"], tmp_path / "other")
    assert (tmp_path / "other" / "precious.txt").read_text() == "keep me"


def test_invalid_jobs(tmp_path):
    make_books(tmp_path / "books", n=1)
    with pytest.raises(ValueError, match="jobs must be an integer >= 1, got 0"):
        ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=0)


def test_load_corpus_errors(tmp_path):
    with pytest.raises(ct.CorpusError, match="does not exist"):
        ct.load_corpus(tmp_path / "nope")
    (tmp_path / "c").mkdir()
    with pytest.raises(ct.CorpusError, match="manifest.json is missing"):
        ct.load_corpus(tmp_path / "c")
    (tmp_path / "c" / "manifest.json").write_text("{not json")
    with pytest.raises(ct.CorpusError, match="not valid JSON"):
        ct.load_corpus(tmp_path / "c")


def test_load_corpus_missing_sentences(tmp_path):
    make_books(tmp_path / "books", n=1)
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    (tmp_path / "c" / "sentences.txt").unlink()
    with pytest.raises(ct.CorpusError, match="sentences.txt is missing"):
        ct.load_corpus(tmp_path / "c")


# ----------------------------------------------------------------------------- phrases


def test_phrases_join_frequent_pairs(tmp_path):
    (tmp_path / "books").mkdir()
    filler = [f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(600)]
    text = "".join(
        ("Harry cried expecto patronum. " if i % 30 == 0 else "")
        + f"The {filler[(7 * i) % 600]} looked at the {filler[(13 * i + 5) % 600]} and {filler[i]}.\n"
        for i in range(600)
    )
    (tmp_path / "books" / "hp.txt").write_text(text, encoding="utf-8")
    corpus = ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1,
                       phrases=ct.PhraseSettings(min_count=5, threshold=5.0))
    sents = lines(tmp_path / "c")
    assert any("expecto_patronum" in s.split() for s in sents)
    assert corpus.phrases and corpus.phrases >= 1
    saved = json.loads((tmp_path / "c" / "phrases.json").read_text())
    assert "expecto_patronum" in saved["phrases"]
    # turning phrases off again removes them
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    assert not any("expecto_patronum" in s for s in lines(tmp_path / "c"))
    assert not (tmp_path / "c" / "phrases.json").exists()


def test_phrase_settings_validation():
    with pytest.raises(ValueError, match="phrase threshold must be > 0"):
        ct.PhraseSettings(threshold=0)


def test_copying_a_corpus_dir_keeps_it_valid(tmp_path):
    make_books(tmp_path / "books", n=1)
    ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    shutil.copytree(tmp_path / "c", tmp_path / "copy")
    assert ct.load_corpus(tmp_path / "copy").sentences_sha256 == ct.load_corpus(tmp_path / "c").sentences_sha256


def test_written_files_follow_the_umask(tmp_path):
    make_books(tmp_path / "books", n=1)
    old = os.umask(0o022)
    try:
        ct.ingest([tmp_path / "books"], tmp_path / "c", jobs=1)
    finally:
        os.umask(old)
    for name in ("sentences.txt", "manifest.json", "punkt.json"):
        assert (tmp_path / "c" / name).stat().st_mode & 0o777 == 0o644, name
