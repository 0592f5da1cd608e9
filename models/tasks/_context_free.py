"""The deterministic context-free tasks of Delétang et al. 2023: stack manipulation, string
reversal, modular arithmetic with brackets, solving an equation for x."""
from __future__ import annotations

import numpy as np

from ..core._errors import VocabularyError
from ._chomsky_base import ChomskyTask, symbol_chars

__all__ = ["StackManipulation", "ReverseString", "ModularArithmeticBrackets", "SolveEquation",
           "evaluate_brackets"]


class StackManipulation(ChomskyTask):
    """Run stack instructions on a binary stack and write the final stack.

    The input is a stack of bits given bottom to top, then instructions: ``2`` pop
    (ignored on an empty stack), ``3`` push 0, ``4`` push 1 (the paper's ids, printed as
    they are). The answer is the final stack top to bottom, then the termination token
    ``2``, then zeros up to the output length L + 1; the mask counts the positions up to
    and including the termination token. The paper draws the stack's length uniformly
    from 1..L-1 (length 1: one bit and no instruction), its bits and the instructions
    uniformly.

    Examples (the paper's): ``0110422`` -> ``11020000``; ``110222`` -> ``2000000``
    (empty stack).
    """

    name = "stack_manipulation"
    level = "dcf"
    input_symbols = ("0", "1", "2", "3", "4")
    output_symbols = ("0", "1", "2")
    terminator = 2
    empty_text = "(empty stack)"
    example = "0110422"

    def output_length(self, length):
        return int(length) + 1

    def transform(self, inputs):
        """Final stacks for rows of bits (pushes) and instructions, vectorised: the height
        after each step is the walk of +1 (push) / -1 (pop) reflected at 0 (a pop on the
        empty stack does nothing), and a push survives to the end when the height never
        falls below its level afterwards; the survivors are the final stack, bottom to top."""
        n, L = inputs.shape
        push = inputs != 2
        steps = np.where(push, 1, -1).cumsum(axis=1)
        height = steps - np.minimum(np.minimum.accumulate(steps, axis=1), 0)        # (n, L)
        lowest_after = np.minimum.accumulate(height[:, ::-1], axis=1)[:, ::-1]      # min of height[t:]
        rows, times = np.nonzero(push & (height == lowest_after))
        final = height[:, -1]                                                       # (n,) final heights
        O = L + 1
        outputs = np.zeros((n, O), dtype=np.int64)
        bit = inputs[rows, times]
        outputs[rows, final[rows] - height[rows, times]] = np.where(bit >= 3, bit - 3, bit)    # top first
        outputs[np.arange(n), final] = self.terminator
        return outputs, (np.arange(O)[None, :] <= final[:, None]).astype(np.float64)

    def generate(self, rng, n, length):
        if length == 1:
            inputs = rng.integers(0, 2, size=(n, 1), dtype=np.int64)
        else:
            stack_length = rng.integers(1, length, size=(n, 1))
            bits = rng.integers(0, 2, size=(n, length), dtype=np.int64)
            actions = rng.integers(2, 5, size=(n, length), dtype=np.int64)
            inputs = np.where(np.arange(length)[None, :] < stack_length, bits, actions)
        return (inputs, *self.transform(inputs))

    def answer(self, ids):
        actions = np.flatnonzero(ids >= 2)
        if ids[0] >= 2 or (actions.size and (ids[actions[0]:] < 2).any()):
            raise VocabularyError(f"{self.name}: give the stack's bits bottom to top (0, 1), then the instructions "
                                  f"(2 pop, 3 push 0, 4 push 1), e.g. {self.example!r}: the stack comes first and "
                                  f"holds at least one bit")
        return super().answer(ids)


class ReverseString(ChomskyTask):
    """Write the input backwards (binary in the paper; ``vocab_size`` symbols ``0-9a-z``).

    Examples (the paper's): ``011010`` -> ``010110``; with 4 symbols ``123021`` -> ``120321``.
    """

    name = "reverse_string"
    level = "dcf"
    option_defaults = {"vocab_size": 2}
    example = "011010"

    @property
    def input_symbols(self):
        return symbol_chars(self.vocab_size)

    @property
    def output_symbols(self):
        return symbol_chars(self.vocab_size)

    def output_length(self, length):
        return int(length)

    def transform(self, inputs):
        return inputs[:, ::-1].copy(), np.ones(inputs.shape)


