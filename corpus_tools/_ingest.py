"""Ingest: books -> a corpus directory that gensim's ``corpus_file`` mode reads at full speed.

A corpus directory holds

``sentences.txt``
    One sentence a line, tokens separated by single spaces, books in the order
    given (folders expanded in sorted order).
``manifest.json``
    Per source: path, size, modification time, SHA-256, encoding, sentence and
    token counts, status (``ok`` or ``skipped`` with the reason); the tokenizer
    settings; the Punkt and phrase models' digests; totals; the SHA-256 of
    ``sentences.txt``.
``punkt.json``
    The Punkt sentence model trained on the corpus (plain JSON, no pickle).
``phrases.json``
    When phrase detection is on: the detected phrases and their scores.
``shards/``
    One tokenized file per book, named by the book's SHA-256. Re-running ingest
    on the same directory re-tokenizes only new or changed books and reuses the
    rest; the Punkt model of the first run is kept so that unchanged books stay
    byte-identical (pass ``retrain_punkt=True`` to start over).

Tokenization runs in ``jobs`` worker processes, one book at a time each, writing
straight to its shard: memory stays flat however many books there are.
"""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ._atomic import atomic_path, write_json
from ._errors import CorpusError, NoBooksError
from ._sources import UnreadableBookError, file_sha256, find_books, read_book
from ._tokenize import (
    SentenceSplitter,
    TokenizerSettings,
    punkt_digest,
    punkt_from_dict,
    punkt_to_dict,
    tokenize_text,
    train_punkt,
)

logger = logging.getLogger(__name__)

CORPUS_FORMAT = "wordstack-corpus/1"
SENTENCES = "sentences.txt"
MANIFEST = "manifest.json"
PUNKT = "punkt.json"
PHRASES = "phrases.json"
SHARDS = "shards"

#: progress(stage, done, total): stages are "punkt", "tokenize", "phrases", "write".
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PhraseSettings:
    """Phrase detection with gensim ``Phrases`` ("expecto patronum" -> "expecto_patronum").

    Parameters
    ----------
    min_count : int, default 5
        Ignore word pairs seen fewer times.
    threshold : float, default 10.0
        Score a pair must exceed (gensim's default scoring); higher means fewer phrases.
    connector_words : bool, default True
        Let common English connectors sit inside phrases ("duke_of_york"), using
        gensim's ``ENGLISH_CONNECTOR_WORDS``.
    """

    min_count: int = 5
    threshold: float = 10.0
    connector_words: bool = True

    def __post_init__(self):
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ValueError(f"phrase min_count must be an integer >= 1, got {self.min_count!r}")
        if not self.threshold > 0:
            raise ValueError(f"phrase threshold must be > 0, got {self.threshold!r}")


@dataclass
class SourceRecord:
    """One book's entry in the manifest."""

    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    status: str  # "ok" or "skipped"
    reason: str | None = None
    encoding: str | None = None
    gutenberg_stripped: bool = False
    sentences: int = 0
    tokens: int = 0
    warnings: list[str] = field(default_factory=list)
    action: str = "tokenized"  # "tokenized", "reused" or "skipped" (this run; not part of the digest)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Corpus:
    """A corpus directory, as written by :func:`ingest` or read by :func:`load_corpus`.

    Attributes
    ----------
    path : Path
        The corpus directory.
    sources : list of SourceRecord
        Every book considered, skipped ones included.
    settings : TokenizerSettings
    sentences : int
        Sentences (lines) in ``sentences.txt``.
    tokens : int
        Tokens in ``sentences.txt``.
    sentences_sha256 : str
        SHA-256 of ``sentences.txt``.
    manifest_sha256 : str
        SHA-256 of ``manifest.json`` as written.
    phrases : int or None
        Number of phrases detected, or None when phrase detection was off.
    """

    path: Path
    sources: list[SourceRecord]
    settings: TokenizerSettings
    sentences: int
    tokens: int
    sentences_sha256: str
    manifest_sha256: str
    phrases: int | None = None
    seconds: float = 0.0

    @property
    def sentences_file(self) -> Path:
        return self.path / SENTENCES

    @property
    def skipped(self) -> list[SourceRecord]:
        return [s for s in self.sources if s.status != "ok"]

    @property
    def warnings(self) -> list[str]:
        out: list[str] = []
        for s in self.sources:
            out.extend(s.warnings)
            if s.status != "ok" and s.reason:
                out.append(s.reason)
        return out

    def count(self, action: str) -> int:
        """How many sources this run ``"tokenized"``, ``"reused"`` or ``"skipped"``."""
        return sum(1 for s in self.sources if s.action == action)


# ----------------------------------------------------------------------------- workers

