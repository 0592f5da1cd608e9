"""The regular tasks of Delétang et al. 2023: the paper's examples, and every sampled
target against a plain Python reference."""
from __future__ import annotations

import numpy as np
import pytest

from models import VocabularyError, tasks
from chomsky_helpers import lengths_of, sampled, solve


# ----------------------------------------------------------------------------- the paper's examples


@pytest.mark.parametrize("text, answer", [("001110", "0"), ("0101001", "1"), ("0", "0"), ("01", "1"), ("0110", "0")])
def test_even_pairs_examples(text, answer):
    assert solve("even_pairs", text) == (answer, "1")


@pytest.mark.parametrize("text, answer", [("1010100", "1"), ("01111", "0"), ("0", "0"), ("1", "1")])
def test_parity_check_examples(text, answer):
    assert solve("parity_check", text) == (answer, "1")


@pytest.mark.parametrize("text, answer", [("+-0--", "3"), ("+++-", "2"), ("-", "4"), ("0", "0"), ("+++++", "0")])
def test_cycle_navigation_examples(text, answer):
    """The paper's ``1 -1 0 -1 -1 -> 3`` and ``1 1 1 -1 -> 2`` in our notation (- 0 +)."""
    assert solve("cycle_navigation", text) == (answer, "1")


@pytest.mark.parametrize("text, answer", [("1+2*3", "2"), ("1-1-1", "4"), ("0*1+4*3-2", "0"), ("3", "3"),
                                          ("2-3*4", "0"), ("4*4*4", "4")])
def test_modular_arithmetic_examples(text, answer):
    """The paper's three examples (modulo 5), and ``*`` binding tighter than ``-``:
    2 - 12 = -10 = 0."""
    assert solve("modular_arithmetic", text) == (answer, "1")


def test_modular_arithmetic_other_modulus():
    assert solve("modular_arithmetic", "6*6+1", modulus=7) == ("2", "1")        # 37 mod 7
    assert tasks.make_task("modular_arithmetic", modulus=7).n_inputs == 7 + 3 + 1


# ----------------------------------------------------------------------------- references


def _even_pairs(s):
    return str(sum(a != b for a, b in zip(s, s[1:])) % 2)


def _parity(s):
    return str(s.count("1") % 2)


def _cycle(s):
    return str(sum({"-": -1, "0": 0, "+": 1}[c] for c in s) % 5)


def _modular(s, m=5):
    return str(eval(s) % m)          # Python's precedence is the task's: * first, then + - from the left


@pytest.mark.parametrize("name, reference", [("even_pairs", _even_pairs), ("parity_check", _parity),
                                             ("cycle_navigation", _cycle), ("modular_arithmetic", _modular)])
def test_sampled_targets_match_the_reference(name, reference):
    for L in lengths_of(tasks.make_task(name)):
        task, inputs, outputs, masks = sampled(name, L)
        assert all(len(s) == L for s in inputs)
        for s, out, mask in zip(inputs, outputs, masks):
            assert out == reference(s), (name, s)
            assert mask == [1]


def test_modular_arithmetic_draws_the_paper_s_expressions():
    task, inputs, outputs, _ = sampled("modular_arithmetic", 41)
    for s in inputs:
        assert all(c in "01234" for c in s[0::2]) and all(c in "+-*" for c in s[1::2])
    ops = "".join(s[1::2] for s in inputs)
    assert {c: ops.count(c) / len(ops) for c in "+-*"} == pytest.approx({"+": 1 / 3, "-": 1 / 3, "*": 1 / 3},
                                                                          abs=0.02)
    assert set("".join(outputs)) == set("01234")


def test_modular_arithmetic_lengths_are_odd():
    task = tasks.make_task("modular_arithmetic")
    assert task.valid_lengths(1, 40).tolist() == list(range(1, 40, 2))
    assert task.valid_lengths(41, 500).tolist() == list(range(41, 500, 2))
    with pytest.raises(ValueError, match="odd"):
        task.sample(np.random.default_rng(0), 2, 4)
    with pytest.raises(ValueError, match="accepts no length in 2:2"):
        task.valid_lengths(2, 2)


@pytest.mark.parametrize("text, match", [("1+", "must alternate"), ("12", "must alternate"), ("+1", "must alternate"),
                                         ("1/2", "'/'"), ("1+5", "'5'"), ("", "give a sequence")])
def test_modular_arithmetic_refuses_what_is_not_an_expression(text, match):
    with pytest.raises(VocabularyError, match=match):
        tasks.make_task("modular_arithmetic").parse_input([text])


@pytest.mark.parametrize("name, text", [("even_pairs", "012"), ("parity_check", "a"), ("cycle_navigation", "1")])
def test_bad_symbols_name_the_alphabet(name, text):
    with pytest.raises(VocabularyError, match="not in its alphabet"):
        tasks.make_task(name).parse_input([text])


def test_binary_answers_print_their_class():
    task = tasks.make_task("parity_check")
    batch = task.parse_input(["0111"])
    assert task.format_output(batch, batch.targets) == "1 (odd)"
    assert task.format_output(batch, np.zeros_like(batch.targets)) == "0 (even)"
