"""``wordstack seq``: train, evaluate, apply and plot the sequence models of ``models``.

Each command parses its options, calls one ``models`` function and formats the result.
``models`` (numpy, the kernels) is imported inside the commands so that
``wordstack --help`` stays fast.
"""
from __future__ import annotations

import signal
import sys

import click

from .._console import Progress
from .._options import PICTURE_HELP, example, parse_int_range, picture_path
from .._output import counted, echo_json, json_option


def _lengths(value: str | None, name: str = "--lengths"):
    return None if value is None else parse_int_range(value, name)


class _TrainProgress(Progress):
    """Bar over optimizer steps: loss, accuracy, sequences/s (ETA from tqdm)."""

    def __call__(self, p) -> None:
        bar = self.open(p.n_steps, "training", "step")
        bar.set_postfix_str(f"loss {p.loss_per_symbol:.4g}, acc {p.per_symbol:.3f}, coarse {p.coarse:.3f}, "
                            f"len<={p.max_length}, {p.sequences_per_second:,.0f} seq/s", refresh=False)
        bar.update(p.step - bar.n)


class _EvalProgress(Progress):
    """Bar over the sequence-steps of an evaluation (a new bar for each evaluation of a
    comparison); a memory model's late steps cost more, so the ETA starts low."""

    def __call__(self, p) -> None:
        if self.bar is not None and (p.total_steps != self.bar.total or p.steps < self.bar.n):
            self.close()
        bar = self.open(p.total_steps, "evaluating", "step")
        bar.set_postfix_str(f"length {p.length:,}, {p.sequences:,}/{p.total_sequences:,} sequences", refresh=False)
        bar.update(p.steps - bar.n)


class _TaskListHelp(click.Command):
    """A command whose help lists the tasks; ``models.tasks`` is imported only when the help
    is shown (so that ``wordstack --help`` stays fast)."""

    def format_help_text(self, ctx, formatter):
        import textwrap

        from models.tasks import CHOMSKY_TASKS, TASKS

        levels = {"regular": "regular", "dcf": "deterministic context-free", "cs": "context-sensitive"}
        others = [name for name in TASKS if name not in CHOMSKY_TASKS]
        entries = [f"{', '.join(others)} (Trask 2015; Grefenstette et al. 2015; binary-addition is add)."]
        entries += [f"Deletang et al. 2023, {label}: "
                    f"{', '.join(n for n, lv in CHOMSKY_TASKS.items() if lv == level)}."
                    for level, label in levels.items()]
        block = "\b\nTasks:\n" + "\n".join(textwrap.fill(e, 78, initial_indent="  ", subsequent_indent="    ")
                                            for e in entries)
        original = self.help
        head, sep, tail = original.partition("\n\n\b\nExample:")
        self.help = f"{head}\n\n{block}{sep}{tail}"
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = original


@click.group("seq")
def seq() -> None:
    """Sequence models: RNN and LSTM trained by BPTT on addition, copy, reversal, bigram flip
    and the fifteen Chomsky-hierarchy tasks, alone or driving a neural stack, queue or deque
    (--memory); bench runs the paper's grid of them."""


@seq.command("train", cls=_TaskListHelp)
@click.argument("task")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Checkpoint file; if it exists, training resumes from it.")
@click.option("--model", "model", default=None,
              help="rnn or lstm (default: rnn for add, lstm otherwise; with --memory: the controller, default lstm).")
@click.option("--memory", default=None,
              help="stack, queue or deque: a memory-augmented model with the recipe that generalises "
                   "(README 'Memory models'); none: the plain model.")
