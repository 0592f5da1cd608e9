"""The context-sensitive tasks of Delétang et al. 2023: the paper's examples, every
sampled target against a plain Python reference, the inputs as the paper draws them."""
from __future__ import annotations

import math

import numpy as np
import pytest

from models import VocabularyError, tasks
from chomsky_helpers import lengths_of, sampled, solve, terminated


def _le(bits: str) -> int:
    """A little-endian binary string as an integer."""
    return int(bits[::-1], 2) if bits else 0


def _to_le(value: int) -> str:
    return format(value, "b")[::-1]


# ----------------------------------------------------------------------------- strings


@pytest.mark.parametrize("name, text, answer", [
    ("duplicate_string", "101", "101101"), ("duplicate_string", "111111", "111111111111"),
    ("odds_first", "00110101", "01000111"), ("odds_first", "110", "101"), ("odds_first", "1", "1"),
    ("bucket_sort", "10204112", "00111224"), ("bucket_sort", "4", "4"),
])
def test_string_examples(name, text, answer):
    """The paper's examples (odds first: its definition s1 s3 s5 .. s2 s4 .., with its
    examples ``00110101 -> 0100 0111`` and ``110 -> 10 1``)."""
    assert solve(name, text) == (answer, "1" * len(answer))


def test_bucket_sort_binary_example():
    assert solve("bucket_sort", "1110001", vocab_size=2) == ("0001111", "1111111")


@pytest.mark.parametrize("name, reference", [
    ("duplicate_string", lambda s: s + s), ("odds_first", lambda s: s[0::2] + s[1::2]),
    ("bucket_sort", lambda s: "".join(sorted(s))),
])
def test_string_tasks_sampled_targets(name, reference):
    for L in lengths_of(tasks.make_task(name)):
        task, inputs, outputs, masks = sampled(name, L)
        for s, out, mask in zip(inputs, outputs, masks):
            assert out == reference(s) and mask == [1] * len(out), s
        if L >= 40:
            assert set("".join(inputs)) == set(task.input_symbols)


def test_vocabulary_sizes_are_the_paper_s():
    sizes = {name: (tasks.make_task(name).n_inputs, tasks.make_task(name).n_outputs)
             for name in ("duplicate_string", "odds_first", "bucket_sort", "reverse_string")}
    assert sizes == {"duplicate_string": (3, 2), "odds_first": (3, 2), "bucket_sort": (6, 5), "reverse_string": (3, 2)}
    assert tasks.make_task("duplicate_string", vocab_size=7).n_inputs == 8


# ----------------------------------------------------------------------------- missing duplicate


@pytest.mark.parametrize("text, answer", [("01100210", "1"), ("1011213", "0"), ("21", "1"), ("02", "0"),
                                          ("123", "1"), ("1", "1")])
def test_missing_duplicate_examples(text, answer):
    """The paper's two examples; length 1 is its degenerate case (input 1, answer 1)."""
    assert solve("missing_duplicate_string", text) == (answer, "1")


