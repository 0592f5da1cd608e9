"""Train gensim Word2Vec, or FastText (subword vectors), on a corpus directory and save it as a model directory.

The model directory (``meta.json``, ``vocab.txt``, ``vectors.npy``,
``norms.npy`` and the gensim pickle ``word2vec.model``) is described, written and
read by :mod:`corpus_tools._model_dir`; it is written to a temporary folder and
swapped in at the end, so an interrupted training (Ctrl-C) leaves the previous
model untouched. With ``subwords`` (:class:`corpus_tools.SubwordParams`) the model is
gensim's ``FastText`` (Bojanowski et al. 2017): the same parameters, progress, seed and
atomic save, plus the character n-gram matrix (``ngrams.npy``) and its hashing
parameters (``meta.json``'s ``subwords``), from which queries build words outside the
vocabulary without gensim.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

from ._corpus_dir import hash_sentences, load_corpus
from ._errors import CorpusError
from ._executor import default_jobs
from ._model_dir import GENSIM_MODEL, NGRAMS, check_model_out, model_meta, write_model_dir
from ._subwords import SubwordParams, Subwords

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word2VecParams:
    """Training parameters, with gensim's names (``vector_size`` is ``--dim`` on the CLI).

    The defaults are the "well-trained" configuration: 256 dimensions, 10 epochs,
    skip-gram with negative sampling, which on the shipped corpus (0.9M words)
    puts *juliet* among *romeo*'s nearest neighbours.

    Parameters
    ----------
    vector_size : int, default 256
    epochs : int, default 10
    window : int, default 5
        Maximum distance between the centre word and a context word.
    min_count : int, default 5
        Ignore words rarer than this.
    sg : {0, 1}, default 1
        1 for skip-gram, 0 for CBOW.
    negative : int, default 5
        Negative samples per positive one (0 turns negative sampling off; then
        ``hs`` must be 1).
    hs : {0, 1}, default 0
        Hierarchical softmax.
    sample : float, default 1e-3
        Down-sampling threshold for frequent words.
    alpha, min_alpha : float
        Initial and final learning rate.
    workers : int, optional
        Training threads (default: all cores).
    seed : int, default 1
        Seed of the initial vectors and of sampling.

    Notes
    -----
    Full reproducibility (bit-identical vectors from the same corpus and
    ``seed``) needs ``workers=1``: gensim (4.x) draws the initial vectors and
    its sampling from ``seed``, but several threads interleave their updates
    in an order the operating system chooses. The same gensim and numpy
    versions are assumed.
    """

    vector_size: int = 256
    epochs: int = 10
    window: int = 5
    min_count: int = 5
    sg: int = 1
    negative: int = 5
    hs: int = 0
    sample: float = 1e-3
    alpha: float = 0.025
    min_alpha: float = 0.0001
    workers: int | None = None
    seed: int = 1

    def __post_init__(self):
        def positive_int(name, minimum=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")

        for name in ("vector_size", "epochs", "window", "min_count"):
            positive_int(name)
        positive_int("negative", 0)
        if self.workers is not None:
            positive_int("workers")
        if self.sg not in (0, 1):
            raise ValueError(f"sg must be 0 (CBOW) or 1 (skip-gram), got {self.sg!r}")
        if self.hs not in (0, 1):
            raise ValueError(f"hs must be 0 or 1, got {self.hs!r}")
        if self.negative == 0 and self.hs == 0:
            raise ValueError("negative=0 and hs=0 leave nothing to train; set negative >= 1 or hs=1")
        if not (0 <= self.sample < 1):
            raise ValueError(f"sample must be in [0, 1), got {self.sample!r}")
        if not (0 < self.alpha <= 1) or not (0 <= self.min_alpha <= self.alpha):
            raise ValueError(
                f"need 0 < alpha <= 1 and 0 <= min_alpha <= alpha, got alpha={self.alpha!r}, "
                f"min_alpha={self.min_alpha!r}"
            )

    def resolved(self) -> "Word2VecParams":
        """These parameters with ``workers`` filled in."""
        if self.workers is not None:
            return self
        return Word2VecParams(**{**asdict(self), "workers": default_jobs()})

    def gensim_kwargs(self) -> dict:
        """Keyword arguments for ``gensim.models.Word2Vec`` (the field names are gensim's)."""
        return asdict(self.resolved())

    @classmethod
    def from_dict(cls, d: dict) -> "Word2VecParams":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class EpochReport:
    """One epoch of training, as passed to the ``on_epoch`` callback."""

    epoch: int
    epochs: int
    seconds: float
    words_per_second: float
    loss: float | None  # None for fastText: gensim's FastText computes no training loss


@dataclass
class TrainResult:
    """What :func:`train` wrote."""

    path: Path
    params: Word2VecParams
    vocab_size: int
    seconds: float
    epochs: list[EpochReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. sentences.txt edited after ingest

    @property
    def words_per_second(self) -> float:
        """Mean training speed over all epochs (raw corpus words per second)."""
        total = sum(e.seconds for e in self.epochs)
        return sum(e.words_per_second * e.seconds for e in self.epochs) / total if total else 0.0


def _gensim_callback(corpus_words: int, epochs: int, on_epoch, *, with_loss: bool = True):
    from gensim.models.callbacks import CallbackAny2Vec

    class _Epochs(CallbackAny2Vec):
        def __init__(self):
            self.reports: list[EpochReport] = []
            self._t = 0.0

        def on_epoch_begin(self, model):
            model.running_training_loss = 0.0  # gensim accumulates over epochs otherwise
            self._t = time.perf_counter()

        def on_epoch_end(self, model):
            dt = time.perf_counter() - self._t
            rep = EpochReport(
                epoch=len(self.reports) + 1,
                epochs=epochs,
                seconds=dt,
                words_per_second=corpus_words / dt if dt > 0 else float("inf"),
                loss=float(model.get_latest_training_loss()) if with_loss else None,
            )
            self.reports.append(rep)
            if on_epoch is not None:
                on_epoch(rep)

    return _Epochs()


def train(
    corpus: str | os.PathLike,
    out: str | os.PathLike,
    params: Word2VecParams | None = None,
    *,
    on_epoch: Callable[[EpochReport], None] | None = None,
    subwords: SubwordParams | None = None,
) -> TrainResult:
    """Train word2vec (or fastText) on a corpus directory with gensim's ``corpus_file`` mode.

    Parameters
    ----------
    corpus : str or path
        A corpus directory written by :func:`corpus_tools.ingest`.
    out : str or path
        The model directory to write; an existing one is replaced only when
        training succeeds, and only when it is a wordstack model folder holding
        nothing else (checked before training starts).
    params : Word2VecParams, optional
    on_epoch : callable, optional
        Called with an :class:`EpochReport` after every epoch (for progress bars).
    subwords : SubwordParams, optional
        Train gensim ``FastText`` with these character n-grams instead of ``Word2Vec``
        (all of ``params`` apply as they are): the model then answers words outside
        its vocabulary from their n-grams.

    Returns
    -------
    TrainResult

    Raises
    ------
    CorpusError
        The corpus is missing or incomplete, or no word reaches ``min_count``.
    OutputFolderError
        ``out`` holds files wordstack did not write, is the current folder, or is
        (or holds) the corpus.

    Notes
    -----
    ``sentences.txt`` is hashed once before training: when it is not the file
    the manifest describes (edited by hand), a warning names it (logged and in
    ``TrainResult.warnings``) and ``meta.json`` records the digest and counts of
    the text actually trained on.

    The loss reported per epoch is gensim's running training loss. With
    several workers in ``corpus_file`` mode gensim keeps only the tally of the
    thread that finished last, so it is a sample of the epoch's loss (about
    1/workers of it): compare it across epochs of one run, not across runs with
    different ``workers``.
    """
    params = (params or Word2VecParams()).resolved()
    check_model_out(out, inputs=[corpus])
    corp = load_corpus(corpus)
    sentences_sha256, n_sent, n_tok = hash_sentences(corp.sentences_file)
    warnings = []
    if sentences_sha256 != corp.sentences_sha256:
        warnings.append(
            f"{corp.sentences_file} is not the file its manifest.json describes (edited after ingest?): "
            f"training on it as it is ({n_sent:,} sentences, {n_tok:,} tokens); re-run `wordstack ingest` to "
            "bring the corpus up to date"
        )
        logger.warning(warnings[-1])
    if n_tok == 0:
        raise CorpusError(f"corpus {str(corp.path)!r} has no tokens; ingest some books first")
    if subwords is not None and not isinstance(subwords, SubwordParams):
        raise TypeError(f"subwords must be a SubwordParams, got {type(subwords).__name__}")
    from gensim.models import FastText, Word2Vec

    t0 = time.perf_counter()
    if subwords is None:
        model = Word2Vec(**params.gensim_kwargs())
    else:
        model = FastText(**params.gensim_kwargs(), **subwords.gensim_kwargs())
    corpus_file = str(corp.sentences_file)
    model.build_vocab(corpus_file=corpus_file)
    if len(model.wv) == 0:
        raise CorpusError(
            f"no word occurs at least min_count={params.min_count} times in {n_tok} "
            f"token{'s' if n_tok != 1 else ''}; "
            "lower --min-count or ingest more text"
        )
    callback = _gensim_callback(model.corpus_total_words, params.epochs, on_epoch, with_loss=subwords is None)
    model.train(
        corpus_file=corpus_file,
        total_examples=model.corpus_count,
        total_words=model.corpus_total_words,
        epochs=params.epochs,
        compute_loss=subwords is None,
        callbacks=[callback],
    )
    seconds = time.perf_counter() - t0
    out = Path(out).expanduser()
    result = TrainResult(path=out, params=params, vocab_size=len(model.wv), seconds=seconds,
                         epochs=callback.reports, warnings=warnings)
    meta = model_meta(
        params=asdict(params),
        vocab_size=len(model.wv),
        vector_size=params.vector_size,
        corpus={
            "path": str(corp.path.resolve()),
            "manifest_sha256": corp.manifest_sha256,
            "sentences_sha256": sentences_sha256,  # of the text trained on
            "sentences_match_manifest": sentences_sha256 == corp.sentences_sha256,
            "sentences": n_sent,
            "tokens": n_tok,
            "phrases": corp.phrases,
        },
        training={
            "seconds": round(seconds, 3),
            "words_per_second": round(result.words_per_second, 1),
            "epochs": [asdict(e) for e in callback.reports],
        },
    )
    if subwords is not None:
        meta["subwords"] = Subwords(subwords, model.wv.vectors_ngrams, lowercase=corp.settings.lowercase).to_meta()
    save_model(model, out, meta)
    return result


def save_model(model, out: str | os.PathLike, meta: dict) -> None:
    """Write a trained gensim ``Word2Vec`` or ``FastText`` as a model directory, atomically.

    The vectors, vocabulary (with corpus counts) and ``meta`` go through
    :func:`corpus_tools._model_dir.write_model_dir`, with a FastText model's n-gram
    matrix (``meta`` then holds its ``subwords`` entry); the full gensim model is
    saved beside them as ``word2vec.model``. A FastText model's ``vectors`` are
    already the vocabulary words' final vectors (their own averaged with their n-grams').
    """
    wv = model.wv
    counts = [int(wv.get_vecattr(w, "count")) for w in wv.index_to_key]
    ngrams = wv.vectors_ngrams if "subwords" in meta else None

    def save_gensim(tmp: Path) -> None:
        model.save(str(tmp / GENSIM_MODEL))
        if ngrams is not None:
            _link_ngrams(tmp / f"{GENSIM_MODEL}.wv.vectors_ngrams.npy", tmp / NGRAMS, ngrams)

    write_model_dir(out, wv.index_to_key, wv.vectors, counts, meta, ngrams=ngrams, extra=save_gensim)


def _link_ngrams(gensim_file: Path, target: Path, ngrams) -> None:
    """Make ``ngrams.npy`` a hard link of the copy gensim saved beside its pickle, when that is a plain
    ``.npy`` of exactly the same matrix: the matrix is most of the folder, so it is stored once. Otherwise
    (small matrices stay inside gensim's pickle; no hard links here) nothing is done and the caller writes it."""
    import numpy as np

    try:
        same = np.array_equal(np.load(gensim_file, mmap_mode="r", allow_pickle=False), ngrams)
        if same:
            os.link(gensim_file, target)
    except (OSError, ValueError):
        pass


def load_gensim_model(path: str | os.PathLike):
    """Load the full gensim model of a model directory, to continue training.

    This unpickles ``word2vec.model``: only do it for model directories you made
    or trust. Queries never need it (see :func:`corpus_tools.load_vectors`).
    A subword model loads as a ``gensim.models.FastText``.
    """
    from gensim.models import Word2Vec

    return Word2Vec.load(str(Path(path) / GENSIM_MODEL))
