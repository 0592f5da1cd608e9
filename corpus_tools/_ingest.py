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

How the work is spread
----------------------
:func:`ingest` plans (finds the books, trains or reuses the Punkt model, decides
which books are unchanged), then hands the per-book work to an *executor*
(:mod:`corpus_tools._executor`): ``jobs`` local processes by default, or a Dask
cluster with ``scheduler=`` (:mod:`corpus_tools._dask`). One task tokenizes one
book (small books packed together, see :data:`TASK_CHARS`), or one part of
about :data:`PART_CHARS` characters of a very large book; the worker returns the tokenized text and this process writes the shard, so the
workers need no access to the corpus folder. With phrases on, the phrase model is
trained here over the shards and shipped to the workers, which apply it block by
block; the results are written to ``sentences.txt`` in book order. At most a
couple of tasks per worker are out at a time: memory stays flat however many
books there are, and the output is the same bytes whatever the executor.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .atomic import atomic_path, write_json
from ._errors import CorpusError, NoBooksError
from ._executor import Executor, LocalExecutor, ModelSpec, default_jobs
from ._remote import find_sources, local_copy, relabel, source_sha256, source_stat
from ._sources import _CHUNK_CHARS, UnreadableBookError, read_book
from ._punkt import SentenceSplitter, punkt_digest, punkt_from_dict, punkt_to_dict, train_punkt
from ._tokenize import TokenizerSettings, tokenize_text

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


# ----------------------------------------------------------------------------- work units

#: A book whose text is estimated above this many characters is split into parts of
#: about this size, tokenized by separate tasks (its chunks are independent; see
#: :func:`tokenize_part`). Each part reads the book from its start (hashing and
#: decoding, about 1/100 of the cost of tokenizing the same text), so parts stay large.
PART_CHARS = 64 << 20
#: Small books are packed into one task up to this many (estimated) characters, and
#: fewer when that would leave a worker thread with under :data:`TASKS_PER_SLOT`
#: tasks: a Dask task costs some 10-30 ms of scheduling and transfer, as much as
#: tokenizing a 30 kB book, while a task of a few hundred kB keeps that under 5%.
TASK_CHARS = 4 << 20
TASKS_PER_SLOT = 16
#: Bytes of tokenized text per phrase-application task.
PHRASE_BLOCK_BYTES = 4 << 20
# Decoded characters per byte on disk, to estimate a book's size before reading it.
_INFLATION = {".gz": 3, ".bz2": 4, ".xz": 4, ".epub": 3}


@dataclass(frozen=True)
class BookPart:
    """A book, or chunks ``[first_chunk, stop_chunk)`` of a very large one.

    Chunks are :func:`corpus_tools.read_book`'s paragraph-aligned pieces of about
    1 MB; ``stop_chunk`` None means "to the end of the book". A book tokenized in
    several parts gives exactly the text of one task over the whole book.
    """

    book: int  # the book's position in the ingest
    source: str
    part: int = 0
    parts: int = 1
    first_chunk: int = 0
    stop_chunk: int | None = None
    compress: bool = False
    chars: int = 0  # estimated characters of text (for packing tasks)


