"""MemoryRNN as an estimator: it learns, saves and resumes exactly, validates its
hyperparameters and inputs, and exposes the memory's behaviour for pictures."""
from __future__ import annotations

import numpy as np
import pytest

import models
from models import MemoryRNN, tasks

SMALL = dict(hidden_size=8, memory_width=4, embedding_size=4, batch_size=4, lengths=(2, 6), curriculum_start=3)


def test_brief_training_learns_reversal_with_a_stack():
    """A few seconds of training (the recipe's sizes, lengths uniform in 4-10): far above
    chance (1/8 per symbol) on reversal, and pushing while reading, popping while writing."""
    model = MemoryRNN(memory="stack", n_steps=300, lengths=(4, 10), curriculum="uniform", curriculum_start=None,
                      seed=0)
    model.fit(tasks.Reverse(vocab_size=8))
    ev = model.evaluate((4, 10), n_sequences=280)
    assert ev.overall.per_symbol > 0.6, ev.overall
    assert ev.overall.coarse > 0.3, ev.overall
    trace = model.memory_trace(model.task_.parse_input(["01234567"]))
    L = 8                                          # source steps 0..7, separator 8, target 9..16
    assert trace["push"][:L].mean() > trace["push"][L + 1:].mean()       # pushes while reading
    assert trace["pop"][L + 1:].mean() > trace["pop"][:L].mean()         # pops while writing


@pytest.mark.parametrize("memory,P", [("stack", 1), ("queue", 1), ("deque", 2)])
def test_memory_trace_shapes_and_invariants(memory, P):
    model = MemoryRNN(memory=memory, n_steps=3, seed=1, **SMALL).fit(tasks.Copy(vocab_size=4))
    trace = model.memory_trace(model.task_.parse_input(["0123"]))
    T = 9
    L = 2 * T if memory == "deque" else T
    assert trace["push"].shape == (T, P) and trace["pop"].shape == (T, P)
    assert trace["strengths"].shape == (T, L) and trace["probs"].shape == (T, 4)
    s = trace["strengths"]
    assert ((s >= 0) & (s <= 1)).all() and ((trace["push"] > 0) & (trace["push"] < 1)).all()
    if memory != "deque":
        np.testing.assert_allclose(np.diag(s), trace["push"][:, 0])    # cell t is pushed at step t
        assert np.triu(s, 1).max() == 0.0                               # no cell before its push
    np.testing.assert_allclose(trace["probs"], model.predict_proba(model.task_.parse_input(["0123"]))[:, 0],
                               atol=1e-12)


def test_parameters_and_initial_biases():
    task = tasks.Reverse(vocab_size=16)
    model = MemoryRNN(seed=0)
    model._setup(task)
    assert model.n_parameters_ == 36818 and model.kind == "lstm+stack"
    assert model.params_["b_mem"][0] == 0.0 and model.params_["b_mem"][1] == -1.0
    queue = MemoryRNN(memory="queue", push_bias=1.5, seed=0)
    queue._setup(task)
    assert queue.params_["b_mem"][0] == 1.5 and queue.params_["b_mem"][1] == -3.0 and queue.pop_bias_ == (-3.0,)
    deque = MemoryRNN(memory="deque", controller="rnn", pop_bias=-2.0, seed=0)
    deque._setup(task)
    # [push top, push bottom, pop top, pop bottom]: by default the bottom end starts closed
    np.testing.assert_array_equal(deque.params_["b_mem"][:4], [0.0, -6.0, -2.0, -2.0])
    pairs = MemoryRNN(memory="deque", push_bias=(1.0, 2.0), pop_bias=[-1.0, -4.0], seed=0)
    pairs._setup(task)
    np.testing.assert_array_equal(pairs.params_["b_mem"][:4], [1.0, 2.0, -1.0, -4.0])
    assert deque.params_["W_mem"].shape == (64, 4 + 2 * 32) and deque.kind == "rnn+deque"
    plain = MemoryRNN(memory=None, seed=0)
    plain._setup(task)
    assert "W_mem" not in plain.params_.shapes and plain.kind == "lstm"
    assert repr(MemoryRNN(memory="queue")) == "MemoryRNN(memory='queue')"


