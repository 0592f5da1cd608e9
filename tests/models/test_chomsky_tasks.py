"""The contract every task of Delétang et al. 2023 keeps: the registry, the encoding (input
one-hot, then the output steps flagged by the output-phase feature), shapes, masks,
lengths, seeding, the command line's notation, specs; and that the estimators take them
without model code knowing them."""
from __future__ import annotations

import random

import numpy as np
import pytest

import models
from models import MemoryRNN, VocabularyError, tasks
from models.training import _presets
from chomsky_helpers import lengths_of, rows

NAMES = list(tasks.CHOMSKY_TASKS)

#: (input alphabet, output alphabet, output length at L = 10, termination token or None)
EXPECTED = {
    "even_pairs": (2, 2, 1, None), "modular_arithmetic": (8, 5, 1, None), "parity_check": (2, 2, 1, None),
    "cycle_navigation": (3, 5, 1, None), "stack_manipulation": (5, 3, 11, 2), "reverse_string": (2, 2, 10, None),
    "modular_arithmetic_brackets": (9, 5, 1, None), "solve_equation": (11, 5, 1, None),
    "duplicate_string": (2, 2, 20, None), "missing_duplicate_string": (4, 2, 1, None), "odds_first": (2, 2, 10, None),
    "binary_addition": (3, 3, 11, 2), "binary_multiplication": (3, 3, 10, 2), "compute_sqrt": (2, 2, 5, None),
    "bucket_sort": (5, 5, 10, None),
}


def test_chomsky_tasks_are_the_paper_s_table():
    assert NAMES == ["even_pairs", "modular_arithmetic", "parity_check", "cycle_navigation", "stack_manipulation",
                     "reverse_string", "modular_arithmetic_brackets", "solve_equation", "duplicate_string",
                     "missing_duplicate_string", "odds_first", "binary_addition", "binary_multiplication",
                     "compute_sqrt", "bucket_sort"]
    assert [tasks.CHOMSKY_TASKS[n] for n in NAMES] == ["regular"] * 4 + ["dcf"] * 4 + ["cs"] * 7
    assert models.CHOMSKY_TASKS is tasks.CHOMSKY_TASKS
    assert set(NAMES) <= set(tasks.TASKS) and {"add", "copy", "reverse", "bigram-flip"} <= set(tasks.TASKS)


@pytest.mark.parametrize("name", NAMES)
def test_names_and_aliases(name):
    task = tasks.make_task(name)
    assert task.name == name and task.level == tasks.CHOMSKY_TASKS[name]
    assert isinstance(task, tasks.ChomskyTask) and task.head == "softmax" and task.symbolic
    hyphen = name.replace("_", "-")
    if hyphen == "binary-addition":
        assert tasks.make_task(hyphen).name == "add"
    else:
        assert tasks.make_task(hyphen) == task and tasks.make_task(name.upper()) == task


@pytest.mark.parametrize("name", NAMES)
def test_alphabets_and_output_lengths(name):
    task = tasks.make_task(name)
    n_in, n_out, out_len, end = EXPECTED[name]
    assert (task.n_symbols, task.n_outputs, task.output_length(10), task.terminator) == (n_in, n_out, out_len, end)
    assert task.n_inputs == n_in + 1 and task.separator == n_in          # the output-phase flag is the last feature
    assert task.sequence_length(10) == 10 + out_len
    assert len(set(task.input_symbols)) == n_in and all(len(s) == 1 for s in task.input_symbols)


@pytest.mark.parametrize("name", NAMES)
def test_encoding_shapes_and_masks(name):
    task = tasks.make_task(name)
    for L in lengths_of(task, (1, 2, 5, 41)):
        block = task.sample_block(np.random.default_rng(L), 3, 4, L)
        O, T = task.output_length(L), task.sequence_length(L)
        assert block.inputs.shape == (3, T, 4, task.n_inputs) and block.targets.shape == (3, T, 4)
        assert block.mask.shape == (3, T, 4) and block.targets.dtype == np.int64 and block.length == L
        x = block.inputs
        np.testing.assert_array_equal(x[:, :L, :, :task.n_symbols].sum(axis=-1), 1.0)   # one symbol a step
        np.testing.assert_array_equal(x[:, :L, :, task.separator], 0.0)
        np.testing.assert_array_equal(x[:, L:, :, :task.n_symbols], 0.0)               # no symbol on output steps
        np.testing.assert_array_equal(x[:, L:, :, task.separator], 1.0)                # the flag, on all of them
        np.testing.assert_array_equal(block.targets[:, :L], 0)
        np.testing.assert_array_equal(block.mask[:, :L], 0.0)
        assert block.targets.min() >= 0 and block.targets.max() < task.n_outputs
        out, mask = block.targets[:, L:], block.mask[:, L:]
        if task.terminator is None:
            np.testing.assert_array_equal(mask, 1.0)
        else:                            # the paper's accuracy_mask: up to and including the first token
            first = (out == task.terminator).argmax(axis=1)                              # (3, 4)
            assert (out == task.terminator).any(axis=1).all()
            np.testing.assert_array_equal(mask, np.arange(O)[None, :, None] <= first[:, None, :])
            np.testing.assert_array_equal(np.where(mask == 0, out, 0), 0)               # zeros after the token


