"""MemoryRNN(controls="softmax"): each end's push and pop strengths from one softmax over
(push, pop, no-op) logits instead of two sigmoids. Gradients against finite differences,
the Cython kernel against the numpy reference, the strengths against a hand computation,
checkpoints, and the default (sigmoid) left as it was."""
from __future__ import annotations

import math

import numpy as np
import pytest

import models
from models import MemoryRNN, tasks
from memory_rnn_helpers import BACKENDS, CONTROLLERS, tiny_model
from test_memory_rnn_gradients import finite_difference_check

MEMORIES = ("stack", "queue", "deque")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", MEMORIES)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_softmax_controls_gradient_matches_finite_differences(controller, memory, backend):
    aux = backend == "cython" or memory == "stack"
    model, kernel, _, _ = tiny_model(controller, memory, backend, controls="softmax", aux=0.3 if aux else 0.0)
    _, analytic, numeric = finite_difference_check(kernel, model, aux=aux)
    # relative 1e-5, or 2e-9 absolute: the central differences' rounding error (objective ~4,
    # eps 1e-6: 4 * 2^-52 / 1e-6 ~ 1e-9) on the few gradients of a few 1e-6
    excess = np.abs(analytic - numeric) - (1e-5 * (np.abs(analytic) + np.abs(numeric)) + 2e-9)
    worst = int(excess.argmax())
    names = [n for n, s in model.params_.shapes.items() for _ in range(int(np.prod(s)))]
    assert excess.max() <= 0, (f"{names[worst]}: analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g}")
    P = 2 if memory == "deque" else 1
    assert np.abs(model.params_.grads["b_mem"][-P:]).min() > 0          # the no-op logits learn too


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", MEMORIES)
def test_softmax_controls_with_sharpening_gradient(memory, backend):
    model, kernel, _, _ = tiny_model("lstm", memory, backend, controls="softmax", sharpen=0.7)
    error, analytic, numeric = finite_difference_check(kernel, model, aux=True)
    assert error.max() < 5e-5
    assert kernel.aux_loss > 0


def _run(backend, controller, memory, **options):
    model, kernel, block, probs = tiny_model(controller, memory, backend, vocab=5, hidden=7, width=4, embedding=6,
                                             batch=3, length=6, n_batches=2, max_length=20, controls="softmax",
                                             **options)
    out = {"loss": kernel.loss_and_grad(1), "aux": kernel.aux_loss, "grad": model.params_.grad.copy()}
    out["forward_loss"] = kernel.forward(0)
    out["probs"] = probs.copy()
    out.update(kernel.memory_trace())
    return out


@pytest.mark.parametrize("stop_gradient", [False, True])
@pytest.mark.parametrize("memory", MEMORIES)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_softmax_controls_cython_matches_numpy(controller, memory, stop_gradient):
    a = _run("numpy", controller, memory, stop_gradient=stop_gradient, aux=0.2, sharpen=0.3)
    b = _run("cython", controller, memory, stop_gradient=stop_gradient, aux=0.2, sharpen=0.3)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=0, atol=1e-10, err_msg=key)
    assert (a["push"] + a["pop"]).max() < 1.0                       # the no-op keeps a share


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", ("stack", "deque"))
def test_softmax_strengths_are_the_softmax_of_the_biases(memory, backend):
    """With W_mem = 0 every step's logits are b_mem: push, pop = e^a, e^b over e^a + e^b + e^c,
    computed here by hand for each end."""
    model, kernel, _, _ = tiny_model("lstm", memory, backend, controls="softmax")
    P = 2 if memory == "deque" else 1
    W = model.memory_width
    model.params_["W_mem"][...] = 0.0
    b = model.params_["b_mem"]
    logits = [(1.0, -1.0, 0.5), (-2.0, 0.3, 1.2)][:P]                 # (push, pop, no-op) per end
    for p, (push, pop, noop) in enumerate(logits):
        b[p], b[P + p], b[2 * P + P * W + p] = push, pop, noop
    kernel.forward(0)
    trace = kernel.memory_trace()
    for p, (push, pop, noop) in enumerate(logits):
        total = math.exp(push) + math.exp(pop) + math.exp(noop)
        np.testing.assert_allclose(trace["push"][:, :, p], math.exp(push) / total, rtol=1e-14)
        np.testing.assert_allclose(trace["pop"][:, :, p], math.exp(pop) / total, rtol=1e-14)


def test_softmax_controls_add_one_no_op_column_per_end():
    task = tasks.Reverse(vocab_size=4)
    for memory, P in (("stack", 1), ("queue", 1), ("deque", 2)):
        sig = MemoryRNN(memory=memory, seed=0)
        sig._setup(task)
        soft = MemoryRNN(memory=memory, controls="softmax", seed=0)
        soft._setup(task)
        K = 2 * P + P * 32
        assert sig.params_["W_mem"].shape == (64, K) and sig.params_["b_mem"].shape == (K,)
        assert soft.params_["W_mem"].shape == (64, K + P) and soft.params_["b_mem"].shape == (K + P,)
        np.testing.assert_array_equal(soft.params_["b_mem"][:2 * P], sig.params_["b_mem"][:2 * P])
        np.testing.assert_array_equal(soft.params_["b_mem"][K:], 0.0)      # the no-op's initial logit


def test_softmax_controls_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="controls must be one of 'sigmoid', 'softmax', got 'argmax'"):
        MemoryRNN(controls="argmax")
    from models.estimators import _memory_rnn_ref as ref
    from models.estimators._memory_model import memory_rnn_kernels

    model, *_ = tiny_model("lstm", "stack", "cython")
    for module in (memory_rnn_kernels("cython"), ref):
        with pytest.raises(ValueError, match="controls must be one of"):
            module.MemoryRNNKernel(model.params_.values, model.params_.grads, batch_size=2, max_length=4,
                                   **model._kernel_options() | {"controls": "argmax"})


def test_softmax_controls_train_and_checkpoint(tmp_path):
    """A few seconds of training on reversal: far above the untrained model and pushing
    while reading, popping while writing; a checkpoint keeps the setting and the
    predictions (both backends)."""
    task = tasks.Reverse(vocab_size=8)
    options = dict(memory="stack", controls="softmax", lengths=(4, 10), curriculum="uniform", curriculum_start=None,
                   seed=0)
    model = MemoryRNN(n_steps=300, **options).fit(task)
    untrained = MemoryRNN(n_steps=1, **options).fit(task)
    batch = task.sample(np.random.default_rng(0), 200, 7)
    trained_acc, untrained_acc = model.metrics(batch).per_symbol, untrained.metrics(batch).per_symbol
    assert trained_acc > untrained_acc + 0.2, (trained_acc, untrained_acc)
    trace = model.memory_trace(model.task_.parse_input(["01234567"]))
    L = 8
    assert (trace["push"] + trace["pop"]).max() <= 1.0
    assert trace["push"][:L].mean() > trace["push"][L + 1:].mean()
    assert trace["pop"][L + 1:].mean() > trace["pop"][:L].mean()
    path = model.save(tmp_path / "s.ckpt")
    loaded = models.load(path)
    assert loaded.controls == "softmax" and loaded.params_["b_mem"].shape == (2 + 32 + 1,)
    np.testing.assert_array_equal(loaded.predict_proba(batch), model.predict_proba(batch))
    np.testing.assert_allclose(models.load(path, backend="numpy").predict_proba(batch), model.predict_proba(batch),
                               rtol=0, atol=1e-10)
