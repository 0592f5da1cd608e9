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
    assert (m["format"], m["version"]) == ("wordstack-corpus", 2)  # the marker (0.1 wrote "wordstack-corpus/1")
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


# ----------------------------------------------------------------------------- executors, parts, sources


def test_large_book_split_into_parts_locally_gives_the_same_bytes(tmp_path, monkeypatch):
    from corpus_tools import _shards

    make_books(tmp_path / "books", n=2, repeat=5)
    big = tmp_path / "books" / "big.txt"
    big.write_text("".join(f"Paragraph {i}. " + PROSE for i in range(20_000)), encoding="utf-8")  # ~3.3 MB
    ct.ingest([tmp_path / "books"], tmp_path / "whole", jobs=1)
    monkeypatch.setattr(_shards, "PART_CHARS", 1 << 20)
    assert len(_shards.plan_parts(0, str(big), big.stat().st_size)) == 4
    split = ct.ingest([tmp_path / "books"], tmp_path / "split", jobs=2)
    assert (tmp_path / "split" / "sentences.txt").read_bytes() == (tmp_path / "whole" / "sentences.txt").read_bytes()
    assert split.manifest_sha256 == ct.load_corpus(tmp_path / "whole").manifest_sha256
    assert sorted(f.name for f in (tmp_path / "split" / "shards").iterdir()) == sorted(
        f.name for f in (tmp_path / "whole" / "shards").iterdir())


def test_plan_parts_estimates_compressed_books():
    from corpus_tools import _shards

    assert len(_shards.plan_parts(0, "a.txt", 10)) == 1
    assert len(_shards.plan_parts(0, "a.txt", _shards.PART_CHARS * 2 + 1)) == 3
    parts = _shards.plan_parts(0, "a.txt.gz", _shards.PART_CHARS)  # about 3x as much text
    assert [(p.part, p.parts) for p in parts] == [(0, 3), (1, 3), (2, 3)]
    assert parts[0].first_chunk == 0 and parts[-1].stop_chunk is None
    assert parts[0].stop_chunk == parts[1].first_chunk


def test_fsspec_urls_ingest_like_local_files(tmp_path):
    fsspec = pytest.importorskip("fsspec", reason="URL sources need fsspec (pip install -e '.[dask]')")
    make_books(tmp_path / "books", n=2)
    (tmp_path / "books" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    fs = fsspec.filesystem("memory")
    root = f"memory:///ingest-test-{os.getpid()}/books"  # fsspec's canonical form
    for f in sorted((tmp_path / "books").iterdir()):
        fs.pipe(f"{root}/{f.name}", f.read_bytes())
    try:
        remote = ct.ingest([root], tmp_path / "remote", jobs=1)
        again = ct.ingest([root], tmp_path / "remote", jobs=1)
        single = ct.ingest([f"{root}/book1.txt"], tmp_path / "single", jobs=1)
    finally:
        fs.rm(root, recursive=True)
    local = ct.ingest([tmp_path / "books"], tmp_path / "local", jobs=1)
    assert remote.sentences_sha256 == local.sentences_sha256
    assert [s.path for s in remote.sources] == [f"{root}/book0.txt", f"{root}/book1.txt", f"{root}/image.txt"]
    (bad,) = remote.skipped
    assert bad.reason.startswith(f"{root}/image.txt: looks like a binary file")  # names the URL, not a temp file
    assert [s.action for s in again.sources] == ["reused", "reused", "skipped"]
    assert [s.path for s in single.sources] == [f"{root}/book1.txt"]


def test_missing_url_and_file_url_of_another_host(tmp_path):
    pytest.importorskip("fsspec", reason="URL sources need fsspec (pip install -e '.[dask]')")
    with pytest.raises(ct.NoBooksError, match="no such file or folder"):
        ct.ingest(["memory://nowhere/books/"], tmp_path / "c")
    with pytest.raises(ValueError, match="must name a local file"):
        ct.ingest(["file://otherhost/books"], tmp_path / "c")


def test_scheduler_without_dask_names_the_extra(tmp_path, monkeypatch):
    import sys

    make_books(tmp_path / "books", n=1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask[distributed] were not installed
    with pytest.raises(ct.CorpusToolsError, match=r"pip install 'wordstack\[dask\]'") as info:
        ct.ingest([tmp_path / "books"], tmp_path / "c", scheduler="local")
    assert isinstance(info.value, ImportError)
    assert not (tmp_path / "c").exists()


def test_plan_tasks_packs_small_books_in_order(monkeypatch):
    from corpus_tools import _shards

    parts = [_shards.BookPart(i, f"b{i}.txt", chars=c) for i, c in enumerate([10, 10, 10, 100, 10, 10])]
    # total 150 over 16 tasks per slot and one slot: at most 9 characters a task, so no packing
    assert [len(t) for t in _shards.plan_tasks(parts, 1)] == [1] * 6
    monkeypatch.setattr(_shards, "TASKS_PER_SLOT", 5)  # 150 // 5 = 30 characters a task
    assert [[p.book for p in t] for t in _shards.plan_tasks(parts, 1)] == [[0, 1, 2], [3], [4, 5]]
    assert [[p.book for p in t] for t in _shards.plan_tasks(parts, 3)] == [[0], [1], [2], [3], [4], [5]]
    monkeypatch.setattr(_shards, "TASK_CHARS", 20)  # the cap
    assert [[p.book for p in t] for t in _shards.plan_tasks(parts, 1)] == [[0, 1], [2], [3], [4, 5]]
