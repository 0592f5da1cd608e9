"""Learning-rate and width sweeps of the feed-forward network on a toy table, and their
picture (Trask 2015, "A Neural Network in 13 lines of Python (Part 2 - Gradient
Descent)": the same network trained with learning rates 0.001 ... 1000).

Every run of a sweep starts from the same initial weights for its width (one ``seed``),
so only the step size differs. Two diagnostics come out of it:

- the mean absolute error against epochs: too small a step learns slowly, a good one
  quickly, too large a one overshoots until the units saturate and the run diverges
  (:class:`models.MLP` stops it and the sweep reports it, see ``divergence_patience``);
- the number of direction changes of every weight's update
  (:class:`models.ff._mlp.DirectionChanges`): steps that overshoot the valley floor make
  weights jump back and forth.

matplotlib (Agg) is imported only by :func:`plot_sweep`.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from corpus_tools.pictures import save_figure

from ..core._errors import TrainingDivergedError
from ._mlp import MLP, FitProgress
from ._tables import Table, make_table

__all__ = ["SweepRun", "Sweep", "fit_table", "sweep_learning_rates", "plot_sweep", "DEFAULT_LEARNING_RATES"]

#: The learning rates of the tutorial.
DEFAULT_LEARNING_RATES = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)

#: Outcomes of a run.
STATUSES = ("learned", "not learned", "diverged")


@dataclass
class SweepRun:
    """One network of a sweep: its learning rate, width and what training did.

    Attributes
    ----------
    learning_rate : float
    hidden : int
        Width of the hidden layer (0: no hidden layer).
    n_epochs : int
        Epochs run (fewer than asked when the run diverged).
    diverged_at : int or None
        Epoch at which the run was found to diverge.
    loss_curve, error_curve : ndarray of shape (n_epochs + 1,)
        Loss and mean absolute error after 0, 1, ... updates (:class:`models.MLP`).
    direction_changes : dict of str to ndarray of int
        Per parameter, how often its update changed direction.
    outputs : ndarray of shape (n_rows, n_outputs)
        The network's outputs at the end, dropout off.
    max_error : float
        Largest absolute error of those outputs.
    tolerance : float
        A run has "learned" the table when ``max_error < tolerance``.
    seconds : float
    """

    learning_rate: float
    hidden: int
    n_epochs: int
    diverged_at: int | None
    loss_curve: np.ndarray = field(repr=False)
    error_curve: np.ndarray = field(repr=False)
    direction_changes: dict[str, np.ndarray] = field(repr=False)
    outputs: np.ndarray = field(repr=False)
    max_error: float = math.nan
    tolerance: float = 0.1
    seconds: float = 0.0

    @property
    def final_error(self) -> float:
        """Mean absolute error at the end (dropout off)."""
        return float(self.error_curve[-1])

    @property
    def status(self) -> str:
        """"diverged", "learned" (every output within ``tolerance`` of its target) or
        "not learned" (too slow, or stuck)."""
        if self.diverged_at is not None:
            return "diverged"
        return "learned" if self.max_error < self.tolerance else "not learned"

    @property
    def changes_per_weight(self) -> np.ndarray:
        """Direction changes of every parameter (weights and biases), flat: shape (P,)."""
        return np.concatenate([c.ravel() for c in self.direction_changes.values()])

    def to_dict(self, curves: bool = False) -> dict[str, Any]:
        changes = self.changes_per_weight
        out: dict[str, Any] = {
            "learning_rate": self.learning_rate, "hidden": self.hidden, "status": self.status,
            "epochs_run": self.n_epochs, "diverged_at": self.diverged_at, "final_error": self.final_error,
            "max_error": self.max_error, "final_loss": float(self.loss_curve[-1]),
            "outputs": self.outputs.ravel().tolist() if self.outputs.shape[1] == 1 else self.outputs.tolist(),
            "direction_changes": {"median": float(np.median(changes)), "mean": float(changes.mean()),
                                  "max": int(changes.max()),
                                  "per_weight": {k: v.tolist() for k, v in self.direction_changes.items()}},
            "seconds": round(self.seconds, 4)}
        if curves:
            out["error_curve"] = self.error_curve.tolist()
            out["loss_curve"] = self.loss_curve.tolist()
        return out


@dataclass
class Sweep:
    """The runs of :func:`sweep_learning_rates`, by width then learning rate."""

    table: str
    n_epochs: int
    params: dict[str, Any]
    runs: list[SweepRun]
    tolerance: float = 0.1

    @property
    def learning_rates(self) -> list[float]:
        return sorted({r.learning_rate for r in self.runs})

    @property
    def widths(self) -> list[int]:
        return list(dict.fromkeys(r.hidden for r in self.runs))

    def run(self, learning_rate: float, hidden: int) -> SweepRun:
        """The run with this learning rate and width."""
        for r in self.runs:
            if r.learning_rate == learning_rate and r.hidden == hidden:
                return r
        raise KeyError(f"no run with learning rate {learning_rate:g} and hidden width {hidden} in this sweep")

    def to_dict(self, curves: bool = False) -> dict[str, Any]:
        return {"table": self.table, "epochs": self.n_epochs, "tolerance": self.tolerance, "params": self.params,
                "runs": [r.to_dict(curves) for r in self.runs]}


def _positive_numbers(name: str, values: Iterable, *, integer: bool = False, minimum: float = 0.0) -> list:
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"{name} must be a list of numbers, got {values!r}") from None
    if not values:
        raise ValueError(f"{name} is empty; give at least one value")
    out = []
    for v in values:
        ok = isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v)
        if integer:
            ok = ok and float(v).is_integer() and v >= minimum
        else:
            ok = ok and v > minimum
        if not ok:
            what = f"an integer >= {minimum:g}" if integer else f"a finite number > {minimum:g}"
            raise ValueError(f"every entry of {name} must be {what}, got {v!r}")
        out.append(int(v) if integer else float(v))
    return sorted(set(out)) if not integer else list(dict.fromkeys(out))


def _hidden_widths(hidden) -> tuple[int, ...]:
    """``hidden`` as a tuple of widths: an int (0: none) or a sequence of ints >= 1."""
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        if hidden < 0:
            raise ValueError(f"hidden must be >= 0 (0: no hidden layer), got {hidden!r}")
        return (int(hidden),) if hidden else ()
    try:
        widths = tuple(hidden)
    except TypeError:
        raise ValueError(f"hidden must be a width or a sequence of widths such as (4,) or (8, 4), "
                         f"got {hidden!r}") from None
    if widths == (0,):
        return ()
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1:
            raise ValueError(f"every hidden width must be an integer >= 1, got {w!r} in {hidden!r}")
    return tuple(int(w) for w in widths)


def fit_table(table: str | Table = "xor", hidden=(4,), *,
              callback: Callable[[FitProgress], None] | None = None, **params) -> MLP:
    """Train a :class:`models.MLP` on a toy table.

    Parameters
    ----------
    table : str or Table
        "xor", "copy-first" (:func:`models.make_table`) or a :class:`models.Table`.
    hidden : int or sequence of int
        Hidden-layer widths: ``(4,)`` is the tutorials' 3-layer network, ``0`` or ``()``
        the 2-layer one (inputs straight to the output unit).
    callback : callable, optional
        Passed to :meth:`models.MLP.fit`.
    **params
        :class:`models.MLP` hyperparameters other than ``layers``.

    Returns
    -------
    MLP
        Fitted; ``model.table_`` is the :class:`models.Table`.

    Raises
    ------
    TrainingDivergedError
        As :meth:`models.MLP.fit`.
    """
    if not isinstance(table, Table):
        table = make_table(table)
    if "layers" in params:
        raise ValueError("layers is set from the table and hidden; pass hidden=(4,) instead")
    layers = (table.n_inputs, *_hidden_widths(hidden), table.n_outputs)
    model = MLP(layers=layers, **params)
    model.table_ = table
    return model.fit(table.inputs, table.targets, callback=callback)


def sweep_learning_rates(table: str | Table = "xor", learning_rates: Iterable[float] = DEFAULT_LEARNING_RATES,
                         hidden_sizes: Iterable[int] = (4,), *, n_epochs: int = 60_000, seed: int = 0,
                         tolerance: float = 0.1, callback: Callable[[int, int, SweepRun], None] | None = None, **params) -> Sweep:
    """Train one :class:`models.MLP` per (width, learning rate) on a toy table.

    Parameters
    ----------
    table : str or Table
        "xor", "copy-first" (:func:`models.make_table`) or a :class:`models.Table`.
    learning_rates : iterable of float
        Each > 0; run in increasing order.
    hidden_sizes : iterable of int
        Width of the single hidden layer of each network; 0 means no hidden layer.
    n_epochs : int
        Full-batch epochs per run.
    seed : int
        The same for every run: runs of one width start from the same weights.
    tolerance : float
        A run that did not diverge has "learned" the table when every output ends within
        ``tolerance`` of its target, else it is "not learned".
    callback : callable, optional
        ``callback(done, total, run)`` after each run.
    **params
        Other :class:`models.MLP` hyperparameters (activation, loss, dropout,
        optimizer, divergence_patience ...).

    Returns
    -------
    Sweep
        A diverged run is a result (status "diverged"), not an error.

    Raises
    ------
    ValueError, UnknownNameError
        Bad rates, widths, table or hyperparameters (checked before any training).
    """
    if not isinstance(table, Table):
        table = make_table(table)
    rates = _positive_numbers("learning_rates", learning_rates)
    widths = _positive_numbers("hidden_sizes", hidden_sizes, integer=True, minimum=0)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance <= 1:
        raise ValueError(f"tolerance must be a number in (0, 1], got {tolerance!r}")
    reserved = sorted({"layers", "learning_rate", "n_epochs", "seed"} & set(params))
    if reserved:
        raise ValueError(f"{', '.join(reserved)} are set by the sweep itself; pass learning_rates, hidden_sizes, "
                         f"n_epochs or seed instead")

    def network(width: int, rate: float) -> MLP:
        layers = (table.n_inputs, width, table.n_outputs) if width else (table.n_inputs, table.n_outputs)
        return MLP(layers=layers, learning_rate=rate, n_epochs=n_epochs, seed=seed, **params)

    plan = [(w, r, network(w, r)) for w in widths for r in rates]     # every hyperparameter checked up front
    runs: list[SweepRun] = []
    for width, rate, model in plan:
        started = time.perf_counter()
        try:
            model.fit(table.inputs, table.targets)
        except TrainingDivergedError:
            pass                                    # model.diverged_at_ and the curves up to there
        outputs = model.predict(table.inputs)
        run = SweepRun(learning_rate=rate, hidden=width, n_epochs=model.n_epochs_, diverged_at=model.diverged_at_,
                       loss_curve=model.loss_curve_, error_curve=model.error_curve_,
                       direction_changes=model.direction_changes_, outputs=outputs,
                       max_error=float(np.abs(outputs - table.targets).max()), tolerance=float(tolerance),
                       seconds=time.perf_counter() - started)
        runs.append(run)
        if callback is not None:
            callback(len(runs), len(plan), run)
    shown = {k: v for k, v in plan[0][2].get_params().items() if k not in ("layers", "learning_rate")}
    return Sweep(table=table.name, n_epochs=int(n_epochs), params=shown, runs=runs, tolerance=float(tolerance))


# ---------------------------------------------------------------------------- the picture

def _curve_points(n: int, target: int = 600) -> np.ndarray:
    """About ``target`` log-spaced epochs in 1..n (a log axis needs no more)."""
    if n < 1:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.geomspace(1, n, target)).astype(np.int64))


def plot_sweep(sweep: Sweep, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write the sweep as one picture: a panel of error curves per width (one line per
    learning rate, diverged runs marked), and below them the direction changes of every
    weight's update for each learning rate and width.

    Parameters
    ----------
    sweep : Sweep
    path : path-like
        Output picture, .png, .svg or .pdf (:func:`corpus_tools.pictures.save_figure`: written
        atomically; an existing file is replaced only if wordstack drew it).
    title : str, optional
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    widths = sweep.widths
    rates = sweep.learning_rates
    n_w = len(widths)
    colors = dict(zip(rates, plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(rates)))))
    fig = plt.figure(figsize=(max(9.0, 5.6 * n_w), 9.4), constrained_layout=True)
    grid = fig.add_gridspec(2, n_w, height_ratios=(1.15, 1.0))
    params = sweep.params
    fig.suptitle(title or (f"Learning-rate sweep on the {sweep.table} table: {params.get('optimizer', 'sgd')}, "
                           f"{params.get('activation', 'sigmoid')} hidden units, {params.get('loss', 'squared')} "
                           f"loss, {sweep.n_epochs:,} full-batch epochs, seed {params.get('seed', 0)}"),
                 fontsize=12)

    # error against epochs, one panel per width
    first = None
    lowest = min(float(np.min(r.error_curve[1:], initial=1.0)) for r in sweep.runs)
    for j, width in enumerate(widths):
        ax = fig.add_subplot(grid[0, j], sharey=first)
        first = first or ax
        for rate in rates:
            run = sweep.run(rate, width)
            x = _curve_points(run.n_epochs)
            y = np.clip(run.error_curve[x], 1e-6, None)
            if run.status == "diverged":
                label = f"lr {rate:g}: diverged at epoch {run.diverged_at:,} (stopped at {run.n_epochs:,})"
                ax.plot(x, y, color=colors[rate], lw=2.2, ls="--", label=label)
                end = max(run.n_epochs, 1)
                ax.plot([end], [max(run.error_curve[end], 1e-6)], marker="X", ms=11, color=colors[rate],
                        mec="black", mew=0.8, ls="none")
            else:
                label = f"lr {rate:g}: {run.status}, error {run.final_error:.2g}"
                ax.plot(x, y, color=colors[rate], lw=1.6, label=label)
        ax.axhline(0.01, color="gray", lw=0.8, ls=":")
        ax.text(1.1, 0.0108, "0.01", color="gray", fontsize=8, va="bottom")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1, max(sweep.n_epochs, 2))
        ax.set_ylim(max(lowest, 1e-6) / 2, 1.0)
        ax.set_xlabel("epoch (full-batch gradient steps)")
        ax.set_ylabel("mean absolute error")
        layer_text = f"hidden layer of {width}" if width else "no hidden layer"
        ax.set_title(f"mean absolute error, {layer_text}  (X: diverged run stopped)", fontsize=10)
        ax.grid(alpha=0.3, which="both", lw=0.5)
        ax.legend(fontsize=8, loc="lower left", frameon=True, framealpha=0.85)

    # direction changes of every weight, by learning rate and width
    ax = fig.add_subplot(grid[1, :])
    rng = np.random.default_rng(0)                          # jitter only
    band = 0.8 / n_w
    width_colors = plt.get_cmap("tab10")(np.arange(n_w) % 10)
    for j, width in enumerate(widths):
        for i, rate in enumerate(rates):
            run = sweep.run(rate, width)
            changes = run.changes_per_weight
            center = i - 0.4 + band * (j + 0.5)
            ax.scatter(center + rng.uniform(-0.35, 0.35, changes.size) * band, changes, s=9, alpha=0.45,
                       color=width_colors[j], edgecolors="none",
                       label=(f"hidden {width} ({changes.size} weights and biases)" if i == 0 else None))
            median = float(np.median(changes))
            ax.plot([center - 0.4 * band, center + 0.4 * band], [median, median], color="black", lw=2.0)
            if run.status == "diverged":
                ax.annotate("diverged", (center, max(changes.max(), 1)), textcoords="offset points", xytext=(0, 6),
                            ha="center", fontsize=7, color="firebrick")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=-0.3)
    ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
    ax.set_xlim(-0.6, len(rates) - 0.4)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("direction changes per weight")
    ax.set_title("how often each weight's update changed direction during training (dots: weights and biases; "
                 "bar: median)", fontsize=10)
    ax.grid(alpha=0.3, axis="y", lw=0.5)
    ax.legend(fontsize=8, loc="upper left", frameon=True, framealpha=0.85, markerscale=2)

    try:
        return save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)
