"""Sequence tasks: seeded generators of training and test batches.

- :class:`BinaryAddition` — A. Trask, "Anyone Can Learn To Code an LSTM-RNN in Python"
  (2015): the bits of two numbers are fed least-significant first, two inputs per
  step, and the model predicts the bit of their sum at each step (a sigmoid output).
  The task's "length" is the bit width n: operands are below 2**(n - 1), so the sum
  fits in n bits; any width works (8 in the tutorial, 64 to test generalisation).
- :class:`Copy`, :class:`Reverse`, :class:`BigramFlip` — the transduction tasks of
  Grefenstette et al. 2015 ("Learning to Transduce with Unbounded Memory"): a source
  of L symbols from a vocabulary of V, one separator step, then L steps on which the
  model writes the target (the source, the source reversed, or the source with each
  adjacent pair swapped; bigram flip needs even L). Inputs are one-hot over V symbols
  plus the separator (all zero during the target phase); outputs are a softmax over V,
  and only the L target steps count (``mask``).

Every batch is time-major: ``inputs`` (T, B, I), ``targets`` (T, B) int64 class ids
(softmax tasks) or (T, B, O) float64 bits (sigmoid tasks), ``mask`` (T, B) float64.
A :class:`Block` holds ``n`` such batches of one length with a leading axis
(``inputs`` (n, T, B, I) ...), which is how the training loop asks for data.

Generators take a ``numpy.random.Generator``; the same generator state gives the same
batches.

Examples
--------
>>> import numpy as np
>>> from models import tasks
>>> task = tasks.make_task("reverse", vocab_size=4)
>>> batch = task.sample(np.random.default_rng(0), batch_size=2, length=3)
>>> batch.inputs.shape, batch.targets.shape          # T = 2 * 3 + 1
((7, 2, 5), (7, 2))
>>> task.format_output(task.parse_input(["0123"]), np.array([[0], [0], [0], [0], [0], [3], [2], [1], [0]]))
'3210'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from ._errors import UnknownNameError, VocabularyError

__all__ = [
    "Batch", "Block", "Task", "BinaryAddition", "SymbolTask", "Copy", "Reverse", "BigramFlip",
    "TASKS", "TASK_ALIASES", "make_task", "task_from_spec", "task_names",
]


# ----------------------------------------------------------------------------- containers


@dataclass
class Batch:
    """B sequences of one length, time-major.

    Attributes
    ----------
    inputs : ndarray of shape (T, B, I), float64
    targets : ndarray of shape (T, B) int64 (softmax tasks) or (T, B, O) float64 (sigmoid tasks)
    mask : ndarray of shape (T, B), float64
        1 where a target counts (loss and accuracy), 0 elsewhere.
    length : int
        The task's length parameter (source length, or bit width for addition).
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    length: int

    @property
    def batch_size(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.inputs.shape[0])


@dataclass
class Block:
    """``n`` batches of one length stacked on a leading axis (see :class:`Batch`)."""

    inputs: np.ndarray      # (n, T, B, I)
    targets: np.ndarray     # (n, T, B) or (n, T, B, O)
    mask: np.ndarray        # (n, T, B)
    length: int

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def batch(self, k: int) -> Batch:
        return Batch(self.inputs[k], self.targets[k], self.mask[k], self.length)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- base