@pytest.mark.parametrize("name", NAMES)
def test_sampling_is_seeded_and_uses_only_the_generator(name):
    task = tasks.make_task(name)
    L = 21 if task._length_ok(21) else 20
    np.random.seed(7)
    random.seed(7)
    before = (np.random.get_state()[1].copy(), random.getstate())
    a = task.sample_block(np.random.default_rng(3), 2, 8, L)
    b = task.sample_block(np.random.default_rng(3), 2, 8, L)
    c = task.sample_block(np.random.default_rng(4), 2, 8, L)
    np.testing.assert_array_equal(np.random.get_state()[1], before[0])
    assert random.getstate() == before[1]
    for key in ("inputs", "targets", "mask"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert not np.array_equal(a.inputs, c.inputs)


@pytest.mark.parametrize("name", NAMES)
def test_chunks_are_the_sample_a_piece_at_a_time(name):
    task = tasks.make_task(name)
    L = 9
    whole = task.sample(np.random.default_rng(5), 10, L)
    chunks = list(task.sample_chunks(np.random.default_rng(5), 10, L, 4))
    assert [c.batch_size for c in chunks] == [4, 4, 2]
    for key in ("inputs", "targets", "mask"):
        np.testing.assert_array_equal(np.concatenate([getattr(c, key) for c in chunks], axis=1), getattr(whole, key))


@pytest.mark.parametrize("name", NAMES)
def test_valid_lengths_follow_the_task_rule(name):
    task = tasks.make_task(name)
    odd, from3 = name == "modular_arithmetic", name == "solve_equation"
    ok = (lambda n: n % 2 == 1) if odd else (lambda n: n >= 3) if from3 else (lambda n: True)
    assert task.valid_lengths(1, 40).tolist() == [n for n in range(1, 41) if ok(n)]
    assert task.valid_lengths(41, 500).tolist() == [n for n in range(41, 501) if ok(n)]
    with pytest.raises(ValueError, match="empty"):
        task.valid_lengths(40, 1)
    with pytest.raises(ValueError, match="length must be an integer"):
        task.sample(np.random.default_rng(0), 2, 2.5)


@pytest.mark.parametrize("name", NAMES)
def test_command_line_notation_round_trips(name):
    """Each sampled input, printed in the task's notation and parsed back, is the same
    sequence with the same target; the printed answer is the target's symbols up to the
    termination token."""
    task = tasks.make_task(name)
    for L in lengths_of(task, (1, 3, 12, 41)):
        batch = task.sample(np.random.default_rng(L), 12, L)
        inputs, outputs, _ = rows(task, batch)
        for j, text in enumerate(inputs):
            one = task.parse_input([text])
            for key in ("inputs", "targets", "mask"):
                np.testing.assert_array_equal(getattr(one, key)[:, 0], getattr(batch, key)[:, j], err_msg=text)
            answer = outputs[j]
            if task.terminator is not None:
                answer = answer[:answer.index(str(task.terminator))] or task.empty_text
            printed = task.format_output(one, one.targets)
            assert printed.split(" (")[0] == answer or printed == answer, (text, printed)
        spaced = " ".join(inputs[0])                         # whitespace and commas are ignored
        np.testing.assert_array_equal(task.parse_input([spaced]).inputs, task.parse_input([inputs[0]]).inputs)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_refused_with_the_alphabet(name):
    task = tasks.make_task(name)
    with pytest.raises(VocabularyError, match="not in its alphabet"):
        task.parse_input([task.example + "?"])
    with pytest.raises(VocabularyError, match="give a sequence"):
        task.parse_input(["  "])
    task.parse_input([task.example])                         # the example in the messages is accepted


@pytest.mark.parametrize("name", NAMES)
def test_spec_round_trip(name):
    task = tasks.make_task(name)
    assert tasks.task_from_spec(task.spec()) == task
    assert task.spec()["name"] == name
    for option, value in (("vocab_size", 3), ("modulus", 7)):
        if option in task.option_defaults:
            other = tasks.make_task(name, **{option: value})
            assert other.spec()[option] == value and tasks.task_from_spec(other.spec()) == other
            assert other != task
            with pytest.raises(ValueError, match=f"{option} must lie in"):
                tasks.make_task(name, **{option: 37})
        else:
            with pytest.raises(ValueError, match=f"takes no option '{option}'"):
                tasks.make_task(name, **{option: value})


@pytest.mark.parametrize("name", NAMES)
def test_presets_give_every_task_the_simple_recipe(name):
    hyper, options = models.preset(name, "lstm")
    assert hyper == {"hidden_size": 64, "optimizer": "adam", "learning_rate": 3e-3, "clip_norm": 1.0,
                     "batch_size": 16, "n_steps": 3000, "lengths": (1, 40), "curriculum": "uniform"}
    assert options == {} and _presets.default_model_kind(name) == "lstm"
    for memory in models.MEMORIES:
        hyper, options = models.memory_preset(name, memory)
        assert hyper["lengths"] == (1, 40) and hyper["memory"] == memory and options == {}
        assert hyper.get("aux_hidden", 0) == 0 and hyper.get("aux_memory", 0) == 0


def _memory_model(task, stop_gradient, backend="numpy"):
    model = MemoryRNN(memory=None, hidden_size=4, embedding_size=3, stop_gradient=stop_gradient, backend=backend,
                      batch_size=2, seed=1)
    model._setup(task)
    rng = np.random.default_rng(1)
    model.params_.theta[:] = rng.normal(0.0, 0.5, model.params_.size)
    block = task.sample_block(rng, 1, 2, 4)
    kernel = model._new_kernel(2, block.inputs.shape[1])
    probs = np.zeros(block.inputs.shape[:3] + (task.n_outputs,))
    kernel.bind(block.inputs, block.targets, block.mask, probs)
    return model, kernel


@pytest.mark.parametrize("backend", ["numpy", "cython"])
def test_the_output_phase_flag_is_the_memory_models_separator(backend):
    """The stop-gradient cuts at the first output step: without a memory the output
    steps then reach the input symbols' embeddings through nothing, while the flag's own
    row still learns (as the separator's does in the transduction tasks)."""
    task = tasks.make_task("reverse_string")
    grads = {}
    for stop in (False, True):
        model, kernel = _memory_model(task, stop, backend)
        assert model._kernel_options()["separator"] == task.separator
        assert model._kernel_options()["n_symbols"] == task.n_symbols
        kernel.loss_and_grad(0)
        grads[stop] = model.params_.grads["E"].copy()
    assert np.abs(grads[False][:task.n_symbols]).max() > 1e-4
    np.testing.assert_array_equal(grads[True][:task.n_symbols], 0.0)
    assert np.abs(grads[True][task.separator]).max() > 0


def test_auxiliary_losses_need_alphabets_of_one_size():
    """Their classifiers are sized by the output alphabet: reverse_string (2 in, 2 out)
    takes them, stack_manipulation (5 in, 3 out) is refused with the fix."""
    tiny = dict(memory="stack", hidden_size=4, memory_width=2, embedding_size=3, n_steps=2, batch_size=2,
                lengths=(1, 4), aux_hidden=0.1, aux_memory=0.1)
    MemoryRNN(**tiny).fit(tasks.make_task("reverse_string"))
    with pytest.raises(ValueError, match="reads 5 symbols and writes 3: set aux_hidden=0 and aux_memory=0"):
        MemoryRNN(**tiny).fit(tasks.make_task("stack_manipulation"))


@pytest.mark.parametrize("name", ["parity_check", "stack_manipulation", "binary_addition", "bucket_sort"])
def test_estimators_train_evaluate_and_run_on_the_tasks(name):
    task = tasks.make_task(name)
    aux = 0.1 if task.n_symbols == task.n_outputs else 0.0
    for model in (models.LSTM(hidden_size=6, n_steps=4, batch_size=4, lengths=(1, 8), seed=0),
                  models.RNN(hidden_size=6, n_steps=4, batch_size=4, lengths=(1, 8), seed=0),
                  MemoryRNN(memory="stack", hidden_size=6, memory_width=3, embedding_size=4, n_steps=4, batch_size=4,
                            lengths=(1, 8), seed=0, aux_hidden=aux)):
        model.fit(task)
        evaluation = model.evaluate((9, 12), n_per_length=3)
        assert [r.length for r in evaluation.results] == [9, 10, 11, 12]
        batch = task.parse_input([task.example])
        assert isinstance(task.format_output(batch, model.predict(batch)), str)