def test_missing_duplicate_sampled():
    for L in lengths_of(tasks.make_task("missing_duplicate_string")):
        task, inputs, outputs, masks = sampled("missing_duplicate_string", L)
        places = set()
        for s, out, mask in zip(inputs, outputs, masks):
            if L == 1:
                assert (s, out) == ("1", "1")
                continue
            half = L // 2
            body = s[:2 * half]
            assert s[2 * half:] == "3" * (L % 2) and body.count("2") == 1, s
            k = body.index("2")
            places.add(k)
            full = body.replace("2", out)
            assert full[:half] == full[half:], s
            assert mask == [1]
        if 2 <= L <= 7:
            assert places == set(range(2 * (L // 2))), "the missing place is uniform over both copies"


@pytest.mark.parametrize("text", ["0110", "01100310", "0120", "0110021", "012110", "0"])
def test_missing_duplicate_refuses_other_strings(text):
    with pytest.raises(VocabularyError, match="missing_duplicate_string"):
        tasks.make_task("missing_duplicate_string").parse_input([text])


# ----------------------------------------------------------------------------- binary operations


def test_binary_addition_examples():
    """The paper's ``001 + 01101 = 010112000`` (4 + 22 = 26) and ``1001 + 000001 =
    10010120000`` (9 + 32 = 41), padded to the output length L + 1 (the paper's
    docstring shows one zero less than its code writes)."""
    assert solve("binary_addition", "001+01101") == ("0101120000", "1111110000")
    assert solve("binary_addition", "1001+000001") == ("100101200000", "111111100000")
    assert solve("binary_addition", "0+0") == ("0200", "1100")
    # degenerate lengths 1 and 2: one number, its own sum
    assert solve("binary_addition", "0") == ("02", "11")
    assert solve("binary_addition", "01") == ("012", "111")
    assert solve("binary_addition", "10") == ("120", "110")


def test_binary_multiplication_examples():
    """The paper's ``001 * 01101 = 000110120`` (4 * 22 = 88) and ``1001 * 000001 =
    00000100120`` (9 * 32 = 288); output length L."""
    assert solve("binary_multiplication", "001*01101") == ("000110120", "111111110")
    assert solve("binary_multiplication", "1001*000001") == ("00000100120", "11111111110")
    assert solve("binary_multiplication", "0*1") == ("020", "110")
    # degenerate lengths 1 and 2: the paper's fixed answer, L - 1 zeros
    assert solve("binary_multiplication", "1") == ("2", "1")
    assert solve("binary_multiplication", "10") == ("02", "11")


@pytest.mark.parametrize("name, op, combine, extra", [
    ("binary_addition", "+", lambda a, b: a + b, 1), ("binary_multiplication", "*", lambda a, b: a * b, 0),
])
def test_binary_operations_sampled(name, op, combine, extra):
    for L in lengths_of(tasks.make_task(name)):
        task, inputs, outputs, masks = sampled(name, L)
        O = L + extra
        widths = set()
        for s, out, mask in zip(inputs, outputs, masks):
            if L <= 2:
                assert op not in s and _le(s) <= 2 ** L - 2, s
                answer = _to_le(_le(s)) if op == "+" else "0" * (L - 1)
            else:
                a, b = s.split(op)
                assert a and b and _le(a) > 0 and _le(b) > 0, s
                widths.add(len(a))
                answer = _to_le(combine(_le(a), _le(b)))
            assert (out, mask) == terminated(answer, O, O), s
        if 3 <= L <= 7:
            assert widths == set(range(1, L - 1)), "the first number's width is uniform in 1..L-2"


@pytest.mark.parametrize("name, text", [("binary_addition", "1+1+1"), ("binary_addition", "+11"),
                                        ("binary_addition", "11+"), ("binary_addition", "101"),
                                        ("binary_multiplication", "11*"), ("binary_multiplication", "1111")])
def test_binary_operations_need_two_numbers(name, text):
    with pytest.raises(VocabularyError, match="two little-endian binary numbers"):
        tasks.make_task(name).parse_input([text])


def test_binary_operations_print_their_answer_without_padding():
    task = tasks.make_task("binary_addition")
    batch = task.parse_input(["001+01101"])
    assert task.format_output(batch, batch.targets) == "01011"
    no_end = np.ones_like(batch.targets)                     # a model that never writes the termination token
    assert task.format_output(batch, no_end) == "1" * 10
    with pytest.raises(VocabularyError, match=r"not in its alphabet \(01\+\)"):
        task.parse_input(["001*011"])


def test_binary_addition_is_not_trask_s_add():
    """``binary-addition`` stays an alias of Trask's ``add``; ``binary_addition`` is the paper's."""
    assert isinstance(tasks.make_task("binary-addition"), tasks.BinaryAddition)
    assert isinstance(tasks.make_task("binary_addition"), tasks.ChomskyBinaryAddition)
    assert tasks.TASK_ALIASES["binary-addition"] == "add"


# ----------------------------------------------------------------------------- square root


@pytest.mark.parametrize("text, answer", [("100101", "110"), ("111", "10"), ("1", "1"), ("0", "0"),
                                          ("0001", "01"), ("11111111", "1111")])
def test_compute_sqrt_examples(text, answer):
    """The paper's ``100101 = 37 -> 6``, written ``110`` (its docstring prints 101) and
    ``111 = 7 -> 10``; ceil(L / 2) big-endian bits, all counted."""
    assert solve("compute_sqrt", text) == (answer, "1" * len(answer))


def test_compute_sqrt_sampled():
    for L in lengths_of(tasks.make_task("compute_sqrt")):
        task, inputs, outputs, masks = sampled("compute_sqrt", L)
        O = -(-L // 2)
        for s, out, mask in zip(inputs, outputs, masks):
            assert int(s, 2) >= 1, s
            assert out == format(math.isqrt(int(s, 2)), f"0{O}b") and mask == [1] * O, s
