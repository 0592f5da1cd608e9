"""Full trainings behind the issue's targets (run with `pytest -m slow`)."""
from __future__ import annotations

import numpy as np
import pytest

import models
from models import tasks

pytestmark = pytest.mark.slow

TRASK = dict(hidden_size=16, activation="sigmoid", bias=False, init="uniform", optimizer="sgd", learning_rate=0.1,
             batch_size=1, lengths=(8, 8), n_steps=10_000)


def heldout(n=1000, seed=2015):
    codes = np.random.default_rng(seed).choice(128 * 128, size=n, replace=False)
    return np.stack([codes // 128, codes % 128], axis=1)


@pytest.mark.parametrize("seed", range(5))
def test_addition_exact_on_heldout_and_64_bits(seed):
    pairs = heldout()
    task = tasks.BinaryAddition(exclude=pairs)
    model = models.RNN(seed=seed, **TRASK).fit(task)
    assert model.score(task.batch_from_operands(pairs[:, 0], pairs[:, 1], bits=8)) == 1.0
    assert model.score(task.sample(np.random.default_rng(64), 1000, 64)) == 1.0


def test_addition_numpy_backend_learns_the_same():
    task = tasks.BinaryAddition()
    a = models.RNN(seed=0, **TRASK).fit(task)
    b = models.RNN(seed=0, backend="numpy", **TRASK).fit(task)
    np.testing.assert_allclose(a.params_.theta, b.params_.theta, atol=1e-8)
    assert b.evaluate(8, n_sequences=500).overall.coarse == 1.0


def test_lstm_learns_short_reversals():
    model = models.LSTM(hidden_size=32, optimizer="adam", learning_rate=0.01, clip_norm=1.0, batch_size=16,
                        lengths=(2, 6), n_steps=2000, seed=0).fit(tasks.Reverse(vocab_size=6))
    assert model.evaluate((2, 6), n_sequences=300).overall.per_symbol > 0.9          # chance: 1/6


def test_lstm_learns_addition_too():
    model = models.LSTM(hidden_size=16, optimizer="adam", learning_rate=0.01, batch_size=4, lengths=(4, 8),
                        n_steps=3000, seed=0).fit(tasks.BinaryAddition())
    assert model.evaluate(8, n_sequences=300).overall.coarse > 0.99