class Task:
    """Base class of the tasks. Subclasses set the class attributes and implement
    :meth:`sample_block`, :meth:`parse_input` and :meth:`format_output`."""

    name: ClassVar[str] = ""
    head: ClassVar[str] = "softmax"           # "softmax" (targets are ids) or "sigmoid" (bits)
    length_name: ClassVar[str] = "length"
    default_lengths: ClassVar[tuple[int, int]] = (8, 64)
    min_length: ClassVar[int] = 1
    n_inputs: int
    n_outputs: int

    # -- lengths
    def sequence_length(self, length: int) -> int:
        """Number of time steps T of a sequence of the given task length."""
        raise NotImplementedError

    def check_length(self, length: int) -> int:
        """Validate one task length; returns it as int."""
        length = _check_int(self.length_name, length, self.min_length)
        return length

    def valid_lengths(self, low: int, high: int) -> np.ndarray:
        """The lengths in [low, high] this task accepts (sorted).

        Raises
        ------
        ValueError
            When the range is malformed or holds no valid length.
        """
        low = _check_int(f"lowest {self.length_name}", low, 1)
        high = _check_int(f"highest {self.length_name}", high, 1)
        if high < low:
            raise ValueError(f"{self.length_name} range {low}:{high} is empty: the low end must not "
                             f"exceed the high end (e.g. {high}:{low})")
        if low < self.min_length:
            raise ValueError(f"{self.name}: {self._length_rule()}, got {low}:{high}")
        lengths = np.array([n for n in range(low, high + 1) if self._length_ok(n)], dtype=np.int64)
        if lengths.size == 0:
            raise ValueError(f"{self.name} accepts no {self.length_name} in {low}:{high} ({self._length_rule()})")
        return lengths

    def _length_ok(self, length: int) -> bool:
        return length >= self.min_length

    def _length_rule(self) -> str:
        return f"{self.length_name}s must be >= {self.min_length}"

    # -- data
    def sample_block(self, rng: np.random.Generator, n_batches: int, batch_size: int, length: int) -> Block:
        """``n_batches`` batches of ``batch_size`` random sequences of one length."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, batch_size: int, length: int) -> Batch:
        """One batch of ``batch_size`` random sequences of one length."""
        return self.sample_block(rng, 1, batch_size, length).batch(0)

    # -- applying a model to user input
    def parse_input(self, tokens: Sequence[str]) -> Batch:
        """A batch of one sequence from the command line's words (raises on bad input)."""
        raise NotImplementedError

    def format_output(self, batch: Batch, predictions: np.ndarray) -> str:
        """The model's answer for a :meth:`parse_input` batch, as text."""
        raise NotImplementedError

    # -- persistence
    def spec(self) -> dict[str, Any]:
        """JSON-able description, enough for :func:`task_from_spec`."""
        return {"name": self.name}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "name")
        return f"{type(self).__name__}({opts})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.spec() == other.spec()


# ----------------------------------------------------------------------------- binary addition


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
        operands = self._draw(rng, n_batches, batch_size, bits)            # (2, n, T, B)
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


# ----------------------------------------------------------------------------- symbol tasks

_SYMBOL_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


