"""Inference of the memory models keeps no per-step strengths (issue 12, item 9): the
probabilities are those of the full-history (training) forward pass, memory grows with
T, not T^2, evaluation reports progress, and inputs past the memory limit are refused
with an error that names it."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import models
from models import MemoryRNN, tasks
from models.estimators._base import SequenceModel
from memory_rnn_helpers import BACKENDS, CONTROLLERS, MEMORIES, tiny_model

MiB = 1 << 20


def full_history_probs(model, batch):
    """Probabilities (and loss) from the training kernel's forward pass (strengths of every step kept)."""
    T, B = batch.inputs.shape[:2]
    kernel = model._new_kernel(B, T)
    probs = np.zeros((1, T, B, model.task_.n_outputs))
    kernel.bind(np.ascontiguousarray(batch.inputs)[None], np.ascontiguousarray(batch.targets)[None],
                np.ascontiguousarray(batch.mask)[None], probs)
    return probs[0], kernel.forward(0)


@pytest.mark.parametrize("length", [1, 4, 13, 40])
@pytest.mark.parametrize("memory", MEMORIES)
@pytest.mark.parametrize("controller", CONTROLLERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_inference_probabilities_equal_the_full_history_forward(backend, controller, memory, length):
    model, *_ = tiny_model(controller, memory, backend, vocab=5, hidden=7, width=4, embedding=6, seed=length)
    batch = model.task_.sample(np.random.default_rng(length), 3, length)
    expected, expected_loss = full_history_probs(model, batch)
    probs, loss = model._forward(batch.inputs, batch.targets, batch.mask)          # the inference kernel
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.predict_proba(batch), expected, rtol=0, atol=1e-12)
    assert loss / 3 == pytest.approx(expected_loss, abs=1e-12)
    assert model._eval_kernel.inference


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", ["stack", "deque"])
def test_inference_in_short_runs_is_the_same_and_reports_each_run(backend, memory):
    model, kernel, block, probs = tiny_model("lstm", memory, backend, length=20, batch=2)       # T = 41
    kernel.forward(0)
    inference = model._new_inference_kernel(2, 41)
    out = np.zeros_like(probs)
    inference.bind(block.inputs, block.targets, block.mask, out)
    reports = []
    if backend == "cython":
        inference.infer(0, reports.append, report_steps=16)
    else:
        inference.report_steps = 16
        inference.infer(0, reports.append)
    np.testing.assert_array_equal(out, probs)
    assert reports == [32, 32, 18]                                    # 16 + 16 + 9 steps of 2 sequences
    with pytest.raises(ValueError, match="inference=True"):
        inference.loss_and_grad(0)
    with pytest.raises(ValueError, match="inference kernel keeps two rows"):
        inference.memory_trace()


@pytest.mark.parametrize("memory", ["stack", "queue", "deque"])
def test_evaluation_memory_does_not_grow_with_length_squared(memory):
    """Length 2000 (T = 4001): the strengths of every step would be 128 MB (256 MB for the
    deque); inference keeps two rows of them."""
    model = MemoryRNN(memory=memory, hidden_size=8, memory_width=4, embedding_size=4, seed=0)
    model._setup(tasks.Reverse(vocab_size=4))
    model.evaluate(3, n_sequences=1)                                  # kernels imported, caches warm
    peaks = []
    for length in (500, 2000):
        tracemalloc.start()
        model.evaluate((length, length), n_sequences=1)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 16 * MiB, f"{peaks[1] / MiB:.1f} MiB for one sequence of 4001 steps"
    assert peaks[1] < 6 * peaks[0], f"peaks {peaks}: more than linear in T"


def test_very_long_input_is_refused_with_the_limit_named():
    model = MemoryRNN(memory="deque", hidden_size=64, memory_width=32, seed=0)
    model._setup(tasks.Reverse(vocab_size=16))
    with pytest.raises(ValueError, match=r"a sequence of 2,000,001 steps needs about 7.\d GiB .*the limit is 1 GiB "
                                         r"\(SequenceModel.INFERENCE_MEMORY_LIMIT\): at most 2\d\d,\d{3} steps, a "
                                         r"length of 1\d\d,\d{3} for reverse"):
        model.evaluate((1_000_000, 1_000_000), n_sequences=1)
    limit = model.INFERENCE_MEMORY_LIMIT // model._inference_bytes_per_step()
    longest = (limit - 1) // 2
    model._check_inference_steps(2 * longest + 1)                       # the longest that fits is accepted
    with pytest.raises(ValueError, match=f"a length of {longest:,} for reverse"):
        model._check_inference_steps(2 * longest + 3)


def test_long_predict_and_trace_are_refused_past_the_limit(monkeypatch):
    model = MemoryRNN(memory="stack", hidden_size=8, memory_width=4, embedding_size=4, seed=0)
    model._setup(tasks.Copy(vocab_size=4))
    batch = model.task_.parse_input(["0123" * 50])                      # 401 steps
    model.predict(batch)
    model.memory_trace(batch)
    monkeypatch.setattr(SequenceModel, "INFERENCE_MEMORY_LIMIT", 200_000)
    with pytest.raises(ValueError, match=r"401 steps .*limit is 0.000186265 GiB .*at most \d+ steps"):
        model.predict(batch)
    with pytest.raises(ValueError, match=r"memory_trace keeps the strength of every memory cell .*401 x 401"):
        model.memory_trace(batch)