# ----------------------------------------------------------------------------- brackets


def _bracket_expressions(rng: np.random.Generator, n: int, length: int, modulus: int):
    """``n`` random expressions of ``length`` symbols and their values, as the paper draws
    them: length 1-4 give ``d``, ``-d``, ``(d)``, ``(-d)``; a longer one is
    ``(left op right)`` with the left length uniform in 1..length-4 and op uniform in
    ``+ -``. Ids: digits 0..m-1, then ``+ - ( )``. Vectorised over the segments still to
    draw, one tree level a round; with ``+`` and ``-`` only, the value is the sum of the
    digits times the sign (+1 or -1) each inherits from the operators above it."""
    m = modulus
    PLUS, MINUS, OPEN, CLOSE = m, m + 1, m + 2, m + 3
    out = np.empty((n, length), dtype=np.int64)
    values = np.zeros(n, dtype=np.int64)
    row = np.arange(n)
    start = np.zeros(n, dtype=np.int64)
    size = np.full(n, length, dtype=np.int64)
    sign = np.ones(n, dtype=np.int64)
    while row.size:
        leaf = size <= 4
        if leaf.any():
            r, s, z, g = row[leaf], start[leaf], size[leaf], sign[leaf]
            digit = rng.integers(0, m, size=r.size)
            negated = (z == 2) | (z == 4)
            bracketed = z >= 3
            out[r[bracketed], s[bracketed]] = OPEN
            out[r[bracketed], (s + z - 1)[bracketed]] = CLOSE
            out[r[negated], (s + bracketed)[negated]] = MINUS
            out[r, s + bracketed + negated] = digit
            values += np.bincount(r, np.where(negated, -g, g) * digit, minlength=n).astype(np.int64)
        inner = ~leaf
        if not inner.any():
            break
        r, s, z, g = row[inner], start[inner], size[inner], sign[inner]
        left = rng.integers(1, z - 3)                                   # 1 .. z-4
        minus = rng.integers(0, 2, size=r.size).astype(bool)
        out[r, s] = OPEN
        out[r, s + z - 1] = CLOSE
        out[r, s + 1 + left] = np.where(minus, MINUS, PLUS)
        row = np.concatenate([r, r])
        start = np.concatenate([s + 1, s + 2 + left])
        size = np.concatenate([left, z - 3 - left])
        sign = np.concatenate([g, np.where(minus, -g, g)])
    return out, values % m


def evaluate_brackets(ids, modulus: int, symbols: str, x: int | None = None, example: str = "((1+2)-(-3))") -> int:
    """The value modulo ``modulus`` of one expression of ids (``symbols`` prints them:
    digits, then ``+ - ( )`` and, for equations, ``x``), with ``x`` standing for the
    value given. Grammar: ``expr := unary (("+" | "-") unary)*``, ``unary := "-" unary |
    atom``, ``atom := digit | x | "(" expr ")"``: every expression of the paper and the
    usual unbracketed ones. Raises :class:`VocabularyError` naming the position."""
    m = modulus
    text = "".join(symbols[i] for i in ids)
    pos = 0

    def fail(what: str):
        where = f"at position {pos + 1} ({text[pos]!r})" if pos < len(text) else "at the end"
        raise VocabularyError(f"not an expression: {what} {where} of {text!r}; e.g. {example!r}")

    def expr() -> int:
        nonlocal pos
        value = unary()
        while pos < len(text) and text[pos] in "+-":
            op = text[pos]
            pos += 1
            rhs = unary()
            value = value + rhs if op == "+" else value - rhs
        return value % m

    def unary() -> int:
        nonlocal pos
        if pos < len(text) and text[pos] == "-":
            pos += 1
            return -unary()
        return atom()

    def atom() -> int:
        nonlocal pos
        if pos >= len(text):
            fail("a digit or '(' is missing")
        ch = text[pos]
        if ch == "(":
            pos += 1
            value = expr()
            if pos >= len(text) or text[pos] != ")":
                fail("')' expected")
            pos += 1
            return value
        if ch == "x" and x is not None:
            pos += 1
            return x
        if ch.isdigit():
            pos += 1
            return int(ch)
        fail("a digit or '(' expected")

    value = expr()
    if pos != len(text):
        fail("an operator or the end expected")
    return value % m


