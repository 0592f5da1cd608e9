"""The fused Cython kernel of MemoryRNN computes the numbers of the numpy reference
(losses, probabilities, every gradient, the memory trace) to 1e-10, and training on
either backend ends with the same weights."""
from __future__ import annotations

import numpy as np
import pytest

import models
from models import tasks
from memory_rnn_helpers import CONTROLLERS, MEMORIES, tiny_model


def run(backend, controller, memory, **options):
    model, kernel, block, probs = tiny_model(controller, memory, backend, vocab=5, hidden=7, width=4, embedding=6,
                                             batch=3, length=6, n_batches=2, max_length=20, **options)
    loss = kernel.loss_and_grad(1)
    out = {"loss": loss, "aux": kernel.aux_loss, "grad": model.params_.grad.copy()}
    out["forward_loss"] = kernel.forward(0)
    out["probs"] = probs.copy()
    if memory is not None:
        out.update(kernel.memory_trace())
    return out


@pytest.mark.parametrize("stop_gradient", [False, True])
@pytest.mark.parametrize("memory", MEMORIES)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_cython_matches_numpy(controller, memory, stop_gradient):
    aux = 0.2 if memory is not None else 0.0
    a = run("numpy", controller, memory, stop_gradient=stop_gradient, aux=aux)
    b = run("cython", controller, memory, stop_gradient=stop_gradient, aux=aux)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=0, atol=1e-10, err_msg=key)
    assert np.abs(a["grad"]).max() > 0


def test_embedding_free_model_and_dropout_match():
    """embedding_size=0 feeds the one-hot inputs directly; dropout masks are applied the
    same way by both kernels."""
    results = []
    for backend in ("numpy", "cython"):
        model, kernel, block, probs = tiny_model("lstm", "queue", backend, embedding=0, length=4)
        rows = kernel.max_length * kernel.batch_size
        rng = np.random.default_rng(5)
        x_keep = (rng.random((rows, model.task_.n_inputs)) < 0.8) / 0.8
        h_keep = (rng.random((rows, model.hidden_size)) < 0.8) / 0.8
        kernel.set_dropout(x_keep, h_keep)
        loss = kernel.loss_and_grad(0, True)
        results.append((loss, model.params_.grad.copy(), probs.copy()))
    assert "E" not in model.params_.shapes
    for x, y in zip(*results):
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-10)


@pytest.mark.parametrize("memory", ["stack", "deque"])
def test_training_on_either_backend_gives_the_same_weights(memory):
    params = dict(memory=memory, hidden_size=6, memory_width=3, embedding_size=4, batch_size=4, n_steps=30,
                  lengths=(2, 5), curriculum_start=3, seed=2, aux_hidden=0.1, aux_memory=0.1)
    task = tasks.Reverse(vocab_size=4)
    a = models.MemoryRNN(backend="cython", **params).fit(task)
    b = models.MemoryRNN(backend="numpy", **params).fit(task)
    np.testing.assert_allclose(a.params_.theta, b.params_.theta, rtol=0, atol=1e-9)
    assert a.history_[-1]["loss"] == pytest.approx(b.history_[-1]["loss"], abs=1e-9)
