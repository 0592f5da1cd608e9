"""models.MLP on the toy tables: the issue's targets (XOR learned, lr 1000 diverges, dropout
off at prediction), agreement with a plain numpy training loop written out by hand,
the shared optimizers and dropout, direction counting, divergence, checkpoints, and
the errors users can make."""
from __future__ import annotations

import numpy as np
import pytest

import models
from models import MLP, TrainingDivergedError, UnknownNameError, make_table
from models.ff._diagnostics import DirectionChanges, _streak_above


@pytest.fixture(scope="module")
def xor():
    return make_table("xor")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------- the targets

def test_xor_learned_to_mae_below_001_hidden_4_lr_1_60000_epochs(xor):
    net = MLP(layers=(3, 4, 1), activation="sigmoid", learning_rate=1.0, n_epochs=60_000, seed=0)
    assert net.fit(xor.inputs, xor.targets) is net
    outputs = net.predict(xor.inputs)
    mae = float(np.abs(outputs - xor.targets).mean())
    assert mae < 0.01, f"mean absolute error {mae:.4g} after 60,000 epochs"
    assert net.error_ == pytest.approx(mae, rel=1e-12) and net.error_curve_[-1] == pytest.approx(mae, rel=1e-12)
    assert net.n_epochs_ == 60_000 and net.diverged_at_ is None
    assert net.error_curve_.shape == net.loss_curve_.shape == (60_001,)
    assert net.error_curve_[0] > 0.4                       # it started knowing nothing
    assert np.all(np.diff(net.loss_curve_) <= 1e-12)       # small steps: the full-batch loss never rises
    assert isinstance(net.optimizer_, models.SGD) and net.optimizer_.t == 60_000


def test_lr_1000_diverges_and_fit_says_so(xor):
    net = MLP(layers=(3, 4, 1), learning_rate=1000.0, n_epochs=60_000, seed=0)
    with pytest.raises(TrainingDivergedError, match=r"diverged at epoch \d+: the loss rose above its initial "
                                                    r"value .* Lower the learning rate") as info:
        net.fit(xor.inputs, xor.targets)
    assert info.value.step == net.diverged_at_ == 1        # the first step already overshoots
    assert net.divergence_patience <= net.n_epochs_ < 60_000          # stopped early, not after 60,000 epochs
    assert net.loss_curve_.shape == (net.n_epochs_ + 1,)
    assert np.all(net.loss_curve_[1:] > net.loss_curve_[0])
    assert net.error_ == pytest.approx(0.5, abs=1e-6)      # saturated units: half the rows wrong


