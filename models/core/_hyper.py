"""Hyperparameter plumbing shared by the estimators (:class:`models.SequenceModel` and its
subclasses, :class:`models.MLP`): scikit-learn's ``get_params``/``set_params`` over the
keyword-only ``__init__`` arguments, and the checks whose errors name the parameter, the
value and the allowed range."""
from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from ._backend import BACKENDS
from ._dropout import check_dropout_rate
from ._errors import UnknownNameError
from ._init import INIT_SCHEMES
from ._optim import OPTIMIZERS, make_optimizer


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, or a ValueError naming ``name`` if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_number(name: str, value, *, lo=None, hi=None, lo_open=False, hi_open=False) -> float:
    """``value`` as a float, or a ValueError naming ``name`` if it is not a finite number in
    the range (``lo``/``hi`` bounds, open or closed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {value!r}")
    return float(value)


def check_optimizer_params(est) -> None:
    """The optimizer and initialisation numbers every estimator has."""
    check_number("learning_rate", est.learning_rate, lo=0, lo_open=True)
    check_number("init_scale", est.init_scale, lo=0, lo_open=True)
    for name in ("momentum", "rms_decay", "beta1", "beta2"):
        check_number(name, getattr(est, name), lo=0, hi=1, hi_open=True)
    check_number("epsilon", est.epsilon, lo=0, lo_open=True)
    if est.clip_norm is not None:
        check_number("clip_norm", est.clip_norm, lo=0, lo_open=True)


class HyperParams:
    """``get_params``/``set_params`` over the keyword-only arguments of ``__init__`` (of the
    class and its bases); subclasses define ``_validate_params``, which ``set_params`` runs."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        names: list[str] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.kind == p.KEYWORD_ONLY and p.name not in names:
                    names.append(p.name)
        return names

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameters (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set hyperparameters; unknown names are an error. Returns ``self``."""
        valid = set(self._get_param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no hyperparameter {name!r}; "
                                 f"valid: {', '.join(sorted(valid))}")
            setattr(self, name, value)
        self._validate_params()
        return self

    def _validate_params(self) -> None:
        raise NotImplementedError

    def _set_hyperparams(self, values: dict[str, Any]) -> None:
        """Store the keyword arguments of ``__init__`` as attributes, unchanged (pass
        ``locals()``); checking them is ``_validate_params``'s job."""
        for name in self._get_param_names():
            if name in values:
                setattr(self, name, values[name])

    def __repr__(self) -> str:
        """``Name(k=v, ...)`` with the hyperparameters that differ from their defaults
        (a subclass's default wins over its base's)."""
        defaults: dict[str, Any] = {}
        for klass in type(self).__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.kind == p.KEYWORD_ONLY:
                    defaults.setdefault(p.name, p.default)
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(defaults.get(k, _MISSING), v)]
        return f"{type(self).__name__}({', '.join(changed)})"


_MISSING = object()


def _same(a, b) -> bool:
    """Equal values, arrays and tuples included (no elementwise truth-value errors)."""
    if a is _MISSING or b is _MISSING:
        return False
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


class GradientEstimator(HyperParams):
    """An estimator trained with the shared optimizers (:class:`models.SequenceModel`,
    :class:`models.MLP`): the checks of the hyperparameters they share (bias,
    initialisation, dropout, optimizer, backend) and the optimizer they make."""

    def _validate_training_params(self) -> None:
        """Check ``bias``, ``init``, ``init_scale``, ``dropout``, the optimizer's
        hyperparameters and ``backend``; errors name the parameter, the value and the fix."""
        check_optimizer_params(self)
        check_dropout_rate(self.dropout)
        if not isinstance(self.bias, (bool, np.bool_)):
            raise ValueError(f"bias must be True or False, got {self.bias!r}")
        if self.init not in INIT_SCHEMES:
            raise UnknownNameError(f"unknown init {self.init!r}; choose one of {', '.join(INIT_SCHEMES)}")
        if self.optimizer not in OPTIMIZERS:
            raise UnknownNameError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.backend not in BACKENDS:
            raise UnknownNameError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")

    def _make_optimizer(self):
        """A fresh, unbound optimizer of this estimator's hyperparameters."""
        return make_optimizer(self.optimizer, learning_rate=self.learning_rate, clip_norm=self.clip_norm,
                              backend=self.backend, momentum=self.momentum, decay=self.rms_decay,
                              beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon)
