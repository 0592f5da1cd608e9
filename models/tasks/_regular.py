"""The regular tasks of Delétang et al. 2023: even pairs, modular arithmetic (without
brackets), parity check, cycle navigation. Each answer is one symbol (output length 1)."""
from __future__ import annotations

import numpy as np

from ..core._errors import VocabularyError
from ._chomsky_base import ChomskyTask, symbol_chars

__all__ = ["EvenPairs", "ModularArithmetic", "ParityCheck", "CycleNavigation"]


class EvenPairs(ChomskyTask):
    """Is the number of ``01`` and ``10`` pairs in a binary string even? Class 0: even,
    1: odd (which is whether the first and last symbols differ).

    Examples (the paper's): ``001110`` -> 0 (one ``10``, one ``01``), ``0101001`` -> 1.
    """

    name = "even_pairs"
    level = "regular"
    input_symbols = ("0", "1")
    output_symbols = ("0", "1")
    output_names = ("even", "odd")
    example = "001110"

    def transform(self, inputs):
        unequal = (inputs[:, 1:] != inputs[:, :-1]).sum(axis=1) % 2
        return unequal[:, None].astype(np.int64), np.ones((len(inputs), 1))


class ParityCheck(ChomskyTask):
    """Is the number of ``1`` in a binary string even? Class 0: even, 1: odd.

    Examples (the paper's): ``1010100`` -> 1, ``01111`` -> 0.
    """

    name = "parity_check"
    level = "regular"
    input_symbols = ("0", "1")
    output_symbols = ("0", "1")
    output_names = ("even", "odd")
    example = "1010100"

    def transform(self, inputs):
        return (inputs.sum(axis=1) % 2)[:, None].astype(np.int64), np.ones((len(inputs), 1))


class CycleNavigation(ChomskyTask):
    """Walk on a cycle of 5 positions from position 0; each symbol is a move: ``-`` one
    to the left, ``0`` stay, ``+`` one to the right (ids 0, 1, 2: the move is id - 1, as
    in the paper). The answer is the final position, 0-4.

    Examples (the paper's ``1 -1 0 -1 -1 -> 3``, ``1 1 1 -1 -> 2``): ``+-0--`` -> 3,
    ``+++-`` -> 2.
    """

    name = "cycle_navigation"
    level = "regular"
    input_symbols = ("-", "0", "+")
    output_symbols = symbol_chars(5)
    example = "+-0--"
    cycle_length = 5

    def transform(self, inputs):
        final = (inputs - 1).sum(axis=1) % self.cycle_length
        return final[:, None].astype(np.int64), np.ones((len(inputs), 1))


class ModularArithmetic(ChomskyTask):
    """Evaluate ``d op d op ... d`` modulo m (default 5): digits 0..m-1, operators ``+ - *``
    with the usual precedence (``*`` first, then ``+`` and ``-`` from the left).

    Inputs have odd lengths (digit, operator, digit, ...): a range such as 1:40 keeps its
    odd lengths. Digits and operators are drawn uniformly (as in the paper). The paper's
    alphabet also has a blank ``_`` it never samples; it is left out here.

    Examples (the paper's, modulo 5): ``1+2*3`` -> 2, ``1-1-1`` -> 4, ``0*1+4*3-2`` -> 0.
    """

    name = "modular_arithmetic"
    level = "regular"
    option_defaults = {"modulus": 5}
    example = "1+2*3"
    OPERATORS = "+-*"

    @property
    def input_symbols(self):
        return symbol_chars(self.modulus) + tuple(self.OPERATORS)

    @property
    def output_symbols(self):
        return symbol_chars(self.modulus)

    def _length_ok(self, length):
        return length >= 1 and length % 2 == 1

    def _length_rule(self):
        return "expressions alternate digit, operator, digit: their lengths are odd (1, 3, 5, ...)"

    def evaluate(self, inputs: np.ndarray) -> np.ndarray:
        """Values (n,) of expressions (n, L) of ids (odd L), vectorised.

        A term starts at the first digit and after each ``+`` or ``-``; a ``-`` negates its
        term's first digit. Each term's product modulo m is a segmented running product
        (Hillis-Steele doubling: log2 of the digits' count rounds), the value the sum of
        the products at the terms' last digits."""
        m = self.modulus
        digits, ops = inputs[:, 0::2].copy(), inputs[:, 1::2] - m       # ops: 0 +, 1 -, 2 *
        n, K = digits.shape
        starts = np.ones((n, K), dtype=bool)
        starts[:, 1:] = ops != 2
        digits[:, 1:] = np.where(ops == 1, (m - digits[:, 1:]) % m, digits[:, 1:])
        product, closed = digits, starts.copy()                   # closed: a term starts in the window
        shift = 1
        while shift < K:
            take = ~closed[:, shift:]
            product[:, shift:] = np.where(take, product[:, shift:] * product[:, :-shift] % m, product[:, shift:])
            closed[:, shift:] |= closed[:, :-shift]
            shift *= 2
        ends = np.ones((n, K), dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        return (product * ends).sum(axis=1) % m

    def generate(self, rng, n, length):
        m = self.modulus
        inputs = np.empty((n, length), dtype=np.int64)
        inputs[:, 0::2] = rng.integers(0, m, size=(n, length // 2 + 1))
        inputs[:, 1::2] = m + rng.integers(0, 3, size=(n, length // 2))
        return inputs, self.evaluate(inputs)[:, None], np.ones((n, 1))

    def answer(self, ids):
        m = self.modulus
        wrong = [i for i, s in enumerate(ids) if (s >= m) != (i % 2 == 1)]
        if wrong or len(ids) % 2 == 0:
            where = f"at position {wrong[0] + 1}" if wrong else "at the end"
            raise VocabularyError(f"{self.name}: digits (0-{m - 1}) and operators (+ - *) must alternate, starting "
                                  f"and ending with a digit, e.g. {self.example!r}; the input breaks this {where}")
        return self.evaluate(ids[None, :]), np.ones(1)