_WORKER: dict = {}


def _init_worker(punkt: dict, settings: dict) -> None:
    _WORKER["splitter"] = SentenceSplitter(punkt_from_dict(punkt))
    _WORKER["settings"] = TokenizerSettings.from_dict(settings)


def tokenize_book(path: str, shard: str, splitter: SentenceSplitter, settings: TokenizerSettings) -> dict:
    """Tokenize one book into ``shard`` (atomically). Returns the facts for its record.

    A book that cannot be read, or has no words, comes back with ``status`` set
    to ``"skipped"`` and a ``reason``; nothing is written for it.
    """
    st = os.stat(path)
    facts = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    n_sent = n_tok = 0
    try:
        info, chunks = read_book(path, strip_gutenberg=settings.strip_gutenberg)
        with atomic_path(shard) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="\n") as out:
                for chunk in chunks:
                    for words in tokenize_text(chunk, splitter, settings):
                        out.write(" ".join(words))
                        out.write("\n")
                        n_sent += 1
                        n_tok += len(words)
            if n_tok == 0:
                raise UnreadableBookError(
                    f"{path}: no words found" + (" (empty file)" if st.st_size == 0 else "") + "; skipped"
                )
    except UnreadableBookError as exc:
        return {**facts, "status": "skipped", "reason": str(exc), "sha256": None, "warnings": []}
    return {
        **facts,
        "status": "ok",
        "sha256": info.sha256,
        "encoding": info.encoding,
        "gutenberg_stripped": info.gutenberg_stripped,
        "sentences": n_sent,
        "tokens": n_tok,
        "warnings": info.warnings,
    }


def _worker_tokenize(task: tuple[str, str]) -> dict:
    path, shard = task
    return tokenize_book(path, shard, _WORKER["splitter"], _WORKER["settings"])


def _pool_context():
    # fork starts workers in milliseconds with NLTK already imported; elsewhere spawn.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def default_jobs() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- helpers


