"""Shards: which books to tokenize, the work units and worker functions, and the shard writer.

Every book of a corpus is tokenized into its own shard, ``shards/<sha256>.txt``
(one sentence a line), so that a later ingest reuses unchanged books and only
tokenizes new or changed ones (:func:`plan_books`).

How the work is spread
----------------------
A book is one :class:`BookPart`, or, when very large, several parts of about
:data:`PART_CHARS` characters (:func:`plan_parts`); small books are packed into
one task (:func:`plan_tasks`, :data:`TASK_CHARS`). An *executor*
(:mod:`corpus_tools._executor`: local processes, or a Dask cluster with
:mod:`corpus_tools._dask`) runs :func:`tokenize_parts` on the workers with the
Punkt splitter and the settings shipped once per worker (:func:`tokenizer_spec`).
The worker returns the tokenized text and this process writes the shard
(:class:`ShardWriter`), so the workers need no access to the corpus folder. At most
a couple of tasks per worker are out at a time: memory stays flat however many
books there are, and the output is the same bytes whatever the executor.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ._corpus_dir import SourceRecord, shard_file
from ._executor import Executor, ModelSpec
from ._punkt import SentenceSplitter, punkt_from_dict
from ._remote import local_copy, relabel, source_sha256, source_stat
from ._sources import _CHUNK_CHARS, UnreadableBookError, read_book
from ._tokenize import TokenizerSettings, tokenize_text
from .atomic import atomic_path

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
# Decoded characters per byte on disk, to estimate a book's size before reading it.
_INFLATION = {".gz": 3, ".bz2": 4, ".xz": 4, ".epub": 3}

#: A book to tokenize: (its position in the ingest, source, size, mtime_ns).
Todo = tuple[int, str, int, int]


# ----------------------------------------------------------------------------- which books


def plan_books(books: list[str], shard_dir: Path, old: dict | None) -> tuple[list[SourceRecord | None], list[Todo]]:
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
    todo: list[Todo] = []
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
        if sha is not None and prev is not None and prev["sha256"] == sha and shard_file(shard_dir, sha).exists():
            records.append(SourceRecord(**{**prev, "path": source, "size": size, "mtime_ns": mtime_ns,
                                           "action": "reused"}))
        else:
            records.append(None)
            todo.append((i, source, size, mtime_ns))
    return records, todo


# ----------------------------------------------------------------------------- work units


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


# ----------------------------------------------------------------------------- on the workers


class _Tokenizer:
    """What a worker tokenizes with: the Punkt splitter and the settings."""

    def __init__(self, payload: dict):
        self.splitter = SentenceSplitter(punkt_from_dict(payload["punkt"]))
        self.settings = TokenizerSettings.from_dict(payload["settings"])


def tokenizer_spec(punkt: dict, settings: TokenizerSettings) -> ModelSpec:
    """The tokenizer as a model the executor ships to each worker once (see :data:`ModelSpec`)."""
    payload = {"punkt": punkt, "settings": settings.to_dict()}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return (_Tokenizer, digest, payload)


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


# ----------------------------------------------------------------------------- back here: the shards


def merge_parts(source: str, size: int, mtime_ns: int, results: list[dict]) -> SourceRecord:
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


class ShardWriter:
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
            shard = shard_file(self.dir, record.sha256)
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


def write_shards(todo: list[Todo], records: list[SourceRecord | None], shard_dir: Path, punkt: dict,
                 settings: TokenizerSettings, executor: Executor,
                 progress: Callable[[int], None]) -> None:
    """Tokenize the books of ``todo`` on ``executor`` into their shards; fill in their ``records``.

    The workers send the text back and this process writes the shards.
    ``progress(done)`` is called after each book.
    """
    parts = [p for i, source, size, _ in todo for p in plan_parts(i, source, size, compress=executor.compress)]
    tasks = plan_tasks(parts, executor.slots())
    stats = {i: (size, mtime_ns) for i, _, size, mtime_ns in todo}
    writer = ShardWriter(shard_dir)
    done = 0
    for index, results in executor.map(tokenize_parts, tasks, tokenizer_spec(punkt, settings), n_items=len(tasks)):
        for part, result in zip(tasks[index], results):
            facts = writer.add(part, result)
            if facts is None:
                continue
            record = merge_parts(part.source, *stats[part.book], facts)
            writer.finish(part, record)
            records[part.book] = record
            done += 1
            progress(done)


def drop_stale_shards(shard_dir: Path, ok: list[SourceRecord]) -> None:
    """Remove shards of books that are gone (and parts left by an interrupted run)."""
    keep = {shard_file(shard_dir, s.sha256).name for s in ok}
    for f in shard_dir.iterdir():
        if f.name not in keep:
            f.unlink()


def shard_blocks(shards: list[Path]) -> Iterator[bytes]:
    """The shards' bytes, in order, in blocks of about 1 MB."""
    for shard in shards:
        with open(shard, "rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")


__all__ = ["BookPart", "PART_CHARS", "ShardWriter", "TASK_CHARS", "TASKS_PER_SLOT", "drop_stale_shards",
           "merge_parts", "plan_books", "plan_parts", "plan_tasks", "shard_blocks", "tokenize_part",
           "tokenize_parts", "tokenizer_spec", "write_shards"]
