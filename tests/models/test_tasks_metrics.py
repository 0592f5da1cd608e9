"""Task generators (addition, copy, reversal, bigram flip), metrics, curricula."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import GrowingLengths, Metrics, UniformLengths, UnknownNameError, VocabularyError, sequence_metrics
from models import tasks


def _int(bits):
    return sum(int(b) << i for i, b in enumerate(bits))


@settings(max_examples=30, deadline=None)
@given(bits=st.integers(2, 80), seed=st.integers(0, 10**6))
def test_binary_addition_targets_are_the_sum(bits, seed):
    task = tasks.BinaryAddition()
    block = task.sample_block(np.random.default_rng(seed), 2, 3, bits)
    assert block.inputs.shape == (2, bits, 3, 2) and block.targets.shape == (2, bits, 3, 1)
    assert block.mask.shape == (2, bits, 3) and (block.mask == 1).all()
    for k in range(2):
        for j in range(3):
            a, b = _int(block.inputs[k, :, j, 0]), _int(block.inputs[k, :, j, 1])
            assert a < 2 ** (bits - 1) and b < 2 ** (bits - 1)
            assert _int(block.targets[k, :, j, 0]) == a + b


def test_addition_from_operands_and_decode():
    task = tasks.BinaryAddition()
    batch = task.batch_from_operands([1234, 2**70], [5678, 2**70 - 1])
    assert batch.n_steps == 72
    assert task.decode(batch.targets) == [6912, 2**71 - 1]
    assert task.format_output(task.parse_input(["1234", "5678"]), task.parse_input(["1234", "5678"]).targets) == "6912"
    with pytest.raises(VocabularyError, match="two non-negative integers"):
        task.parse_input(["12", "x"])
    with pytest.raises(VocabularyError):
        task.parse_input(["12"])
    with pytest.raises(ValueError, match="need 15"):
        task.batch_from_operands([9999], [9999], bits=8)


def test_addition_exclude_holds_pairs_out():
    exclude = [(a, b) for a in range(8) for b in range(8) if (a + b) % 2]
    task = tasks.BinaryAddition(exclude=exclude)
    block = task.sample_block(np.random.default_rng(0), 50, 4, 4)
    a = (block.inputs[..., 0] * (1 << np.arange(4))[None, :, None]).sum(axis=1)
    b = (block.inputs[..., 1] * (1 << np.arange(4))[None, :, None]).sum(axis=1)
    assert ((a + b) % 2 == 0).all()
    assert tasks.task_from_spec(task.spec()) == task


@pytest.mark.parametrize("name,expected", [("copy", [1, 2, 3, 0]), ("reverse", [0, 3, 2, 1]),
                                           ("bigram-flip", [2, 1, 0, 3])])
def test_symbol_task_layout(name, expected):
    task = tasks.make_task(name, vocab_size=4)
    batch = task.batch_from_source([1, 2, 3, 0])
    T, L = 9, 4
    assert batch.inputs.shape == (T, 1, 5)
    assert batch.inputs[:L, 0].argmax(axis=1).tolist() == [1, 2, 3, 0]
    assert batch.inputs[L, 0, 4] == 1 and batch.inputs[L + 1:].sum() == 0          # separator, then nothing
    assert batch.mask[:, 0].tolist() == [0] * (L + 1) + [1] * L
    assert batch.targets[L + 1:, 0].tolist() == expected
    assert task.format_output(batch, batch.targets) == "".join(map(str, expected))


def test_symbol_sampling_is_seeded_and_shaped():
    task = tasks.Reverse(vocab_size=7)
    a = task.sample_block(np.random.default_rng(5), 3, 4, 6)
    b = task.sample_block(np.random.default_rng(5), 3, 4, 6)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert a.inputs.shape == (3, 13, 4, 8) and a.targets.dtype == np.int64
    src = a.inputs[:, :6].argmax(-1)                       # (n, L, B)
    np.testing.assert_array_equal(a.targets[:, 7:], src[:, ::-1])
    c = task.sample_block(np.random.default_rng(6), 3, 4, 6)
    assert not np.array_equal(a.inputs, c.inputs)


def test_symbol_parse_input_and_vocabulary_errors():
    task = tasks.Copy(vocab_size=16)
    assert task.parse_input(["3f0", "a"]).length == 4
    with pytest.raises(VocabularyError, match="'z'.*outside the vocabulary.*0123456789abcdef"):
        task.parse_input(["3fz"])
    big = tasks.Copy(vocab_size=50)
    assert big.parse_input(["12 49", "0"]).length == 3
    with pytest.raises(VocabularyError, match="'50'"):
        big.parse_input(["12 50"])
    with pytest.raises(VocabularyError):
        task.parse_input([""])


def test_lengths_validation():
    rev = tasks.Reverse()
    assert rev.valid_lengths(3, 5).tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match="empty.*e.g. 8:64"):
        rev.valid_lengths(64, 8)
    with pytest.raises(ValueError, match=">= 1"):
        rev.valid_lengths(0, 5)
    flip = tasks.BigramFlip()
    assert flip.valid_lengths(3, 9).tolist() == [4, 6, 8]
    with pytest.raises(ValueError, match="even"):
        flip.valid_lengths(5, 5)
    with pytest.raises(ValueError, match="even length"):
        flip.sample(np.random.default_rng(0), 1, 5)
    with pytest.raises(ValueError, match="bit widths must be >= 2"):
        tasks.BinaryAddition().valid_lengths(1, 1)


def test_task_registry():
    # today's four first, as before; the Chomsky-hierarchy tasks after them (tests/models/test_chomsky_tasks.py)
    assert tasks.task_names()[:4] == ["add", "copy", "reverse", "bigram-flip"]
    assert tasks.task_names()[4:] == list(tasks.CHOMSKY_TASKS)
    assert isinstance(tasks.make_task("reversal"), tasks.Reverse)
    assert isinstance(tasks.make_task("flip"), tasks.BigramFlip)
    with pytest.raises(UnknownNameError, match="add, copy, reverse, bigram-flip"):
        tasks.make_task("sort")
    with pytest.raises(ValueError, match="no vocabulary"):
        tasks.make_task("add", vocab_size=8)
    with pytest.raises(ValueError, match="vocab_size must be >= 2"):
        tasks.make_task("copy", vocab_size=1)
    t = tasks.make_task("copy", vocab_size=9)
    assert tasks.task_from_spec(t.spec()) == t and t != tasks.make_task("copy", vocab_size=8)


def test_metrics_coarse_fine_per_symbol():
    mask = np.array([[0, 0], [1, 1], [1, 1], [1, 1], [1, 0]], dtype=float)        # (T, B)
    correct = np.array([[0, 0], [1, 1], [0, 1], [1, 1], [1, 1]], dtype=bool)
    m = sequence_metrics(correct, mask)
    assert m.n_sequences == 2 and m.n_symbols == 7
    assert m.per_symbol == pytest.approx(6 / 7)
    assert m.coarse == pytest.approx(0.5)                    # the second sequence is all right
    assert m.fine == pytest.approx((1 / 4 + 1) / 2)         # first error at the 2nd of 4 targets
    both = m.merge(sequence_metrics(correct, mask))
    assert both.per_symbol == m.per_symbol and both.n_sequences == 4
    assert Metrics.from_dict(m.to_dict()) == m
    block = sequence_metrics(correct[None].repeat(3, 0), mask[None].repeat(3, 0))
    assert block.n_sequences == 6 and block.fine == pytest.approx(m.fine)
    with pytest.raises(ValueError, match="one shape"):
        sequence_metrics(correct, mask[:3])


def test_curricula():
    lengths = np.arange(8, 65)
    uni = UniformLengths(lengths)
    draws = uni.sample(np.random.default_rng(0), 5000)
    assert draws.min() == 8 and draws.max() == 64
    grow = GrowingLengths(lengths, start=12, step=4, threshold=0.98)
    assert grow.sample(np.random.default_rng(0), 1000).max() == 12
    assert not grow.update(0.9) and grow.current_max == 12
    assert grow.update(0.99) and grow.current_max == 16
    state = grow.state_dict()
    other = GrowingLengths(lengths, start=12)
    other.load_state_dict(state)
    assert other.current_max == 16
    for _ in range(20):
        grow.update(1.0)
    assert grow.current_max == 64
    with pytest.raises(ValueError, match="start"):
        GrowingLengths(lengths, start=100)
