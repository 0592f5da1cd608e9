"""The context-sensitive tasks of Delétang et al. 2023: duplicate string, missing
duplicate string, odds first, binary addition and multiplication, square root, bucket
sort. Numbers are little-endian (least significant bit first) except in compute_sqrt,
which is big-endian as in the paper; the sums and products use Python's integers."""
from __future__ import annotations

import numpy as np

from ..core._errors import VocabularyError
from ._chomsky_base import ChomskyTask, symbol_chars

__all__ = ["DuplicateString", "MissingDuplicateString", "OddsFirst", "ChomskyBinaryAddition",
           "BinaryMultiplication", "ComputeSqrt", "BucketSort"]


class _Strings(ChomskyTask):
    """A task over ``vocab_size`` symbols ``0-9a-z`` whose input is any string."""

    option_defaults = {"vocab_size": 2}

    @property
    def input_symbols(self):
        return symbol_chars(self.vocab_size)

    @property
    def output_symbols(self):
        return symbol_chars(self.vocab_size)

    def output_length(self, length):
        return int(length)


class DuplicateString(_Strings):
    """Write the input twice: ``s_1 .. s_n s_1 .. s_n`` (binary in the paper).

    Examples (the paper's): ``101`` -> ``101101``; ``111111`` -> ``111111111111``.
    """

    name = "duplicate_string"
    level = "cs"
    example = "101"

    def output_length(self, length):
        return 2 * int(length)

    def transform(self, inputs):
        return np.concatenate([inputs, inputs], axis=1), np.ones((len(inputs), 2 * inputs.shape[1]))


class OddsFirst(_Strings):
    """The symbols at odd positions first, then those at even positions (counting from 1):
    ``s_1 s_3 s_5 .. s_2 s_4 ..`` (binary in the paper).

    Examples (the paper's): ``00110101`` -> ``01000111``; ``110`` -> ``101``. (The paper's
    code takes the even positions first, against its own definition and examples; we
    follow the definition.)
    """

    name = "odds_first"
    level = "cs"
    example = "00110101"

    def transform(self, inputs):
        return np.concatenate([inputs[:, 0::2], inputs[:, 1::2]], axis=1), np.ones(inputs.shape)


class BucketSort(_Strings):
    """Sort the symbols of the input (5 symbols in the paper).

    Examples (the paper's): ``10204112`` -> ``00111224``; with 2 symbols ``1110001`` -> ``0001111``.
    """

    name = "bucket_sort"
    level = "cs"
    option_defaults = {"vocab_size": 5}
    example = "10204112"

    def transform(self, inputs):
        return np.sort(inputs, axis=1), np.ones(inputs.shape)


class MissingDuplicateString(ChomskyTask):
    """A binary string written twice with one symbol replaced by ``2``: give that symbol.

    For a length L the string has L // 2 bits; an odd L ends with the padding token ``3``.
    The position of the missing symbol is uniform over the 2 (L // 2) positions. Length 1
    is the paper's degenerate case: the input ``1``, the answer 1.

    Examples (the paper's): ``01100210`` -> 1 (the string is 0110); ``1011213`` -> 0.
    """

    name = "missing_duplicate_string"
    level = "cs"
    input_symbols = ("0", "1", "2", "3")
    output_symbols = ("0", "1")
    example = "01100210"

    def generate(self, rng, n, length):
        if length == 1:
            return np.ones((n, 1), np.int64), np.ones((n, 1), np.int64), np.ones((n, 1))
        half = length // 2
        strings = rng.integers(0, 2, size=(n, half), dtype=np.int64)
        missing = rng.integers(0, 2 * half, size=n)
        inputs = np.full((n, length), 3, dtype=np.int64)
        inputs[:, :2 * half] = np.concatenate([strings, strings], axis=1)
        rows = np.arange(n)
        answer = inputs[rows, missing].copy()
        inputs[rows, missing] = 2
        return inputs, answer[:, None], np.ones((n, 1))

    def answer(self, ids):
        L = len(ids)
        if L == 1 and ids[0] == 1:
            return np.ones(1, np.int64), np.ones(1)
        half = L // 2
        body, pad = ids[:2 * half], ids[2 * half:]
        fix = (f"e.g. {self.example!r}: a binary string twice with one symbol replaced by 2, then 3 when the length "
               f"is odd")
        if L < 2 or (body == 3).any() or (pad != 3).any() or (body == 2).sum() != 1:
            raise VocabularyError(f"{self.name}: {fix}")
        k = int(np.flatnonzero(body == 2)[0])
        first, second = body[:half], body[half:]
        other = body[(k + half) % (2 * half)]
        agree = np.delete(first, k % half) == np.delete(second, k % half)
        if not agree.all():
            raise VocabularyError(f"{self.name}: the two halves differ where no symbol is missing; {fix}")
        return np.array([other], np.int64), np.ones(1)


