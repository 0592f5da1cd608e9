"""Optimizers over a flat parameter vector: SGD, momentum, RMSProp, Adam, with
gradient clipping by global norm (Pascanu et al. 2013).

Every optimizer works on a :class:`models.ParamSet` (or any pair of flat float64
vectors ``theta``/``grad`` updated in place), so the recurrent models, the memory
models and the feed-forward MLP share them. The update itself runs in a Cython kernel
(``_updates.pyx``; numpy twin ``_updates_ref.py``, with the formulas).

Examples
--------
>>> import numpy as np
>>> from models import ParamSet, Adam
>>> ps = ParamSet({"w": (3,)})
>>> opt = Adam(learning_rate=0.1).bind(ps)
>>> ps.grad[:] = [1.0, -2.0, 0.0]
>>> _ = opt.step()
>>> np.round(ps.theta, 3).tolist()        # Adam's first step is lr * sign(grad)
[-0.1, 0.1, 0.0]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._errors import UnknownNameError
from ._backend import check_backend, compiled_kernels

__all__ = ["Optimizer", "SGD", "Momentum", "RMSProp", "Adam", "OPTIMIZERS", "make_optimizer",
           "clip_grad_norm", "global_norm"]


def update_kernels(backend: str):
    """The update-rule kernels: ``_updates`` (compiled) or ``_updates_ref`` (numpy)."""
    if check_backend(backend) == "numpy":
        from . import _updates_ref as kernels
    else:
        with compiled_kernels("models.core._updates"):
            from . import _updates as kernels
    return kernels


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _unit_interval(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1, got {value!r}")
    return value


def global_norm(grad: np.ndarray) -> float:
    """The L2 norm of a flat gradient vector."""
    return float(np.sqrt(np.dot(grad, grad)))


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> float:
    """Scale ``grad`` in place so its global L2 norm is at most ``max_norm``; returns the
    norm before clipping. (The optimizers clip inside their update; this is for callers
    that apply gradients themselves.)"""
    max_norm = _positive("max_norm", max_norm)
    norm = global_norm(grad)
    if math.isfinite(norm) and norm > max_norm:
        grad *= max_norm / norm
    return norm


class Optimizer:
    """Base class: hyperparameters in ``__init__``, state allocated by :meth:`bind`.

    Parameters
    ----------
    learning_rate : float
    clip_norm : float or None
        Rescale the gradient to this global L2 norm when it is larger (None: no clipping).
    backend : {"cython", "numpy"}
    """

    rule = ""
    _n_state = 0

    def __init__(self, *, learning_rate: float, clip_norm: float | None = None, backend: str = "cython"):
        self._kernel = None
        self.learning_rate = learning_rate
        self.clip_norm = None if clip_norm is None else _positive("clip_norm", clip_norm)
        self.backend = check_backend(backend)
        self.state: list[np.ndarray] = []
        self.theta = self.grad = None

    # the extra hyperparameters passed to the kernel as (h1, h2, eps)
    def _hyper(self) -> tuple[float, float, float]:
        return 0.0, 0.0, 0.0

    def bind(self, params) -> "Optimizer":
        """Attach to a :class:`ParamSet` (or an object with flat ``theta`` and ``grad``);
        allocates zeroed state (step count 0). Returns ``self``."""
        theta, grad = params.theta, params.grad
        for name, arr in (("theta", theta), ("grad", grad)):
            if not (isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.ndim == 1
                    and arr.flags.c_contiguous):
                raise ValueError(f"{name} must be a contiguous 1-D float64 array")
        if grad.shape != theta.shape:
            raise ValueError(f"grad has shape {grad.shape}, theta {theta.shape}; they must match")
        self.theta, self.grad = theta, grad
        self.state = [np.zeros_like(theta) for _ in range(self._n_state)]
        kernels = update_kernels(self.backend)
        h1, h2, eps = self._hyper()
        self._kernel = kernels.UpdateKernel(self.rule, theta, grad, *self.state, lr=self.learning_rate,
                                            clip_norm=0.0 if self.clip_norm is None else self.clip_norm,
                                            h1=h1, h2=h2, eps=eps, t=0)
        # The kernel's bound method itself: one call per training step, no Python frame.
        self.step = self._kernel.step
        return self

    @property
    def kernel(self):
        """The bound update kernel (``step()``, ``t``), used by the model kernels' step loops."""
        if self._kernel is None:
            raise RuntimeError("call bind(params) first")
        return self._kernel

    @property
    def t(self) -> int:
        """Updates applied so far."""
        return 0 if self._kernel is None else int(self._kernel.t)

    def step(self) -> float:
        """Apply one update from ``grad``; returns the gradient norm before clipping.

        A NaN or infinite gradient leaves parameters and state untouched (and the
        returned norm is not finite: the caller decides what to do). After
        :meth:`bind`, this is the kernel's own method.
        """
        raise RuntimeError("call bind(params) before step()")

    # -- checkpoints
    def state_dict(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able scalars, arrays) describing the optimizer and its state."""
        scalars = {"name": self.name, "t": self.t, **self.get_params()}
        return scalars, {f"state{i}": s.copy() for i, s in enumerate(self.state)}

    def load_state_dict(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore the step count and state vectors (after :meth:`bind`)."""
        if self._kernel is None:
            raise RuntimeError("call bind(params) before load_state_dict()")
        if scalars.get("name") != self.name:
            raise ValueError(f"optimizer state is for {scalars.get('name')!r}, not {self.name!r}")
        for i, s in enumerate(self.state):
            value = arrays.get(f"state{i}")
            if value is None or value.shape != s.shape:
                raise ValueError(f"optimizer state{i} missing or of the wrong shape")
            s[...] = value
        self._kernel.t = int(scalars.get("t", 0))

    @property
    def learning_rate(self) -> float:
        """The step size; may be changed between steps (e.g. for a schedule)."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _positive("learning_rate", value)
        if getattr(self, "_kernel", None) is not None:
            self._kernel.lr = self._learning_rate

    def get_params(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "clip_norm": self.clip_norm}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``theta -= learning_rate * grad``."""

    name = rule = "sgd"


