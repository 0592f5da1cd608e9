"""Which word-vector models a command queries: the ``-m`` option and ``MODEL_DIR``
argument, the default models (trained on first use), loading. The queries themselves
and their JSON shapes are in :mod:`wordstack._queries`.

``corpus_tools`` is imported inside the functions: loading a model folder needs
numpy only, so the query path stays light.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from ._console import EpochProgress, IngestProgress, configure_logging

MODELS_HELP = "Model folder; repeat to compare models side by side (default: the Shakespeare model)."


def models_option(help: str = MODELS_HELP) -> Callable:  # noqa: A002 - click's name
    """``--model/-m``, repeatable: the model folders to query side by side (``models`` parameter)."""
    return click.option("--model", "-m", "models", multiple=True, type=click.Path(), help=help)


EXACT_HELP = ("Score every word even when the model folder has a nearest-neighbour index "
              "(`wordstack index`); without one, queries are always exact.")


def exact_option(f: Callable) -> Callable:
    """``--exact``: bypass a model folder's nearest-neighbour index (``exact`` parameter)."""
    return click.option("--exact", is_flag=True, help=EXACT_HELP)(f)


def model_dir_argument(f: Callable) -> Callable:
    """Optional ``MODEL_DIR`` argument; without it the command uses the default model."""
    return click.argument("model_dir", required=False, type=click.Path())(f)


def resolve_models(models: tuple[str, ...]) -> list[str]:
    """The model folders to query: those given, or the default model (trained on first use)."""
    if models:
        return list(models)
    import corpus_tools as ct

    default = ct.default_model_dir()
    if (default / "meta.json").exists():
        return [str(default)]
    configure_logging()
    click.echo(f"No default model yet: training one on the shipped Shakespeare corpus into {default} "
               "(once; about a minute).", err=True)
    return [str(ensure_default("shakespeare-256d"))]


def default_models() -> list[str]:
    """The default models to serve side by side: each of ``corpus_tools.DEFAULT_CONFIGS``
    already built (by ``wordstack demo``, or the 256-dim one by a first ``wordstack
    similar``), in their order; when none is, the default model, trained now as
    :func:`resolve_models` does."""
    import corpus_tools as ct

    home = ct.default_model_dir().parent
    built = [str(home / name) for name in ct.DEFAULT_CONFIGS if (home / name / "meta.json").exists()]
    return built or resolve_models(())


def ensure_default(name: str, retrain: bool = False) -> Path:
    """One of the default models (``corpus_tools.DEFAULT_CONFIGS``), ingested and trained
    if missing or stale, with progress on stderr."""
    import corpus_tools as ct

    ingest_bar = IngestProgress()
    epoch_bar: list[EpochProgress] = []

    def on_epoch(rep):
        if not epoch_bar:
            epoch_bar.append(EpochProgress(rep.epochs, f"training {name}"))
        epoch_bar[0](rep)

    try:
        return ct.ensure_default_model(
            name=name, retrain=retrain, on_stage=lambda msg: click.echo(msg[0].upper() + msg[1:] + "...", err=True),
            on_ingest_progress=ingest_bar, on_epoch=on_epoch,
        )
    finally:
        ingest_bar.close()
        if epoch_bar:
            epoch_bar[0].close()


def load_many(models: tuple[str, ...]) -> list:
    """The vectors of each ``--model`` folder, or of the default model."""
    import corpus_tools as ct

    return [ct.load_vectors(m) for m in resolve_models(models)]


def load_one(model_dir: str | None):
    """Vectors of ``model_dir``, or of the default model (trained on first use)."""
    import corpus_tools as ct

    return ct.load_vectors(resolve_models((model_dir,) if model_dir else ())[0])
