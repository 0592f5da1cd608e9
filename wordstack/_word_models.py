"""Which word-vector models a command queries: the ``-m`` option and ``MODEL_DIR``
argument, the default model (trained on first use), loading, per-model queries.

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


def model_entry(vecs) -> dict:
    """How a model is named in per-model results: folder, label, dimensions, epochs."""
    return {
        "model": str(vecs.path),
        "label": vecs.label,
        "vector_size": vecs.vector_size,
        "epochs": vecs.meta.get("params", {}).get("epochs"),
    }


def subword_marks(vecs, words) -> dict:
    """Which of ``words`` the model built from subwords (fastText n-grams): ``from_subwords``
    (any of them) and ``subword_terms`` (those words), for a per-model result."""
    built = [w for w in words if vecs.from_subwords(w)]
    return {"from_subwords": bool(built), "subword_terms": built}


def per_model(vectors_list, query: Callable[..., dict]) -> list[dict]:
    """Run ``query(vecs)`` on each model; an unknown word becomes an error entry with suggestions.

    Each entry is :func:`model_entry` plus what ``query`` returned, or ``error``,
    ``unknown`` (the word) and ``suggestions``.
    """
    import corpus_tools as ct

    out = []
    for vecs in vectors_list:
        entry = model_entry(vecs)
        try:
            entry.update(query(vecs))
        except ct.UnknownWordError as exc:
            entry["error"] = str(exc)
            entry["unknown"] = exc.word
            entry["suggestions"] = exc.suggestions
        out.append(entry)
    return out


def most_similar(vectors_list, words, topn: int, *, with_terms: bool = False) -> list[dict]:
    """:func:`per_model` of ``most_similar`` on the query terms of ``words`` (a list, or a line of text).

    Each answer holds ``neighbors`` and :func:`subword_marks`, and with ``with_terms``
    also ``terms`` (the words as the model spells them, phrases joined).
    """
    import corpus_tools as ct

    def query(vecs):
        terms = ct.query_terms(vecs, words)
        neighbors = vecs.most_similar(terms, topn=topn)
        answer = {"terms": terms, "neighbors": neighbors} if with_terms else {"neighbors": neighbors}
        return {**answer, **subword_marks(vecs, terms)}

    return per_model(vectors_list, query)
