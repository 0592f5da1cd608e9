"""Issue 12, items 1-3: a folder the user owns is never replaced, a corpus folder is recognised
by its own marker only, and ingest never reads its own output as books.

Each command that writes a folder (ingest, train, import) replaces it only when it is missing,
empty, or a complete artefact of the same kind that wordstack wrote; anything else is refused
before anything is written, and no temporary folder is left behind.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import corpus_tools as ct
from corpus_tools import atomic
from corpus_tools._model_dir import write_model_dir
from wordstack.cli import cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "release-0.1"
PROSE = "The king and the queen walked in the garden. The queen spoke of love and war. " * 30
FAST = ["--dim", "4", "--epochs", "1", "--min-count", "1", "--workers", "1"]


def snapshot(root: Path) -> dict:
    """Every entry under ``root`` (itself included): kind, bytes and mtime."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (p.is_dir(), None if p.is_dir() else p.read_bytes(), st.st_mtime_ns)
    return out


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary or set-aside folders of any target in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and (".tmp" in p.name or ".old-" in p.name))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    books = tmp_path_factory.mktemp("books")
    for i in range(2):
        (books / f"book{i}.txt").write_text(f"Book {i}.\n\n{PROSE}\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("corpora") / "c"
    ct.ingest([books], out, jobs=1)
    return out


@pytest.fixture(scope="module")
def vec_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vecs") / "small.vec"
    path.write_text("3 2\nking 1 0\nqueen 0.9 0.1\nlove 0 1\n", encoding="utf-8")
    return path


def user_folder(root: Path) -> Path:
    (root / "mydocs" / "sub").mkdir(parents=True)
    (root / "mydocs" / "thesis.txt").write_text("four years of work")
    (root / "mydocs" / "sub" / "notes.md").write_text("notes")
    return root / "mydocs"


# ----------------------------------------------------------------------------- 1. train / import --out


def test_train_out_refuses_a_folder_with_user_files(tiny_corpus, tmp_path):
    mydocs = user_folder(tmp_path)
    before = snapshot(mydocs)
    result = run("train", tiny_corpus, "--out", mydocs, *FAST)
    assert result.exit_code == 1, result.output
    assert "holds files wordstack did not write (sub/, thesis.txt)" in result.output
    assert "choose a new folder name" in result.output and str(mydocs) in result.output
    assert "Traceback" not in result.output
    assert snapshot(mydocs) == before
    assert leftovers(tmp_path) == []


def test_train_out_refuses_a_folder_of_models(tiny_corpus, tmp_path):
    models = tmp_path / "models"
    for name in ("big", "small"):
        assert run("train", tiny_corpus, "--out", models / name, *FAST).exit_code == 0
    before = snapshot(models)
    result = run("train", tiny_corpus, "--out", models, *FAST)
    assert result.exit_code == 1 and "(big/, small/)" in result.output
    assert snapshot(models) == before
    assert leftovers(tmp_path) == []


def test_train_out_refuses_the_corpus_and_its_parent(tiny_corpus, tmp_path):
    corpus = tmp_path / "work" / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    before = snapshot(tmp_path / "work")
    for out in (corpus, corpus.parent):
        result = run("train", corpus, "--out", out, *FAST)
        assert result.exit_code == 1, result.output
        assert "the input" in result.output and "Traceback" not in result.output
    assert snapshot(tmp_path / "work") == before
    assert leftovers(tmp_path) == leftovers(tmp_path / "work") == []


def test_train_out_dot_is_refused_cleanly(tiny_corpus, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = run("train", tiny_corpus, "--out", ".", *FAST)
    assert result.exit_code == 1 and "is the current folder" in result.output, result.output
    assert "EBUSY" not in result.output and "Traceback" not in result.output
    assert leftovers(here) == leftovers(tmp_path) == []  # 0.1 left a hidden ..xxxx.tmp each time
    result = run("train", tiny_corpus, "--out", "..", *FAST)
    assert result.exit_code == 1 and "holds the current folder" in result.output


def test_import_out_refuses_a_folder_with_user_files(vec_file, tmp_path):
    mydocs = user_folder(tmp_path)
    before = snapshot(mydocs)
    result = run("import", vec_file, "--out", mydocs)
    assert result.exit_code == 1 and "holds files wordstack did not write" in result.output, result.output
    assert snapshot(mydocs) == before
    # the folder holding the file being imported
    (mydocs / "v.vec").write_bytes(vec_file.read_bytes())
    result = run("import", mydocs / "v.vec", "--out", mydocs)
    assert result.exit_code == 1 and "holds the input" in result.output
    assert leftovers(tmp_path) == []


def test_a_model_folder_holding_a_users_file_is_refused(tiny_corpus, vec_file, tmp_path):
    model = tmp_path / "model"
    assert run("import", vec_file, "--out", model).exit_code == 0
    (model / "my-notes.txt").write_text("mine")
    before = snapshot(model)
    for args in (("train", tiny_corpus, "--out", model, *FAST), ("import", vec_file, "--out", model)):
        result = run(*args)
        assert result.exit_code == 1 and "besides the wordstack model" in result.output, result.output
        assert "(my-notes.txt)" in result.output
    assert snapshot(model) == before


def test_own_model_folders_are_replaced_including_release_0_1_ones(tiny_corpus, vec_file, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURES / "word2vec-model", old)  # written by release 0.1, with gensim's pickle
    assert run("train", tiny_corpus, "--out", old, *FAST).exit_code == 0
    assert json.loads((old / "meta.json").read_text())["params"]["vector_size"] == 4
    assert run("import", vec_file, "--out", old).exit_code == 0          # a trained model, replaced by an import
    assert run("train", tiny_corpus, "--out", old, *FAST).exit_code == 0  # and back
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("import", vec_file, "--out", empty).exit_code == 0
    assert leftovers(tmp_path) == []


def test_no_temporary_folder_is_left_when_writing_a_model_fails(tmp_path, monkeypatch):
    out = tmp_path / "m"

    def fail(tmp):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_model_dir(out, ["a"], np.ones((1, 2)), [1], ct_meta(), extra=fail)
    assert not out.exists() and leftovers(tmp_path) == []
    write_model_dir(out, ["a"], np.ones((1, 2)), [1], ct_meta())
    before = snapshot(out)
    with pytest.raises(OSError, match="disk full"):
        write_model_dir(out, ["b"], np.ones((1, 2)), [1], ct_meta(), extra=fail)
    assert snapshot(out) == before and leftovers(tmp_path) == []

    def busy(src, dst):  # the swap itself fails (0.1: EBUSY on `--out .`, and a hidden folder left each time)
        raise OSError(16, "Device or resource busy")

    with monkeypatch.context() as m, pytest.raises(OSError, match="busy"):
        m.setattr(atomic.os, "replace", busy)
        write_model_dir(out, ["b"], np.ones((1, 2)), [1], ct_meta())
    assert snapshot(out) == before and leftovers(tmp_path) == []


def ct_meta() -> dict:
    from corpus_tools._model_dir import model_meta

    return model_meta(vocab_size=1, vector_size=2)


# ----------------------------------------------------------------------------- the mechanism: corpus_tools.atomic


def test_atomic_dir_removes_what_a_killed_run_left_but_not_a_running_ones(tmp_path):
    import fcntl

    target = tmp_path / "t"
    stale = tmp_path / ".t.wordstack-dead0001.tmp"     # a killed run's: unlocked
    running = tmp_path / ".t.wordstack-live0001.tmp"   # another process's, still building: locked
    users = tmp_path / ".t.backup.tmp"                 # not ours: never touched
    for d in (stale, running, users):
        d.mkdir()
        (d / "f").write_text("x")
    fd = os.open(running, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with atomic.atomic_dir(target) as tmp:
            (tmp / "f").write_text("new")
    finally:
        os.close(fd)
    assert (target / "f").read_text() == "new"
    assert not stale.exists() and running.exists() and users.exists()


def test_recover_dir_puts_back_a_folder_set_aside_by_a_swap_cut_short(tmp_path):
    aside = tmp_path / ".m.wordstack-old-1234abcd"
    aside.mkdir()
    (aside / "meta.json").write_text("{}")
    assert atomic.recover_dir(tmp_path / "m") and (tmp_path / "m" / "meta.json").exists()


def test_check_folder_replaceable_without_a_recogniser_takes_only_missing_or_empty_folders(tmp_path):
    assert atomic.check_folder_replaceable(tmp_path / "new") == (tmp_path / "new").resolve()
    (tmp_path / "empty").mkdir()
    atomic.check_folder_replaceable(tmp_path / "empty")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / ".hidden").write_text("x")
    with pytest.raises(ct.OutputFolderError, match=r"\(\.hidden\)"):
        atomic.check_folder_replaceable(tmp_path / "full")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ct.OutputFolderError, match="is a file"):
        atomic.check_folder_replaceable(tmp_path / "file")


# ----------------------------------------------------------------------------- 2. the corpus marker


def fake_user_corpus(folder: Path) -> None:
    """A user's folder that happens to look like a corpus: their own manifest.json and shards/."""
    (folder / "shards").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": "my photo album", "files": 3}))
    (folder / "sentences.txt").write_text("my sentences\n")
    (folder / "punkt.json").write_text("{}")
    (folder / "shards" / "holiday.txt").write_text("the user's file")


def test_ingest_refuses_a_folder_with_an_unrelated_manifest(tiny_corpus, tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "b.txt").write_text(PROSE)
    album = tmp_path / "album"
    fake_user_corpus(album)
    before = snapshot(album)
    with pytest.raises(ct.CorpusError, match="not a wordstack corpus"):
        ct.ingest([books], album, jobs=1)
    result = run("ingest", books, "--out", album)
    assert result.exit_code == 1 and "holds files wordstack did not write" in result.output
    assert snapshot(album) == before
    with pytest.raises(ct.CorpusError):
        ct.load_corpus(album)


def test_a_corpus_folder_holding_a_users_file_is_refused(tiny_corpus, tmp_path):
    corpus = tmp_path / "c"
    shutil.copytree(tiny_corpus, corpus)
    (corpus / "shards" / "mine.txt").write_text("mine")
    before = snapshot(corpus)
    books = tmp_path / "books"
    books.mkdir()
    (books / "b.txt").write_text(PROSE)
    with pytest.raises(ct.CorpusError, match=r"besides the wordstack corpus.*\(shards/mine\.txt\)"):
        ct.ingest([books], corpus, jobs=1)
    assert snapshot(corpus) == before


def as_release_0_1(corpus: Path) -> None:
    """Rewrite a corpus's manifest as release 0.1 wrote it: format "wordstack-corpus/1", no version."""
    m = json.loads((corpus / "manifest.json").read_text())
    del m["version"]
    m["format"] = "wordstack-corpus/1"
    (corpus / "manifest.json").write_text(json.dumps(m, indent=2))


def test_a_release_0_1_corpus_is_recognised_and_updated(tiny_corpus, tmp_path):
    from corpus_tools._corpus_dir import is_corpus_dir, manifest_version

    books = tmp_path / "books"
    books.mkdir()
    (books / "b.txt").write_text(PROSE)
    corpus = tmp_path / "c"
    ct.ingest([books], corpus, jobs=1)
    as_release_0_1(corpus)
    assert manifest_version(corpus) == 1 and ct.load_corpus(corpus).tokens > 0
    again = ct.ingest([books], corpus, jobs=1)
    assert again.count("reused") == 1 and manifest_version(corpus) == 2
    # strictly: a 0.1-looking manifest with a key 0.1 never wrote, or without sentences.txt, is not ours
    as_release_0_1(corpus)
    m = json.loads((corpus / "manifest.json").read_text())
    (corpus / "manifest.json").write_text(json.dumps({**m, "album": True}))
    assert not is_corpus_dir(corpus)
    (corpus / "manifest.json").write_text(json.dumps(m))
    assert is_corpus_dir(corpus)
    (corpus / "sentences.txt").unlink()
    assert not is_corpus_dir(corpus)


def test_ingest_out_refuses_the_books_folder_and_its_parent(tmp_path):
    books = tmp_path / "lib" / "books"
    books.mkdir(parents=True)
    (books / "b.txt").write_text(PROSE)
    before = snapshot(tmp_path / "lib")
    for out in (books, books.parent):
        with pytest.raises(ct.OutputFolderError, match="the input"):
            ct.ingest([books], out, jobs=1)
    with pytest.raises(ct.OutputFolderError, match="the input"):
        ct.ingest([str(books / "*.txt")], books, jobs=1)
    assert snapshot(tmp_path / "lib") == before and leftovers(tmp_path) == []


def test_interrupted_ingest_leaves_the_previous_corpus_or_nothing(tmp_path, monkeypatch):
    from corpus_tools import _shards

    books = tmp_path / "books"
    books.mkdir()
    (books / "a.txt").write_text(PROSE)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(_shards, "tokenize_part", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ct.ingest([books], tmp_path / "c", jobs=1)
    assert not (tmp_path / "c").exists() and leftovers(tmp_path) == []  # 0.1 left a folder it then refused
    first = ct.ingest([books], tmp_path / "c", jobs=1)
    (books / "b.txt").write_text("A new book about the sea and ships. " * 50)
    before = snapshot(tmp_path / "c")
    with monkeypatch.context() as m:
        m.setattr(_shards, "tokenize_part", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ct.ingest([books], tmp_path / "c", jobs=1)
    assert snapshot(tmp_path / "c") == before and leftovers(tmp_path) == []
    assert ct.load_corpus(tmp_path / "c").sentences_sha256 == first.sentences_sha256
    assert ct.ingest([books], tmp_path / "c", jobs=1).count("reused") == 1


# ----------------------------------------------------------------------------- 3. ingest never reads its own output


def test_ingest_of_the_books_folder_never_reads_its_own_corpus(tmp_path, monkeypatch, caplog):
    books = tmp_path / "books"
    books.mkdir()
    for i in range(2):
        (books / f"b{i}.txt").write_text(f"Book {i}. {PROSE}")
    monkeypatch.chdir(books)
    counts = [ct.ingest(["."], "corpus", jobs=1).tokens for _ in range(3)]
    assert counts[0] == counts[1] == counts[2]  # 0.1: 243,780 -> 731,340 -> 1,706,460 on the shipped books
    ct.train("corpus", "model", ct.Word2VecParams(vector_size=4, epochs=1, min_count=1, workers=1))
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="corpus_tools")  # a CLI test may have raised it to ERROR
    again = ct.ingest(["."], "corpus", jobs=1)
    assert again.tokens == counts[0] and [s.path for s in again.sources] == [str(books / "b0.txt"),
                                                                            str(books / "b1.txt")]
    warnings = [r.getMessage() for r in caplog.records if "own corpus and model folders" in r.getMessage()]
    assert len(warnings) == 1 and str(books / "corpus") in warnings[0] and str(books / "model") in warnings[0]
    assert again.notes == warnings
    # a glob pattern does not reach into them either
    assert ct.ingest([str(books / "**" / "*.txt")], tmp_path / "c2", jobs=1).tokens == counts[0]
