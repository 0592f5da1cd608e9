"""Ingest: books -> a corpus directory that gensim's ``corpus_file`` mode reads at full speed.

:func:`ingest` is the pipeline; each step is a function below, in this order:

1. find the books, skipping wordstack's own corpus and model folders among them
   (:func:`corpus_tools._remote.find_sources`), and check that the output folder may
   be written (:func:`corpus_tools._corpus_dir.check_corpus_out`: missing, empty, or a
   wordstack corpus holding nothing else);
2. keep the folder's Punkt sentence model (and so its shards) when it was ingested
   before with the same settings (:func:`_reusable_corpus`); otherwise train a new one
   on a sample of the books and start over (:func:`_train_sentence_model`,
   :mod:`corpus_tools._punkt`);
3. tokenize new and changed books into shards on an executor and reuse the shards of
   unchanged ones (:func:`_tokenize_books`, :mod:`corpus_tools._shards`), then check
   that some book could be read (:func:`_readable_books`);
4. the corpus text: the shards in book order, with phrases joined when asked for
   (:func:`_corpus_text`, :mod:`corpus_tools._phrases`);
5. write ``sentences.txt`` and ``manifest.json``
   (:mod:`corpus_tools._corpus_dir`, which also describes the folder's files).

Steps 2 to 5 write into a temporary folder beside the output, swapped in at the end
(:func:`corpus_tools.atomic.atomic_dir`; reused shards are hard links to the old
folder's): Ctrl-C, kill -9 or a failure leaves the previous corpus, or nothing.

The per-book work runs on an *executor* (:mod:`corpus_tools._executor`): ``jobs``
local processes by default, or a Dask cluster with ``scheduler=``
(:mod:`corpus_tools._dask`), started ahead while the Punkt model trains
(:class:`_ExecutorStarter`). The output is the same bytes whatever the executor.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ._corpus_dir import (
    MANIFEST,
    PHRASES,
    PUNKT,
    SENTENCES,
    SHARDS,
    Corpus,
    SourceRecord,
    check_corpus_out,
    corpus_dir_foreign,
    decode_source,
    manifest_version,
    read_json,
    shard_file,
    write_manifest,
    write_sentences,
)
from ._errors import CorpusError, CorpusOutputError, NoBooksError
from ._executor import Executor, LocalExecutor, default_jobs
from ._phrases import PhraseSettings, apply_phrases, phrases_file, phrases_record, train_phrases
from ._punkt import punkt_digest, punkt_to_dict, train_punkt
from ._remote import find_sources, is_remote, local_copy
from ._shards import drop_stale_shards, plan_books, shard_blocks, write_shards
from ._sources import UnreadableBookError, own_folders_message, read_book
from ._tokenize import TokenizerSettings
from .atomic import atomic_dir, write_json

logger = logging.getLogger(__name__)

#: progress(stage, done, total): stages are "punkt", "tokenize", "phrases", "write".
ProgressFn = Callable[[str, int, int], None]


def ingest(
    paths: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    settings: TokenizerSettings | None = None,
    phrases: PhraseSettings | None = None,
    jobs: int | None = None,
    scheduler=None,
    retrain_punkt: bool = False,
    progress: ProgressFn | None = None,
) -> Corpus:
    """Read and tokenize books into a corpus directory.

    Parameters
    ----------
    paths : iterable of str or path
        Book files, folders (searched recursively) or glob patterns; ``file://``
        URLs; or fsspec URLs (``s3://bucket/books/``, ...; see the README for the
        protocols and what they need installed).
    out : str or path
        The corpus directory; created if needed. When it already holds a corpus,
        unchanged books are reused and only new or changed ones are tokenized.
        It is written whole into a temporary folder and swapped in at the end, so
        an interrupted ingest leaves the previous corpus (or nothing). A folder
        that is not a wordstack corpus, or a corpus folder holding other files, is
        refused before anything is written.
    settings : TokenizerSettings, optional
        Tokenizer settings (defaults: lowercase, joined apostrophes and hyphens,
        numbers kept). Changing them re-tokenizes every book.
    phrases : PhraseSettings, optional
        Detect phrases with gensim ``Phrases`` and join them with ``_``.
    jobs : int, optional
        Worker processes for tokenization (default: all cores; 1 runs in-process);
        with ``scheduler="local"``, the LocalCluster's workers.
    scheduler : None, "local", str or distributed.Client, optional
        Where tokenization runs. None (default): local processes. ``"local"``: a
        Dask ``LocalCluster`` on this machine. ``"tcp://host:8786"``: the Dask
        cluster at that scheduler. A ``distributed.Client``: its cluster. Needs
        the ``dask`` extra (``pip install 'wordstack[dask]'``). The corpus written
        is the same, byte for byte.
    retrain_punkt : bool, default False
        Retrain the Punkt sentence model even when the directory has one.
    progress : callable, optional
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    Corpus
        The corpus written, with per-book records (``action`` tells what this run
        did with each).

    Raises
    ------
    NoBooksError
        A path does not exist or no book could be read at all.
    CorpusOutputError
        (an :class:`OutputFolderError` and a :class:`CorpusError`) ``out`` holds
        files wordstack did not write (an unrelated ``manifest.json`` included), is
        the current folder, or is (or holds) one of the books.
    MissingDependencyError
        ``scheduler`` is given but dask[distributed] is not installed.

    Notes
    -----
    The output depends only on the books' contents, their order and the
    settings: two runs on the same books write byte-identical ``sentences.txt``
    whatever ``jobs`` or ``scheduler`` is. Unreadable books (binary, corrupt
    archives) are skipped and reported in the manifest; the rest are ingested.
    Folders that are wordstack corpora or models are not searched for books
    (``Corpus.notes`` and a logged warning name them), so a corpus written inside
    the books' folder is never read back as a book.
    """
    t0 = time.perf_counter()
    settings = settings or TokenizerSettings()
    _check_workers(jobs, scheduler)
    report = progress or (lambda stage, done, total: None)
    paths = [p if isinstance(p, str) else os.fspath(p) for p in paths]
    own: list = []
    books = find_sources(paths, own_folders=own)
    notes = [own_folders_message(own)] if own else []
    for note in notes:
        logger.warning(note)
    local = [p for p in paths + books if not is_remote(p) and os.path.exists(p)]
    target = check_corpus_out(out, inputs=local)
    old, punkt = _reusable_corpus(target, settings, retrain_punkt)
    executors = _ExecutorStarter(scheduler, jobs)
    with atomic_dir(target, kind="corpus", foreign=corpus_dir_foreign, error=CorpusOutputError) as tmp:
        shard_dir = tmp / SHARDS
        shard_dir.mkdir()
        try:
            if punkt is None:
                executors.start_ahead()  # every book will be tokenized: start the cluster meanwhile
                punkt = _train_sentence_model(books, settings, report)
                old = None
            write_json(tmp / PUNKT, punkt)
            sources = _tokenize_books(books, target / SHARDS, shard_dir, old, punkt, settings, executors.get,
                                      report)
            ok = _readable_books(sources)
            drop_stale_shards(shard_dir, ok)
            phrase_record, blocks = _corpus_text(tmp, [shard_file(shard_dir, s.sha256) for s in ok], phrases,
                                                 executors.get, report)
            report("write", 0, 1)
            sent_sha, n_sent, n_tok = write_sentences(tmp / SENTENCES, blocks)
            report("write", 1, 1)
        finally:
            executors.close()
        corpus = write_manifest(tmp, settings=settings, punkt_sha256=punkt_digest(punkt), phrases=phrase_record,
                                sources=sources, sentences_sha256=sent_sha, sentences=n_sent, tokens=n_tok,
                                seconds=time.perf_counter() - t0)
    corpus.path = Path(out).expanduser()
    corpus.notes = notes
    return corpus


# ----------------------------------------------------------------------------- the steps


def _check_workers(jobs: int | None, scheduler) -> None:
    """Refuse a bad ``jobs``; check ``scheduler`` and that dask[distributed] is installed."""
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if scheduler is not None:
        from ._dask import check_scheduler, import_distributed

        check_scheduler(scheduler, jobs)
        import_distributed()


def _reusable_corpus(out: Path, settings: TokenizerSettings, retrain_punkt: bool) -> tuple[dict | None, dict | None]:
    """The folder's previous manifest, and its Punkt model when it can be kept (else None).

    ``out`` has passed :func:`check_corpus_out`: it is missing, empty or a wordstack
    corpus. The model is kept when it was made with the same settings, its
    ``punkt.json`` is the one its manifest names, and ``retrain_punkt`` is False:
    then unchanged books give byte-identical shards and are reused. A damaged
    manifest is logged and the corpus rebuilt.
    """
    if manifest_version(out) is None:
        return None, None
    try:
        old = read_json(out / MANIFEST, "manifest")
    except CorpusError as exc:  # our folder, damaged: rebuild it rather than give up
        logger.warning("%s; rebuilding the corpus from scratch", exc)
        return None, None
    sources = old.get("sources")
    old["sources"] = [decode_source(s) for s in sources if isinstance(s, dict)] if isinstance(sources, list) else []
    reuse = old.get("settings") == settings.to_dict() and (out / PUNKT).exists() and not retrain_punkt
    if not reuse:
        return old, None
    try:
        punkt = read_json(out / PUNKT, "Punkt model")
    except CorpusError as exc:
        logger.warning("%s; training a new one", exc)
        return old, None
    if punkt_digest(punkt) != old.get("punkt_sha256"):
        return old, None
    return old, punkt


def _train_sentence_model(books: list[str], settings: TokenizerSettings, report: ProgressFn) -> dict:
    """A Punkt model trained on a sample of the books, as the dict ``punkt.json`` holds."""
    report("punkt", 0, 1)
    punkt = punkt_to_dict(train_punkt(_punkt_sample(books, settings)))
    report("punkt", 1, 1)
    return punkt


def _punkt_sample(books: list[str], settings: TokenizerSettings) -> Iterator[str]:
    """About ``punkt_sample_chars`` of text spread evenly over the books.

    From each picked book, one paragraph-aligned window from the middle of the
    text (front matter such as cast lists and tables of contents is not typical
    prose).
    """
    budget = settings.punkt_sample_chars
    per_book = max(5_000, budget // max(1, len(books)))
    n_pick = max(1, min(len(books), budget // per_book))
    step = len(books) / n_pick
    picked = [books[int(i * step)] for i in range(n_pick)]
    for source in picked:
        try:
            with local_copy(source) as local:
                _, chunks = read_book(local, strip_gutenberg=settings.strip_gutenberg, chunk_chars=per_book)
                pieces = list(chunks)
        except UnreadableBookError:
            continue  # reported when the book itself is tokenized
        if pieces:
            yield pieces[len(pieces) // 2][:per_book * 2]


def _tokenize_books(books: list[str], old_shards: Path, shard_dir: Path, old: dict | None, punkt: dict,
                    settings: TokenizerSettings, get_executor: Callable[[], Executor],
                    report: ProgressFn) -> list[SourceRecord]:
    """Tokenize what changed into ``shard_dir``, link the rest from ``old_shards``; one record a book, in order."""
    records, todo = plan_books(books, old_shards, old)
    for r in records:
        if r is not None and r.action == "reused":
            _link_shard(shard_file(old_shards, r.sha256), shard_file(shard_dir, r.sha256))
    report("tokenize", 0, len(todo))
    if todo:
        write_shards(todo, records, shard_dir, punkt, settings, get_executor(),
                     lambda done: report("tokenize", done, len(todo)))
    sources: list[SourceRecord] = [r for r in records if r is not None]
    if len(sources) != len(books):  # pragma: no cover - would be an executor bug
        raise CorpusError(f"{len(books) - len(sources)} book(s) came back from no worker; run ingest again")
    return sources


def _link_shard(old: Path, new: Path) -> None:
    """Reuse a shard of the previous corpus: a hard link (free), or a copy where links are not allowed."""
    if new.exists():  # the same book twice
        return
    try:
        os.link(old, new)
    except OSError:
        shutil.copyfile(old, new)


def _readable_books(sources: list[SourceRecord]) -> list[SourceRecord]:
    """The books that were read; log every warning and skipped book.

    Raises
    ------
    NoBooksError
        No book at all could be read.
    """
    ok = [s for s in sources if s.status == "ok"]
    for s in sources:
        for w in s.warnings:
            logger.warning(w)
        if s.status != "ok":
            logger.warning(s.reason)
    if not ok:
        reasons = "; ".join(s.reason or s.path for s in sources[:5])
        raise NoBooksError(f"none of the {len(sources)} book(s) could be read: {reasons}")
    return ok


def _corpus_text(out: Path, shards: list[Path], phrases: PhraseSettings | None,
                 get_executor: Callable[[], Executor], report: ProgressFn) -> tuple[dict | None, Iterable[bytes]]:
    """The manifest's phrase record (None when off) and the corpus text in blocks of whole lines.

    With phrases on, the phrase model is trained over the shards, saved as
    ``phrases.json`` and applied on the workers; with them off, the shards are the
    text and a ``phrases.json`` of an earlier run is removed.
    """
    if phrases is None:
        if (out / PHRASES).exists():
            (out / PHRASES).unlink()
        return None, shard_blocks(shards)
    report("phrases", 0, 1)
    frozen = train_phrases(shards, phrases)
    write_json(out / PHRASES, phrases_file(frozen, phrases))
    report("phrases", 1, 1)
    return phrases_record(frozen, phrases), apply_phrases(shards, frozen, get_executor())


class _ExecutorStarter:
    """The executor of one ingest, started on demand or ahead of time.

    A Dask cluster takes seconds to start (and to connect to and check), so a
    fresh ingest starts it in a background thread while this thread trains the
    Punkt model; :meth:`get` waits for it. Local executors start instantly.
    """

    def __init__(self, scheduler, jobs: int | None):
        self.scheduler, self.jobs = scheduler, jobs
        self._executor: Executor | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _make(self) -> Executor:
        if self.scheduler is None:
            executor: Executor = LocalExecutor(default_jobs() if self.jobs is None else self.jobs)
        else:
            from ._dask import DaskExecutor

            executor = DaskExecutor(self.scheduler, self.jobs)
        logger.info("tokenizing on %s", executor.describe())
        return executor

    def _run(self) -> None:
        try:
            self._executor = self._make()
        except BaseException as exc:  # noqa: BLE001 - re-raised by get()
            self._error = exc

    def start_ahead(self) -> None:
        if self.scheduler is not None and self._thread is None and self._executor is None:
            self._thread = threading.Thread(target=self._run, name="wordstack-executor-start", daemon=True)
            self._thread.start()

    def get(self) -> Executor:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            if self._error is not None:
                error, self._error = self._error, None
                raise error
        if self._executor is None:
            self._executor = self._make()
        return self._executor

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._executor is not None:
            self._executor.close()
            self._executor = None
