"""Binary addition (Trask 2015): two numbers bit by bit, least significant first."""
from __future__ import annotations

import numpy as np

from typing import Sequence

from ..core._errors import VocabularyError
from ._base import Batch, Block, Task, _check_int

__all__ = ["BinaryAddition"]



class BinaryAddition(Task):
    """Add two numbers bit by bit, least significant bit first (Trask 2015).

    Per step the input is ``[a_t, b_t]`` and the target is bit t of ``a + b``
    (sigmoid head, one output). The task length is the bit width n >= 2; operands are
    drawn uniformly from [0, 2**(n - 1)).

    Parameters
    ----------
    exclude : array-like of shape (K, 2), optional
        Operand pairs never generated (redrawn when hit), to keep a test set held out.
        Applies to widths up to 32 bits (wider random pairs repeat with negligible
        probability).
    """

    name = "add"
    head = "sigmoid"
    length_name = "bits"
    default_lengths = (8, 8)
    min_length = 2
    n_inputs = 2
    n_outputs = 1

    def __init__(self, *, exclude=None):
        if exclude is None:
            self.exclude = np.zeros((0, 2), dtype=np.int64)
        else:
            exclude = np.asarray(exclude, dtype=np.int64).reshape(-1, 2)
            if (exclude < 0).any():
                raise ValueError("exclude must hold non-negative operand pairs")
            self.exclude = exclude
        # sorted keys a * 2**31 + b of the excluded pairs (operands below 2**31)
        small = self.exclude[(self.exclude < 2**31).all(axis=1)]
        self._exclude_keys = np.unique(small[:, 0] * 2**31 + small[:, 1])

    def sequence_length(self, length: int) -> int:
        return int(length)

    def _length_rule(self) -> str:
        return "bit widths must be >= 2"

    def encode(self, a_bits: np.ndarray, b_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inputs (n, N, 2) and targets (n, N, 1) from operand bits (N, n), little-endian."""
        N, n = a_bits.shape
        sum_bits = np.empty((N, n), dtype=np.int64)
        carry = np.zeros(N, dtype=np.int64)
        for i in range(n):
            total = a_bits[:, i] + b_bits[:, i] + carry
            sum_bits[:, i] = total & 1
            carry = total >> 1
        inputs = np.stack([a_bits, b_bits], axis=-1).astype(np.float64)     # (N, n, 2)
        return (np.ascontiguousarray(inputs.transpose(1, 0, 2)),
                np.ascontiguousarray(sum_bits.T[:, :, None].astype(np.float64)))

    def _draw(self, rng: np.random.Generator, n: int, B: int, bits: int) -> np.ndarray:
        """Operand bits, int8 of shape (2, n, bits, B), little-endian, top bit 0."""
        count = 2 * n * bits * B                      # random bits, eight per random byte
        operands = np.unpackbits(np.frombuffer(rng.bytes(-(-count // 8)), dtype=np.uint8))[:count]
        operands = operands.view(np.int8).reshape(2, n, bits, B)
        operands[:, :, bits - 1, :] = 0               # below 2**(bits - 1): the sum fits in `bits`
        if self._exclude_keys.size and bits <= 32:
            weights = (np.int64(1) << np.arange(bits, dtype=np.int64))[None, :, None]
            for _ in range(1000):
                keys = (operands[0] * weights).sum(axis=1) * 2**31 + (operands[1] * weights).sum(axis=1)
                pos = np.minimum(np.searchsorted(self._exclude_keys, keys), self._exclude_keys.size - 1)
                hit = np.nonzero(self._exclude_keys[pos] == keys)                  # (batch, seq) indices
                if not hit[0].size:
                    break
                redraw = rng.integers(0, 2, size=(2, hit[0].size, bits), dtype=np.int8)
                redraw[:, :, bits - 1] = 0
                operands[:, hit[0], :, hit[1]] = redraw.transpose(1, 0, 2)
            else:  # pragma: no cover - needs an exclude set covering nearly every pair
                raise ValueError(f"exclude covers (almost) every {bits}-bit operand pair")
        return operands

    def sample_block(self, rng, n_batches, batch_size, length):
        bits = self.check_length(length)
        n_batches = _check_int("n_batches", n_batches, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        return self._block(self._draw(rng, n_batches, batch_size, bits), bits)

    def sample_chunks(self, rng, n, length, chunk):
        """As :meth:`Task.sample_chunks`: the operand bits of all ``n`` sums are drawn at once
        (as :meth:`sample` draws them, one byte a bit), each chunk's inputs built when asked."""
        bits = self.check_length(length)
        n = _check_int("n", n, 1)
        chunk = _check_int("chunk", chunk, 1)
        operands = self._draw(rng, 1, n, bits)                               # (2, 1, T, n)
        for a in range(0, n, chunk):
            yield self._block(np.ascontiguousarray(operands[..., a:a + chunk]), bits).batch(0)

    def _block(self, operands: np.ndarray, bits: int) -> Block:
        """Inputs, targets and mask of the sums of ``operands`` (2, n, T, B) int8."""
        n_batches, batch_size = operands.shape[1], operands.shape[3]
        inputs = np.stack([operands[0], operands[1]], axis=-1).astype(np.float64)   # (n, T, B, 2)
        if bits <= 62:                                                      # sum as integers
            shifts = np.arange(bits, dtype=np.int64)
            weights = (np.int64(1) << shifts)[None, :, None]
            total = (operands[0] * weights).sum(axis=1) + (operands[1] * weights).sum(axis=1)    # (n, B)
            targets = ((total[:, None, :] >> shifts[None, :, None]) & 1).astype(np.float64)[..., None]
        else:                                                               # ripple-carry, any width
            targets = np.empty((n_batches, bits, batch_size, 1))
            carry = np.zeros((n_batches, batch_size), dtype=np.int8)
            for i in range(bits):
                total = operands[0][:, i] + operands[1][:, i] + carry
                targets[:, i, :, 0] = total & 1
                carry = total >> 1
        return Block(inputs, targets, np.ones((n_batches, bits, batch_size)), bits)

    def batch_from_operands(self, a: Sequence[int], b: Sequence[int], bits: int | None = None) -> Batch:
        """A batch adding ``a[i] + b[i]`` (Python ints of any size) in ``bits`` bits
        (default: just wide enough for the largest sum)."""
        a = [int(x) for x in a]
        b = [int(x) for x in b]
        if len(a) != len(b) or not a:
            raise ValueError("a and b must be non-empty and of equal length")
        if min(a + b) < 0:
            raise ValueError("binary addition takes non-negative integers")
        needed = max(max(x.bit_length() for x in a + b) + 1, 2)
        bits = needed if bits is None else self.check_length(bits)
        if bits < needed:
            raise ValueError(f"{bits} bits cannot hold these operands and their sum; need {needed}")
        a_bits = np.array([[(x >> i) & 1 for i in range(bits)] for x in a], dtype=np.int64)
        b_bits = np.array([[(x >> i) & 1 for i in range(bits)] for x in b], dtype=np.int64)
        inputs, targets = self.encode(a_bits, b_bits)
        return Batch(inputs, targets, np.ones(inputs.shape[:2]), bits)

    def parse_input(self, tokens):
        words = [w for t in tokens for w in str(t).replace("+", " ").split()]
        if len(words) != 2 or not all(w.isdigit() for w in words):
            raise VocabularyError(f"binary addition takes two non-negative integers, e.g. `1234 5678`; "
                                  f"got {' '.join(map(str, tokens))!r}")
        return self.batch_from_operands([int(words[0])], [int(words[1])])

    def decode(self, predictions: np.ndarray) -> list[int]:
        """Predicted sums from bits of shape (T, B, 1) or (T, B)."""
        bits = np.asarray(predictions).reshape(predictions.shape[0], predictions.shape[1])
        return [sum(int(bits[t, j]) << t for t in range(bits.shape[0])) for j in range(bits.shape[1])]

    def format_output(self, batch, predictions):
        return str(self.decode(predictions)[0])

    def spec(self):
        spec = {"name": self.name}
        if len(self.exclude):
            spec["exclude"] = self.exclude.tolist()
        return spec
