"""Fixtures of the server tests: hand-made models (exact answers) and a second small trained model."""
from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import TINY_WORDS, write_tiny

import corpus_tools as ct


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    """16 words, 6 dims."""
    return write_tiny(tmp_path_factory.mktemp("served") / "tiny", TINY_WORDS, seed=11)


@pytest.fixture(scope="session")
def tiny_b(tmp_path_factory) -> Path:
    """A second hand-made model, 8 dims, 3 epochs, without "expecto_patronum" and "café"."""
    words = [w for w in TINY_WORDS if w not in ("expecto_patronum", "café")]
    return write_tiny(tmp_path_factory.mktemp("served") / "tiny-b", words, seed=12, dim=8, epochs=3)


@pytest.fixture(scope="session")
def wide_model(shakespeare_corpus, tmp_path_factory) -> Path:
    """A second small model of the shipped corpus (48 dims, 2 epochs, CBOW), beside conftest's small_model."""
    out = tmp_path_factory.mktemp("models") / "wide"
    ct.train(shakespeare_corpus, out, ct.Word2VecParams(vector_size=48, epochs=2, sg=0, workers=2))
    return out
