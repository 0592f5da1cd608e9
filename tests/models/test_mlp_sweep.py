"""Learning-rate and width sweeps: diverged runs are results, not crashes; the picture."""
from __future__ import annotations

import numpy as np
import pytest

import models
from models import MLP, UnknownNameError, make_table


@pytest.fixture(scope="module")
def sweep():
    """Too small, good and too large steps, two widths, a short run (~1 s)."""
    return models.sweep_learning_rates("xor", [1000, 0.001, 1], [4, 2], n_epochs=3000, seed=0)


def test_lr_1000_is_reported_as_diverged_not_raised(sweep):
    assert sweep.learning_rates == [0.001, 1.0, 1000.0] and sweep.widths == [4, 2]
    assert [(r.hidden, r.learning_rate) for r in sweep.runs] == [(w, lr) for w in (4, 2) for lr in (0.001, 1, 1000)]
    for width in (4, 2):
        big = sweep.run(1000, width)
        assert big.status == "diverged" and big.diverged_at == 1
        assert big.n_epochs < 3000 and big.error_curve.shape == (big.n_epochs + 1,)
        assert big.final_error == pytest.approx(0.5, abs=1e-6)
    good, slow = sweep.run(1, 4), sweep.run(0.001, 4)
    assert good.status == "learned" and good.max_error < 0.1 and good.n_epochs == 3000
    assert slow.status == "not learned" and slow.final_error > 0.45 and slow.diverged_at is None


def test_runs_of_a_width_share_their_initial_weights(sweep):
    starts = {r.learning_rate: r.loss_curve[0] for r in sweep.runs if r.hidden == 4}
    assert len(set(starts.values())) == 1
    net = MLP(layers=(3, 4, 1), learning_rate=1.0, n_epochs=3000, seed=0).fit(make_table("xor").inputs,
                                                                            make_table("xor").targets)
    np.testing.assert_array_equal(sweep.run(1, 4).error_curve, net.error_curve_)


def test_direction_changes_per_weight(sweep):
    run = sweep.run(1, 4)
    assert set(run.direction_changes) == {"W1", "b1", "W2", "b2"}
    assert run.direction_changes["W1"].shape == (3, 4)
    assert run.changes_per_weight.shape == (3 * 4 + 4 + 4 + 1,)
    assert sweep.run(1, 2).changes_per_weight.shape == (3 * 2 + 2 + 2 + 1,)


def test_to_dict_is_json_ready(sweep):
    import json

    data = json.loads(json.dumps(sweep.to_dict()))
    assert data["table"] == "xor" and data["epochs"] == 3000 and len(data["runs"]) == 6
    diverged = [r for r in data["runs"] if r["status"] == "diverged"]
    assert {r["learning_rate"] for r in diverged} == {1000.0} and all(r["diverged_at"] == 1 for r in diverged)
    first = data["runs"][0]
    assert set(first["direction_changes"]) == {"median", "mean", "max", "per_weight"}
    assert "error_curve" not in first and len(sweep.to_dict(curves=True)["runs"][0]["error_curve"]) == 3001


def test_plot_writes_one_png(sweep, tmp_path):
    path = models.plot_sweep(sweep, tmp_path / "sweep.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert not list(tmp_path.glob(".*"))                   # no temporary file left behind


def test_no_hidden_layer_and_other_hyperparameters():
    sw = models.sweep_learning_rates("copy-first", [1.0], [0], n_epochs=2000, loss="cross_entropy")
    run = sw.runs[0]
    assert run.hidden == 0 and set(run.direction_changes) == {"W1", "b1"} and run.status == "learned"
    assert sw.params["loss"] == "cross_entropy"


def test_fit_table_builds_the_layers_from_the_table():
    net = models.fit_table("copy-first", (), n_epochs=10)
    assert net.layers == (3, 1) and net.table_.name == "copy-first"
    assert models.fit_table("xor", (5, 3), n_epochs=10).layers == (3, 5, 3, 1)
    assert models.fit_table("xor", 0, n_epochs=10).layers == (3, 1)
    with pytest.raises(ValueError, match="every hidden width must be an integer >= 1"):
        models.fit_table("xor", (4, 0))
    with pytest.raises(ValueError, match="layers is set from the table"):
        models.fit_table("xor", layers=(3, 1))


@pytest.mark.parametrize("kwargs,error,match", [
    ({"table": "and"}, UnknownNameError, "choose one of xor, copy-first"),
    ({"learning_rates": []}, ValueError, "learning_rates is empty"),
    ({"learning_rates": [1, 0]}, ValueError, "learning_rates must be a finite number > 0, got 0"),
    ({"learning_rates": [1, -3]}, ValueError, "got -3"),
    ({"hidden_sizes": [4, -1]}, ValueError, "hidden_sizes must be an integer >= 0, got -1"),
    ({"hidden_sizes": [2.5]}, ValueError, "hidden_sizes must be an integer"),
    ({"activation": "softmax"}, UnknownNameError, "sigmoid, tanh, relu"),
    ({"dropout": 1.0}, ValueError, "dropout must satisfy"),
    ({"learning_rate": 1.0}, ValueError, "set by the sweep itself"),
    ({"tolerance": 0}, ValueError, r"tolerance must be a number in \(0, 1\]"),
])
def test_bad_sweeps_fail_before_any_training(kwargs, error, match):
    args = {"table": "xor", "learning_rates": [1.0], "hidden_sizes": [4], "n_epochs": 10, **kwargs}
    with pytest.raises(error, match=match):
        models.sweep_learning_rates(args.pop("table"), args.pop("learning_rates"), args.pop("hidden_sizes"), **args)