def test_evaluate_reports_progress_within_long_sequences():
    model = MemoryRNN(memory="queue", hidden_size=8, memory_width=4, embedding_size=4, seed=0)
    model._setup(tasks.Copy(vocab_size=4))
    reports = []
    ev = model.evaluate((299, 300), n_sequences=4, callback=reports.append)
    total = 2 * (599 + 601)
    steps = [r.steps for r in reports]
    assert steps == sorted(steps) and steps[-1] == total and all(r.total_steps == total for r in reports)
    assert [r.length for r in reports][0] == 299 and reports[-1].length == 300
    assert reports[-1].sequences == reports[-1].total_sequences == 4 == ev.overall.n_sequences
    assert sum(1 for r in reports if r.length == 299 and r.sequences == 0) >= 2   # within the first chunk


@pytest.mark.parametrize("task", [tasks.Reverse(vocab_size=5), tasks.BinaryAddition()])
def test_evaluation_in_chunks_sees_the_same_sequences(task, monkeypatch):
    """evaluate draws and runs the sequences of a length a chunk at a time: the same
    sequences, and the same accuracies, as one batch of them all."""
    model = models.LSTM(hidden_size=6) if task.name == "add" else MemoryRNN(memory="stack", hidden_size=6,
                                                                             memory_width=3, embedding_size=3)
    model._setup(task)
    model.params_.theta[:] = np.random.default_rng(1).normal(0, 1, model.params_.size)
    length = 9
    whole = model.metrics(task.sample(np.random.default_rng([7, length]), 50, length))
    monkeypatch.setattr(SequenceModel, "_INFERENCE_CHUNK_BYTES", 1)            # one sequence per chunk
    chunks = list(task.sample_chunks(np.random.default_rng([7, length]), 50, length, 7))
    batch = task.sample(np.random.default_rng([7, length]), 50, length)
    assert [c.batch_size for c in chunks] == [7] * 7 + [1]
    np.testing.assert_array_equal(np.concatenate([c.inputs for c in chunks], axis=1), batch.inputs)
    np.testing.assert_array_equal(np.concatenate([c.targets for c in chunks], axis=1), batch.targets)
    m = model.evaluate(length, n_sequences=50, seed=7).results[0].metrics
    assert (m.n_sequences, m.n_symbols, m.correct_symbols, m.correct_sequences) == (
        whole.n_sequences, whole.n_symbols, whole.correct_symbols, whole.correct_sequences)
    assert m.fine_sum == pytest.approx(whole.fine_sum, rel=1e-12)
    assert m.loss_sum == pytest.approx(whole.loss_sum, rel=1e-12)


# ----------------------------------------------------------------------------- hard strengths


def _hard_reference_probs(model, batch):
    """The full-history forward pass of the numpy twin with its strengths rounded by hand:
    the sigmoid of the reference replaced by one that rounds the push and pop block."""
    from models.estimators import _memory_rnn_ref as ref

    P = 2 if model.memory == "deque" else 1
    T, B = batch.inputs.shape[:2]
    kernel = ref.MemoryRNNKernel(model.params_.values, model.params_.grads, batch_size=B, max_length=T,
                                 **model._kernel_options())
    real = ref.sigmoid

    def rounding(a):
        out = real(a)
        if out.ndim == 2 and out.shape[1] == 2 * P:          # the push and pop block of a step
            out = (out > 0.5).astype(np.float64)
        return out

    probs = np.zeros((1, T, B, model.task_.n_outputs))
    kernel.bind(np.ascontiguousarray(batch.inputs)[None], np.ascontiguousarray(batch.targets)[None],
                np.ascontiguousarray(batch.mask)[None], probs)
    ref.sigmoid = rounding
    try:
        kernel.forward(0)
    finally:
        ref.sigmoid = real
    return probs[0]


@pytest.mark.parametrize("memory", ("stack", "queue", "deque"))
@pytest.mark.parametrize("controller", CONTROLLERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_hard_strengths_round_each_push_and_pop(backend, controller, memory):
    """inference_strengths="hard": both kernels give the probabilities of the forward pass
    with every push and pop strength rounded to 0 or 1, and they differ from the soft ones."""
    model, *_ = tiny_model(controller, memory, backend, vocab=5, hidden=7, width=4, embedding=6, seed=3)
    batch = model.task_.sample(np.random.default_rng(4), 3, 9)
    soft = model.predict_proba(batch)
    model.set_params(inference_strengths="hard")
    hard = model.predict_proba(batch)
    np.testing.assert_allclose(hard, _hard_reference_probs(model, batch), rtol=0, atol=1e-12)
    assert np.abs(hard - soft).max() > 1e-3
    model.set_params(inference_strengths="soft")                  # the cached kernel follows the setting
    np.testing.assert_array_equal(model.predict_proba(batch), soft)


def test_hard_strengths_are_for_inference_only():
    model, *_ = tiny_model("lstm", "stack", "cython")
    from models.estimators import _memory_rnn_ref as ref
    from models.estimators._memory_model import memory_rnn_kernels

    for module in (memory_rnn_kernels("cython"), ref):
        with pytest.raises(ValueError, match="only an inference kernel"):
            module.MemoryRNNKernel(model.params_.values, model.params_.grads, batch_size=1, max_length=3,
                                   hard=True, **model._kernel_options())
    with pytest.raises(ValueError, match="'soft' or 'hard'"):
        MemoryRNN(inference_strengths="rounded")._validate_params()
    with pytest.raises(ValueError, match="no memory"):
        MemoryRNN(memory=None, inference_strengths="hard")._validate_params()


def test_set_params_drops_the_cached_inference_kernel():
    model, *_ = tiny_model("lstm", "queue", "cython", vocab=5, hidden=7, width=4, embedding=6)
    batch = model.task_.sample(np.random.default_rng(0), 2, 6)
    model.predict_proba(batch)
    assert model._eval_kernel is not None
    model.set_params(backend="numpy")
    assert model._eval_kernel is None
    model.predict_proba(batch)
    assert type(model._eval_kernel).__module__.endswith("_memory_rnn_ref")