@click.option("--hidden", type=click.IntRange(min=1), default=None, help="Hidden units.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None, help="Learning rate.")
@click.option("--batch", type=click.IntRange(min=1), default=None, help="Sequences per update.")
@click.option("--steps", type=click.IntRange(min=0), default=None, help="Total optimizer steps.")
@click.option("--lengths", default=None,
              help="Training lengths LOW:HIGH (bit widths for add; input lengths for the Chomsky tasks, which keep "
                   "the lengths their rule allows), e.g. 8:64.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (initialisation, data, dropout).")
@click.option("--optimizer", default=None, help="sgd, momentum, rmsprop or adam.")
@click.option("--clip", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Clip gradients to this global norm.")
@click.option("--dropout", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
              help="Dropout on input and output connections.")
@click.option("--activation", default=None, help="RNN hidden units: tanh or sigmoid.")
@click.option("--curriculum", default=None, help="uniform (default) or grow (start short, lengthen).")
@click.option("--vocab", type=click.IntRange(min=2), default=None,
              help="Vocabulary size (copy, reverse, bigram-flip; reverse_string, duplicate_string, odds_first, "
                   "bucket_sort).")
@click.option("--width", type=click.IntRange(min=1), default=None, help="Memory width (with --memory; default 32).")
@click.option("--embedding", type=click.IntRange(min=0), default=None,
              help="Symbol embedding size (with --memory; default 32, 0: one-hot inputs).")
@click.option("--push-bias", type=float, default=None, help="Initial push bias (with --memory; default 0).")
@click.option("--pop-bias", type=float, default=None,
              help="Initial pop bias (with --memory; default -1 stack, -3 queue and deque).")
@click.option("--controls", type=click.Choice(["sigmoid", "softmax"]), default=None,
              help="With --memory: push and pop strengths from a sigmoid each (default) or one softmax over "
                   "push, pop and no-op (the Stack-RNN's actions: push + pop <= 1).")
@click.option("--stop-gradient/--no-stop-gradient", default=None,
              help="Cut the controller's recurrent gradient at the separator (with --memory; default on).")
@click.option("--aux-hidden", type=click.FloatRange(min=0), default=None,
              help="Weight of the loss predicting the previous symbol from the hidden state (with --memory).")
@click.option("--aux-memory", type=click.FloatRange(min=0), default=None,
              help="Weight of the loss predicting the previous symbol from the memory's read (with --memory).")
@click.option("--final-lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help="With --memory: learning rate once the longest lengths are reached (default 3e-4).")
@click.option("--final-decay", type=click.Choice(["constant", "linear"]), default=None,
              help="With --memory: keep the final learning rate (constant, default) or take it linearly to 0 "
                   "by the last step.")
@click.option("--sharpen", type=click.FloatRange(min=0), default=None,
              help="With --memory: weight of the penalty s(1-s) on every push and pop strength s, which "
                   "drives them to 0 or 1.")
@click.option("--final-phase-at", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="With --memory: start the final phase (--final-lr, --sharpen) at this fraction of the "
                   "steps, whatever the curriculum (default: only once a growing one reaches the longest "
                   "lengths).")
@click.option("--restart-after", type=click.IntRange(min=1), default=None,
              help="With --memory: start again from fresh weights when the shortest lengths are not learned "
                   "after this many sequences (default 32000).")
@click.option("--backend", default=None, help="cython (default) or numpy (the slow reference).")
@click.option("--restart", is_flag=True, help="Start afresh even if --out exists.")
@click.option("--checkpoint-every", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between checkpoints.")
@json_option
@example("""
wordstack seq train add --out add.ckpt                  # Trask's setting: RNN, 16 units, SGD 0.1
wordstack seq train reverse --model lstm --lengths 8:64 --steps 3000 --out rev.ckpt
wordstack seq train add --out add.ckpt --steps 20000    # resume and train further
wordstack seq train reverse --memory stack --out rev-stack.ckpt     # LSTM + neural stack
wordstack seq train copy --memory queue --seed 3 --out copy-queue.ckpt
wordstack seq train even_pairs --lengths 1:40 --out even-pairs.ckpt    # a Chomsky-hierarchy task
wordstack seq train binary_addition --memory stack --out badd-stack.ckpt
""")
def train_cmd(task, out, model, memory, hidden, lr, batch, steps, lengths, seed, optimizer, clip, dropout,
              activation, curriculum, vocab, width, embedding, push_bias, pop_bias, controls, stop_gradient, aux_hidden,
              aux_memory, final_lr, final_decay, sharpen, final_phase_at, restart_after, backend, restart,
              checkpoint_every, as_json):
    """Train a model on TASK (the list below) into a checkpoint.

    Ctrl-C (exit status 130) or SIGTERM, what job schedulers send (exit status 143),
    saves a checkpoint; run the same command again to resume. Training stops with an
    error if the loss becomes NaN or diverges.
    """
    import models

    bar = _TrainProgress()
    try:
        outcome = models.train_checkpoint(
            task, out, model=model, memory=memory, task_options={"vocab_size": vocab}, restart=restart,
            callback=bar, checkpoint_seconds=checkpoint_every, hidden_size=hidden, learning_rate=lr,
            batch_size=batch, n_steps=steps, lengths=_lengths(lengths), seed=seed, optimizer=optimizer,
            clip_norm=clip, dropout=dropout, activation=activation, curriculum=curriculum, backend=backend,
            memory_width=width, embedding_size=embedding, push_bias=push_bias, pop_bias=pop_bias,
            controls=controls, stop_gradient=stop_gradient, aux_hidden=aux_hidden, aux_memory=aux_memory, restart_after=restart_after,
            final_learning_rate=final_lr, final_decay=final_decay, sharpen=sharpen, final_phase_at=final_phase_at)
    except KeyboardInterrupt as exc:           # models.TrainingInterrupted says which signal
        bar.close()
        terminated = getattr(exc, "signum", None) == signal.SIGTERM
        what = "Terminated (SIGTERM)" if terminated else "Interrupted"
        click.echo(f"\n{what}: the checkpoint in {out} holds the last step; run the same command to resume.",
                   err=True)
        raise click.exceptions.Exit(143 if terminated else 130) from None     # 128 + the signal's number
    finally:
        bar.close()
    summary = outcome.summary()
    if as_json:
        echo_json(summary)
        return
    if outcome.resumed_from is not None and outcome.steps_this_run == 0:
        click.echo(f"{out} is already trained for {counted(summary['steps'], 'step')}; "
                   "pass --steps N to train further.")
        return
    if summary.get("restarts"):
        click.echo(f"Restarted from fresh weights at step(s) {', '.join(f'{s:,}' for s in summary['restarts'])} "
                   f"(the shortest lengths were not learned).")
    last = summary["last_block"]
    resumed = f" (resumed from step {outcome.resumed_from:,})" if outcome.resumed_from else ""
    click.echo(f"Trained {summary['model']} on {summary['task']}: {counted(summary['steps'], 'step')}, "
               f"{counted(summary['sequences'], 'sequence')}{resumed}, {summary['seconds_this_run']:,.0f} s, "
               f"{summary['sequences_per_second']:,.0f} seq/s.")
    if last.get("per_symbol") is not None:
        click.echo(f"Last training block: loss/symbol {last['loss_per_symbol']:.4g}, per-symbol "
                   f"{last['per_symbol']:.3f}, fine {last['fine']:.3f}, coarse {last['coarse']:.3f}.")
    click.echo(f"Checkpoint: {out}")


@seq.command("eval")
@click.argument("checkpoints", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--lengths", default=None,
              help="Lengths LOW:HIGH to test (one checkpoint: default its training lengths; several: default "
                   "the lengths just beyond training, 65:128 after 8:64).")
@click.option("--n", "n_sequences", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Test sequences in total, spread evenly over the lengths.")
@click.option("--seed", type=click.IntRange(min=0), default=12345, show_default=True, help="Seed of the test data.")
@click.option("--table", is_flag=True, help="The side-by-side table even for one checkpoint.")
@click.option("--markdown", is_flag=True, help="Print the side-by-side table as Markdown (for a README).")
@json_option
@example("""
wordstack seq eval rev.ckpt --lengths 65:128     # one checkpoint: accuracy by length
wordstack seq eval add.ckpt --lengths 64 --json
wordstack seq eval rev-lstm.ckpt rev-stack.ckpt copy-queue.ckpt      # side by side: train vs 65:128
wordstack seq eval *.ckpt --markdown
""")
def eval_cmd(checkpoints, lengths, n_sequences, seed, table, markdown, as_json):
    """Accuracy of trained checkpoints: by length for one, a side-by-side table
    (model x task x train/test coarse and fine) for several.

    A progress bar (on a terminal) counts the sequence-steps run. Sequences too long to
    run in 1 GiB of memory are refused with an error that names the longest length that
    fits (a few hundred thousand steps for the default models)."""
    import models

    bar = _EvalProgress()
    if len(checkpoints) > 1 or table or markdown:
        try:
            rows = models.compare_checkpoints(checkpoints, _lengths(lengths), n_sequences=n_sequences, seed=seed,
                                              callback=bar)
        finally:
            bar.close()
        if as_json:
            echo_json([r.to_dict() for r in rows])
            return
        _print_comparison(rows, markdown)
        return
    checkpoint = checkpoints[0]
    try:
        model, ev = models.evaluate_checkpoint(checkpoint, _lengths(lengths), n_sequences=n_sequences, seed=seed,
                                               callback=bar)
    finally:
        bar.close()
    if as_json:
        echo_json({"checkpoint": checkpoint, "model": model.kind, **ev.to_dict()})
        return
    name = model.task_.length_name
    click.echo(f"{model.kind} on {ev.task}, {counted(ev.overall.n_sequences, 'test sequence')}")
    click.echo(f"{name:>8} {'n':>6} {'per-symbol':>11} {'fine':>7} {'coarse':>7}")
    for r in ev.results:
        m = r.metrics
        click.echo(f"{r.length:>8} {m.n_sequences:>6} {m.per_symbol:>11.4f} {m.fine:>7.4f} {m.coarse:>7.4f}")
    o = ev.overall
    click.echo(f"{'all':>8} {o.n_sequences:>6} {o.per_symbol:>11.4f} {o.fine:>7.4f} {o.coarse:>7.4f}")


def _print_comparison(rows, markdown: bool) -> None:
    """The side-by-side table: one row per checkpoint."""
    head = ["model", "task", "params", "trained on", "sequences", "train coarse", "train fine", "test on",
            "test coarse", "test fine", "checkpoint"]
    body = []
    for r in rows:
        tr, te = r.train.overall, r.test.overall
        body.append([r.model, r.task, f"{r.n_parameters:,}", f"{r.train_lengths[0]}-{r.train_lengths[1]}",
                     f"{r.sequences:,}", f"{tr.coarse:.3f}", f"{tr.fine:.3f}",
                     f"{r.test_lengths[0]}-{r.test_lengths[1]}", f"{te.coarse:.3f}", f"{te.fine:.3f}", r.checkpoint])
    if markdown:
        click.echo("| " + " | ".join(head) + " |")
        click.echo("|" + "|".join("---" if i < 2 or i == len(head) - 1 else "---:" for i in range(len(head))) + "|")
        for line in body:
            click.echo("| " + " | ".join(line) + " |")
        return
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(head)]
    left = {0, 1, len(head) - 1}
    fmt = lambda cells: "  ".join(c.ljust(w) if i in left else c.rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    click.echo(fmt(head))
    for line in body:
        click.echo(fmt(line))


@seq.command("run")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@example("""
wordstack seq run add.ckpt 1234 5678      # prints 6912
wordstack seq run rev.ckpt 3f0a1c         # symbols of the vocabulary (0-9a-z)
wordstack seq run badd.ckpt 001+01101     # binary_addition, little-endian: prints 01011
wordstack seq run mab.ckpt -- "(-2)"      # after --, an input may start with -
""")
def run_cmd(checkpoint, inputs):
    """Apply a trained model to INPUTS: two integers (add), a symbol sequence, or an input
    in the notation of a Chomsky-hierarchy task (e.g. 1+2*3 for modular_arithmetic)."""
    import models

    click.echo(models.run_checkpoint(checkpoint, inputs))


@seq.command("plot")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), callback=picture_path,
              help=PICTURE_HELP)
@click.option("--lengths", default=None, help="Lengths for the accuracy panel (default: up to twice the training).")
@click.option("--n", "n_per_length", type=click.IntRange(min=1), default=32, show_default=True,
              help="Test sequences per length.")
@json_option
@example("""
wordstack seq plot add.ckpt --out add.png
wordstack seq plot rev.ckpt --out rev.png --lengths 1:128
""")
def plot_cmd(checkpoint, out, lengths, n_per_length, as_json):
    """Learning curve (loss, accuracy against steps) and accuracy by length, as a picture (.png, .svg, .pdf)."""
    import models

    path, ev = models.plot_checkpoint(checkpoint, out, _lengths(lengths), n_per_length=n_per_length)
    if as_json:
        echo_json({"png": str(path), **ev.to_dict()})
        return
    click.echo(f"Wrote {path}")


@seq.command("inspect")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), callback=picture_path,
              help=PICTURE_HELP)
@json_option
@example("""
wordstack seq inspect rev-stack.ckpt 3f0a1c9b --out pushpop.png
wordstack seq inspect copy-queue.ckpt 0123456789abcdef --out queue.png --json
""")
def inspect_cmd(checkpoint, inputs, out, as_json):
    """Heatmaps of a memory model on one input: push and pop strengths per step and the
    strength of every memory cell over time (does it push during the source and pop
    during the target?)."""
    import models

    path, info = models.inspect_checkpoint(checkpoint, inputs, out)
    if as_json:
        echo_json({"png": str(path), "input": info["input"], "output": info["output"], "target": info["target"],
                   "push": info["push"].tolist(), "pop": info["pop"].tolist()})
        return
    click.echo(f"output {info['output']}  (target {info['target']}: "
               f"{'right' if info['output'] == info['target'] else 'wrong'})")
    click.echo(f"Wrote {path}")


class _GridProgress(Progress):
    """Bar over the cells of a bench grid (fractions for the running ones), one line per
    finished cell (above the bar; alone when there is no bar, as in a log file)."""

    def __call__(self, p) -> None:
        bar = self.open(p.total, "bench", "cell")
        running = sum(c.fraction for c in p.running.values())
        if p.finished is not None:
            self._line(p, _cell_line(p.finished))
        if p.message:
            self._line(p, f"warning: {p.message}")
        now = ", ".join(f"{name} {c.phase} {100 * c.fraction:.0f}%" for name, c in sorted(p.running.items()))
        eta = "" if p.eta_seconds is None else f"ETA {_duration(p.eta_seconds)}; "
        bar.set_postfix_str(f"{eta}{now}" if now else eta.rstrip("; "), refresh=False)
        bar.update(max(0.0, round(p.done + p.failed + running, 3) - bar.n))

    def _line(self, p, text: str) -> None:
        eta = "" if p.eta_seconds is None else f", ETA {_duration(p.eta_seconds)}"
        line = f"[{p.done}/{p.total}{eta}] {text}"
        if self.bar is not None and not self.bar.disable:
            self.bar.write(line, file=sys.stderr)
        else:
            click.echo(line, err=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _cell_line(r: dict) -> str:
    name = f"{r['task']}/{r['model']}/seed{r['seed']}"
    train = r["train"]
    trained = f"trained {train['seconds']:,.0f} s ({train['steps']:,} steps)"
    if r["status"] == "diverged":
        return f"{name}: diverged at step {r['diverged']['step']:,} ({trained})"
    return (f"{name}: score {100 * r['score']:.1f}%, whole sequences {100 * r['whole_sequence']:.1f}%, {trained}, "
            f"tested {r['test']['seconds']:,.0f} s")


@seq.command("bench")
@click.option("--out", "out", default=None, type=click.Path(),
              help="The results folder (created; an existing one resumes). With --report: the report file "
                   "(default RESULTS/README.md).")
@click.option("--tasks", default=None, help="Comma-separated tasks (default: the 15 of the paper, in its order).")
@click.option("--models", default=None,
              help="Comma-separated models, each with an optional seed count: rnn, lstm, stack, queue, deque "
                   "(default rnn:1,lstm,stack,queue,deque).")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Seeds per model (seeds 0..N-1) unless the model gives its own (rnn:1).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Local worker processes, one cell each (default 1: in this process); BLAS uses 1 thread.")
@click.option("--dask", "scheduler", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Run the cells on Dask (needs `pip install 'wordstack[dask]'`): alone, a LocalCluster of one "
                   "worker per core; with an address (tcp://host:8786), that cluster. Same result files.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Train every cell this many steps instead of its budget (quick looks; recorded in the folder).")
@click.option("--test-lengths", default=None, help="Test lengths LOW:HIGH (default 41:500, every one).")
@click.option("--n-per-length", type=click.IntRange(min=1), default=None,
              help="Test sequences per length (default: the recipe's, see models/bench/_recipes.py).")
@click.option("--test-seed", type=click.IntRange(min=0), default=None, help="Seed of the test data (default 12345).")
@click.option("--checkpoint-every", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between a training cell's checkpoints.")
@click.option("--report", "report", default=None, type=click.Path(file_okay=False),
              help="Write the report of this results folder (Markdown tables beside the paper's Table 2, "
                   "a heatmap and curves by length) instead of running.")
@click.option("--no-pictures", is_flag=True, help="With --report: the Markdown only.")
@json_option
@example("""
wordstack seq bench --out results/ --jobs 2            # the full grid: 15 tasks x 5 models, resumable
wordstack seq bench --tasks reverse_string,parity_check --models stack,lstm --seeds 1 --out quick/
wordstack seq bench --out results/ --dask tcp://scheduler:8786
wordstack seq bench --report results/                  # results/README.md + pictures
""")
def bench_cmd(out, tasks, models, seeds, jobs, scheduler, steps, test_lengths, n_per_length, test_seed,
              checkpoint_every, report, no_pictures, as_json):
    """The Chomsky-hierarchy benchmark of Delétang et al. (ICLR 2023): train every
    (task, model, seed) on lengths 1-40 and test it on every length 41-500.

    Each cell writes its checkpoint and, when finished, RESULTS/TASK/MODEL/seedK.json.
    Finished cells are never run again; Ctrl-C or SIGTERM stops the grid cleanly (each
    running cell saves its checkpoint; exit status 130 or 143): run the same command again
    to resume. A damaged result file is kept as seedK.json.damaged and its cell re-run.
    """
    import models as lib

    if report is not None:
        if any(v is not None for v in (tasks, models, jobs, scheduler, steps, test_lengths, n_per_length, test_seed)):
            raise click.UsageError("--report only reads a results folder: drop the grid options (--tasks, "
                                   "--models, --jobs, --dask, --steps, --test-...)")
        outcome = lib.bench_report(report, out, pictures=not no_pictures,
                                   command=f"wordstack seq bench --report {report}")
        if as_json:
            echo_json({"report": str(outcome.markdown), "pictures": [str(p) for p in outcome.pictures]})
            return
        click.echo(f"Wrote {outcome.markdown}" + (f" and {counted(len(outcome.pictures), 'picture')}"
                                                 if outcome.pictures else ""))
        return
    if out is None:
        raise click.UsageError("give the results folder: --out results/ (or --report RESULTS to write a report)")
    options = {}
    if test_lengths is not None:
        options["test_lengths"] = parse_int_range(test_lengths, "--test-lengths")
    if n_per_length is not None:
        options["n_per_length"] = n_per_length
    if test_seed is not None:
        options["test_seed"] = test_seed
    bar = _GridProgress()
    try:
        outcome = lib.run_bench(out, tasks=tasks, models=models, seeds=seeds, jobs=jobs, scheduler=scheduler,
                                n_steps=steps, checkpoint_seconds=checkpoint_every, callback=bar, **options)
    except KeyboardInterrupt as exc:           # models.TrainingInterrupted says which signal
        bar.close()
        terminated = getattr(exc, "signum", None) == signal.SIGTERM
        what = "Terminated (SIGTERM)" if terminated else "Interrupted"
        click.echo(f"\n{what}: finished cells are in {out}, running ones saved their checkpoints; run the same "
                   f"command to resume.", err=True)
        raise click.exceptions.Exit(143 if terminated else 130) from None
    finally:
        bar.close()
    summary = {"out": str(outcome.out), "cells": outcome.total, "done_before": outcome.skipped,
               "finished": len(outcome.results), "failed": outcome.failures, "set_aside": outcome.set_aside,
               "where": outcome.where}
    if as_json:
        echo_json(summary)
    else:
        click.echo(f"{counted(outcome.total, 'cell')}: {outcome.skipped:,} done before, {len(outcome.results):,} "
                   f"finished now ({outcome.where}). Results in {out}; report: wordstack seq bench --report {out}")
    if outcome.failures:
        for cell, message in outcome.failures.items():
            click.echo(f"Error: cell {cell} failed: {message.splitlines()[0]}", err=True)
        raise click.exceptions.Exit(1)


COMMANDS = [seq]
