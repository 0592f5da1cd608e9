"""``wordstack ff``: feed-forward networks on the 4-row toy tables (xor, copy-first):
train one network, or sweep learning rates and widths.

Each command parses its options, calls one ``models`` function and formats the result.
``models`` is imported inside the commands so that ``wordstack --help`` stays fast.
"""
from __future__ import annotations

import time

import click

from .._console import Progress, progress_bar
from .._options import example, picture_path
from .._output import counted, echo_json, json_option

TABLE_HELP = "Toy table: xor or copy-first."


def _numbers(value: str, option: str, kind: type, minimum: float, open_low: bool = False) -> list:
    """Parse ``"0.1,1,10"`` into numbers >= minimum (> minimum when open_low)."""
    out = []
    for part in value.split(","):
        part = part.strip()
        try:
            number = kind(part)
        except ValueError:
            raise click.BadParameter(f"{part!r} is not a{'n integer' if kind is int else ' number'} "
                                     f"(expected a comma-separated list such as {'4,32' if kind is int else '0.1,1,10'})",
                                     param_hint=option) from None
        if number < minimum or (open_low and number == minimum) or number != number:
            bound = f"> {minimum:g}" if open_low else f">= {minimum:g}"
            raise click.BadParameter(f"every value must be {bound}, got {part}", param_hint=option)
        out.append(number)
    return out


def _hidden(value: str) -> tuple[int, ...]:
    widths = _numbers(value, "--hidden", int, 0)
    if 0 in widths and len(widths) > 1:
        raise click.BadParameter("0 (no hidden layer) cannot be combined with other widths", param_hint="--hidden")
    return () if widths == [0] else tuple(widths)


