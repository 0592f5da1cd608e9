"""RNN and LSTM as estimators: hyperparameters, fit/predict/score/evaluate, reproducibility,
exact resumption, divergence, the Ctrl-C checkpoint."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import models
from models import LSTM, RNN, TrainingDivergedError, UnknownNameError, tasks
from seq_helpers import BACKENDS


def small_lstm(**kw):
    params = dict(hidden_size=8, optimizer="adam", learning_rate=0.01, clip_norm=1.0, batch_size=3, n_steps=120,
                  lengths=(2, 5), seed=3)
    params.update(kw)
    return LSTM(**params)


def test_hyperparameters_sklearn_style():
    m = RNN(hidden_size=7, activation="sigmoid")
    params = m.get_params()
    assert params["hidden_size"] == 7 and params["activation"] == "sigmoid" and "forget_bias" not in params
    assert "forget_bias" in LSTM().get_params()
    assert m.set_params(learning_rate=0.5) is m and m.learning_rate == 0.5
    assert "hidden_size=7" in repr(m) and "learning_rate=0.5" in repr(m)
    with pytest.raises(ValueError, match="no hyperparameter 'hidden'"):
        m.set_params(hidden=3)


@pytest.mark.parametrize("kwargs,match", [
    ({"hidden_size": 0}, "hidden_size must be an integer >= 1, got 0"),
    ({"hidden_size": 2.5}, "hidden_size"),
    ({"learning_rate": -1}, "learning_rate must be > 0"),
    ({"dropout": 1.0}, "dropout"),
    ({"batch_size": 0}, "batch_size"),
    ({"lengths": (64, 8)}, "did you mean 8:64"),
    ({"lengths": (0, 5)}, "lengths must be >= 1"),
    ({"lengths": "8-64"}, "8:64"),
    ({"clip_norm": 0}, "clip_norm"),
    ({"divergence_factor": 0.5}, "divergence_factor"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RNN(**kwargs)


@pytest.mark.parametrize("kwargs,valid", [({"optimizer": "adagrad"}, "sgd, momentum, rmsprop, adam"),
                                          ({"activation": "relu"}, "tanh, sigmoid"),
                                          ({"backend": "gpu"}, "cython, numpy"),
                                          ({"curriculum": "random"}, "uniform, grow"),
                                          ({"init": "zeros"}, "glorot, uniform")])
def test_unknown_names_list_the_valid_ones(kwargs, valid):
    with pytest.raises(UnknownNameError, match=valid):
        RNN(**kwargs)
    with pytest.raises(UnknownNameError, match="rnn, lstm"):
        models.make_model("gru")


def test_fit_predict_score_evaluate_shapes():
    task = tasks.Reverse(vocab_size=4)
    m = small_lstm()
    assert m.fit(task) is m
    assert m.n_parameters_ == m.params_.size == 5 * 32 + 8 * 32 + 32 + 8 * 4 + 4
    batch = task.sample(np.random.default_rng(0), 5, 4)
    probs = m.predict_proba(batch)
    assert probs.shape == (9, 5, 4) and np.allclose(probs.sum(-1), 1.0)
    pred = m.predict(batch.inputs)
    assert pred.shape == (9, 5) and pred.dtype.kind == "i"
    assert 0.0 <= m.score(batch) <= 1.0
    ev = m.evaluate((3, 6), n_sequences=40)
    assert [r.length for r in ev.results] == [3, 4, 5, 6]
    assert all(r.metrics.n_sequences == 10 for r in ev.results)
    d = ev.to_dict()
    assert d["lengths"] == [3, 6] and len(d["by_length"]) == 4 and d["overall"]["n"] == 40
    assert len(m.history_) >= 2 and {"step", "loss", "per_symbol", "coarse", "fine"} <= set(m.history_[0])
    with pytest.raises(ValueError, match=r"shape \(T, B, 5\)"):
        m.predict(np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        m.predict(np.full((3, 2, 5), np.nan))
    with pytest.raises(ValueError, match="not fitted"):
        LSTM().predict(batch)


def test_sigmoid_task_predicts_bits():
    m = RNN(hidden_size=6, n_steps=30).fit("add")
    batch = tasks.BinaryAddition().sample(np.random.default_rng(1), 4, 6)
    assert m.predict(batch).shape == (6, 4, 1)
    assert set(np.unique(m.predict(batch))) <= {0, 1}


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_weights(backend):
    kw = dict(n_steps=60 if backend == "numpy" else 200, backend=backend, dropout=0.2)
    a = small_lstm(**kw).fit(tasks.Copy(vocab_size=5))
    b = small_lstm(**kw).fit(tasks.Copy(vocab_size=5))
    np.testing.assert_array_equal(a.params_.theta, b.params_.theta)
    assert [{**h, "seconds": 0} for h in a.history_] == [{**h, "seconds": 0} for h in b.history_]
    c = small_lstm(seed=4, **kw).fit(tasks.Copy(vocab_size=5))
    assert not np.array_equal(a.params_.theta, c.params_.theta)


def test_backends_agree_closely():
    a = small_lstm(n_steps=40).fit(tasks.Copy(vocab_size=5))
    b = small_lstm(n_steps=40, backend="numpy").fit(tasks.Copy(vocab_size=5))
    np.testing.assert_allclose(a.params_.theta, b.params_.theta, atol=1e-9)
    # the Cython kernels count accuracies themselves; the loop derives them for numpy
    for ha, hb in zip(a.history_, b.history_):
        assert {k: v for k, v in ha.items() if k != "seconds"} == pytest.approx(
            {k: v for k, v in hb.items() if k != "seconds"}, rel=1e-9)


@pytest.mark.parametrize("curriculum", ["uniform", "grow"])
def test_resume_is_exact(tmp_path, curriculum):
    """An interrupted and resumed fit ends with exactly the weights of an uninterrupted one
    (mid-block stop, dropout replay, curriculum and optimizer state included)."""
    kw = dict(n_steps=260, dropout=0.1, curriculum=curriculum, curriculum_start=2, curriculum_step=1,
              curriculum_threshold=0.3)
    task = tasks.Reverse(vocab_size=4)
    full, part = small_lstm(**kw), small_lstm(**{**kw, "n_steps": 101})
    full.block_rows = part.block_rows = 600                  # blocks of 18 steps: several curriculum moves
    full.fit(task)
    part.fit(task, checkpoint=tmp_path / "m.ckpt")
    assert part.train_state_.offset != 0                      # stopped inside a block
    resumed = models.load(tmp_path / "m.ckpt")
    resumed.set_params(n_steps=260)
    resumed.fit(resumed.task_, resume=True)
    np.testing.assert_array_equal(resumed.params_.theta, full.params_.theta)
    assert len(resumed.history_) == len(full.history_)
    for a, b in zip(resumed.history_, full.history_):      # metrics merged across the stop: same up to rounding
        assert {k: v for k, v in a.items() if k != "seconds"} == pytest.approx(
            {k: v for k, v in b.items() if k != "seconds"}, rel=1e-12)
    if curriculum == "grow":
        assert full.history_[-1]["max_length"] > 2


def test_resume_refuses_changed_data_settings(tmp_path):
    m = small_lstm(n_steps=20).fit(tasks.Copy(vocab_size=4))
    m.set_params(batch_size=4, n_steps=40)
    with pytest.raises(ValueError, match="batch_size"):
        m.fit(m.task_, resume=True)
    with pytest.raises(ValueError, match="different task|cannot resume"):
        small_lstm(n_steps=20).fit(tasks.Copy(vocab_size=4)).set_params(n_steps=30).fit(
            tasks.Reverse(vocab_size=4), resume=True)


def test_ctrl_c_saves_a_resumable_checkpoint(tmp_path):
    task = tasks.Copy(vocab_size=4)
    full = small_lstm(n_steps=150)
    calls = []

    def interrupt(progress):
        calls.append(progress.step)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    path = tmp_path / "c.ckpt"
    model = small_lstm(n_steps=150)
    model.block_rows = full.block_rows = 600
    full.fit(task)
    with pytest.raises(KeyboardInterrupt):
        model.fit(task, checkpoint=path, callback=interrupt)
    saved = models.load(path)
    assert 0 < saved.train_state_.step < 150
    saved.fit(saved.task_, resume=True, checkpoint=path)
    np.testing.assert_array_equal(saved.params_.theta, full.params_.theta)
    assert models.load(path).train_state_.step == 150


def test_sigterm_saves_a_resumable_checkpoint_and_restores_the_handler(tmp_path):
    """What a job scheduler sends before it kills: handled like Ctrl-C (checkpoint, then
    models.TrainingInterrupted naming the signal), and the previous handler is back after."""
    task = tasks.Copy(vocab_size=4)
    full = small_lstm(n_steps=150)
    full.block_rows = 600
    full.fit(task)
    calls = []

    def terminate(progress):
        calls.append(progress.step)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    def previous(signum, frame):                 # a handler of the caller's, to be restored
        raise AssertionError("the caller's SIGTERM handler ran during fit")

    path = tmp_path / "t.ckpt"
    model = small_lstm(n_steps=150)
    model.block_rows = 600
    old = signal.signal(signal.SIGTERM, previous)
    try:
        with pytest.raises(models.TrainingInterrupted, match="SIGTERM") as info:
            model.fit(task, checkpoint=path, callback=terminate)
        assert info.value.signum == signal.SIGTERM and isinstance(info.value, KeyboardInterrupt)
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, old)
    saved = models.load(path)
    assert 0 < saved.train_state_.step < 150
    saved.fit(saved.task_, resume=True)
    np.testing.assert_array_equal(saved.params_.theta, full.params_.theta)


def test_divergence_stops_with_a_clear_error(tmp_path):
    path = tmp_path / "d.ckpt"
    with pytest.raises(TrainingDivergedError, match=r"diverged at step \d+.*--lr"):
        RNN(hidden_size=16, learning_rate=500.0, n_steps=3000, batch_size=4, lengths=(4, 8)).fit(
            tasks.Reverse(vocab_size=8), checkpoint=path, checkpoint_seconds=1e9)
    assert not path.exists()                                   # nothing half-trained was saved


def test_nan_parameter_stops_at_once():
    m = small_lstm(n_steps=10).fit(tasks.Copy(vocab_size=4))
    m.params_["W_h"][0, 0] = np.nan
    m.set_params(n_steps=20)
    with pytest.raises(TrainingDivergedError, match="nan"):
        m.fit(m.task_, resume=True)


def test_sequences_per_update_and_progress_callback():
    seen = []
    m = RNN(hidden_size=4, n_steps=600, batch_size=2, lengths=(3, 5))
    m.fit(tasks.Copy(vocab_size=3), callback=seen.append)
    assert seen and seen[-1].step <= 600 and seen[-1].sequences == seen[-1].step * 2
    assert m.train_state_.step == 600
    assert all(p.sequences_per_second > 0 for p in seen)


def test_fit_accepts_a_task_name_and_learns_addition():
    m = RNN(activation="sigmoid", bias=False, init="uniform", n_steps=10_000, seed=0).fit("add")
    assert m.evaluate(8, n_sequences=200).overall.coarse == 1.0


def test_evaluation_loss_per_symbol_is_the_mean_cross_entropy_of_the_target_symbols():
    """seq eval's loss_per_symbol: the mean of -log p(target) over the target positions
    (it was divided by the number of sequences once too often)."""
    task = tasks.Reverse(vocab_size=4)
    model = LSTM(hidden_size=6, n_steps=20, lengths=(2, 5), optimizer="adam", learning_rate=1e-2, seed=0).fit(task)
    row = model.evaluate((5, 5), n_per_length=7, seed=3).results[0].to_dict()
    batch = task.sample(np.random.default_rng([3, 5]), 7, 5)
    probs = model.predict_proba(batch)
    picked = np.take_along_axis(probs, batch.targets[..., None], axis=-1)[..., 0]
    expected = -(np.log(picked) * batch.mask).sum() / batch.mask.sum()
    assert row["loss_per_symbol"] == pytest.approx(expected, rel=1e-9)