def plan_parts(book: int, source: str, size: int, *, compress: bool = False) -> list[BookPart]:
    """Split one book into parts of about :data:`PART_CHARS` characters (usually one part)."""
    suffix = "." + source.rsplit(".", 1)[-1].lower() if "." in source.rsplit("/", 1)[-1] else ""
    estimate = size * _INFLATION.get(suffix, 1)
    n = max(1, -(-estimate // PART_CHARS))
    if n == 1:
        return [BookPart(book, source, compress=compress, chars=estimate)]
    per = max(1, PART_CHARS // _CHUNK_CHARS)
    return [
        BookPart(book, source, k, n, k * per, None if k == n - 1 else (k + 1) * per, compress,
                 chars=min(PART_CHARS, estimate - k * PART_CHARS))
        for k in range(n)
    ]


def plan_tasks(parts: list[BookPart], slots: int) -> list[list[BookPart]]:
    """Pack consecutive book parts into tasks (see :data:`TASK_CHARS`); order is kept."""
    total = sum(p.chars for p in parts)
    target = max(1, min(TASK_CHARS, total // (TASKS_PER_SLOT * max(1, slots))))
    tasks: list[list[BookPart]] = []
    size = 0
    for part in parts:
        if tasks and size + part.chars <= target:
            tasks[-1].append(part)
            size += part.chars
        else:
            tasks.append([part])
            size = part.chars
    return tasks


class _Tokenizer:
    """What a worker tokenizes with: the Punkt splitter and the settings."""

    def __init__(self, payload: dict):
        self.splitter = SentenceSplitter(punkt_from_dict(payload["punkt"]))
        self.settings = TokenizerSettings.from_dict(payload["settings"])


def _tokenizer_spec(punkt: dict, settings: TokenizerSettings) -> ModelSpec:
    payload = {"punkt": punkt, "settings": settings.to_dict()}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return (_Tokenizer, digest, payload)


def _load_phrases(payload: bytes):
    return pickle.loads(payload)


def tokenize_part(part: BookPart, tokenizer: _Tokenizer) -> dict:
    """Tokenize one part of a book (runs on a worker). Returns the part's facts and text.

    Returns
    -------
    dict
        ``status`` ``"ok"`` with ``sha256``, ``encoding``, ``gutenberg_stripped``,
        ``warnings``, ``sentences``, ``tokens`` and ``data`` (the tokenized text as
        UTF-8 bytes, zlib-compressed when ``part.compress``); or ``status``
        ``"skipped"`` with the ``reason`` (the book cannot be read). Only the last
        part of a book reads it to the end, so its facts are the book's.
    """
    splitter, settings = tokenizer.splitter, tokenizer.settings
    pieces: list[bytes] = []
    n_sent = n_tok = 0
    local = part.source
    try:
        with local_copy(part.source) as local:
            info, chunks = read_book(local, strip_gutenberg=settings.strip_gutenberg)
            for k, chunk in enumerate(chunks):
                if k < part.first_chunk:
                    continue
                if part.stop_chunk is not None and k >= part.stop_chunk:
                    break
                lines = []
                for words in tokenize_text(chunk, splitter, settings):
                    lines.append(" ".join(words))
                    n_tok += len(words)
                if lines:
                    n_sent += len(lines)
                    lines.append("")
                    pieces.append("\n".join(lines).encode("utf-8"))
    except UnreadableBookError as exc:
        return {"status": "skipped", "reason": relabel(str(exc), local, part.source)}
    data = b"".join(pieces)
    return {
        "status": "ok",
        "sha256": info.sha256,
        "encoding": info.encoding,
        "gutenberg_stripped": info.gutenberg_stripped,
        "warnings": [relabel(w, local, part.source) for w in info.warnings],
        "sentences": n_sent,
        "tokens": n_tok,
        "data": zlib.compress(data, 1) if part.compress else data,
    }


def tokenize_parts(parts: list[BookPart], tokenizer: _Tokenizer) -> list[dict]:
    """One task: :func:`tokenize_part` for each of ``parts``."""
    return [tokenize_part(part, tokenizer) for part in parts]


def phrase_block(item: tuple[bytes, bool], frozen) -> bytes:
    """Join the detected phrases in a block of tokenized lines (runs on a worker)."""
    data, compressed = item
    if compressed:
        data = zlib.decompress(data)
    lines = data.decode("utf-8").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    out = "".join(" ".join(frozen[line.split()]) + "\n" for line in lines).encode("utf-8")
    return zlib.compress(out, 1) if compressed else out


def _merge_parts(source: str, size: int, mtime_ns: int, results: list[dict]) -> SourceRecord:
    """One book's record from its parts' facts (in part order)."""
    base = {"path": source, "size": size, "mtime_ns": mtime_ns}
    for r in results:
        if r["status"] != "ok":
            return SourceRecord(**base, sha256=None, status="skipped", reason=r["reason"], action="skipped")
    if len({r["sha256"] for r in results}) > 1:
        return SourceRecord(**base, sha256=None, status="skipped", action="skipped",
                            reason=f"{source}: changed while it was being read; skipped (run ingest again)")
    n_sent = sum(r["sentences"] for r in results)
    n_tok = sum(r["tokens"] for r in results)
    if n_tok == 0:
        reason = f"{source}: no words found" + (" (empty file)" if size == 0 else "") + "; skipped"
        return SourceRecord(**base, sha256=None, status="skipped", reason=reason, action="skipped")
    last = results[-1]
    return SourceRecord(**base, sha256=last["sha256"], status="ok", encoding=last["encoding"],
                        gutenberg_stripped=last["gutenberg_stripped"], sentences=n_sent, tokens=n_tok,
                        warnings=list(last["warnings"]), action="tokenized")


class _ShardWriter:
    """Writes the parts that come back from the workers into shard files, in any order.

    Each part goes to a hidden temporary file in ``shards/`` at once (the client
    holds no more than one result); when a book's last part arrives, its record is
    merged and its parts become ``shards/<sha256>.txt`` (renamed, or concatenated
    in part order). Leftovers of an interrupted run are removed by the next one.
    """

    def __init__(self, shard_dir: Path):
        self.dir = shard_dir
        self.tag = os.urandom(4).hex()
        self.facts: dict[int, dict[int, dict]] = {}

    def _part_file(self, part: BookPart) -> Path:
        return self.dir / f".part-{self.tag}-{part.book}-{part.part}.tmp"

    def add(self, part: BookPart, result: dict) -> list[dict] | None:
        """Store one part; return the book's parts' facts (in order) once all have arrived."""
        result = dict(result)
        data = result.pop("data", None)
        if data is not None and result["status"] == "ok":
            with open(self._part_file(part), "wb") as fh:
                fh.write(zlib.decompress(data) if part.compress else data)
        got = self.facts.setdefault(part.book, {})
        got[part.part] = result
        if len(got) < part.parts:
            return None
        del self.facts[part.book]
        return [got[k] for k in range(part.parts)]

    def finish(self, part: BookPart, record: SourceRecord) -> None:
        """Turn a complete book's parts into its shard (or drop them if it was skipped)."""
        files = [self._part_file(BookPart(part.book, part.source, k, part.parts)) for k in range(part.parts)]
        if record.status == "ok":
            shard = self.dir / f"{record.sha256}.txt"
            if len(files) == 1:
                os.replace(files[0], shard)
            else:
                with atomic_path(shard) as tmp, open(tmp, "wb") as out:
                    for f in files:
                        with open(f, "rb") as fh:
                            shutil.copyfileobj(fh, out, 1 << 20)
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


# ----------------------------------------------------------------------------- helpers


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


def _read_json(path: Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path} is not valid JSON ({exc}); the {what} is corrupt: re-run `wordstack ingest`") from exc


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


def _shard_blocks(shards: list[Path]) -> Iterator[bytes]:
    for shard in shards:
        with open(shard, "rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")


def _line_blocks(shards: list[Path], compress: bool) -> Iterator[tuple[bytes, bool]]:
    """The shards' text in blocks of about PHRASE_BLOCK_BYTES that end at line ends."""
    for shard in shards:
        with open(shard, "rb") as fh:
            while block := fh.read(PHRASE_BLOCK_BYTES):
                if not block.endswith(b"\n"):
                    block += fh.readline()
                yield (zlib.compress(block, 1) if compress else block), compress


def _write_sentences(target: Path, blocks: Iterable[bytes]) -> tuple[str, int, int]:
    """Write the corpus text, given in blocks of whole lines, to ``target`` atomically.

    Returns (sha256, sentences, tokens); lines hold single-space-separated tokens.
    """
    h = hashlib.sha256()
    n_sent = n_tok = 0
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as out:
            for block in blocks:
                h.update(block)
                out.write(block)
                lines = block.count(b"\n")
                n_sent += lines
                n_tok += block.count(b" ") + lines
    return h.hexdigest(), n_sent, n_tok


def _manifest_digest_input(manifest: dict) -> dict:
    m = json.loads(json.dumps(manifest))
    m.pop("created", None)
    m.pop("seconds", None)
    for s in m.get("sources", []):
        s.pop("action", None)
    return m


def _plan(books: list[str], shard_dir: Path, old: dict | None):
    """Which books are unchanged (their shard is reused) and which must be tokenized.

    A book is unchanged when its path, size and modification time match the old
    manifest, or its bytes do (a moved or touched book). Bytes are hashed only
    when the size matches some old book, so a first ingest reads nothing here.

    Returns
    -------
    records : list of SourceRecord or None
        One per book; None for a book to tokenize.
    todo : list of (index, source, size, mtime_ns)
    """
    old_ok = [s for s in (old or {}).get("sources", []) if s.get("status") == "ok"]
    old_by_path = {s["path"]: s for s in old_ok}
    old_by_sha = {s["sha256"]: s for s in old_ok}
    old_sizes = {s["size"] for s in old_ok}
    records: list[SourceRecord | None] = []
    todo: list[tuple[int, str, int, int]] = []
    for i, source in enumerate(books):
        try:
            size, mtime_ns = source_stat(source)
        except OSError as exc:
            records.append(SourceRecord(source, 0, 0, None, "skipped", f"{source}: cannot open ({exc}); skipped",
                                        action="skipped"))
            continue
        prev = old_by_path.get(source)
        sha = None
        if prev and prev["size"] == size and prev["mtime_ns"] == mtime_ns and mtime_ns:
            sha = prev["sha256"]
        elif size in old_sizes:
            try:
                sha = source_sha256(source)
            except (OSError, UnreadableBookError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                records.append(SourceRecord(source, size, mtime_ns, None, "skipped",
                                            f"{source}: cannot read ({reason}); skipped", action="skipped"))
                continue
            prev = old_by_sha.get(sha)
        if sha is not None and prev is not None and prev["sha256"] == sha and (shard_dir / f"{sha}.txt").exists():
            records.append(SourceRecord(**{**prev, "path": source, "size": size, "mtime_ns": mtime_ns,
                                           "action": "reused"}))
        else:
            records.append(None)
            todo.append((i, source, size, mtime_ns))
    return records, todo


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


# ----------------------------------------------------------------------------- ingest


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
    CorpusError
        ``out`` exists but is not a corpus directory.
    MissingDependencyError
        ``scheduler`` is given but dask[distributed] is not installed.

    Notes
    -----
    The output depends only on the books' contents, their order and the
    settings: two runs on the same books write byte-identical ``sentences.txt``
    whatever ``jobs`` or ``scheduler`` is. Unreadable books (binary, corrupt
    archives) are skipped and reported in the manifest; the rest are ingested.
    """
    t0 = time.perf_counter()
    settings = settings or TokenizerSettings()
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if scheduler is not None:
        from ._dask import check_scheduler, import_distributed

        check_scheduler(scheduler, jobs)
        import_distributed()
    report = progress or (lambda stage, done, total: None)
    books = find_sources(paths)
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
    executors = _ExecutorStarter(scheduler, jobs)
    get_executor = executors.get
    try:
        if not reuse:
            executors.start_ahead()  # every book will be tokenized: start the cluster meanwhile
            report("punkt", 0, 1)
            punkt = punkt_to_dict(train_punkt(_punkt_sample(books, settings)))
            report("punkt", 1, 1)
            shutil.rmtree(shard_dir, ignore_errors=True)
            old = None
        shard_dir.mkdir(exist_ok=True)
        punkt_sha = punkt_digest(punkt)
        write_json(out / PUNKT, punkt)

        records, todo = _plan(books, shard_dir, old)

        # Tokenize what changed; the workers send the text back, this process writes the shards.
        report("tokenize", 0, len(todo))
        if todo:
            ex = get_executor()
            parts = [p for i, source, size, _ in todo for p in plan_parts(i, source, size, compress=ex.compress)]
            tasks = plan_tasks(parts, ex.slots())
            stats = {i: (size, mtime_ns) for i, _, size, mtime_ns in todo}
            writer = _ShardWriter(shard_dir)
            done = 0
            for index, results in ex.map(tokenize_parts, tasks, _tokenizer_spec(punkt, settings),
                                         n_items=len(tasks)):
                for part, result in zip(tasks[index], results):
                    facts = writer.add(part, result)
                    if facts is None:
                        continue
                    record = _merge_parts(part.source, *stats[part.book], facts)
                    writer.finish(part, record)
                    records[part.book] = record
                    done += 1
                    report("tokenize", done, len(todo))

        sources: list[SourceRecord] = [r for r in records if r is not None]
        if len(sources) != len(books):  # pragma: no cover - would be an executor bug
            raise CorpusError(f"{len(books) - len(sources)} book(s) came back from no worker; run ingest again")
        ok = [s for s in sources if s.status == "ok"]
        for s in sources:
            for w in s.warnings:
                logger.warning(w)
            if s.status != "ok":
                logger.warning(s.reason)
        if not ok:
            reasons = "; ".join(s.reason or s.path for s in sources[:5])
            raise NoBooksError(f"none of the {len(sources)} book(s) could be read: {reasons}")

        # Drop shards of books that are gone (and parts left by an interrupted run).
        keep = {f"{s.sha256}.txt" for s in ok}
        for f in shard_dir.iterdir():
            if f.name not in keep:
                f.unlink()

        shards = [shard_dir / f"{s.sha256}.txt" for s in ok]
        phrase_record = None
        if phrases is not None:
            report("phrases", 0, 1)
            frozen = _train_phrases(shards, phrases)
            phrase_record = {**asdict(phrases), "count": len(frozen.phrasegrams)}
            write_json(out / PHRASES, {"settings": asdict(phrases),
                                       "phrases": {k: float(v) for k, v in sorted(frozen.phrasegrams.items())}})
            report("phrases", 1, 1)
            # The phrase model is trained once, here, and shipped to the workers that apply it.
            payload = pickle.dumps(frozen, protocol=pickle.HIGHEST_PROTOCOL)
            ex = get_executor()
            phrased = ex.map(phrase_block, _line_blocks(shards, ex.compress),
                             (_load_phrases, hashlib.sha256(payload).hexdigest(), payload),
                             n_items=len(shards), ordered=True)
            blocks: Iterable[bytes] = (zlib.decompress(b) if ex.compress else b for _, b in phrased)
        else:
            if (out / PHRASES).exists():
                (out / PHRASES).unlink()
            blocks = _shard_blocks(shards)

        report("write", 0, 1)
        sent_sha, n_sent, n_tok = _write_sentences(out / SENTENCES, blocks)
        report("write", 1, 1)
    finally:
        executors.close()

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
