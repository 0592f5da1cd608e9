"""Issue 12, items 7, 10 and 12: what the manifest records and how it is checked.

A file name that is not UTF-8 is recorded losslessly; a damaged manifest gives a clean
CorpusError naming the file and the fix; train checks sentences.txt against the manifest.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import corpus_tools as ct
from wordstack.cli import cli

PROSE = "The king and the queen walked in the garden. The queen spoke of love and war. " * 30


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    books = tmp_path_factory.mktemp("books")
    (books / "a.txt").write_text(PROSE, encoding="utf-8")
    out = tmp_path_factory.mktemp("corpora") / "c"
    ct.ingest([books], out, jobs=1)
    return out


# ----------------------------------------------------------------------------- 7. file names that are not UTF-8


def test_book_with_a_non_utf8_file_name_is_ingested_and_recognised_on_rerun(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    bad = os.path.join(os.fsencode(books), b"bad\xff.txt")
    with open(bad, "wb") as fh:
        fh.write(PROSE.encode("utf-8"))
    (books / "good.txt").write_text("Another book entirely, about ships and the sea. " * 20)
    corpus = ct.ingest([books], tmp_path / "c", jobs=1)  # 0.1: UnicodeEncodeError writing the manifest
    assert [s.status for s in corpus.sources] == ["ok", "ok"]
    assert os.fsencode(corpus.sources[0].path) == bad
    raw = (tmp_path / "c" / "manifest.json").read_bytes()
    raw.decode("utf-8")  # valid UTF-8, valid JSON
    entry = json.loads(raw)["sources"][0]
    assert entry["path"].endswith("bad\\xff.txt")            # shown
    assert entry["path_bytes"].endswith("bad%FF.txt")        # kept exactly
    again = ct.ingest([books], tmp_path / "c", jobs=1)
    assert again.count("reused") == 2 and again.sentences_sha256 == corpus.sentences_sha256
    assert os.fsencode(ct.load_corpus(tmp_path / "c").sources[0].path) == bad
    result = CliRunner().invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c")])
    assert result.exit_code == 0 and "2 unchanged" in result.output, result.output


# ----------------------------------------------------------------------------- 10. damaged manifests


@pytest.mark.parametrize("damage, message", [
    (lambda m: m.update(totals={}), "lacks a count of sentences in 'totals'"),
    (lambda m: m.pop("totals"), "lacks 'totals'"),
    (lambda m: m.update(sources=[{"path": "x"}]), "malformed entry in 'sources'"),
    (lambda m: m.update(settings={"numbers": "roman"}), "malformed 'settings'"),
    (lambda m: m.update(totals={"sentences": "many", "tokens": 3}), "count of sentences"),
])
def test_manifest_with_missing_keys_gives_a_clean_error(tiny_corpus, tmp_path, damage, message):
    corpus = tmp_path / "c"
    shutil.copytree(tiny_corpus, corpus)
    m = json.loads((corpus / "manifest.json").read_text())
    damage(m)
    (corpus / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ct.CorpusError, match=message) as err:
        ct.load_corpus(corpus)
    assert str(corpus / "manifest.json") in str(err.value) and "wordstack ingest" in str(err.value)
    result = CliRunner().invoke(cli, ["train", str(corpus), "--out", str(tmp_path / "m"), "--dim", "4"])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output
    assert "manifest.json" in result.output


# ----------------------------------------------------------------------------- 12. train checks sentences.txt


def test_train_warns_when_sentences_were_edited_and_records_the_hash_trained_on(tiny_corpus, tmp_path, caplog):
    corpus = tmp_path / "c"
    shutil.copytree(tiny_corpus, corpus)
    params = ct.Word2VecParams(vector_size=4, epochs=1, min_count=1, workers=1)
    caplog.set_level(logging.WARNING, logger="corpus_tools")
    clean = ct.train(corpus, tmp_path / "m0", params)
    assert clean.warnings == [] and not caplog.records
    meta = json.loads((tmp_path / "m0" / "meta.json").read_text())
    assert meta["corpus"]["sentences_match_manifest"] is True
    with open(corpus / "sentences.txt", "ab") as fh:
        fh.write(b"a line added by hand\n")
    edited = hashlib.sha256((corpus / "sentences.txt").read_bytes()).hexdigest()
    result = ct.train(corpus, tmp_path / "m1", params)
    assert len(result.warnings) == 1 and str(corpus / "sentences.txt") in result.warnings[0]
    assert [r.getMessage() for r in caplog.records] == result.warnings
    meta = json.loads((tmp_path / "m1" / "meta.json").read_text())
    assert meta["corpus"]["sentences_sha256"] == edited  # 0.1 recorded the manifest's, not the file's
    assert meta["corpus"]["sentences_match_manifest"] is False
    assert meta["corpus"]["sentences"] == ct.load_corpus(corpus).sentences + 1
    cli_run = CliRunner().invoke(cli, ["train", str(corpus), "--out", str(tmp_path / "m2"), "--dim", "4",
                                       "--epochs", "1", "--min-count", "1", "--workers", "1"])
    assert cli_run.exit_code == 0 and "sentences.txt is not the file its manifest.json describes" in cli_run.output
