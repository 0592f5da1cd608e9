"""Training: the model directory, parameters, reproducibility, and interrupted runs."""
from __future__ import annotations

import json

import numpy as np
import pytest

import corpus_tools as ct


def test_model_directory_contents(small_model):
    meta = json.loads((small_model / "meta.json").read_text())
    assert meta["format"] == "wordstack-word2vec/1"
    assert meta["params"]["vector_size"] == 32 and meta["params"]["epochs"] == 1 and meta["params"]["sg"] == 0
    assert meta["corpus"]["manifest_sha256"] and meta["corpus"]["sentences_sha256"]
    assert len(meta["training"]["epochs"]) == 1
    unit = np.load(small_model / "vectors.npy")
    norms = np.load(small_model / "norms.npy")
    vocab = (small_model / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert unit.dtype == np.float32 and unit.shape == (len(vocab), 32) == (meta["vocab_size"], 32)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)
    counts = [int(line.split("\t")[1]) for line in vocab]
    assert counts == sorted(counts, reverse=True) and min(counts) >= 5
    # the safe files agree with the full gensim model
    model = ct.load_gensim_model(small_model)
    w = vocab[10].split("\t")[0]
    np.testing.assert_allclose(unit[10] * norms[10], model.wv[w], rtol=1e-5)


def test_train_reports_epochs(shakespeare_corpus, tmp_path):
    reports = []
    result = ct.train(shakespeare_corpus, tmp_path / "m",
                      ct.Word2VecParams(vector_size=16, epochs=2, sg=0, min_count=20), on_epoch=reports.append)
    assert [r.epoch for r in reports] == [1, 2] and all(r.epochs == 2 for r in reports)
    assert all(r.words_per_second > 0 and r.loss > 0 for r in reports)
    assert result.vocab_size == len((tmp_path / "m" / "vocab.txt").read_text().splitlines())
    assert result.words_per_second > 0


def test_seeded_single_worker_training_is_reproducible(shakespeare_corpus, tmp_path):
    params = ct.Word2VecParams(vector_size=16, epochs=1, sg=0, min_count=50, workers=1, seed=7)
    ct.train(shakespeare_corpus, tmp_path / "a", params)
    ct.train(shakespeare_corpus, tmp_path / "b", params)
    assert np.array_equal(np.load(tmp_path / "a" / "vectors.npy"), np.load(tmp_path / "b" / "vectors.npy"))
    ct.train(shakespeare_corpus, tmp_path / "c", ct.Word2VecParams(**{**params.__dict__, "seed": 8}))
    assert not np.array_equal(np.load(tmp_path / "a" / "vectors.npy"), np.load(tmp_path / "c" / "vectors.npy"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vector_size": 0}, "vector_size must be an integer >= 1, got 0"),
        ({"epochs": -1}, "epochs must be an integer >= 1, got -1"),
        ({"window": 1.5}, "window must be an integer >= 1, got 1.5"),
        ({"sg": 2}, "sg must be 0 .CBOW. or 1 .skip-gram., got 2"),
        ({"negative": 0, "hs": 0}, "negative=0 and hs=0 leave nothing to train"),
        ({"sample": 1.5}, r"sample must be in \[0, 1\), got 1.5"),
        ({"alpha": 0}, "need 0 < alpha <= 1"),
        ({"workers": 0}, "workers must be an integer >= 1, got 0"),
    ],
)
def test_invalid_params(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ct.Word2VecParams(**kwargs)


def test_min_count_too_high(shakespeare_corpus, tmp_path):
    with pytest.raises(ct.CorpusError, match="no word occurs at least min_count=10000000 times"):
        ct.train(shakespeare_corpus, tmp_path / "m", ct.Word2VecParams(min_count=10_000_000))


def test_missing_corpus(tmp_path):
    with pytest.raises(ct.CorpusError, match="does not exist; create it with `wordstack ingest"):
        ct.train(tmp_path / "nope", tmp_path / "m")


def test_interrupted_training_leaves_previous_model_intact(shakespeare_corpus, small_model, tmp_path):
    import shutil

    target = tmp_path / "model"
    shutil.copytree(small_model, target)
    before = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}

    def interrupt(report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ct.train(shakespeare_corpus, target, ct.Word2VecParams(vector_size=8, epochs=2, sg=0), on_epoch=interrupt)
    after = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folders left behind
    assert ct.load_vectors(target).vector_size == 32


def test_model_folder_follows_the_umask(shakespeare_corpus, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        ct.train(shakespeare_corpus, tmp_path / "m", ct.Word2VecParams(vector_size=8, epochs=1, sg=0, min_count=50))
    finally:
        os.umask(old)
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "m" / "vectors.npy").stat().st_mode & 0o777 == 0o644