class SymbolTask(Task):
    """A transduction task over ``vocab_size`` symbols (Grefenstette et al. 2015 layout).

    Steps ``0 .. L-1`` read the source, step ``L`` reads the separator, steps
    ``L+1 .. 2L`` read nothing (a zero input) and must emit the target.

    Parameters
    ----------
    vocab_size : int, default 16
        Number of symbols V >= 2. Symbols print as ``0-9a-z`` when V <= 36, as
        integers otherwise.
    """

    head = "softmax"
    default_lengths = (8, 64)

    def __init__(self, *, vocab_size: int = 16):
        self.vocab_size = _check_int("vocab_size", vocab_size, 2)
        self.n_inputs = self.vocab_size + 1          # symbols + separator
        self.n_outputs = self.vocab_size
        self.separator = self.vocab_size

    @property
    def symbols(self) -> list[str]:
        """The printed form of each symbol id."""
        if self.vocab_size <= len(_SYMBOL_CHARS):
            return list(_SYMBOL_CHARS[: self.vocab_size])
        return [str(i) for i in range(self.vocab_size)]

    def sequence_length(self, length: int) -> int:
        return 2 * int(length) + 1

    def transform(self, source: np.ndarray) -> np.ndarray:
        """Targets (N, L) for sources (N, L)."""
        raise NotImplementedError

    def encode(self, source: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inputs (T, N, V+1), targets (T, N) and mask (T, N) for sources (N, L) of ids."""
        N, L = source.shape
        T = 2 * L + 1
        inputs = np.zeros((T, N, self.n_inputs))
        steps = np.arange(L)[:, None]
        inputs[steps, np.arange(N)[None, :], source.T] = 1.0
        inputs[L, :, self.separator] = 1.0
        targets = np.zeros((T, N), dtype=np.int64)
        targets[L + 1:] = self.transform(source).T
        mask = np.zeros((T, N))
        mask[L + 1:] = 1.0
        return inputs, targets, mask

    def sample_block(self, rng, n_batches, batch_size, length):
        length = self.check_length(length)
        n_batches = _check_int("n_batches", n_batches, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        source = rng.integers(0, self.vocab_size, size=(n_batches * batch_size, length), dtype=np.int64)
        inputs, targets, mask = self.encode(source)
        T = inputs.shape[0]
        inputs = inputs.reshape(T, n_batches, batch_size, -1).transpose(1, 0, 2, 3)
        targets = targets.reshape(T, n_batches, batch_size).transpose(1, 0, 2)
        mask = mask.reshape(T, n_batches, batch_size).transpose(1, 0, 2)
        return Block(np.ascontiguousarray(inputs), np.ascontiguousarray(targets),
                     np.ascontiguousarray(mask), length)

    def batch_from_source(self, source: Sequence[int]) -> Batch:
        """A batch of one sequence from symbol ids."""
        source = np.asarray(source, dtype=np.int64).reshape(1, -1)
        self.check_length(source.shape[1])
        if source.size and (source.min() < 0 or source.max() >= self.vocab_size):
            raise VocabularyError(f"symbol ids must lie in [0, {self.vocab_size}), got {source.tolist()[0]}")
        inputs, targets, mask = self.encode(source)
        return Batch(inputs, targets, mask, source.shape[1])

    def parse_input(self, tokens):
        symbols = self.symbols
        index = {s: i for i, s in enumerate(symbols)}
        if self.vocab_size <= len(_SYMBOL_CHARS):
            items = [ch for t in tokens for ch in str(t) if not ch.isspace() and ch != ","]
        else:
            items = [w for t in tokens for w in str(t).replace(",", " ").split()]
        if not items:
            raise VocabularyError(f"give a sequence of symbols from the vocabulary {self._vocab_text()}")
        bad = list(dict.fromkeys(s for s in items if s not in index))        # in order of appearance
        if bad:
            raise VocabularyError(f"symbols {', '.join(map(repr, bad))} are outside the vocabulary of this "
                                  f"model ({self._vocab_text()})")
        return self.batch_from_source([index[s] for s in items])

    def _vocab_text(self) -> str:
        symbols = self.symbols
        if len(symbols) <= 36:
            return f"{len(symbols)} symbols: {''.join(symbols)}"
        return f"{len(symbols)} symbols: integers 0..{len(symbols) - 1}"

    def decode(self, batch: Batch, predictions: np.ndarray) -> list[list[int]]:
        """The predicted target ids of each sequence (positions where ``mask`` is set)."""
        return [predictions[batch.mask[:, j] > 0, j].astype(int).tolist() for j in range(batch.batch_size)]

    def format_output(self, batch, predictions):
        symbols = self.symbols
        ids = self.decode(batch, predictions)[0]
        sep = "" if self.vocab_size <= len(_SYMBOL_CHARS) else " "
        return sep.join(symbols[i] for i in ids)

    def spec(self):
        return {"name": self.name, "vocab_size": self.vocab_size}


class Copy(SymbolTask):
    """Write the source again after the separator."""

    name = "copy"

    def transform(self, source):
        return source.copy()


class Reverse(SymbolTask):
    """Write the source backwards after the separator."""

    name = "reverse"

    def transform(self, source):
        return source[:, ::-1].copy()


class BigramFlip(SymbolTask):
    """Swap each adjacent pair: ``a b c d -> b a d c`` (even lengths only)."""

    name = "bigram-flip"
    min_length = 2

    def _length_ok(self, length):
        return length >= 2 and length % 2 == 0

    def _length_rule(self):
        return "bigram flip needs even lengths >= 2"

    def check_length(self, length):
        length = super().check_length(length)
        if length % 2:
            raise ValueError(f"bigram flip swaps adjacent pairs and needs an even length, got {length}")
        return length

    def transform(self, source):
        N, L = source.shape
        return source.reshape(N, L // 2, 2)[:, :, ::-1].reshape(N, L).copy()


# ----------------------------------------------------------------------------- registry

#: Task classes by canonical name.
TASKS: dict[str, type[Task]] = {"add": BinaryAddition, "copy": Copy, "reverse": Reverse,
                                "bigram-flip": BigramFlip}
#: Other accepted spellings.
TASK_ALIASES = {"addition": "add", "binary-addition": "add", "reversal": "reverse",
                "flip": "bigram-flip", "bigram_flip": "bigram-flip", "bigramflip": "bigram-flip"}


def task_names() -> list[str]:
    return list(TASKS)


def make_task(name: str, **options) -> Task:
    """A task by name (``add``, ``copy``, ``reverse``, ``bigram-flip``; a few aliases work).

    ``options`` go to the task's constructor; options a task does not take are an
    error only when not None (so a caller can pass ``vocab_size=None`` to any task).
    """
    key = TASK_ALIASES.get(str(name).lower(), str(name).lower())
    cls = TASKS.get(key)
    if cls is None:
        raise UnknownNameError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    options = {k: v for k, v in options.items() if v is not None}
    if cls is BinaryAddition and "vocab_size" in options:
        raise ValueError("binary addition has no vocabulary; drop vocab_size (--vocab)")
    return cls(**options)


def task_from_spec(spec: dict[str, Any]) -> Task:
    """Rebuild a task from :meth:`Task.spec`."""
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"a task spec is a dict with a 'name', got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "name"}
    return make_task(spec["name"], **options)
