"""The deterministic context-free tasks of Delétang et al. 2023: the paper's examples,
every sampled target against a plain Python reference, the inputs in the paper's
language."""
from __future__ import annotations

import numpy as np
import pytest

from models import VocabularyError, tasks
from chomsky_helpers import lengths_of, sampled, solve, terminated


# ----------------------------------------------------------------------------- stack manipulation


@pytest.mark.parametrize("text, stack", [
    ("0110422", "110"),          # the paper's: 0 1 1 0 PUSH 1 POP POP -> 1 1 0 2 0 0 0 0
    ("110222", ""),              # the paper's: 1 1 0 POP POP POP -> 2 0 0 0 0 0 0
    ("1", "1"), ("0", "0"),      # length 1: one bit, no instruction
    ("02", ""), ("0222", ""),    # pops on an empty stack do nothing
    ("0234", "10"), ("1022243", "01"),
])
def test_stack_manipulation_examples(text, stack):
    out, mask = terminated(stack, len(text) + 1, len(text) + 1)
    assert solve("stack_manipulation", text) == (out, "".join(map(str, mask)))


def _stack(s):
    stack = []
    for c in s:
        if c in "01":
            stack.append(c)
        elif c == "2":
            if stack:
                stack.pop()
        else:
            stack.append("0" if c == "3" else "1")
    return "".join(reversed(stack))


def test_stack_manipulation_sampled_targets_match_a_list_stack():
    for L in lengths_of(tasks.make_task("stack_manipulation")):
        task, inputs, outputs, masks = sampled("stack_manipulation", L)
        stack_lengths = set()
        for s, out, mask in zip(inputs, outputs, masks):
            bits = len(s) - len(s.lstrip("01"))
            assert bits >= 1 and set(s[bits:]) <= set("234") and (L == 1 or bits < L), s
            stack_lengths.add(bits)
            assert (out, mask) == terminated(_stack(s), L + 1, L + 1), s
        if 2 <= L <= 7:
            assert stack_lengths == set(range(1, L)), "the stack's length is uniform in 1..L-1"


@pytest.mark.parametrize("text", ["2", "4011", "01201", "3"])
def test_stack_manipulation_needs_the_stack_first(text):
    with pytest.raises(VocabularyError, match="the stack comes first"):
        tasks.make_task("stack_manipulation").parse_input([text])


def test_stack_manipulation_prints_the_stack_top_first():
    task = tasks.make_task("stack_manipulation")
    batch = task.parse_input(["0110422"])
    assert task.format_output(batch, batch.targets) == "110"
    empty = task.parse_input(["110222"])
    assert task.format_output(empty, empty.targets) == "(empty stack)"


# ----------------------------------------------------------------------------- reverse string


@pytest.mark.parametrize("text, answer, vocab", [("011010", "010110", 2), ("123021", "120321", 4), ("1", "1", 2)])
def test_reverse_string_examples(text, answer, vocab):
    assert solve("reverse_string", text, vocab_size=vocab) == (answer, "1" * len(text))


def test_reverse_string_sampled_targets():
    for L in lengths_of(tasks.make_task("reverse_string")):
        task, inputs, outputs, masks = sampled("reverse_string", L)
        assert set("".join(inputs)) == {"0", "1"}
        for s, out, mask in zip(inputs, outputs, masks):
            assert out == s[::-1] and mask == [1] * L


# ----------------------------------------------------------------------------- brackets


def _paper_expression_length(s, i):
    """Length of the paper's expression starting at s[i]: d, -d, (d), (-d), (E op E)."""
    if s[i].isdigit():
        return 1
    if s[i] == "-" and s[i + 1].isdigit():
        return 2
    assert s[i] == "("
    if s[i + 1].isdigit() and s[i + 2] == ")":
        return 3
    if s[i + 1] == "-" and s[i + 2].isdigit() and s[i + 3] == ")":
        return 4
    left = _paper_expression_length(s, i + 1)
    assert s[i + 1 + left] in "+-"
    right = _paper_expression_length(s, i + 2 + left)
    assert s[i + 2 + left + right] == ")"
    return left + right + 3