def test_checkpoint_round_trip_and_exact_resume(tmp_path):
    task = tasks.Reverse(vocab_size=4)
    straight = MemoryRNN(memory="queue", n_steps=40, seed=3, aux_hidden=0.2, aux_memory=0.2, **SMALL).fit(task)
    half = MemoryRNN(memory="queue", n_steps=20, seed=3, aux_hidden=0.2, aux_memory=0.2, **SMALL).fit(task)
    path = half.save(tmp_path / "q.ckpt")
    loaded = models.load(path)
    assert isinstance(loaded, MemoryRNN) and loaded.kind == "lstm+queue" and loaded.aux_memory == 0.2
    batch = task.sample(np.random.default_rng(0), 5, 7)
    np.testing.assert_array_equal(loaded.predict_proba(batch), half.predict_proba(batch))
    loaded.set_params(n_steps=40).fit(task, resume=True)
    np.testing.assert_array_equal(loaded.params_.theta, straight.params_.theta)
    np.testing.assert_array_equal(models.load(path, backend="numpy").predict(batch), half.predict(batch))


@pytest.mark.parametrize("params,message", [
    ({"controller": "gru"}, "unknown controller 'gru'; choose one of rnn, lstm"),
    ({"memory": "heap"}, "unknown memory 'heap'; choose one of stack, queue, deque"),
    ({"memory_width": 0}, "memory_width must be an integer >= 1, got 0"),
    ({"embedding_size": -1}, "embedding_size must be an integer >= 0, got -1"),
    ({"pop_bias": float("nan")}, "pop_bias must be a finite number, a"),
    ({"push_bias": "high"}, "push_bias must be a finite number, a (top, bottom) pair of them for the deque"),
    ({"push_bias": (1.0, 2.0, 3.0), "memory": "deque"}, "push_bias must be a finite number, a"),
    ({"pop_bias": (-1.0, -2.0)}, "pop_bias (-1.0, -2.0) is a (top, bottom) pair, which only the deque has"),
    ({"aux_hidden": -0.5}, "aux_hidden must be a number >= 0"),
    ({"memory": None, "aux_memory": 0.1}, "aux_memory needs a memory"),
    ({"stop_gradient": "yes"}, "stop_gradient must be True or False"),
    ({"bias": False}, "MemoryRNN needs bias=True"),
])
def test_bad_hyperparameters_are_named(params, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MemoryRNN(**params)


def test_auxiliary_losses_need_a_symbol_task():
    with pytest.raises(ValueError, match="auxiliary losses predict input symbols and need a symbol task"):
        MemoryRNN(aux_hidden=0.5, n_steps=1).fit("add")


def test_addition_without_separator_trains_without_stop_gradient():
    """No separator: the stop-gradient has nothing to cut; the model still trains."""
    model = MemoryRNN(memory="stack", hidden_size=8, memory_width=3, embedding_size=0, batch_size=4, n_steps=20,
                      lengths=(4, 6), curriculum_start=4, seed=0).fit("add")
    assert model.train_state_.step == 20 and np.isfinite(model.params_.theta).all()


def test_bad_inputs_name_the_problem():
    model = MemoryRNN(memory="deque", n_steps=2, seed=0, **SMALL).fit(tasks.Copy(vocab_size=4))
    with pytest.raises(ValueError, match=r"inputs must have shape \(T, B, 5\) for this model, got \(7, 2, 3\)"):
        model.predict(np.zeros((7, 2, 3)))
    bad = np.zeros((7, 2, 5))
    bad[3, :, 2] = np.nan
    with pytest.raises(ValueError, match="inputs contain NaN or infinite values"):
        model.predict(bad)
    with pytest.raises(ValueError, match=r"memory_trace takes one sequence of shape \(T, 1, 5\), got \(7, 2, 5\)"):
        model.memory_trace(np.zeros((7, 2, 5)))
    with pytest.raises(ValueError, match="inputs contain NaN"):
        model.memory_trace(bad[:, :1])
    with pytest.raises(models.VocabularyError, match="outside the vocabulary"):
        model.memory_trace(model.task_.parse_input(["01x"]))
    plain = MemoryRNN(memory=None, n_steps=1, seed=0, **SMALL).fit(tasks.Copy(vocab_size=4))
    with pytest.raises(ValueError, match="no memory to inspect"):
        plain.memory_trace(np.zeros((5, 1, 5)))


def test_restart_rule_is_reproducible_across_checkpoints(tmp_path, monkeypatch):
    """A run that never learns (threshold 1.0 is out of reach in 10 steps) restarts every
    ``restart_after`` sequences at block ends; an interrupted and resumed run restarts at
    the same steps and ends with the same weights."""
    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)           # blocks of 10 steps here
    task = tasks.Reverse(vocab_size=4)
    params = dict(memory="stack", restart_after=40, curriculum_threshold=1.0, seed=0, **SMALL)
    straight = MemoryRNN(n_steps=60, **params).fit(task)
    assert straight.train_state_.block_steps == 10 and straight.restarts_ == [10, 20, 30, 40, 50]
    half = MemoryRNN(n_steps=30, **params).fit(task, checkpoint=tmp_path / "r.ckpt")
    assert half.restarts_ == [10, 20]                  # never at the step a fit ends with
    resumed = models.load(tmp_path / "r.ckpt")
    assert resumed.restarts_ == [10, 20]
    resumed.set_params(n_steps=60).fit(task, resume=True)
    assert resumed.restarts_ == straight.restarts_
    np.testing.assert_array_equal(resumed.params_.theta, straight.params_.theta)
    assert straight.optimizer_.t == 10                 # the optimizer started again at step 50