class Momentum(Optimizer):
    """SGD with momentum (heavy ball): ``v = momentum * v + grad; theta -= learning_rate * v``."""

    name = rule = "momentum"
    _n_state = 1

    def __init__(self, *, learning_rate: float, momentum: float = 0.9, clip_norm: float | None = None,
                 backend: str = "cython"):
        super().__init__(learning_rate=learning_rate, clip_norm=clip_norm, backend=backend)
        self.momentum = _unit_interval("momentum", momentum)

    def _hyper(self):
        return self.momentum, 0.0, 0.0

    def get_params(self):
        return {**super().get_params(), "momentum": self.momentum}


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012): divide by a running RMS of the gradient."""

    name = rule = "rmsprop"
    _n_state = 1

    def __init__(self, *, learning_rate: float, decay: float = 0.9, epsilon: float = 1e-8,
                 clip_norm: float | None = None, backend: str = "cython"):
        super().__init__(learning_rate=learning_rate, clip_norm=clip_norm, backend=backend)
        self.decay = _unit_interval("decay", decay)
        self.epsilon = _positive("epsilon", epsilon)

    def _hyper(self):
        return self.decay, 0.0, self.epsilon

    def get_params(self):
        return {**super().get_params(), "decay": self.decay, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction."""

    name = rule = "adam"
    _n_state = 2

    def __init__(self, *, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, clip_norm: float | None = None, backend: str = "cython"):
        super().__init__(learning_rate=learning_rate, clip_norm=clip_norm, backend=backend)
        self.beta1 = _unit_interval("beta1", beta1)
        self.beta2 = _unit_interval("beta2", beta2)
        self.epsilon = _positive("epsilon", epsilon)

    def _hyper(self):
        return self.beta1, self.beta2, self.epsilon

    def get_params(self):
        return {**super().get_params(), "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


#: Optimizer classes by name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSProp, "adam": Adam}


def make_optimizer(name: str, *, learning_rate: float, clip_norm: float | None = None,
                   backend: str = "cython", **options) -> Optimizer:
    """An optimizer by name; ``options`` are passed on when the optimizer takes them
    (``momentum``; ``decay``, ``epsilon``; ``beta1``, ``beta2``) and ignored otherwise."""
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise UnknownNameError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    import inspect

    accepted = set(inspect.signature(cls.__init__).parameters)
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    return cls(learning_rate=learning_rate, clip_norm=clip_norm, backend=backend, **kwargs)