def test_dropout_is_off_at_prediction_time(xor):
    net = MLP(layers=(3, 8, 1), dropout=0.5, n_epochs=300, seed=4).fit(xor.inputs, xor.targets)
    p = net.params_
    expected = sigmoid(sigmoid(xor.inputs @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])   # no mask, no rescaling
    first, second = net.predict(xor.inputs), net.predict(xor.inputs)
    np.testing.assert_allclose(first, expected, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(first, second)           # deterministic: no mask drawn
    assert net.error_ == pytest.approx(np.abs(expected - xor.targets).mean(), rel=1e-12)
    # while training, dropout did act: the curve differs from the same network without it
    plain = MLP(layers=(3, 8, 1), dropout=0.0, n_epochs=300, seed=4).fit(xor.inputs, xor.targets)
    assert plain.loss_curve_[0] != net.loss_curve_[0]
    assert not np.allclose(plain.params_.theta, net.params_.theta)


# ---------------------------------------------------------------------------- against a hand-written loop

def reference_training(X, T, W1, b1, W2, b2, lr, epochs, masks=None):
    """The tutorials' loop (squared loss, summed over rows, plain gradient descent),
    with biases and optional fixed-per-epoch dropout masks (N, H)."""
    W1, b1, W2, b2 = (a.copy() for a in (W1, b1, W2, b2))
    losses, thetas = [], [np.concatenate([W1.ravel(), b1, W2.ravel(), b2])]
    for e in range(epochs):
        s1 = sigmoid(X @ W1 + b1)
        a1 = s1 if masks is None else s1 * masks[e]
        o = sigmoid(a1 @ W2 + b2)
        losses.append(0.5 * np.sum((o - T) ** 2))
        d2 = (o - T) * o * (1 - o)
        d1 = (d2 @ W2.T) * (1 if masks is None else masks[e]) * s1 * (1 - s1)
        W2 -= lr * a1.T @ d2
        b2 -= lr * d2.sum(0)
        W1 -= lr * X.T @ d1
        b1 -= lr * d1.sum(0)
        thetas.append(np.concatenate([W1.ravel(), b1, W2.ravel(), b2]))
    return np.array(losses), np.array(thetas)


def reference_direction_changes(thetas):
    counts = np.zeros(thetas.shape[1], dtype=np.int64)
    for j in range(thetas.shape[1]):
        last = 0.0
        for u in np.diff(thetas[:, j]):
            d = np.sign(u)
            if d != 0:
                counts[j] += int(last * d < 0)
                last = d
    return counts


@pytest.mark.parametrize("block_epochs", [1, 7, 1024])
def test_fit_equals_the_plain_numpy_loop(xor, block_epochs, monkeypatch):
    """Weights, losses and direction counts match a loop written out by hand, whatever
    the block size (state carried across blocks)."""
    monkeypatch.setattr(MLP, "block_epochs", block_epochs)
    epochs, lr = 250, 10.0                                  # lr 10: many direction changes to count
    net = MLP(layers=(3, 4, 1), learning_rate=lr, n_epochs=epochs, seed=2).fit(xor.inputs, xor.targets)
    init = MLP(layers=(3, 4, 1), n_epochs=0, seed=2).fit(xor.inputs, xor.targets).params_
    losses, thetas = reference_training(xor.inputs, xor.targets, init["W1"], init["b1"], init["W2"], init["b2"],
                                        lr, epochs)
    np.testing.assert_allclose(net.params_.theta, thetas[-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.loss_curve_[:-1], losses, rtol=1e-9)
    counts = np.concatenate([c.ravel() for c in net.direction_changes_.values()])
    np.testing.assert_array_equal(counts, reference_direction_changes(thetas))
    assert counts.sum() > 20


def test_dropout_training_equals_the_plain_loop_with_the_same_masks(xor, monkeypatch):
    """Dropout masks come from models.dropout_mask (the sequence models' function), drawn
    per block of epochs from default_rng([seed, 1]), (epochs, H, N) transposed per epoch."""
    monkeypatch.setattr(MLP, "block_epochs", 64)
    epochs, rate, seed = 64, 0.3, 5
    net = MLP(layers=(3, 6, 1), dropout=rate, n_epochs=epochs, seed=seed).fit(xor.inputs, xor.targets)
    init = MLP(layers=(3, 6, 1), n_epochs=0, seed=seed).fit(xor.inputs, xor.targets).params_
    masks = models.dropout_mask(np.random.default_rng([seed, 1]), (epochs, 6, 4), rate).transpose(0, 2, 1)
    _, thetas = reference_training(xor.inputs, xor.targets, init["W1"], init["b1"], init["W2"], init["b2"],
                                   1.0, epochs, masks)
    np.testing.assert_allclose(net.params_.theta, thetas[-1], rtol=1e-9, atol=1e-12)


def test_two_layer_network_learns_copy_first_but_not_xor(xor):
    copy = make_table("copy-first")
    net = MLP(layers=(3, 1), n_epochs=10_000).fit(copy.inputs, copy.targets)
    assert net.error_ < 0.02 and set(net.params_) == {"W1", "b1"}
    flat = MLP(layers=(3, 1), n_epochs=10_000).fit(xor.inputs, xor.targets)
    assert flat.error_ > 0.45                              # XOR is not linearly separable


# ---------------------------------------------------------------------------- shared building blocks

def test_optimizers_and_dropout_are_the_sequence_models_own():
    import models.core._dropout
    import models.core._hyper
    import models.core._optim
    import models.ff._mlp

    assert models.ff._mlp.dropout_mask is models.core._dropout.dropout_mask
    # one optimizer factory for both kinds of estimator (their shared base class's)
    assert models.MLP._make_optimizer is models.SequenceModel._make_optimizer
    assert models.core._hyper.make_optimizer is models.core._optim.make_optimizer
    X, y = make_table("xor").inputs, make_table("xor").targets
    for name, cls in models.OPTIMIZERS.items():
        net = MLP(optimizer=name, learning_rate=0.05, n_epochs=30).fit(X, y)
        assert type(net.optimizer_) is cls and net.optimizer_.t == 30
        assert net.optimizer_.theta is net.params_.theta


def test_adam_learns_xor_with_tanh_and_cross_entropy(xor):
    net = MLP(layers=(3, 8, 1), activation="tanh", loss="cross_entropy", optimizer="adam", learning_rate=0.05,
              n_epochs=1500, seed=1).fit(xor.inputs, xor.targets)
    assert net.error_ < 0.01


def test_clip_norm_bounds_every_step(xor):
    net = MLP(learning_rate=1.0, clip_norm=1e-3, n_epochs=50).fit(xor.inputs, xor.targets)
    thetas = MLP(n_epochs=0).fit(xor.inputs, xor.targets).params_.theta
    assert np.linalg.norm(net.params_.theta - thetas) <= 50 * 1e-3 + 1e-12


# ---------------------------------------------------------------------------- bookkeeping

def test_direction_changes_by_hand():
    theta = np.array([0.0, 1.0, 2.0, 1.0, 1.0, 3.0, 2.0])   # updates + + - 0 + -: three changes
    whole = DirectionChanges(1)
    whole.update(theta[:, None])
    assert whole.counts.tolist() == [3]
    pieces = DirectionChanges(1)
    for a, b in ((0, 2), (2, 3), (3, 4), (4, 6)):          # the same path cut into blocks (the zero step alone)
        pieces.update(theta[a:b + 1][:, None])
    assert pieces.counts.tolist() == [3]
    both = DirectionChanges(2)                              # columns are independent
    both.update(np.stack([theta, -theta[::-1]], axis=1))
    assert both.counts.tolist() == [3, 3]


def test_streak_of_losses_above_the_start_carries_over_blocks():
    assert _streak_above(np.array([0.4, 0.6, 0.7]), 0.5, 0, 3) == (2, None)
    assert _streak_above(np.array([0.6, 0.2, 0.6]), 0.5, 5, 6) == (1, 0)     # 5 carried + 1 = 6 at index 0
    assert _streak_above(np.array([0.6, 0.6, 0.6]), 0.5, 1, 3) == (4, 1)


def test_no_divergence_check_when_patience_is_none(xor):
    net = MLP(learning_rate=1000.0, n_epochs=1500, divergence_patience=None).fit(xor.inputs, xor.targets)
    assert net.n_epochs_ == 1500 and net.diverged_at_ is None


def test_an_infinite_gradient_stops_training_at_once():
    net = MLP(layers=(1, 3, 1), activation="relu", loss="cross_entropy", n_epochs=5000)
    with pytest.raises(TrainingDivergedError, match="gradient's norm became inf") as info:
        net.fit([[1e300]], [[1.0]])
    assert info.value.step == 0 and net.n_epochs_ == 1
    assert np.isfinite(net.params_.theta).all()            # the optimizer skipped the update


def test_callback_reports_progress_by_block(xor, monkeypatch):
    monkeypatch.setattr(MLP, "block_epochs", 100)
    seen = []
    MLP(n_epochs=250).fit(xor.inputs, xor.targets, callback=seen.append)
    assert [p.epoch for p in seen] == [100, 200, 250]
    assert all(p.n_epochs == 250 and p.epochs_per_second > 0 and 0 < p.error < 1 for p in seen)


def test_same_seed_same_weights_other_seed_other_weights(xor):
    a = MLP(dropout=0.2, n_epochs=200, seed=3).fit(xor.inputs, xor.targets).params_.theta
    b = MLP(dropout=0.2, n_epochs=200, seed=3).fit(xor.inputs, xor.targets).params_.theta
    c = MLP(dropout=0.2, n_epochs=200, seed=4).fit(xor.inputs, xor.targets).params_.theta
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_hyperparameters_sklearn_style():
    net = MLP(layers=(3, 5, 1), activation="tanh")
    params = net.get_params()
    assert params["layers"] == (3, 5, 1) and params["activation"] == "tanh" and params["learning_rate"] == 1.0
    assert net.set_params(learning_rate=0.5) is net and net.learning_rate == 0.5
    assert repr(net) == "MLP(layers=(3, 5, 1), activation='tanh', learning_rate=0.5)"
    assert not [k for k in vars(net) if k.endswith("_") and not k.startswith("_")]     # nothing learned yet
    with pytest.raises(ValueError, match="no hyperparameter 'hidden'"):
        net.set_params(hidden=3)
    with pytest.raises(ValueError, match="not fitted yet"):
        net.predict([[0, 0, 1]])


def test_save_and_load_round_trip(tmp_path, xor):
    net = MLP(layers=(3, 4, 1), optimizer="momentum", learning_rate=0.5, n_epochs=300).fit(xor.inputs, xor.targets)
    path = net.save(tmp_path / "xor.ckpt")
    back = models.load(path)
    assert isinstance(back, MLP) and back.get_params() == net.get_params()
    np.testing.assert_array_equal(back.predict(xor.inputs), net.predict(xor.inputs))
    np.testing.assert_array_equal(back.error_curve_, net.error_curve_)
    np.testing.assert_array_equal(back.optimizer_.state[0], net.optimizer_.state[0])
    assert back.n_epochs_ == 300 and back.direction_changes_["W1"].shape == (3, 4)


def test_load_in_a_fresh_process(tmp_path, xor):
    """models imports lazily: models.load must find the MLP class without a prior import."""
    import subprocess
    import sys

    path = MLP(n_epochs=20).fit(xor.inputs, xor.targets).save(tmp_path / "xor.ckpt")
    code = f"import models; print(type(models.load({str(path)!r})).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "MLP"


# ---------------------------------------------------------------------------- bad input

def test_unknown_table_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="unknown table 'and'; choose one of xor, copy-first"):
        make_table("and")


@pytest.mark.parametrize("kwargs,valid", [({"activation": "softmax"}, "sigmoid, tanh, relu"),
                                          ({"loss": "hinge"}, "squared, cross_entropy"),
                                          ({"optimizer": "adagrad"}, "sgd, momentum, rmsprop, adam"),
                                          ({"init": "zeros"}, "glorot, uniform"),
                                          ({"backend": "gpu"}, "cython, numpy")])
def test_unknown_names_list_the_valid_ones(kwargs, valid):
    with pytest.raises(UnknownNameError, match=valid):
        MLP(**kwargs)


@pytest.mark.parametrize("layers,match", [
    ((3,), r"at least the input and the output size, e\.g\. \(3, 1\)"),
    ((), "at least the input and the output size"),
    ((3, 0, 1), r"layers\[1\] must be an integer >= 1 \(a layer size\), got 0"),
    ((3, -4, 1), r"layers\[1\] must be an integer >= 1"),
    ((3, 2.5, 1), r"layers\[1\] must be an integer >= 1.*got 2\.5"),
    ((3, True, 1), r"layers\[1\]"),
    ("341", "a sequence of layer sizes such as"),
    (4, "a sequence of layer sizes such as"),
])
def test_bad_layer_sizes(layers, match):
    with pytest.raises(ValueError, match=match):
        MLP(layers=layers)


@pytest.mark.parametrize("lr", [0, -1.0, float("nan"), float("inf"), "1"])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match="learning_rate must be"):
        MLP(learning_rate=lr)


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, float("nan"), "0.2", None])
def test_dropout_outside_zero_one(rate):
    with pytest.raises(ValueError, match=r"dropout must"):
        MLP(dropout=rate)


