"""The 4-row toy tables of the classic numpy backpropagation tutorials (Trask, "A Neural
Network in 11 lines of Python", 2015, and its gradient-descent and dropout sequels).

Every table has the same three inputs, whose last column is a constant 1 (the bias of
networks written without bias terms)::

    inputs          copy-first   xor
    0  0  1             0         0
    0  1  1             0         1
    1  0  1             1         1
    1  1  1             1         0

- ``copy-first``: the target is the first input column. A single sigmoid unit (the
  "2-layer" network ``layers=(3, 1)``) learns it: the table is linearly separable.
- ``xor``: the target is the XOR of the first two columns. It is not linearly
  separable, so it needs a hidden layer (``layers=(3, 4, 1)``, the "3-layer" network).

Examples
--------
>>> from models import make_table
>>> table = make_table("xor")
>>> table.inputs.shape, table.targets.ravel().tolist()
((4, 3), [0.0, 1.0, 1.0, 0.0])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._errors import UnknownNameError

__all__ = ["Table", "TABLES", "make_table"]

_INPUTS = ((0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1))


@dataclass(frozen=True)
class Table:
    """A toy table: rows of inputs and their targets.

    Attributes
    ----------
    name : str
    description : str
    inputs : ndarray of shape (4, 3)
        float64; a fresh copy for every :func:`make_table` call.
    targets : ndarray of shape (4, 1)
        float64 zeros and ones.
    """

    name: str
    description: str
    inputs: np.ndarray
    targets: np.ndarray

    @property
    def n_inputs(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.targets.shape[1])


#: Table name -> (description, targets), in the order of the rows of ``_INPUTS``.
TABLES: dict[str, tuple[str, tuple[int, ...]]] = {
    "xor": ("target = XOR of the first two inputs (needs a hidden layer)", (0, 1, 1, 0)),
    "copy-first": ("target = the first input (linearly separable)", (0, 0, 1, 1)),
}


def make_table(name: str) -> Table:
    """The toy table called ``name`` ("xor" or "copy-first").

    Raises
    ------
    UnknownNameError
        Any other name; the message lists the valid ones.
    """
    if name not in TABLES:
        raise UnknownNameError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
    description, targets = TABLES[name]
    return Table(name=name, description=description, inputs=np.array(_INPUTS, dtype=np.float64),
                 targets=np.array(targets, dtype=np.float64).reshape(-1, 1))
