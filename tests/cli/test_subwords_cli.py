"""Subword models on the command line: train --subwords, out-of-vocabulary words marked
"(from subwords)" in text and JSON by every query command, evaluate --oov subwords."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import corpus_tools as ct
from wordstack.cli import cli

MARK = "romeoo (from subwords)"


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, code=0):
    result = runner.invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_train_subwords_json_and_text(runner, shakespeare_corpus, tmp_path):
    out = tmp_path / "ft"
    data = json.loads(run(runner, "train", shakespeare_corpus, "--out", out, "--subwords", "--dim", "8", "--epochs",
                          "1", "--cbow", "--min-count", "50", "--min-n", "2", "--max-n", "4", "--buckets", "3000",
                          "--json").stdout)
    assert data["subwords"] == {"min_n": 2, "max_n": 4, "buckets": 3000}
    assert data["epochs"][0]["loss"] is None
    meta = json.loads((out / "meta.json").read_text())
    assert meta["subwords"]["min_n"] == 2 and meta["subwords"]["buckets"] == 3000
    text = run(runner, "train", shakespeare_corpus, "--out", out, "--subwords", "--dim", "8", "--epochs", "1",
               "--cbow", "--min-count", "50", "--buckets", "3000").stdout
    assert "+ 3-6-character n-grams in 3,000 buckets" in text


def test_subword_options_without_subwords_are_refused(runner, shakespeare_corpus, tmp_path):
    result = run(runner, "train", shakespeare_corpus, "--out", tmp_path / "m", "--buckets", "1000", code=2)
    assert "--buckets only apply with --subwords" in result.stderr
    result = run(runner, "train", shakespeare_corpus, "--out", tmp_path / "m", "--subwords", "--min-n", "5",
                 "--max-n", "4", code=1)
    assert "Error: max_n (4) must be >= min_n (5)" in result.stderr
    assert not (tmp_path / "m").exists()


def test_similar_marks_oov_words_in_text_and_json(runner, subword_model, small_model):
    text = run(runner, "similar", "romeoo", "-m", subword_model, "-n", "3").stdout
    assert text.splitlines()[-1] == f"  {MARK}"
    data = json.loads(run(runner, "similar", "romeoo", "-m", subword_model, "-n", "3", "--json").stdout)
    (entry,) = data["results"]
    assert entry["from_subwords"] is True and entry["subword_terms"] == ["romeoo"]
    want = ct.load_vectors(subword_model).most_similar("romeoo", topn=3)
    assert [n["word"] for n in entry["neighbors"]] == [n.word for n in want]
    # side by side with a word2vec model: that one keeps its "did you mean"
    both = run(runner, "similar", "romeoo", "-m", small_model, "-m", subword_model, "-n", "3")
    assert "unknown word 'romeoo'" in both.stdout and "did you mean: romeo" in both.stdout
    assert f"ft (16d, 1 epoch, subwords): {MARK}" in both.stdout
    data = json.loads(run(runner, "similar", "romeoo", "-m", small_model, "-m", subword_model, "--json").stdout)
    w2v, ft = data["results"]
    assert "romeo" in w2v["suggestions"] and "from_subwords" not in w2v and ft["from_subwords"] is True
    plain = json.loads(run(runner, "similar", "romeo", "-m", subword_model, "--json").stdout)["results"][0]
    assert plain["from_subwords"] is False and plain["subword_terms"] == []


def test_interactive_similar_marks_oov_words(runner, subword_model):
    result = runner.invoke(cli, ["similar", "-m", str(subword_model), "--json"], input="romeoo\nking\n")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["results"][0]["subword_terms"] == ["romeoo"] and second["results"][0]["from_subwords"] is False


def test_analogy_marks_oov_words(runner, subword_model):
    text = run(runner, "analogy", "man", "king", "womann", "-m", subword_model, "-n", "3").stdout
    assert "womann (from subwords)" in text
    entry = json.loads(run(runner, "analogy", "man", "king", "womann", "-m", subword_model, "--json").stdout)
    (r,) = entry["results"]
    assert r["from_subwords"] is True and r["subword_terms"] == ["womann"]
    assert [n["word"] for n in r["neighbors"]] == [
        n.word for n in ct.load_vectors(subword_model).analogy("man", "king", "womann")]


def test_odd_one_out_marks_oov_words(runner, subword_model, small_model):
    text = run(runner, "odd-one-out", "romeoo", "juliet", "tybalt", "-m", subword_model).stdout
    assert MARK in text and "juliet (from subwords)" not in text
    (r,) = json.loads(run(runner, "odd-one-out", "romeoo", "juliet", "tybalt", "-m", subword_model,
                          "--json").stdout)["results"]
    assert r["subword_terms"] == ["romeoo"]
    assert {s["word"]: s["from_subwords"] for s in r["scores"]} == {"romeoo": True, "juliet": False, "tybalt": False}
    result = run(runner, "odd-one-out", "romeoo", "juliet", "tybalt", "-m", small_model, code=1)
    assert "did you mean" in result.stderr


def test_map_marks_oov_words(runner, subword_model, small_model, tmp_path):
    out = tmp_path / "map.png"
    text = run(runner, "map", subword_model, "-w", "romeo,juliet,tybalt,romeoo", "--out", out).stdout
    assert text.startswith("Mapped 4 words (pca; romeoo (from subwords)) ->") and out.exists()
    data = json.loads(run(runner, "map", subword_model, "-w", "romeo,juliet,tybalt,romeoo", "--json").stdout)
    assert data["from_subwords"] == ["romeoo"]
    assert [p.get("from_subwords", False) for p in data["points"]] == [False, False, False, True]
    result = run(runner, "map", small_model, "-w", "romeo,juliet,tybalt,romeoo", "--json")
    assert "'romeoo' is not in the vocabulary; skipped (did you mean: romeo" in result.stderr


def test_evaluate_oov_subwords(runner, subword_model, small_model):
    text = run(runner, "evaluate", subword_model, "--oov", "subwords").stdout
    assert "wordsim353 +subwords" in text and "353/353 pairs (100.0%)" in text
    assert "analogies: google +subwords" in text and "19544/19544 questions (100.0%)" in text
    data = json.loads(run(runner, "evaluate", subword_model, "--oov", "subwords", "--json").stdout)
    assert data["oov"] == "subwords"
    assert [p["coverage"] for p in data["pairs"] if p["oov"] == "subwords"] == [1.0, 1.0]
    assert [a["total"]["coverage"] for a in data["analogies"] if a["oov"] == "subwords"] == [1.0]
    result = run(runner, "evaluate", small_model, "--oov", "subwords", code=1)
    assert "Error: model small (32d, 1 epoch) has no subword vectors" in result.stderr
