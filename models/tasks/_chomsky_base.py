"""The encoding shared by the fifteen tasks of Delétang et al. 2023 ("Neural Networks and
the Chomsky Hierarchy", ICLR 2023; their definitions: the ``tasks/`` folder of
github.com/google-deepmind/neural_networks_chomsky_hierarchy, ``GeneralizationTask``).

The paper's layout: a model reads the L input symbols one-hot, then runs
``output_length(L)`` further steps whose input carries no symbol, and its outputs on those
steps are the answer. We add one input feature, the *output-phase flag*, that is 1 on
every one of those steps (and 0 while the input is read): so ``n_inputs`` is the input
alphabet plus one, and :attr:`ChomskyTask.separator` is the index of the flag. The memory
models' stop-gradient cuts where that feature first turns on (step L), which is where a
transduction task's separator is read; a flag that stays on afterwards changes nothing
there (``models/estimators/_memory_rnn_ref.py`` looks for the first step only).

Per sequence of length L (the input length, as the paper samples it), T = L + O with
O = ``output_length(L)``:

* ``inputs`` (T, B, V + 1): one-hot symbols on steps 0..L-1, the flag on steps L..T-1;
* ``targets`` (T, B) int64: 0 on the input steps, the paper's output ids on the others;
* ``mask`` (T, B): 1 only on the output positions that count (the paper's
  ``accuracy_mask``: every output position, or those up to and including the
  termination token for the tasks that have one).

A task class names its alphabets, its ``output_length`` and its lengths rule, and draws
``(inputs (n, L), outputs (n, O), mask (n, O))`` vectorised in :meth:`ChomskyTask.generate`.
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from ..core._errors import VocabularyError
from ._base import Batch, Block, Task, _check_int

__all__ = ["ChomskyTask", "LEVELS"]

#: The paper's levels, as the values of :data:`models.tasks.CHOMSKY_TASKS`.
LEVELS = {"regular": "regular", "dcf": "deterministic context-free", "cs": "context-sensitive"}

_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def symbol_chars(n: int) -> tuple[str, ...]:
    """The printed symbols of an alphabet of ``n`` <= 36 symbols: ``0-9a-z``."""
    return tuple(_CHARS[:n])


class ChomskyTask(Task):
    """Base class of the tasks of Delétang et al. 2023 (see the module docstring).

    Subclasses set :attr:`name`, :attr:`level`, the alphabets (:attr:`input_symbols`,
    :attr:`output_symbols`, one printed character each), :meth:`output_length` and
    either :meth:`transform` (outputs as a function of inputs drawn uniformly from the
    first :attr:`n_drawn` input symbols) or :meth:`generate`; tasks whose inputs follow
    a grammar override :meth:`answer` to check and solve one user input.

    Options (``vocab_size``, ``modulus``) are declared in :attr:`option_defaults` with
    their allowed range in :attr:`option_ranges`.
    """

    level: ClassVar[str] = ""
    head = "softmax"
    symbolic: ClassVar[bool] = True
    default_lengths = (1, 40)
    #: A range such as 1:40 keeps the lengths the task's rule allows (odd ones, >= 3, ...).
    range_may_start_below_minimum = True
    #: Output id of the termination token (tasks whose answer has a variable length), else None.
    terminator: ClassVar[int | None] = None
    #: Names of the output classes of a one-step answer, printed after the symbol ("1 (odd)").
    output_names: ClassVar[tuple[str, ...] | None] = None
    #: What :meth:`format_output` prints for an answer without symbols.
    empty_text: ClassVar[str] = "(empty)"
    option_defaults: ClassVar[dict[str, int]] = {}
    option_ranges: ClassVar[dict[str, tuple[int, int]]] = {"vocab_size": (2, 36), "modulus": (2, 10)}

    def __init__(self, **options):
        unknown = [k for k in options if k not in self.option_defaults]
        if unknown:
            takes = (f"its options are {', '.join(self.option_defaults)}" if self.option_defaults
                     else "it has a fixed alphabet and no options")
            flag = " (--vocab)" if "vocab_size" in unknown else ""
            raise ValueError(f"{self.name} takes no option {', '.join(map(repr, unknown))}: {takes}; drop it{flag}")
        for key, default in self.option_defaults.items():
            lo, hi = self.option_ranges[key]
            value = _check_int(key, options.get(key, default), lo)
            if value > hi:
                raise ValueError(f"{key} must lie in [{lo}, {hi}] for {self.name} (one printed character a "
                                 f"symbol), got {value}")
            setattr(self, key, value)
        self.n_inputs = len(self.input_symbols) + 1          # the symbols + the output-phase flag
        self.n_outputs = len(self.output_symbols)
        #: Input feature of the output-phase flag (1 on the output steps): the memory models'
        #: stop-gradient and the pictures read it as a transduction task's separator.
        self.separator = len(self.input_symbols)

    # ------------------------------------------------------------------ alphabets

    @property
    def input_symbols(self) -> tuple[str, ...]:
        """Printed form of each input id."""
        raise NotImplementedError

    @property
    def output_symbols(self) -> tuple[str, ...]:
        """Printed form of each output id."""
        raise NotImplementedError

    @property
    def n_symbols(self) -> int:
        """Input features that are symbols (all but the output-phase flag)."""
        return len(self.input_symbols)

    @property
    def symbols(self) -> list[str]:
        """The input symbols (as :attr:`SymbolTask.symbols`)."""
        return list(self.input_symbols)

    @property
    def n_drawn(self) -> int:
        """How many input symbols (the first ones) :meth:`generate` draws uniformly by default."""
        return len(self.input_symbols)

    # ------------------------------------------------------------------ lengths

    def output_length(self, length: int) -> int:
        """Output steps O for an input of ``length`` symbols (the paper's ``output_length``)."""
        return 1

    def sequence_length(self, length: int) -> int:
        length = int(length)
        return length + self.output_length(length)

    def check_length(self, length):
        length = _check_int(self.length_name, length, 1)
        if not self._length_ok(length):
            raise ValueError(f"{self.name}: {self._length_rule()}, got {length}")
        return length

    # ------------------------------------------------------------------ data

    def transform(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (n, O) int64 and mask (n, O) float64 for inputs (n, L) of ids."""
        raise NotImplementedError

    def generate(self, rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` random sequences of one length as the paper samples them.

        Returns
        -------
        inputs : ndarray of shape (n, L), int64
        outputs : ndarray of shape (n, O), int64
        mask : ndarray of shape (n, O), float64
        """
        inputs = rng.integers(0, self.n_drawn, size=(n, length), dtype=np.int64)
        outputs, mask = self.transform(inputs)
        return inputs, outputs, mask

    def encode(self, inputs: np.ndarray, outputs: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        """Time-major ``inputs`` (T, N, V+1), ``targets`` (T, N), ``mask`` (T, N) from the
        arrays of :meth:`generate`."""
        N, L = inputs.shape
        O = outputs.shape[1]
        T = L + O
        x = np.zeros((T, N, self.n_inputs))
        x[np.arange(L)[:, None], np.arange(N)[None, :], inputs.T] = 1.0
        x[L:, :, self.separator] = 1.0
        targets = np.zeros((T, N), dtype=np.int64)
        targets[L:] = outputs.T
        m = np.zeros((T, N))
        m[L:] = mask.T
        return x, targets, m

    def _generate(self, rng, n: int, length: int):
        inputs, outputs, mask = self.generate(rng, n, length)
        O = self.output_length(length)
        assert inputs.shape == (n, length) and outputs.shape == (n, O) and mask.shape == (n, O), (
            f"{self.name}.generate returned {inputs.shape}, {outputs.shape}, {mask.shape} for n={n}, L={length}, "
            f"O={O}")
        return inputs, outputs, mask

    def sample_block(self, rng, n_batches, batch_size, length):
        length = self.check_length(length)
        n_batches = _check_int("n_batches", n_batches, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        x, y, m = self.encode(*self._generate(rng, n_batches * batch_size, length))
        T = x.shape[0]
        x = x.reshape(T, n_batches, batch_size, -1).transpose(1, 0, 2, 3)
        y = y.reshape(T, n_batches, batch_size).transpose(1, 0, 2)
        m = m.reshape(T, n_batches, batch_size).transpose(1, 0, 2)
        return Block(np.ascontiguousarray(x), np.ascontiguousarray(y), np.ascontiguousarray(m), length)

    def sample_chunks(self, rng, n, length, chunk):
        """As :meth:`Task.sample_chunks`: all ``n`` sequences are drawn at once (as
        :meth:`sample` draws them), each chunk one-hot encoded when asked."""
        length = self.check_length(length)
        n = _check_int("n", n, 1)
        chunk = _check_int("chunk", chunk, 1)
        inputs, outputs, mask = self._generate(rng, n, length)
        for a in range(0, n, chunk):
            yield Batch(*self.encode(inputs[a:a + chunk], outputs[a:a + chunk], mask[a:a + chunk]), length)

    # ------------------------------------------------------------------ user input

    def answer(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (O,) and mask (O,) for one input (L,) of ids; raises
        :class:`VocabularyError` when the input is not a word of the task's language."""
        outputs, mask = self.transform(ids[None, :])
        return outputs[0], mask[0]

    def _alphabet_text(self) -> str:
        return "".join(self.input_symbols)

    def _symbol_ids(self, tokens: Sequence[str]) -> np.ndarray:
        index = {s: i for i, s in enumerate(self.input_symbols)}
        items = [ch for t in tokens for ch in str(t) if not ch.isspace() and ch != ","]
        if not items:
            raise VocabularyError(f"{self.name}: give a sequence of the symbols {self._alphabet_text()}, "
                                  f"e.g. {self.example!r}")
        bad = list(dict.fromkeys(s for s in items if s not in index))
        if bad:
            raise VocabularyError(f"{self.name}: symbols {', '.join(map(repr, bad))} are not in its alphabet "
                                  f"({self._alphabet_text()}); e.g. {self.example!r}")
        return np.array([index[s] for s in items], dtype=np.int64)

    #: An input the command line accepts (for the error messages and the help).
    example: ClassVar[str] = ""

    def parse_input(self, tokens):
        """A batch of one sequence from the command line's text in the task's notation
        (whitespace and commas are ignored)."""
        ids = self._symbol_ids(tokens)
        outputs, mask = self.answer(ids)
        self.check_length(len(ids))
        x, y, m = self.encode(ids[None, :], np.asarray(outputs, np.int64)[None, :], np.asarray(mask, float)[None, :])
        return Batch(x, y, m, len(ids))

    def format_answer(self, ids: Sequence[int]) -> str:
        """The printed answer for the ids on the output steps (up to the termination token)."""
        ids = [int(i) for i in ids]
        if self.terminator is not None and self.terminator in ids:
            ids = ids[:ids.index(self.terminator)]
        if not ids:
            return self.empty_text
        text = "".join(self.output_symbols[i] for i in ids)
        if self.output_names is not None and len(ids) == 1:
            text = f"{text} ({self.output_names[ids[0]]})"
        return text

    def format_output(self, batch, predictions):
        steps = np.flatnonzero(batch.inputs[:, 0, self.separator] > 0.5)
        return self.format_answer(np.asarray(predictions)[steps, 0].astype(int))

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, **{k: getattr(self, k) for k in self.option_defaults}}