@pytest.mark.parametrize("kwargs,match", [({"n_epochs": -1}, "n_epochs must be an integer >= 0"),
                                          ({"n_epochs": 10.0}, "n_epochs must be an integer"),
                                          ({"divergence_patience": 0}, "divergence_patience must be an integer >= 1"),
                                          ({"seed": -2}, "seed must be an integer >= 0"),
                                          ({"bias": "yes"}, "bias must be True or False"),
                                          ({"clip_norm": 0}, "clip_norm must be > 0"),
                                          ({"momentum": 1.0}, "momentum must be < 1")])
def test_other_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


@pytest.mark.parametrize("X,y,match", [
    ([[0, 0], [1, 1]], [0, 1], r"X must have shape \(n_rows, 3\), got \(2, 2\); the network's layers \(3, 4, 1\) "
                               r"take 3 inputs"),
    ([[0, 0, 1]], [[0, 1]], r"y must have shape \(n_rows, 1\), got \(1, 2\)"),
    ([[0, 0, 1], [1, 1, 1]], [0], "X has 2 rows but y has 1"),
    ([[0, 0, 1]], [2.0], r"y must lie in \[0, 1\].*rescale"),
    ([[0, np.nan, 1]], [0], "X contains NaN"),
    (np.zeros((0, 3)), np.zeros((0, 1)), "X has no rows"),
    ([["a", "b", "c"]], [0], "X must be an array of numbers"),
])
def test_bad_data(X, y, match):
    with pytest.raises(ValueError, match=match):
        MLP(n_epochs=1).fit(X, y)


def test_dropout_needs_a_hidden_layer():
    with pytest.raises(ValueError, match=r"dropout=0\.5 acts on hidden layers and layers=\(3, 1\) has none"):
        MLP(layers=(3, 1), dropout=0.5)
