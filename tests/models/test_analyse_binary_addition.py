"""benchmarks/analyse_binary_addition.py: its split adds up to the bench's own score."""
import sys
from pathlib import Path

import numpy as np
import pytest

import models
from models.tasks import make_task

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import analyse_binary_addition as analysis  # noqa: E402


@pytest.fixture(scope="module")
def model():
    m = models.MemoryRNN(memory="queue", hidden_size=16, memory_width=8, embedding_size=8, batch_size=8,
                         n_steps=40, lengths=(1, 12), curriculum="uniform", stop_gradient=False, seed=0)
    return m.fit(make_task("binary_addition"))


def test_all_column_is_the_evaluate_score(model):
    result = analysis.analyse(model, (41, 45), 4)
    ev = model.evaluate((41, 45), n_per_length=4, seed=analysis.TEST_SEED)
    assert [r["length"] for r in result["by_length"]] == [r.length for r in ev.results]
    np.testing.assert_allclose([r["all"] for r in result["by_length"]], [r.metrics.per_symbol for r in ev.results],
                               rtol=0, atol=1e-12)


def test_split_covers_every_sequence_and_is_weighted_like_all(model):
    task = make_task("binary_addition")
    for row in analysis.analyse(model, (41, 60), 6)["by_length"]:
        inputs, outputs, mask = task._generate(np.random.default_rng([analysis.TEST_SEED, row["length"]]), 6,
                                               row["length"])
        width_a = np.argmax(inputs == 2, axis=1)
        a_longer = width_a > row["length"] - 1 - width_a
        assert row["n_a_longer"] == int(a_longer.sum())
        scored = mask.sum(axis=1)
        parts = [(row["a_longer"], scored[a_longer].sum()), (row["b_as_long"], scored[~a_longer].sum())]
        total = sum(w for _, w in parts)
        assert row["all"] == pytest.approx(sum(v * w for v, w in parts if w) / total, abs=1e-12)
        if not a_longer.any():
            assert np.isnan(row["a_longer"])