def _model_options(f):
    """Options shared by train and sweep (the network and its training)."""
    options = [
        click.option("--table", default="xor", show_default=True, help=TABLE_HELP),
        click.option("--epochs", type=click.IntRange(min=0), default=60_000, show_default=True,
                     help="Full-batch epochs (one gradient step each)."),
        click.option("--activation", default="sigmoid", show_default=True,
                     help="Hidden units: sigmoid, tanh or relu (the output unit is a sigmoid)."),
        click.option("--loss", default="squared", show_default=True, help="squared or cross_entropy."),
        click.option("--dropout", type=click.FloatRange(min=0, max=1, max_open=True), default=0.0,
                     show_default=True, help="Fraction of hidden units dropped in each training epoch."),
        click.option("--optimizer", default="sgd", show_default=True, help="sgd, momentum, rmsprop or adam."),
        click.option("--no-bias", "no_bias", is_flag=True,
                     help="No bias terms (the tables' constant column plays the first layer's bias)."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seed of the initial weights and the dropout masks."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _mlp_params(activation, loss, dropout, optimizer, no_bias, seed) -> dict:
    return {"activation": activation, "loss": loss, "dropout": dropout, "optimizer": optimizer,
            "bias": not no_bias, "seed": seed}


class _EpochBar(Progress):
    """Bar over epochs (stderr; off when stderr is not a terminal)."""

    def __init__(self, total: int):
        super().__init__()
        self.open(total, "training", "epoch")

    def __call__(self, p) -> None:
        self.bar.set_postfix_str(f"error {p.error:.4g}, {p.epochs_per_second:,.0f} epochs/s", refresh=False)
        self.bar.update(p.epoch - self.bar.n)


@click.group("ff")
def ff() -> None:
    """Feed-forward networks on the 4-row toy tables: backprop, dropout, learning-rate sweeps."""


@ff.command("train")
@_model_options
@click.option("--hidden", default="4", show_default=True,
              help="Hidden-layer widths, comma-separated (8,4: two layers); 0: no hidden layer.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Learning rate (the loss is summed over the 4 rows).")
@click.option("--every", type=click.IntRange(min=1), default=None,
              help="Print the error every N epochs [default: a sixth of --epochs].")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Save the trained network here (load it with models.load).")
@json_option
@example("""
wordstack ff train --table xor                          # 3-layer sigmoid net, hidden 4, lr 1, 60,000 epochs
wordstack ff train --table copy-first --hidden 0        # the 2-layer net: inputs straight to the output
wordstack ff train --table xor --hidden 4 --lr 1 --epochs 60000 --dropout 0.2 --json
""")
def train_cmd(table, epochs, activation, loss, dropout, optimizer, no_bias, seed, hidden, lr, every, out, as_json):
    """Train a network on a toy table by full-batch backpropagation; print the mean
    absolute error every N epochs and the final outputs.

    A learning rate that is too large makes training diverge: that ends with an error
    naming the epoch.
    """
    import models

    bar = _EpochBar(epochs)
    started = time.perf_counter()
    try:
        model = models.fit_table(table, _hidden(hidden), learning_rate=lr, n_epochs=epochs, callback=bar,
                                 **_mlp_params(activation, loss, dropout, optimizer, no_bias, seed))
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    if out is not None:
        model.save(out)
    tbl = model.table_
    n = model.n_epochs_
    every = every or max(1, epochs // 6)
    marks = sorted(set(range(0, n + 1, every)) | {n})
    outputs = model.predict(tbl.inputs)
    summary = {"table": tbl.name, "layers": list(model.layers), "learning_rate": lr, "epochs": n,
               "seconds": round(seconds, 4), "final_error": model.error_, "final_loss": model.loss_,
               "errors": [{"epoch": e, "error": float(model.error_curve_[e]), "loss": float(model.loss_curve_[e])}
                          for e in marks],
               "rows": [{"inputs": x.tolist(), "target": t.tolist(), "output": o.tolist()}
                        for x, t, o in zip(tbl.inputs, tbl.targets, outputs)],
               "checkpoint": out}
    if as_json:
        echo_json(summary)
        return
    click.echo(f"MLP {tuple(model.layers)} on the {tbl.name} table: {optimizer}, lr {lr:g}, "
               f"{activation} hidden units, {loss} loss, dropout {dropout:g}; {counted(n, 'epoch')} in {seconds:.2f} s")
    if dropout > 0:
        click.echo("(With dropout, each error but the last is that epoch's thinned network's; the last one and the "
                   "outputs have dropout off.)")
    for record in summary["errors"]:
        click.echo(f"Error after {record['epoch']:>7,} epoch{'s' if record['epoch'] != 1 else ' '}: "
                   f"{record['error']:.6f}")
    click.echo("Final outputs (dropout off):")
    click.echo(f"  {'inputs':<10} {'target':>6} {'output':>8}")
    for row in summary["rows"]:
        inputs = " ".join(f"{v:g}" for v in row["inputs"])
        target = " ".join(f"{v:g}" for v in row["target"])
        output = " ".join(f"{v:.4f}" for v in row["output"])
        click.echo(f"  {inputs:<10} {target:>6} {output:>8}")
    click.echo(f"Mean absolute error {model.error_:.6f}.")
    if out is not None:
        click.echo(f"Saved {out}")


@ff.command("sweep")
@_model_options
@click.option("--lr", "rates", default="0.001,0.01,0.1,1,10,100,1000", show_default=True,
              help="Learning rates, comma-separated.")
@click.option("--hidden", "widths", default="4", show_default=True,
              help="Hidden-layer widths to compare, comma-separated (one network each; 0: no hidden layer).")
@click.option("--tolerance", type=click.FloatRange(min=0, max=1, min_open=True), default=0.1, show_default=True,
              help="A run has learned the table when every output is within this of its target.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, callback=picture_path,
              help="Picture (.png, .svg or .pdf): error against epochs per learning rate and width, and "
                   "direction changes per weight.")
@json_option
@example("""
wordstack ff sweep --table xor --out sweep.png
wordstack ff sweep --table xor --lr 0.001,0.01,0.1,1,10,100,1000 --hidden 4,32 --out sweep.png
wordstack ff sweep --table copy-first --hidden 0 --lr 0.1,1,10 --epochs 5000 --json
""")
def sweep_cmd(table, epochs, activation, loss, dropout, optimizer, no_bias, seed, rates, widths, tolerance, out,
              as_json):
    """Train the same network (same initial weights) with each learning rate and width:
    final error, whether it learned, diverged or is still slow, and how often each
    weight's update changed direction.
    """
    import models

    rates = _numbers(rates, "--lr", float, 0, open_low=True)
    widths = _numbers(widths, "--hidden", int, 0)
    bar = progress_bar(len(rates) * len(widths), "sweep", unit="run")
    started = time.perf_counter()
    try:
        sweep = models.sweep_learning_rates(table, rates, widths, n_epochs=epochs, tolerance=tolerance,
                                            callback=lambda done, total, run: bar.update(1),
                                            **_mlp_params(activation, loss, dropout, optimizer, no_bias, seed))
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    png = str(models.plot_sweep(sweep, out)) if out is not None else None
    if as_json:
        echo_json({**sweep.to_dict(), "png": png, "seconds": round(seconds, 4)})
        return
    click.echo(f"Sweep on {sweep.table}: {counted(epochs, 'epoch')}, {optimizer}, {activation} hidden units, "
               f"{loss} loss, dropout {dropout:g}, seed {seed}; {counted(len(sweep.runs), 'run')} in {seconds:.1f} s")
    click.echo(f"{'hidden':>6} {'lr':>8}  {'status':<22} {'epochs':>7} {'error':>8}  direction changes per weight")
    click.echo(f"{'':>6} {'':>8}  {'':<22} {'':>7} {'':>8}  (median / max)")
    for run in sweep.runs:
        info = run.to_dict()
        status = info["status"] + (f" at epoch {run.diverged_at:,}" if run.diverged_at is not None else "")
        changes = info["direction_changes"]
        click.echo(f"{run.hidden:>6} {run.learning_rate:>8g}  {status:<22} {run.n_epochs:>7,} "
                   f"{info['final_error']:>8.4f}  {changes['median']:g} / {changes['max']}")
    if png:
        click.echo(f"Wrote {png}")


COMMANDS = [ff]
