"""The Cython kernels compute the numbers of their numpy references (to 1e-10), on random
shapes on both sides of the BLAS threshold (tiny products run as loops, larger ones
through dgemm)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.core import _updates, _updates_ref
from models.recurrent import _lstm, _lstm_ref, _rnn, _rnn_ref
from models.training._metrics import batch_metric_sums, correct_positions
from seq_helpers import lstm_shapes, random_block, random_params, rnn_shapes

TOL = 1e-10

shapes = st.tuples(st.integers(1, 9), st.integers(1, 12), st.integers(1, 14), st.integers(1, 40),
                   st.integers(1, 9))        # T, B, I, H, O


def close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    assert a.shape == b.shape
    err = float(np.abs(a - b).max(initial=0.0)) / scale
    assert err <= tol, f"max relative difference {err:.3g} > {tol}"


def scaled(rng, shape, scale):
    return rng.normal(scale=scale, size=shape)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), act=st.sampled_from(["tanh", "sigmoid"]),
       bias=st.booleans())
def test_rnn_sequence_functions(shape, seed, act, bias):
    T, B, I, H, _ = shape
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, B, I))
    W_xh, W_hh = scaled(rng, (I, H), 1 / np.sqrt(I)), scaled(rng, (H, H), 0.9 / np.sqrt(H))
    b_h = rng.normal(size=H) if bias else None
    out = {}
    for name, mod in (("cy", _rnn), ("np", _rnn_ref)):
        Hs = np.zeros((T + 1, B, H))
        Hs[0] = rng.normal(size=(B, H)) if name == "cy" else out["cy"][0][0]
        mod.rnn_forward(X, W_xh, W_hh, b_h, act, Hs)
        dHs = np.random.default_rng(seed + 1).normal(size=(T, B, H))
        dA, dX, dh0 = np.empty((T, B, H)), np.empty((T, B, I)), np.empty((B, H))
        dW_xh, dW_hh = np.ones((I, H)), np.ones((H, H))           # accumulated into
        db_h = np.ones(H) if bias else None
        mod.rnn_bptt(X, Hs, W_xh, W_hh, act, dHs, dA, dX, dW_xh, dW_hh, db_h, dh0)
        out[name] = (Hs, dA, dX, dh0, dW_xh, dW_hh, db_h)
    for a, b in zip(out["cy"], out["np"]):
        if a is not None:
            close(a, b)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), bias=st.booleans())
def test_lstm_sequence_functions(shape, seed, bias):
    T, B, I, H, _ = shape
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, B, I))
    W_x, W_h = scaled(rng, (I, 4 * H), 1 / np.sqrt(I)), scaled(rng, (H, 4 * H), 1 / np.sqrt(H))
    b = rng.normal(size=4 * H) if bias else None
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    dHs = rng.normal(size=(T, B, H))
    out = {}
    for name, mod in (("cy", _lstm), ("np", _lstm_ref)):
        Hs, Cs = np.zeros((T + 1, B, H)), np.zeros((T + 1, B, H))
        Hs[0], Cs[0] = h0, c0
        G, tanhC = np.empty((T, B, 4 * H)), np.empty((T, B, H))
        mod.lstm_forward(X, W_x, W_h, b, Hs, Cs, G, tanhC)
        dG, dX = np.empty((T, B, 4 * H)), np.empty((T, B, I))
        dh0, dc0 = np.empty((B, H)), np.empty((B, H))
        dW_x, dW_h = np.ones((I, 4 * H)), np.ones((H, 4 * H))
        db = np.ones(4 * H) if bias else None
        mod.lstm_bptt(X, Hs, Cs, G, tanhC, W_x, W_h, dHs, dG, dX, dW_x, dW_h, db, dh0, dc0)
        out[name] = (Hs, Cs, G, tanhC, dG, dX, dh0, dc0, dW_x, dW_h, db)
    for a, b_ in zip(out["cy"], out["np"]):
        if a is not None:
            close(a, b_)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), act=st.sampled_from(["tanh", "sigmoid"]))
def test_step_functions(shape, seed, act):
    _, B, I, H, _ = shape
    rng = np.random.default_rng(seed)
    x, h_prev, c_prev = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    dh, dc = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    W_xh, W_hh, b_h = rng.normal(size=(I, H)), rng.normal(size=(H, H)) / 4, rng.normal(size=H)
    W_x, W_h, b = rng.normal(size=(I, 4 * H)), rng.normal(size=(H, 4 * H)) / 4, rng.normal(size=4 * H)
    res = {}
    for name, rnn, lstm in (("cy", _rnn, _lstm), ("np", _rnn_ref, _lstm_ref)):
        h = np.empty((B, H))
        rnn.rnn_step_forward(x, h_prev, W_xh, W_hh, b_h, act, h)
        da, dx, dhp = np.empty((B, H)), np.empty((B, I)), np.empty((B, H))
        gW = [np.zeros((I, H)), np.zeros((H, H)), np.zeros(H)]
        rnn.rnn_step_backward(x, h_prev, h, W_xh, W_hh, act, dh, da, dx, dhp, *gW)
        g, c, tc, hl = np.empty((B, 4 * H)), np.empty((B, H)), np.empty((B, H)), np.empty((B, H))
        lstm.lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b, g, c, tc, hl)
        dg, dxl, dhl, dcl = np.empty((B, 4 * H)), np.empty((B, I)), np.empty((B, H)), np.empty((B, H))
        gL = [np.zeros((I, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)]
        lstm.lstm_step_backward(x, h_prev, c_prev, g, tc, W_x, W_h, dh, dc, dg, dxl, dhl, dcl, *gL)
        res[name] = [h, da, dx, dhp, *gW, g, c, tc, hl, dg, dxl, dhl, dcl, *gL]
    for a, b_ in zip(res["cy"], res["np"]):
        close(a, b_)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
@pytest.mark.parametrize("T,B,I,H,O", [(5, 3, 4, 6, 3), (8, 1, 2, 16, 1), (12, 10, 9, 48, 7)])
@pytest.mark.parametrize("bias", [True, False])
def test_model_kernels(kind, head, T, B, I, H, O, bias):
    """Whole-model kernels: loss, probabilities and every gradient, with and without dropout,
    on a bound block, plus forward-only and smaller batches than the capacity."""
    rng = np.random.default_rng(T * 100 + B * 10 + H + O + bias)
    shapes = rnn_shapes(I, H, O, bias) if kind == "rnn" else lstm_shapes(I, H, O, bias)
    ps_c = random_params(rng, shapes, scale=0.4)
    ps_n = random_params(rng, shapes)
    ps_n.theta[:] = ps_c.theta
    n = 3
    inputs, targets, mask, _ = random_block(rng, n, T, B, I, O, head)
    probs = {"cy": np.zeros((n, T, B, O)), "np": np.zeros((n, T, B, O))}
    x_keep = (rng.random((T * (B + 2), I)) < 0.8) / 0.8
    h_keep = (rng.random((T * (B + 2), H)) < 0.8) / 0.8
    kernels = {}
    stats = {"cy": np.zeros((n, 4)), "np": np.zeros((n, 4))}
    for name, ps, mod in (("cy", ps_c, _rnn if kind == "rnn" else _lstm),
                          ("np", ps_n, _rnn_ref if kind == "rnn" else _lstm_ref)):
        extra = {"activation": "tanh"} if kind == "rnn" else {}
        cls = mod.RNNKernel if kind == "rnn" else mod.LSTMKernel
        k = cls(ps.values, ps.grads, head=head, batch_size=B + 2, max_length=T, **extra)
        k.bind(inputs, targets, mask, probs[name], stats[name])
        k.set_dropout(x_keep, h_keep)
        kernels[name] = (k, ps)
    for dropout in (False, True):
        for j in range(n):
            losses = {name: k.loss_and_grad(j, dropout) for name, (k, _) in kernels.items()}
            assert abs(losses["cy"] - losses["np"]) <= TOL * max(1.0, abs(losses["np"]))
            close(kernels["cy"][1].grad, kernels["np"][1].grad)
            close(probs["cy"][j], probs["np"][j])
            # the kernels' accuracy counts are those of the metrics module on their probabilities
            sums = batch_metric_sums(correct_positions(head, probs["cy"][j:j + 1], targets[j:j + 1]), mask[j:j + 1])
            expected = [sums[f][0] for f in ("n_symbols", "correct_symbols", "correct_sequences", "fine_sum")]
            np.testing.assert_allclose(stats["cy"][j], expected, rtol=1e-12)
    for name, (k, _) in kernels.items():
        probs[name][:] = 0
        losses = [k.forward(j) for j in range(n)]
        kernels[name] = (k, losses)
    close(probs["cy"], probs["np"])
    close(kernels["cy"][1], kernels["np"][1])


@pytest.mark.parametrize("rule", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("clip", [0.0, 0.5])
def test_update_kernels(rule, clip):
    rng = np.random.default_rng(7)
    P = 37
    arrays = {name: [rng.normal(size=P) for _ in range(2)] + [np.zeros(P), np.zeros(P)]
              for name in ("cy", "np")}
    arrays["np"] = [a.copy() for a in arrays["cy"]]
    kern = {name: mod.UpdateKernel(rule, *arrays[name], lr=0.05, clip_norm=clip, h1=0.9, h2=0.99, eps=1e-8)
            for name, mod in (("cy", _updates), ("np", _updates_ref))}
    for _ in range(5):
        g = rng.normal(size=P) * 3
        for name in kern:
            arrays[name][1][:] = g
        norms = {name: kern[name].step() for name in kern}
        assert abs(norms["cy"] - norms["np"]) <= 1e-12 * norms["np"]
        for a, b in zip(arrays["cy"], arrays["np"]):
            close(a, b, 1e-12)
    assert kern["cy"].t == kern["np"].t == 5


def test_run_steps_matches_stepwise_loop():
    """kernel.run_steps (no Python between steps) equals loss_and_grad + optimizer.step."""
    rng = np.random.default_rng(3)
    shapes = lstm_shapes(3, 8, 4)
    for mod, upd in ((_lstm, _updates), (_lstm_ref, _updates_ref)):
        ps1 = random_params(rng, shapes)
        ps2 = random_params(rng, shapes)
        ps2.theta[:] = ps1.theta
        inputs, targets, mask, probs = random_block(rng, 6, 5, 2, 3, 4, "softmax")
        k1 = mod.LSTMKernel(ps1.values, ps1.grads, head="softmax", batch_size=2, max_length=5)
        k2 = mod.LSTMKernel(ps2.values, ps2.grads, head="softmax", batch_size=2, max_length=5)
        k1.bind(inputs, targets, mask, probs.copy())
        k2.bind(inputs, targets, mask, probs.copy())
        o1 = upd.UpdateKernel("adam", ps1.theta, ps1.grad, np.zeros(ps1.size), np.zeros(ps1.size), lr=0.01,
                              h1=0.9, h2=0.999, eps=1e-8)
        o2 = upd.UpdateKernel("adam", ps2.theta, ps2.grad, np.zeros(ps2.size), np.zeros(ps2.size), lr=0.01,
                              h1=0.9, h2=0.999, eps=1e-8)
        order = np.array([0, 3, 1, 5, 2], dtype=np.int64)
        losses, norms = np.zeros(5), np.zeros(5)
        assert k1.run_steps(o1, order, losses, norms) == 5
        for i, k in enumerate(order):
            assert k2.loss_and_grad(int(k)) == losses[i]
            assert o2.step() == norms[i]
        np.testing.assert_array_equal(ps1.theta, ps2.theta)


def test_run_steps_stops_at_nan():
    rng = np.random.default_rng(4)
    shapes = rnn_shapes(2, 5, 1)
    for mod, upd in ((_rnn, _updates), (_rnn_ref, _updates_ref)):
        ps = random_params(rng, shapes)
        inputs, targets, mask, probs = random_block(rng, 4, 3, 1, 2, 1, "sigmoid")
        inputs[2, 1, 0, 0] = np.nan
        k = mod.RNNKernel(ps.values, ps.grads, activation="tanh", head="sigmoid", batch_size=1, max_length=3)
        k.bind(inputs, targets, mask, probs)
        opt = upd.UpdateKernel("sgd", ps.theta, ps.grad, lr=0.1)
        losses, norms = np.zeros(4), np.zeros(4)
        before = None
        done = k.run_steps(opt, np.arange(4, dtype=np.int64), losses, norms)
        assert done == 2 and np.isnan(losses[2])
        assert np.isfinite(ps.theta).all() and opt.t == 2
        del before


def test_kernel_shape_checks():
    rng = np.random.default_rng(0)
    ps = random_params(rng, rnn_shapes(2, 4, 3))
    k = _rnn.RNNKernel(ps.values, ps.grads, activation="tanh", head="softmax", batch_size=2, max_length=5)
    with pytest.raises(ValueError, match="does not fit"):
        k.bind(*random_block(rng, 1, 6, 2, 2, 3, "softmax"))
    with pytest.raises(ValueError, match="features per step"):
        k.bind(*random_block(rng, 1, 5, 2, 3, 3, "softmax"))
    inputs, targets, mask, probs = random_block(rng, 1, 5, 2, 2, 3, "softmax")
    with pytest.raises(ValueError, match="target ids"):
        k.bind(inputs, targets + 5, mask, probs)
    with pytest.raises(ValueError, match="no block bound"):
        k.loss_and_grad(0)
    k.bind(inputs, targets, mask, probs)
    with pytest.raises(IndexError):
        k.loss_and_grad(1)
    with pytest.raises(ValueError, match="activation"):
        _rnn.RNNKernel(ps.values, ps.grads, activation="relu", head="softmax", batch_size=2, max_length=5)
    with pytest.raises(ValueError, match="must have shape"):
        _rnn.rnn_forward(np.zeros((3, 2, 2)), ps["W_xh"], ps["W_hh"], None, "tanh", np.zeros((3, 2, 4)))


def test_portable_simd_path_matches_the_reference():
    """The SSE2 build of the small kernels (what processors without AVX2 run) agrees with
    numpy too: rerun a slice of the parity tests with WORDSTACK_SIMD=sse2."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import models; assert models.load_kernels('rnn', 'cython').simd_level() == 0; "
            "import test_kernel_parity as t; "
            "[t.test_model_kernels(k, h, *shape, True) for k in ('rnn', 'lstm') for h in ('softmax', 'sigmoid') "
            "for shape in ((5, 3, 4, 6, 3), (8, 1, 2, 16, 1))]; print('ok')")
    env = {**os.environ, "WORDSTACK_SIMD": "sse2"}
    here = Path(__file__).parent
    result = subprocess.run([sys.executable, "-c", code], cwd=here, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


_SAME_BITS_CODE = """
import hashlib, numpy as np
from models import MemoryRNN, tasks
from models._kernels import simd_level
task = tasks.make_task("reverse_string")
parts = []
for memory in ("stack", "queue", "deque", None):
    for controller in ("lstm", "rnn"):
        m = MemoryRNN(controller=controller, memory=memory, hidden_size=64, memory_width=32, embedding_size=32,
                      batch_size=16, n_steps=20, lengths=(1, 40), curriculum="uniform", stop_gradient=False,
                      seed=3, n_threads=1)
        m.fit(task)
        parts.append(m.predict_proba(task.sample(np.random.default_rng(1), 16, 60)).tobytes())
print(simd_level(), hashlib.sha256(b"".join(parts)).hexdigest())
"""


def test_avx512_products_are_bit_identical_to_avx2():
    """On a processor with AVX-512 the per-step products run their AVX-512 version; it must
    give the very bits of the AVX2 one, so that a seeded run (training included: every
    product of 20 steps of each memory and controller, at the recipe's batch 16, hidden 64
    and width 32, then a prediction) is the same on either kind of machine."""
    import os
    import subprocess
    import sys

    from models._kernels import simd_level

    if simd_level() != "avx512":
        pytest.skip(f"this processor runs the {simd_level()} kernels; the AVX-512 products need AVX-512F")
    runs = {}
    for force in ("", "avx2"):
        env = {**os.environ, "WORDSTACK_SIMD": force}
        result = subprocess.run([sys.executable, "-c", _SAME_BITS_CODE], env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        runs[force] = result.stdout.split()
    assert runs[""][0] == "avx512" and runs["avx2"][0] == "avx2"
    assert runs[""][1] == runs["avx2"][1]