def _punkt_sample(books: list[Path], settings: TokenizerSettings) -> Iterator[str]:
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
    for path in picked:
        try:
            _, chunks = read_book(path, strip_gutenberg=settings.strip_gutenberg, chunk_chars=per_book)
            pieces = list(chunks)
        except UnreadableBookError:
            continue  # reported when the book itself is tokenized
        if pieces:
            yield pieces[len(pieces) // 2][:per_book * 2]


def _read_json(path: Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path} is not valid JSON ({exc}); the {what} is corrupt: re-run `wordstack ingest`") from exc


def _sha_of(path: Path) -> str:
    return file_sha256(path)


def _train_phrases(shards: list[Path], ps: PhraseSettings):
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    class _Lines:
        def __iter__(self):
            for shard in shards:
                with open(shard, encoding="utf-8") as fh:
                    for line in fh:
                        yield line.split()

    model = Phrases(
        _Lines(),
        min_count=ps.min_count,
        threshold=ps.threshold,
        delimiter="_",
        connector_words=ENGLISH_CONNECTOR_WORDS if ps.connector_words else frozenset(),
    )
    return model.freeze()


def _write_sentences(target: Path, shards: list[Path], frozen_phrases=None) -> tuple[str, int, int]:
    """Concatenate shards (applying phrases) into ``target`` atomically; return (sha256, sentences, tokens)."""
    h = hashlib.sha256()
    n_sent = n_tok = 0
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as out:
            for shard in shards:
                if frozen_phrases is None:
                    with open(shard, "rb") as fh:
                        for block in iter(lambda: fh.read(1 << 20), b""):
                            h.update(block)
                            out.write(block)
                            n_sent += block.count(b"\n")
                            n_tok += block.count(b" ") + block.count(b"\n")
                else:
                    with open(shard, encoding="utf-8") as fh:
                        for line in fh:
                            words = frozen_phrases[line.split()]
                            data = (" ".join(words) + "\n").encode("utf-8")
                            h.update(data)
                            out.write(data)
                            n_sent += 1
                            n_tok += len(words)
    return h.hexdigest(), n_sent, n_tok


def _manifest_digest_input(manifest: dict) -> dict:
    m = json.loads(json.dumps(manifest))
    m.pop("created", None)
    m.pop("seconds", None)
    for s in m.get("sources", []):
        s.pop("action", None)
    return m


# ----------------------------------------------------------------------------- ingest


def ingest(
    paths: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    settings: TokenizerSettings | None = None,
    phrases: PhraseSettings | None = None,
    jobs: int | None = None,
    retrain_punkt: bool = False,
    progress: ProgressFn | None = None,
) -> Corpus:
    """Read and tokenize books into a corpus directory.

    Parameters
    ----------
    paths : iterable of str or path
        Book files, folders (searched recursively) or glob patterns.
    out : str or path
        The corpus directory; created if needed. When it already holds a corpus,
        unchanged books are reused and only new or changed ones are tokenized.
    settings : TokenizerSettings, optional
        Tokenizer settings (defaults: lowercase, joined apostrophes and hyphens,
        numbers kept). Changing them re-tokenizes every book.
    phrases : PhraseSettings, optional
        Detect phrases with gensim ``Phrases`` and join them with ``_``.
    jobs : int, optional
        Worker processes for tokenization (default: all cores; 1 runs in-process).
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
    CorpusError
        ``out`` exists but is not a corpus directory.

    Notes
    -----
    The output depends only on the books' contents, their order and the
    settings: two runs on the same books write byte-identical ``sentences.txt``
    whatever ``jobs`` is. Unreadable books (binary, corrupt archives) are skipped
    and reported in the manifest; the rest are ingested.
    """
    t0 = time.perf_counter()
    settings = settings or TokenizerSettings()
    jobs = default_jobs() if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    report = progress or (lambda stage, done, total: None)
    books = find_books(paths)
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise CorpusError(f"output {str(out)!r} is a file, not a folder; name a new or existing corpus folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise CorpusError(
            f"output folder {str(out)!r} is not empty and holds no {MANIFEST}: it is not a wordstack corpus; "
            "name a new folder (ingest will not write into unrelated files)"
        )
    out.mkdir(parents=True, exist_ok=True)
    shard_dir = out / SHARDS

    old = None
    if (out / MANIFEST).exists():
        try:
            old = _read_json(out / MANIFEST, "manifest")
        except CorpusError as exc:  # our folder, damaged: rebuild it rather than give up
            logger.warning("%s; rebuilding the corpus from scratch", exc)
    reuse = (
        old is not None
        and old.get("format") == CORPUS_FORMAT
        and old.get("settings") == settings.to_dict()
        and (out / PUNKT).exists()
        and not retrain_punkt
    )
    if reuse:
        punkt = _read_json(out / PUNKT, "Punkt model")
        if punkt_digest(punkt) != old.get("punkt_sha256"):
            reuse = False
    if not reuse:
        report("punkt", 0, 1)
        punkt = punkt_to_dict(train_punkt(_punkt_sample(books, settings)))
        report("punkt", 1, 1)
        shutil.rmtree(shard_dir, ignore_errors=True)
        old = None
    shard_dir.mkdir(exist_ok=True)
    punkt_sha = punkt_digest(punkt)
    write_json(out / PUNKT, punkt)

    # Plan: reuse a shard when the book is unchanged (same size and mtime, or same bytes).
    old_by_path = {s["path"]: s for s in (old or {}).get("sources", []) if s.get("status") == "ok"}
    old_by_sha = {s["sha256"]: s for s in old_by_path.values()}
    records: list[SourceRecord | None] = []
    tasks: list[tuple[int, str, str]] = []
    for i, book in enumerate(books):
        path = str(book)
        try:
            st = book.stat()
        except OSError as exc:
            records.append(SourceRecord(path, 0, 0, None, "skipped", f"{path}: cannot open ({exc}); skipped",
                                        action="skipped"))
            continue
        prev = old_by_path.get(path)
        if prev and prev["size"] == st.st_size and prev["mtime_ns"] == st.st_mtime_ns:
            sha = prev["sha256"]
        else:
            try:
                sha = _sha_of(book)
            except OSError as exc:
                records.append(SourceRecord(path, st.st_size, st.st_mtime_ns, None, "skipped",
                                            f"{path}: cannot read ({exc.strerror or exc}); skipped",
                                            action="skipped"))
                continue
            prev = old_by_sha.get(sha)
        shard = shard_dir / f"{sha}.txt"
        if prev is not None and prev["sha256"] == sha and shard.exists():
            rec = SourceRecord(**{**prev, "path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                                  "action": "reused"})
            records.append(rec)
        else:
            records.append(None)
            tasks.append((i, path, str(shard)))

    # Tokenize what changed, in worker processes, in book order.
    done = 0
    report("tokenize", 0, len(tasks))
    n_workers = min(jobs, len(tasks))
    task_args = [(path, shard) for _, path, shard in tasks]
    if n_workers <= 1:
        splitter = SentenceSplitter(punkt_from_dict(punkt))
        results: Iterable[dict] = (tokenize_book(p, s, splitter, settings) for p, s in task_args)
        pool = None
    else:
        pool = _pool_context().Pool(n_workers, initializer=_init_worker, initargs=(punkt, settings.to_dict()))
        results = pool.imap(_worker_tokenize, task_args, chunksize=1)
    try:
        for (i, path, shard), facts in zip(tasks, results):
            action = "tokenized" if facts["status"] == "ok" else "skipped"
            sha = facts.pop("sha256")
            records[i] = SourceRecord(path=path, sha256=sha, action=action, **facts)
            if facts["status"] == "ok" and Path(shard).name != f"{sha}.txt":  # file changed while planning
                os.replace(shard, shard_dir / f"{sha}.txt")
            done += 1
            report("tokenize", done, len(tasks))
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()

    sources: list[SourceRecord] = [r for r in records if r is not None]
    ok = [s for s in sources if s.status == "ok"]
    for s in sources:
        for w in s.warnings:
            logger.warning(w)
        if s.status != "ok":
            logger.warning(s.reason)
    if not ok:
        reasons = "; ".join(s.reason or s.path for s in sources[:5])
        raise NoBooksError(f"none of the {len(sources)} book(s) could be read: {reasons}")

    # Drop shards of books that are gone.
    keep = {f"{s.sha256}.txt" for s in ok}
    for f in shard_dir.iterdir():
        if f.name not in keep:
            f.unlink()

    shards = [shard_dir / f"{s.sha256}.txt" for s in ok]
    frozen = None
    phrase_record = None
    if phrases is not None:
        report("phrases", 0, 1)
        frozen = _train_phrases(shards, phrases)
        phrase_record = {**asdict(phrases), "count": len(frozen.phrasegrams)}
        write_json(out / PHRASES, {"settings": asdict(phrases),
                                   "phrases": {k: float(v) for k, v in sorted(frozen.phrasegrams.items())}})
        report("phrases", 1, 1)
    elif (out / PHRASES).exists():
        (out / PHRASES).unlink()

    report("write", 0, 1)
    sent_sha, n_sent, n_tok = _write_sentences(out / SENTENCES, shards, frozen)
    report("write", 1, 1)
    seconds = time.perf_counter() - t0
    manifest = {
        "format": CORPUS_FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings.to_dict(),
        "punkt_sha256": punkt_sha,
        "phrases": phrase_record,
        "sources": [s.to_dict() for s in sources],
        "totals": {
            "books": len(ok),
            "skipped": len(sources) - len(ok),
            "sentences": n_sent,
            "tokens": n_tok,
        },
        "sentences_sha256": sent_sha,
        "seconds": round(seconds, 3),
    }
    write_json(out / MANIFEST, manifest)
    return Corpus(
        path=out,
        sources=sources,
        settings=settings,
        sentences=n_sent,
        tokens=n_tok,
        sentences_sha256=sent_sha,
        manifest_sha256=manifest_digest(manifest),
        phrases=None if phrase_record is None else phrase_record["count"],
        seconds=seconds,
    )


def manifest_digest(manifest: dict) -> str:
    """SHA-256 identifying a corpus: its manifest without times and per-run actions."""
    canon = json.dumps(_manifest_digest_input(manifest), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def load_corpus(path: str | os.PathLike) -> Corpus:
    """Open an existing corpus directory and check that it is complete.

    Raises
    ------
    CorpusError
        The folder is missing, has no manifest or sentences, or they disagree.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        raise CorpusError(
            f"corpus folder {str(path)!r} does not exist; create it with `wordstack ingest BOOKS --out {path}`"
        )
    mpath = path / MANIFEST
    if not mpath.exists():
        raise CorpusError(
            f"{str(path)!r} is not a wordstack corpus: {MANIFEST} is missing; "
            f"create one with `wordstack ingest BOOKS --out {path}`"
        )
    m = _read_json(mpath, "manifest")
    for key in ("format", "settings", "sources", "totals", "sentences_sha256"):
        if key not in m:
            raise CorpusError(f"{mpath} lacks {key!r}; the manifest is corrupt: re-run `wordstack ingest`")
    if m["format"] != CORPUS_FORMAT:
        raise CorpusError(f"{mpath} has format {m['format']!r}; this wordstack reads {CORPUS_FORMAT!r}")
    spath = path / SENTENCES
    if not spath.exists():
        raise CorpusError(f"{spath} is missing; re-run `wordstack ingest` on the same books to rebuild it")
    sources = [SourceRecord(**{**s, "action": "reused"}) for s in m["sources"]]
    return Corpus(
        path=path,
        sources=sources,
        settings=TokenizerSettings.from_dict(m["settings"]),
        sentences=m["totals"]["sentences"],
        tokens=m["totals"]["tokens"],
        sentences_sha256=m["sentences_sha256"],
        manifest_sha256=manifest_digest(m),
        phrases=(m.get("phrases") or {}).get("count"),
        seconds=m.get("seconds", 0.0),
    )
