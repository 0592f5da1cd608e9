"""The default model: the shipped Shakespeare corpus, ingested and trained on first use."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from ._corpus_dir import is_corpus_debris, is_corpus_dir
from ._errors import CorpusError
from ._model_dir import META
from ._paths import default_corpus_dir, default_model_dir, shipped_corpus
from ._word2vec import Word2VecParams

#: The two configurations of the side-by-side comparison in A. Trask's analysis:
#: a small fast model beside a large well-trained one.
DEFAULT_CONFIGS: dict[str, Word2VecParams] = {
    "shakespeare-64d": Word2VecParams(vector_size=64, epochs=1),
    "shakespeare-256d": Word2VecParams(vector_size=256, epochs=10),
}


def model_is_current(model_dir: Path, params: Word2VecParams, corpus_manifest_sha256: str) -> bool:
    """True when ``model_dir`` holds a model trained with ``params`` on that corpus."""
    meta_path = model_dir / META
    if not meta_path.exists():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    want = asdict(params)
    have = meta.get("params", {})
    same = all(have.get(k) == v for k, v in want.items() if k != "workers")
    return same and meta.get("corpus", {}).get("manifest_sha256") == corpus_manifest_sha256


def ensure_default_model(
    *,
    name: str = "shakespeare-256d",
    retrain: bool = False,
    on_stage: Callable[[str], None] | None = None,
    on_ingest_progress=None,
    on_epoch=None,
) -> Path:
    """Return the folder of a default model, ingesting and training it if needed.

    The shipped corpus is ingested into ``$WORDSTACK_HOME/corpora/shakespeare``
    and the model trained into ``$WORDSTACK_HOME/models/<name>`` (see
    :func:`corpus_tools.wordstack_home`). Later calls find both and return at
    once; an existing model is retrained only when its parameters or corpus
    changed, or ``retrain`` is True.

    Parameters
    ----------
    name : str
        A key of :data:`DEFAULT_CONFIGS`.
    retrain : bool
        Train again even if a current model exists.
    on_stage : callable, optional
        Called with a short description before each stage ("ingest", "train ...").
    on_ingest_progress, on_epoch : callable, optional
        Passed to :func:`corpus_tools.ingest` and :func:`corpus_tools.train`.
    """
    from ._corpus_dir import load_corpus
    from ._ingest import ingest
    from ._word2vec import train

    if name not in DEFAULT_CONFIGS:
        raise ValueError(f"unknown default model {name!r}; choose one of {', '.join(DEFAULT_CONFIGS)}")
    params = DEFAULT_CONFIGS[name]
    model_dir = default_model_dir().parent / name
    corpus_dir = default_corpus_dir()
    say = on_stage or (lambda msg: None)
    try:
        corpus = load_corpus(corpus_dir)
    except (CorpusError, KeyError, TypeError, ValueError):  # missing or damaged cached corpus: rebuild it
        if corpus_dir.exists() and not is_corpus_dir(corpus_dir) and is_corpus_debris(corpus_dir):
            shutil.rmtree(corpus_dir)  # our cache, left damaged by an older release: nothing of the user's
        say(f"ingesting the shipped Shakespeare corpus into {corpus_dir}")
        corpus = ingest([shipped_corpus()], corpus_dir, progress=on_ingest_progress)
    if not retrain and model_is_current(model_dir, params, corpus.manifest_sha256):
        return model_dir
    epochs = f"{params.epochs} epoch" + ("s" if params.epochs != 1 else "")
    say(f"training {name} ({params.vector_size}d, {epochs}) into {model_dir}")
    train(corpus_dir, model_dir, params, on_epoch=on_epoch)
    return model_dir


__all__ = ["DEFAULT_CONFIGS", "ensure_default_model", "model_is_current"]
