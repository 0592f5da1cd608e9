"""The default model: the shipped Shakespeare corpus, ingested and trained on first use.

The first use builds it under a lock (:data:`LOCK_NAME` in ``$WORDSTACK_HOME``,
:func:`corpus_tools.atomic.exclusive_lock`), so that commands started together wait
for one build instead of doing it twice or breaking it; the lock is the kernel's and
goes with its process, so a build that was killed never blocks the next one, which
finds the previous corpus and model or none (both are swapped in whole).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from ._corpus_dir import Corpus, is_corpus_debris, is_corpus_dir, load_corpus
from ._errors import CorpusError
from ._model_dir import META
from ._paths import default_corpus_dir, default_model_dir, shipped_corpus, wordstack_home
from ._subwords import SubwordParams
from ._word2vec import Word2VecParams
from .atomic import exclusive_lock

#: The lock file of default-model builds, in ``$WORDSTACK_HOME``.
LOCK_NAME = ".default-models.lock"

#: The configurations of the side-by-side comparison in A. Trask's analysis: a small
#: fast model beside a large well-trained one; then a fastText model (its n-grams in
#: :data:`DEFAULT_SUBWORDS`), which on this small corpus scores higher than both on the
#: benchmarks and answers words outside the vocabulary (README, "Subword vectors").
DEFAULT_CONFIGS: dict[str, Word2VecParams] = {
    "shakespeare-64d": Word2VecParams(vector_size=64, epochs=1),
    "shakespeare-256d": Word2VecParams(vector_size=256, epochs=10),
    "shakespeare-ft": Word2VecParams(vector_size=100, epochs=5),
}
#: The default models trained with subwords (gensim FastText), and their n-grams.
DEFAULT_SUBWORDS: dict[str, SubwordParams] = {
    "shakespeare-ft": SubwordParams(min_n=3, max_n=6, buckets=200_000),
}


def model_is_current(model_dir: Path, params: Word2VecParams, corpus_manifest_sha256: str,
                     subwords: SubwordParams | None = None) -> bool:
    """True when ``model_dir`` holds a model trained with ``params`` (and ``subwords``) on that corpus."""
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
    have_sub = meta.get("subwords")
    same_sub = (have_sub is None if subwords is None else isinstance(have_sub, dict) and all(
        have_sub.get(k) == v for k, v in (("min_n", subwords.min_n), ("max_n", subwords.max_n),
                                          ("buckets", subwords.buckets))))
    return same and same_sub and meta.get("corpus", {}).get("manifest_sha256") == corpus_manifest_sha256


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
    changed, or ``retrain`` is True. A build runs under the lock of the module
    docstring: a second process waits for it (``on_stage`` says so) and then
    finds the model built.

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
    from ._ingest import ingest
    from ._word2vec import train

    if name not in DEFAULT_CONFIGS:
        raise ValueError(f"unknown default model {name!r}; choose one of {', '.join(DEFAULT_CONFIGS)}")
    params = DEFAULT_CONFIGS[name]
    subwords = DEFAULT_SUBWORDS.get(name)
    model_dir = default_model_dir().parent / name
    corpus_dir = default_corpus_dir()
    say = on_stage or (lambda msg: None)
    corpus = _cached_corpus(corpus_dir)
    if corpus is not None and not retrain and model_is_current(model_dir, params, corpus.manifest_sha256, subwords):
        return model_dir
    lock = wordstack_home() / LOCK_NAME
    with exclusive_lock(lock, on_wait=lambda: say(f"waiting for another wordstack process to finish building "
                                                  f"the default model (lock: {lock})")):
        corpus = _cached_corpus(corpus_dir)  # another process may have built it meanwhile
        if corpus is None:
            if corpus_dir.exists() and not is_corpus_dir(corpus_dir) and is_corpus_debris(corpus_dir):
                shutil.rmtree(corpus_dir)  # our cache, left damaged by an older release: nothing of the user's
            say(f"ingesting the shipped Shakespeare corpus into {corpus_dir}")
            corpus = ingest([shipped_corpus()], corpus_dir, progress=on_ingest_progress)
        elif not retrain and model_is_current(model_dir, params, corpus.manifest_sha256, subwords):
            return model_dir
        epochs = f"{params.epochs} epoch" + ("s" if params.epochs != 1 else "")
        kind = "" if subwords is None else ", subwords"
        say(f"training {name} ({params.vector_size}d, {epochs}{kind}) into {model_dir}")
        train(corpus_dir, model_dir, params, on_epoch=on_epoch, subwords=subwords)
    return model_dir


def _cached_corpus(corpus_dir: Path) -> Corpus | None:
    """The default corpus when it is complete, else None (missing or damaged: to be rebuilt)."""
    try:
        return load_corpus(corpus_dir)
    except (CorpusError, KeyError, TypeError, ValueError):
        return None


__all__ = ["DEFAULT_CONFIGS", "DEFAULT_SUBWORDS", "LOCK_NAME", "ensure_default_model", "model_is_current"]
