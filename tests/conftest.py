"""Shared fixtures: a temporary WORDSTACK_HOME, the shipped corpus ingested once per session, small models."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test runs with its own empty WORDSTACK_HOME (never the user's ~/.local/share)."""
    home = tmp_path_factory.mktemp("wordstack_home")
    monkeypatch.setenv("WORDSTACK_HOME", str(home))
    monkeypatch.setenv("WORDSTACK_PROGRESS", "0")
    return home


@pytest.fixture(scope="session")
def shakespeare_corpus(tmp_path_factory) -> Path:
    """The shipped corpus ingested once (default settings, 2 jobs); treat as read-only."""
    import corpus_tools as ct

    out = tmp_path_factory.mktemp("corpus") / "shakespeare"
    ct.ingest([ct.shipped_corpus()], out, jobs=2)
    return out


@pytest.fixture(scope="session")
def small_model(shakespeare_corpus, tmp_path_factory) -> Path:
    """A small, fast model of the shipped corpus (32 dims, 1 epoch, CBOW); read-only."""
    import corpus_tools as ct

    out = tmp_path_factory.mktemp("models") / "small"
    ct.train(shakespeare_corpus, out, ct.Word2VecParams(vector_size=32, epochs=1, sg=0, workers=2))
    return out


@pytest.fixture(scope="session")
def subword_model(shakespeare_corpus, tmp_path_factory) -> Path:
    """A small fastText model of the shipped corpus (16 dims, 1 epoch, CBOW, 20,000 buckets); read-only."""
    import corpus_tools as ct

    out = tmp_path_factory.mktemp("subwords") / "ft"
    ct.train(shakespeare_corpus, out, ct.Word2VecParams(vector_size=16, epochs=1, sg=0, min_count=10, workers=2),
             subwords=ct.SubwordParams(buckets=20_000))
    return out


@pytest.fixture(scope="session")
def default_model_home(tmp_path_factory) -> Path:
    """A WORDSTACK_HOME holding the real default model (256 dims, 10 epochs), built once.

    Tests that use it set WORDSTACK_HOME to this folder themselves.
    """
    import corpus_tools as ct

    home = tmp_path_factory.mktemp("default_home")
    old = os.environ.get("WORDSTACK_HOME")
    os.environ["WORDSTACK_HOME"] = str(home)
    try:
        ct.ensure_default_model()
    finally:
        if old is None:
            del os.environ["WORDSTACK_HOME"]
        else:
            os.environ["WORDSTACK_HOME"] = old
    return home