def test_restart_draws_fresh_weights_and_spares_learning_runs(monkeypatch):
    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)
    task = tasks.Reverse(vocab_size=4)
    model = MemoryRNN(memory="queue", n_steps=10, restart_after=40, curriculum_threshold=1.0, seed=0, **SMALL)
    model.fit(task)
    before = model.params_.theta.copy()
    model._restart(10)
    fresh = MemoryRNN(memory="queue", seed=0, **SMALL)
    fresh._setup(task)
    assert not np.allclose(model.params_.theta, before)
    assert not np.allclose(model.params_.theta, fresh.params_.theta)       # stream [seed, 0, 1], not [seed, 0]
    assert model.params_["b_mem"][1] == -3.0 and model.optimizer_.t == 0
    easy = MemoryRNN(memory="stack", n_steps=60, restart_after=40, curriculum_threshold=0.01, seed=0, **SMALL)
    assert easy.fit(task).restarts_ == []                                  # learned: no restart
    with pytest.raises(ValueError, match="restart_after must be a number of training sequences >= 1"):
        MemoryRNN(restart_after=0)


def test_final_learning_rate_once_the_longest_lengths_are_trained(tmp_path, monkeypatch):
    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)           # blocks of 10 steps
    task = tasks.Reverse(vocab_size=4)
    params = dict(memory="stack", curriculum_threshold=0.01, final_learning_rate=1e-4, final_decay="constant",
                  restart_after=None, seed=0, **SMALL)
    straight = MemoryRNN(n_steps=40, **params).fit(task)
    first_full = min(r["step"] for r in straight.history_ if r["max_length"] == 6)
    switch = -(-first_full // 10) * 10                  # the end of the first block trained at length 6
    assert switch <= 30 and straight.optimizer_.learning_rate == 1e-4
    half = MemoryRNN(n_steps=switch + 5, **params).fit(task, checkpoint=tmp_path / "lr.ckpt")
    assert half.optimizer_.learning_rate == 1e-4
    resumed = models.load(tmp_path / "lr.ckpt")         # stopped inside a block, after the switch
    resumed.set_params(n_steps=40).fit(task, resume=True)
    np.testing.assert_array_equal(resumed.params_.theta, straight.params_.theta)
    off = MemoryRNN(n_steps=40, **{**params, "final_learning_rate": None}).fit(task)
    assert off.optimizer_.learning_rate == off.learning_rate
    with pytest.raises(ValueError, match="final_learning_rate must be a number > 0"):
        MemoryRNN(final_learning_rate=0.0)


def test_final_learning_rate_decays_linearly_to_the_last_step(tmp_path, monkeypatch):
    """final_decay="linear": from the first block end trained at the longest lengths
    (step s) the rate is final * (n_steps - b) / (n_steps - s) at block end b;
    a run interrupted by Ctrl-C and resumed is identical to an uninterrupted one."""
    import os
    import signal

    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)           # blocks of 10 steps
    task = tasks.Reverse(vocab_size=4)
    params = dict(memory="stack", curriculum_threshold=0.01, final_learning_rate=1e-4, final_decay="linear",
                  restart_after=None, n_steps=60, seed=0, **SMALL)
    rates = {}
    model = MemoryRNN(**params)
    straight = model.fit(task, callback=lambda p: rates.setdefault(p.step, model.optimizer_.learning_rate))
    first_full = min(r["step"] for r in straight.history_ if r["max_length"] == 6)
    switch = -(-first_full // 10) * 10
    assert switch <= 30
    for step, rate in rates.items():
        if step == 60:
            continue                                     # the end: nothing left to decide
        at = step - step % 10                            # decided at the last block end
        expected = straight.learning_rate if at < switch else 1e-4 * (60 - at) / (60 - switch)
        assert rate == pytest.approx(expected, rel=1e-12), step
    assert rates[switch] == pytest.approx(1e-4) and rates[50] < 1e-4 / 2

    def interrupt(progress):
        if progress.step == switch + 10:
            os.kill(os.getpid(), signal.SIGINT)          # Ctrl-C: checkpoint, then KeyboardInterrupt

    path = tmp_path / "decay.ckpt"
    with pytest.raises(KeyboardInterrupt):
        MemoryRNN(**params).fit(task, checkpoint=path, callback=interrupt)
    resumed = models.load(path)
    assert resumed.train_state_.step < 60
    resumed.fit(task, resume=True)
    np.testing.assert_array_equal(resumed.params_.theta, straight.params_.theta)
    with pytest.raises(ValueError, match="final_decay must be 'linear' or 'constant', got 'cosine'"):
        MemoryRNN(final_decay="cosine")


def test_sharpening_starts_with_the_final_phase_and_resumes_exactly(tmp_path, monkeypatch):
    """sharpen acts from the first block end trained at the longest lengths (like the
    final learning rate); a run stopped after that point and resumed is identical to an
    uninterrupted one, and the penalty changes the weights it ends with."""
    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)           # blocks of 10 steps
    task = tasks.Reverse(vocab_size=4)
    params = dict(memory="queue", curriculum_threshold=0.01, sharpen=0.5, restart_after=None, seed=0, **SMALL)
    seen = {}
    model = MemoryRNN(n_steps=40, **params)
    straight = model.fit(task, callback=lambda p: seen.setdefault(p.step, model._fit_kernel.sharpen))
    first_full = min(r["step"] for r in straight.history_ if r["max_length"] == 6)
    switch = -(-first_full // 10) * 10
    assert switch <= 30
    for step, value in seen.items():
        assert value == (0.5 if step - step % 10 >= switch else 0.0), step
    half = MemoryRNN(n_steps=switch + 5, **params).fit(task, checkpoint=tmp_path / "sharp.ckpt")
    resumed = models.load(tmp_path / "sharp.ckpt")
    resumed.set_params(n_steps=40).fit(task, resume=True)
    np.testing.assert_array_equal(resumed.params_.theta, straight.params_.theta)
    plain = MemoryRNN(n_steps=40, **{**params, "sharpen": 0.0}).fit(task)
    assert np.abs(plain.params_.theta - straight.params_.theta).max() > 1e-6
    with pytest.raises(ValueError, match="sharpen must be a number >= 0"):
        MemoryRNN(sharpen=-1.0)


def test_final_phase_at_a_fraction_of_the_steps_with_a_uniform_curriculum(tmp_path, monkeypatch):
    """final_phase_at: the final learning rate and the sharpening start at the first block
    end at or after that fraction of n_steps, where a uniform curriculum would never start
    them; a run interrupted after the switch and resumed is identical to a straight one."""
    import os
    import signal

    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)           # blocks of 10 steps
    task = tasks.Reverse(vocab_size=4)
    params = dict(SMALL, memory="queue", curriculum="uniform", curriculum_start=None, final_learning_rate=1e-4,
                  sharpen=0.5, final_phase_at=0.45, restart_after=None, n_steps=40, seed=0)
    rates, sharp = {}, {}
    model = MemoryRNN(**params)

    def record(p):
        rates.setdefault(p.step, model.optimizer_.learning_rate)
        sharp.setdefault(p.step, model._fit_kernel.sharpen)

    straight = model.fit(task, callback=record)
    switch = 20                                       # 0.45 * 40 = 18 -> the block end at 20
    for step in rates:
        if step == 40:
            continue
        final = step - step % 10 >= switch
        assert rates[step] == (1e-4 if final else straight.learning_rate), step
        assert sharp[step] == (0.5 if final else 0.0), step
    assert max(r["max_length"] for r in straight.history_) == 6              # uniform: always all lengths

    never = MemoryRNN(**{**params, "final_phase_at": None}).fit(task)       # uniform alone: no final phase
    assert never.optimizer_.learning_rate == never.learning_rate
    assert np.abs(never.params_.theta - straight.params_.theta).max() > 1e-6

    def interrupt(progress):
        if progress.step == switch + 10:
            os.kill(os.getpid(), signal.SIGINT)

    path = tmp_path / "phase.ckpt"
    with pytest.raises(KeyboardInterrupt):
        MemoryRNN(**params).fit(task, checkpoint=path, callback=interrupt)
    resumed = models.load(path)
    assert resumed.final_phase_at == 0.45 and resumed.train_state_.step < 40
    resumed.fit(task, resume=True)
    np.testing.assert_array_equal(resumed.params_.theta, straight.params_.theta)

    for bad in (0, 1.5, -0.2, "half", float("nan")):
        with pytest.raises(ValueError, match="final_phase_at must be a fraction of n_steps in"):
            MemoryRNN(final_phase_at=bad)


def test_final_phase_at_or_growing_whichever_comes_first(monkeypatch):
    """With a growing curriculum the final phase starts when it reaches the longest
    lengths or at final_phase_at, whichever comes first."""
    monkeypatch.setattr(MemoryRNN, "block_rows", 4 * 13 * 10)
    task = tasks.Reverse(vocab_size=4)
    params = dict(memory="stack", curriculum_threshold=0.01, final_learning_rate=1e-4, restart_after=None,
                  n_steps=60, seed=0, **SMALL)
    grown = MemoryRNN(**params).fit(task)
    first_full = min(r["step"] for r in grown.history_ if r["max_length"] == 6)
    switch = -(-first_full // 10) * 10
    assert 10 <= switch <= 30
    for at, expected in ((1.0, switch), (10 / 60, 10)):       # later than growing: growing; earlier: at
        rates = {}
        model = MemoryRNN(**params, final_phase_at=at)
        model.fit(task, callback=lambda p: rates.setdefault(p.step, model.optimizer_.learning_rate))
        started = min(s for s, r in rates.items() if r == 1e-4 and s < 60)
        assert started - started % 10 == expected, at
