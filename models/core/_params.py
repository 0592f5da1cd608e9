"""Named parameters stored in one flat float64 vector, with their gradients in another.

Optimizers, gradient clipping and checkpoints work on the flat vectors (one call per
step, whatever the number of weight matrices); models and kernels use the named
views, which stay valid for the life of the :class:`ParamSet` because the flat
vectors are only ever updated in place.
"""
from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

__all__ = ["ParamSet"]


class ParamSet:
    """Named parameter arrays as views into one flat vector ``theta`` (and ``grad``).

    Parameters
    ----------
    shapes : mapping of str to tuple of int
        Name and shape of every parameter, in storage order.

    Attributes
    ----------
    theta : ndarray of shape (size,)
        All parameters, concatenated in the order of ``shapes``.
    grad : ndarray of shape (size,)
        Their gradients, same layout.
    values, grads : dict of str to ndarray
        Views of ``theta`` and ``grad`` with each parameter's shape.

    Examples
    --------
    >>> ps = ParamSet({"W": (2, 3), "b": (3,)})
    >>> ps.size, ps["W"].shape
    (9, (2, 3))
    >>> ps["b"][:] = 1.0; float(ps.theta.sum())
    3.0
    """

    def __init__(self, shapes: Mapping[str, tuple[int, ...]]):
        self.shapes: dict[str, tuple[int, ...]] = {}
        for name, shape in shapes.items():
            shape = tuple(int(s) for s in shape)
            if any(s < 1 for s in shape):
                raise ValueError(f"parameter {name!r} must have a positive shape, got {shape}")
            self.shapes[name] = shape
        sizes = [int(np.prod(s)) for s in self.shapes.values()]
        self.size = int(sum(sizes))
        self.theta = np.zeros(self.size)
        self.grad = np.zeros(self.size)
        self.values: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        offset = 0
        for (name, shape), n in zip(self.shapes.items(), sizes):
            self.values[name] = self.theta[offset:offset + n].reshape(shape)
            self.grads[name] = self.grad[offset:offset + n].reshape(shape)
            offset += n

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def assign(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Copy ``arrays`` (same names and shapes) into the parameters, in place."""
        missing = set(self.shapes) - set(arrays)
        extra = set(arrays) - set(self.shapes)
        if missing or extra:
            raise ValueError(f"parameter names differ: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for name, value in arrays.items():
            value = np.asarray(value, dtype=np.float64)
            if value.shape != self.shapes[name]:
                raise ValueError(f"parameter {name!r} must have shape {self.shapes[name]}, got {value.shape}")
            self.values[name][...] = value

    def copy_values(self) -> dict[str, np.ndarray]:
        """A dict of copies of the parameters (safe to keep while training goes on)."""
        return {name: value.copy() for name, value in self.values.items()}