class ModularArithmeticBrackets(ChomskyTask):
    """Evaluate an expression with brackets modulo m (default 5): digits 0..m-1, ``+``,
    ``-`` (binary, and unary before a digit), ``(`` and ``)``.

    The paper draws an expression of length L as: 1 ``d``, 2 ``-d``, 3 ``(d)``, 4
    ``(-d)``, longer ``(left op right)`` with left's length uniform in 1..L-4 and op
    uniform in ``+ -`` (the paper's experiments use no ``*``; its alphabet keeps unused
    ``* x =`` slots, left out here). Every length >= 1 has expressions.

    Example: ``((1+2)-(-3))`` -> 1 (6 mod 5); ``(-2)`` -> 3.
    """

    name = "modular_arithmetic_brackets"
    level = "dcf"
    option_defaults = {"modulus": 5}
    example = "((1+2)-(-3))"

    @property
    def input_symbols(self):
        return symbol_chars(self.modulus) + tuple("+-()")

    @property
    def output_symbols(self):
        return symbol_chars(self.modulus)

    def generate(self, rng, n, length):
        inputs, values = _bracket_expressions(rng, n, length, self.modulus)
        return inputs, values[:, None], np.ones((n, 1))

    def answer(self, ids):
        value = evaluate_brackets(ids, self.modulus, "".join(self.input_symbols))
        return np.array([value], dtype=np.int64), np.ones(1)


class SolveEquation(ChomskyTask):
    """Find x in an equation ``expression = d`` modulo m (default 5), where one digit of
    a bracketed expression (as :class:`ModularArithmeticBrackets` draws it, of length L-2)
    is replaced by ``x``: the paper picks a position uniformly and takes the first digit at
    or after it (cyclically). Lengths >= 3; with ``+`` and ``-`` only, x is unique.

    Example: ``((1+x)-(-3))=1`` -> 2.
    """

    name = "solve_equation"
    level = "dcf"
    option_defaults = {"modulus": 5}
    min_length = 3
    example = "((1+x)-(-3))=1"

    @property
    def input_symbols(self):
        return symbol_chars(self.modulus) + tuple("+-()x=")

    @property
    def output_symbols(self):
        return symbol_chars(self.modulus)

    def _length_rule(self):
        return "equations need at least 3 symbols (x=d)"

    def generate(self, rng, n, length):
        m = self.modulus
        E = length - 2
        expressions, values = _bracket_expressions(rng, n, E, m)
        position = rng.integers(0, E, size=n)
        columns = np.arange(E)
        digit_at = np.where(expressions < m, columns[None, :], E)                  # E: not a digit
        next_digit = np.minimum.accumulate(digit_at[:, ::-1], axis=1)[:, ::-1]    # first digit at or after
        chosen = next_digit[np.arange(n), position]
        chosen = np.where(chosen == E, next_digit[:, 0], chosen)                 # none after it: wrap round
        solution = expressions[np.arange(n), chosen]
        expressions[np.arange(n), chosen] = m + 4                                  # x
        inputs = np.concatenate([expressions, np.full((n, 1), m + 5), values[:, None]], axis=1)
        return inputs, solution[:, None], np.ones((n, 1))

    def answer(self, ids):
        m = self.modulus
        symbols = "".join(self.input_symbols)
        text = "".join(symbols[i] for i in ids)
        if text.count("=") != 1 or text.count("x") != 1 or len(text) < 3 or text[-2] != "=" \
                or not text[-1].isdigit():
            raise VocabularyError(f"{self.name}: write an expression holding one x, then '=' and one digit "
                                  f"(0-{m - 1}), e.g. {self.example!r}; got {text!r}")
        lhs, value = ids[:-2], int(text[-1])
        solutions = [x for x in range(m) if evaluate_brackets(lhs, m, symbols, x=x, example=self.example) == value]
        if len(solutions) != 1:                       # pragma: no cover - x has coefficient +1 or -1
            raise VocabularyError(f"{self.name}: {text!r} has {len(solutions)} solutions modulo {m}")
        return np.array(solutions, dtype=np.int64), np.ones(1)
