"""Dropout, the inverted (scaled) form of Srivastava et al. 2014.

During training each unit is kept with probability ``keep = 1 - rate`` and the kept
values are divided by ``keep``, so the expected activation is unchanged and nothing
needs rescaling at evaluation time, where dropout is simply off. The recurrent models
apply it to non-recurrent connections only (inputs -> hidden, hidden -> output), as in
Zaremba et al. 2014; the recurrent state is never dropped.
"""
from __future__ import annotations

import numpy as np

__all__ = ["dropout_mask", "apply_dropout", "check_dropout_rate"]


def check_dropout_rate(rate: float, name: str = "dropout") -> float:
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1 (the fraction of units dropped), got {rate!r}")
    return rate


def dropout_mask(rng: np.random.Generator, shape, rate: float, out: np.ndarray | None = None) -> np.ndarray:
    """A keep-mask: 0 for dropped units, ``1 / (1 - rate)`` for kept ones.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness (reproducible given its seed).
    shape : tuple of int
    rate : float
        Fraction of units dropped, in [0, 1).
    out : ndarray, optional
        Written in place when given (its shape must equal ``shape``).

    Returns
    -------
    ndarray of shape ``shape``
    """
    rate = check_dropout_rate(rate, "rate")
    keep = 1.0 - rate
    draws = rng.random(shape)
    if out is None:
        out = np.empty(shape)
    np.divide(draws >= rate, keep, out=out)
    return out


def apply_dropout(x: np.ndarray, rate: float, rng: np.random.Generator, training: bool) -> np.ndarray:
    """``x * dropout_mask(...)`` while training; ``x`` unchanged otherwise (or when rate is 0)."""
    if not training or rate == 0.0:
        return x
    return x * dropout_mask(rng, x.shape, rate)