def in_paper_language(s):
    try:
        return _paper_expression_length(s, 0) == len(s)
    except (AssertionError, IndexError):
        return False


@pytest.mark.parametrize("text, answer", [("3", "3"), ("-3", "2"), ("(3)", "3"), ("(-3)", "2"),
                                          ("((1+2)-(-3))", "1"), ("(4+(4+(4+4)))", "1"), ("(-2--4)", "2")])
def test_modular_arithmetic_brackets_examples(text, answer):
    assert in_paper_language(text)
    assert solve("modular_arithmetic_brackets", text) == (answer, "1")


def test_modular_arithmetic_brackets_also_reads_usual_expressions():
    assert solve("modular_arithmetic_brackets", "1+2-3+4") == ("4", "1")
    assert solve("modular_arithmetic_brackets", "-(1+2)") == ("2", "1")


def test_modular_arithmetic_brackets_sampled_expressions():
    for L in lengths_of(tasks.make_task("modular_arithmetic_brackets")):
        task, inputs, outputs, masks = sampled("modular_arithmetic_brackets", L)
        for s, out, mask in zip(inputs, outputs, masks):
            assert in_paper_language(s), s
            assert out == str(eval(s) % 5), s       # Python reads the paper's expressions
            assert mask == [1]
        if L == 41:
            assert set(outputs) == set("01234") and "-" in "".join(inputs) and "+" in "".join(inputs)


def test_modular_arithmetic_brackets_other_modulus():
    task, inputs, outputs, _ = sampled("modular_arithmetic_brackets", 21, modulus=7)
    assert all(out == str(eval(s) % 7) for s, out in zip(inputs, outputs))
    assert set("".join(inputs)) - set("()+-") == set("0123456")


@pytest.mark.parametrize("text, match", [("((1+2)", r"'\)' expected at the end"), ("1+", "is missing at the end"),
                                         (")", "at position 1"), ("(1+2))", "at position 6"), ("1x", "'x'")])
def test_modular_arithmetic_brackets_refuses_broken_expressions(text, match):
    with pytest.raises(VocabularyError, match=match):
        tasks.make_task("modular_arithmetic_brackets").parse_input([text])


# ----------------------------------------------------------------------------- solve equation


@pytest.mark.parametrize("text, answer", [("x=3", "3"), ("((1+x)-(-3))=1", "2"), ("(x-(3))=2", "0"),
                                          ("(-x)=1", "4"), ("(2-(-x))=0", "3")])
def test_solve_equation_examples(text, answer):
    assert solve("solve_equation", text) == (answer, "1")


def _solutions(s, m=5):
    lhs, rhs = s.split("=")
    return [x for x in range(m) if eval(lhs.replace("x", str(x))) % m == int(rhs)]


def test_solve_equation_sampled_equations():
    task = tasks.make_task("solve_equation")
    assert lengths_of(task, (1, 2, 3)) == [3]
    for L in lengths_of(task):
        task, inputs, outputs, masks = sampled("solve_equation", L)
        for s, out, mask in zip(inputs, outputs, masks):
            assert s.count("x") == 1 and s[-2] == "=" and s[-1].isdigit(), s
            assert in_paper_language(s[:-2].replace("x", out)), s
            assert _solutions(s) == [int(out)] and mask == [1], s


def test_solve_equation_lengths_start_at_three():
    task = tasks.make_task("solve_equation")
    assert task.valid_lengths(1, 40).tolist() == list(range(3, 41))
    with pytest.raises(ValueError, match="at least 3 symbols"):
        task.sample(np.random.default_rng(0), 2, 2)


@pytest.mark.parametrize("text", ["(1+2)=3", "x=", "x=x", "(x+x)=1", "x=1=2", "x=12"])
def test_solve_equation_refuses_what_is_not_an_equation(text):
    with pytest.raises(VocabularyError, match="one x"):
        tasks.make_task("solve_equation").parse_input([text])