# ----------------------------------------------------------------------------- binary numbers


def _ints_from_bits(bits: np.ndarray) -> list[int]:
    """Python integers of rows of little-endian bits (n, k)."""
    packed = np.packbits(bits.astype(np.uint8), axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def _bits_from_ints(numbers: list[int], width: int) -> np.ndarray:
    """Little-endian bits (n, width) of non-negative integers below 2**width."""
    nbytes = max(1, -(-width // 8))
    raw = np.frombuffer(b"".join(v.to_bytes(nbytes, "little") for v in numbers), dtype=np.uint8)
    return np.unpackbits(raw.reshape(len(numbers), nbytes), axis=1, bitorder="little")[:, :width].astype(np.int64)


def _nonzero_bits(rng: np.random.Generator, widths: np.ndarray, k: int) -> np.ndarray:
    """Rows (n, k) of random bits with row i nonzero on its first ``widths[i]`` bits and
    zero after: a uniform integer in [1, 2**widths[i] - 1] (all-zero rows are redrawn)."""
    keep = np.arange(k)[None, :] < widths[:, None]
    bits = rng.integers(0, 2, size=(len(widths), k), dtype=np.int64) * keep
    empty = np.flatnonzero(~bits.any(axis=1))
    while empty.size:
        bits[empty] = rng.integers(0, 2, size=(empty.size, k), dtype=np.int64) * keep[empty]
        empty = empty[~bits[empty].any(axis=1)]
    return bits


class _BinaryOperation(ChomskyTask):
    """``a OP b`` with a and b in little-endian binary, OP printed as :attr:`operator`.

    Lengths >= 3 (the paper's sampling): a's width uniform in 1..L-2, b's L-1-a's, each
    number uniform over the nonzero numbers of its width (so a top bit may be 0). The
    answer in little-endian binary without leading zeros, the termination token 2, then
    zeros; the mask counts up to and including the termination token. Lengths 1 and 2
    are the paper's degenerate case: the input is one number in [0, 2**L - 2], no operator
    (see :meth:`degenerate_answer`).
    """

    level = "cs"
    input_symbols = ("0", "1", "+")
    output_symbols = ("0", "1", "2")
    terminator = 2
    operator = "+"

    def combine(self, a: int, b: int) -> int:
        raise NotImplementedError

    def degenerate_answer(self, number: int, length: int) -> list[int]:
        raise NotImplementedError

    def _outputs(self, answers: list[list[int]] | list[int], length: int, widths=None):
        """Outputs and mask (n, O) from answers: Python ints (with ``widths`` their bit
        counts) or lists of bits."""
        O = self.output_length(length)
        n = len(answers)
        if widths is None:
            widths = np.array([len(a) for a in answers], dtype=np.int64)
            bits = np.zeros((n, O), dtype=np.int64)
            for i, a in enumerate(answers):
                bits[i, :len(a)] = a
        else:
            bits = _bits_from_ints(answers, O)
        i = np.arange(O)[None, :]
        outputs = np.where(i < widths[:, None], bits, 0)
        outputs = np.where(i == widths[:, None], self.terminator, outputs)
        return outputs, (i <= widths[:, None]).astype(np.float64)

    def generate(self, rng, n, length):
        if length <= 2:
            numbers = rng.integers(0, 2 ** length - 1, size=n)
            inputs = (numbers[:, None] >> np.arange(length)[None, :]) & 1
            return (inputs.astype(np.int64),
                    *self._outputs([self.degenerate_answer(int(v), length) for v in numbers], length))
        width_a = rng.integers(1, length - 1, size=n)
        width_b = length - 1 - width_a
        a = _nonzero_bits(rng, width_a, length - 2)
        b = _nonzero_bits(rng, width_b, length - 2)
        j = np.arange(length)[None, :]
        from_b = np.take_along_axis(b, np.clip(j - width_a[:, None] - 1, 0, length - 3), axis=1)
        inputs = np.where(j < width_a[:, None], np.pad(a, ((0, 0), (0, 2))), from_b)
        inputs = np.where(j == width_a[:, None], 2, inputs)
        results = [self.combine(x, y) for x, y in zip(_ints_from_bits(a), _ints_from_bits(b))]
        widths = np.array([max(1, r.bit_length()) for r in results], dtype=np.int64)
        return (inputs, *self._outputs(results, length, widths))

    def answer(self, ids):
        L = len(ids)
        ops = np.flatnonzero(ids == 2)
        if ops.size == 0 and L <= 2:
            number = sum(int(v) << k for k, v in enumerate(ids))
            outputs, mask = self._outputs([self.degenerate_answer(number, L)], L)
            return outputs[0], mask[0]
        if ops.size != 1 or ops[0] == 0 or ops[0] == L - 1:
            raise VocabularyError(f"{self.name}: write two little-endian binary numbers (least significant bit "
                                  f"first) joined by {self.operator!r}, e.g. {self.example!r} (lengths 1 and 2: "
                                  f"one number, no {self.operator!r})")
        a = sum(int(v) << k for k, v in enumerate(ids[:ops[0]]))
        b = sum(int(v) << k for k, v in enumerate(ids[ops[0] + 1:]))
        result = self.combine(a, b)
        outputs, mask = self._outputs([result], L, np.array([max(1, result.bit_length())]))
        return outputs[0], mask[0]


class ChomskyBinaryAddition(_BinaryOperation):
    """Add two little-endian binary numbers: output length L + 1 (the paper's
    ``binary_addition``; not Trask's bit-per-step ``add``, :class:`BinaryAddition`).

    Degenerate lengths 1 and 2: the one number, written without leading zeros (``0``
    for zero). Examples (the paper's): ``001+01101`` -> ``0101120000`` (4 + 22 = 26;
    the paper's docstring drops one padding zero), ``1001+000001`` -> ``100101200000``
    (9 + 32 = 41).
    """

    name = "binary_addition"
    example = "001+01101"

    def output_length(self, length):
        return int(length) + 1

    def combine(self, a, b):
        return a + b

    def degenerate_answer(self, number, length):
        return [(number >> k) & 1 for k in range(max(1, number.bit_length()))]


class BinaryMultiplication(_BinaryOperation):
    """Multiply two little-endian binary numbers: output length L (the product has at
    most L - 1 bits).

    Degenerate lengths 1 and 2: the paper's fixed answer, L - 1 zeros (none for L = 1).
    Examples (the paper's): ``001*01101`` -> ``000110120`` (4 * 22 = 88),
    ``1001*000001`` -> ``00000100120`` (9 * 32 = 288).
    """

    name = "binary_multiplication"
    input_symbols = ("0", "1", "*")
    operator = "*"
    example = "001*01101"

    def output_length(self, length):
        return int(length)

    def combine(self, a, b):
        return a * b

    def degenerate_answer(self, number, length):
        return [0] * (length - 1)


class ComputeSqrt(ChomskyTask):
    """The floor of the square root of a big-endian binary number of L bits, in
    ceil(L / 2) big-endian bits (leading zeros kept); every output position counts. The
    number is uniform in [1, 2**L - 1].

    Examples (the paper's): ``100101`` (37) -> ``110`` (6; the paper's docstring prints
    ``101``), ``111`` (7) -> ``10``.
    """

    name = "compute_sqrt"
    level = "cs"
    input_symbols = ("0", "1")
    output_symbols = ("0", "1")
    example = "100101"

    def output_length(self, length):
        return -(-int(length) // 2)

    def transform(self, inputs):
        from math import isqrt

        O = self.output_length(inputs.shape[1])
        roots = [isqrt(v) for v in _ints_from_bits(inputs[:, ::-1])]
        return _bits_from_ints(roots, O)[:, ::-1].copy(), np.ones((len(inputs), O))

    def generate(self, rng, n, length):
        inputs = _nonzero_bits(rng, np.full(n, length), length)
        return (inputs, *self.transform(inputs))
