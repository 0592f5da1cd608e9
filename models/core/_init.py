"""Weight initialisation, seeded (pass a ``numpy.random.Generator``).

- :func:`glorot_uniform`: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot &
  Bengio 2010), for input and output weights.
- :func:`orthogonal`: a random orthogonal matrix (Saxe et al. 2014), for square
  recurrent weights; for an LSTM's (H, 4H) recurrent matrix, one orthogonal (H, H)
  block per gate.
- :func:`uniform`: U(-scale, scale); ``scale=1`` is Trask's binary-addition tutorial
  (``2 * np.random.random(shape) - 1``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["uniform", "glorot_uniform", "orthogonal", "INIT_SCHEMES"]

#: Names accepted by the models' ``init`` hyperparameter.
INIT_SCHEMES = ("glorot", "uniform")


def uniform(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """Samples from U(-scale, scale)."""
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    return rng.uniform(-scale, scale, size=shape)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Glorot/Xavier uniform for a (fan_in, fan_out) matrix."""
    fan_in, fan_out = shape
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def orthogonal(rng: np.random.Generator, shape: tuple[int, int], gain: float = 1.0) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian matrix).

    A (H, k*H) shape gets k independent orthogonal (H, H) blocks side by side.
    """
    rows, cols = shape
    if cols % rows == 0 and cols > rows:
        return np.concatenate([orthogonal(rng, (rows, rows), gain) for _ in range(cols // rows)], axis=1)
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))                    # a uniform (Haar) draw, not biased by QR's signs
    if rows < cols:
        q = q.T
    return gain * q[:rows, :cols]
