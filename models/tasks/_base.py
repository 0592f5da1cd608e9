"""The task contract: batches, blocks, :class:`Task` and :class:`SymbolTask` (the
transduction layout of Grefenstette et al. 2015). The module docstring of
:mod:`models.tasks` describes the tasks and the batch layout."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Sequence

import numpy as np

from ..core._errors import VocabularyError

__all__ = ["Batch", "Block", "Task", "SymbolTask"]


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
    #: True for tasks whose first ``n_symbols`` input features are one-hot symbols and whose
    #: ``separator`` feature turns on where the output phase starts (what the memory models'
    #: stop-gradient and auxiliary losses need).
    symbolic: ClassVar[bool] = False
    length_name: ClassVar[str] = "length"
    default_lengths: ClassVar[tuple[int, int]] = (8, 64)
    min_length: ClassVar[int] = 1
    #: Whether a length range may start below the task's shortest length (the lengths the
    #: task's rule refuses are dropped); False: such a range is an error.
    range_may_start_below_minimum: ClassVar[bool] = False
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
        if low < self.min_length and not self.range_may_start_below_minimum:
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

    def sample_chunks(self, rng: np.random.Generator, n: int, length: int, chunk: int) -> Iterator[Batch]:
        """The sequences of ``sample(rng, n, length)``, ``chunk`` at a time (the last chunk
        may be smaller). Tasks that can draw their random choices first and encode them
        a chunk at a time do so (the inputs of a chunk are built only when it is run);
        this default slices one sample."""
        chunk = _check_int("chunk", chunk, 1)
        batch = self.sample(rng, n, length)
        for a in range(0, batch.batch_size, chunk):
            yield Batch(batch.inputs[:, a:a + chunk], batch.targets[:, a:a + chunk], batch.mask[:, a:a + chunk],
                        batch.length)

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
    symbolic = True
    default_lengths = (8, 64)

    def __init__(self, *, vocab_size: int = 16):
        self.vocab_size = _check_int("vocab_size", vocab_size, 2)
        self.n_inputs = self.vocab_size + 1          # symbols + separator
        self.n_outputs = self.vocab_size
        self.separator = self.vocab_size

    @property
    def n_symbols(self) -> int:
        """Input features that are symbols (all but the separator)."""
        return self.vocab_size

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

    def sample_chunks(self, rng, n, length, chunk):
        """As :meth:`Task.sample_chunks`: the source symbols of all ``n`` sequences are
        drawn at once (as :meth:`sample_block` draws them), each chunk encoded when asked."""
        length = self.check_length(length)
        n = _check_int("n", n, 1)
        chunk = _check_int("chunk", chunk, 1)
        source = rng.integers(0, self.vocab_size, size=(n, length), dtype=np.int64)
        for a in range(0, n, chunk):
            yield Batch(*self.encode(source[a:a + chunk]), length)

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
