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
- The fifteen tasks of Delétang et al. 2023 ("Neural Networks and the Chomsky Hierarchy",
  ICLR 2023), :data:`CHOMSKY_TASKS` in the paper's table order with their levels.
  Regular: :class:`EvenPairs`, :class:`ModularArithmetic`, :class:`ParityCheck`,
  :class:`CycleNavigation`; deterministic context-free: :class:`StackManipulation`,
  :class:`ReverseString`, :class:`ModularArithmeticBrackets`, :class:`SolveEquation`;
  context-sensitive: :class:`DuplicateString`, :class:`MissingDuplicateString`,
  :class:`OddsFirst`, :class:`ChomskyBinaryAddition` (``binary_addition``),
  :class:`BinaryMultiplication`, :class:`ComputeSqrt`, :class:`BucketSort`. Their
  names are the paper's with underscores; hyphens are aliases, except ``binary-addition``,
  which stays Trask's ``add``. The paper's layout (:class:`ChomskyTask`): the task length
  L is the input length as the paper samples it (a range keeps the lengths a task's rule
  allows: odd ones for ``modular_arithmetic``, >= 3 for ``solve_equation``); the L input
  symbols are read one-hot, then ``output_length(L)`` steps carry no symbol but one extra
  input feature, the output-phase flag (the task's ``separator``), and on them the model
  writes the answer; ``mask`` is the paper's accuracy mask (every output step, or up to
  and including the termination token ``2`` of stack manipulation and the binary
  operations). ``parse_input`` reads the task's notation (``1+2*3``, ``001+01101``).

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
>>> task = tasks.make_task("binary_addition")            # little-endian: 4 + 22 = 26
>>> batch = task.parse_input(["001+01101"])
>>> batch.inputs.shape, task.format_output(batch, batch.targets)    # T = 9 + 10, 3 symbols + the flag
((19, 1, 4), '01011')
"""
from __future__ import annotations

from ._addition import BinaryAddition
from ._base import Batch, Block, SymbolTask, Task
from ._chomsky_base import ChomskyTask
from ._context_sensitive import (
    BinaryMultiplication, BucketSort, ChomskyBinaryAddition, ComputeSqrt, DuplicateString, MissingDuplicateString,
    OddsFirst)
from ._context_free import ModularArithmeticBrackets, ReverseString, SolveEquation, StackManipulation
from ._registry import CHOMSKY_TASKS, TASK_ALIASES, TASKS, make_task, task_from_spec, task_names
from ._regular import CycleNavigation, EvenPairs, ModularArithmetic, ParityCheck
from ._transduction import BigramFlip, Copy, Reverse

__all__ = [
    "Batch", "Block", "Task", "BinaryAddition", "SymbolTask", "Copy", "Reverse", "BigramFlip",
    "TASKS", "TASK_ALIASES", "make_task", "task_from_spec", "task_names",
    "CHOMSKY_TASKS", "ChomskyTask", "EvenPairs", "ModularArithmetic", "ParityCheck", "CycleNavigation",
    "StackManipulation", "ReverseString", "ModularArithmeticBrackets", "SolveEquation",
    "DuplicateString", "MissingDuplicateString", "OddsFirst", "ChomskyBinaryAddition", "BinaryMultiplication",
    "ComputeSqrt", "BucketSort",
]
