"""The corpus folder: its files, the manifest, and opening a corpus again.

A corpus directory holds

``sentences.txt``
    One sentence a line, tokens separated by single spaces, books in the order
    given (folders expanded in sorted order). The format gensim's ``corpus_file``
    mode reads at full speed on all cores.
``manifest.json``
    Per source: path, size, modification time, SHA-256, encoding, sentence and
    token counts, status (``ok`` or ``skipped`` with the reason); the tokenizer
    settings; the Punkt and phrase models' digests; totals; the SHA-256 of
    ``sentences.txt``.
``punkt.json``
    The Punkt sentence model trained on the corpus (plain JSON, no pickle; see
    :mod:`corpus_tools._punkt`).
``phrases.json``
    When phrase detection is on: the detected phrases and their scores (see
    :mod:`corpus_tools._phrases`).
``shards/``
    One tokenized file per book, ``<sha256>.txt`` named by the book's SHA-256
    (see :mod:`corpus_tools._shards`). Re-running ingest on the same directory
    re-tokenizes only new or changed books and reuses the rest; the Punkt model of
    the first run is kept so that unchanged books stay byte-identical (pass
    ``retrain_punkt=True`` to start over).

:func:`corpus_tools.ingest` (:mod:`corpus_tools._ingest`) writes the folder;
:func:`load_corpus` opens it again and checks that it is complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from ._errors import CorpusError
from ._tokenize import TokenizerSettings
from .atomic import atomic_path, write_json

CORPUS_FORMAT = "wordstack-corpus/1"
SENTENCES = "sentences.txt"
MANIFEST = "manifest.json"
PUNKT = "punkt.json"
PHRASES = "phrases.json"
SHARDS = "shards"


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


def shard_file(shard_dir: Path, sha256: str) -> Path:
    """The shard of the book with this SHA-256."""
    return shard_dir / f"{sha256}.txt"


# ----------------------------------------------------------------------------- writing


def prepare_corpus_dir(out: str | os.PathLike) -> Path:
    """Create ``out`` for a corpus, refusing a file or a folder of unrelated files.

    Raises
    ------
    CorpusError
        ``out`` is a file, or a non-empty folder without a manifest.
    """
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise CorpusError(f"output {str(out)!r} is a file, not a folder; name a new or existing corpus folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise CorpusError(
            f"output folder {str(out)!r} is not empty and holds no {MANIFEST}: it is not a wordstack corpus; "
            "name a new folder (ingest will not write into unrelated files)"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_sentences(target: Path, blocks: Iterable[bytes]) -> tuple[str, int, int]:
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


def write_manifest(out: Path, *, settings: TokenizerSettings, punkt_sha256: str, phrases: dict | None,
                   sources: list[SourceRecord], sentences_sha256: str, sentences: int, tokens: int,
                   seconds: float) -> Corpus:
    """Write ``manifest.json`` (atomically) and return the :class:`Corpus` it describes.

    ``phrases`` is the phrase settings with the number of phrases (``count``), or
    None when phrase detection was off.
    """
    ok = [s for s in sources if s.status == "ok"]
    manifest = {
        "format": CORPUS_FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings.to_dict(),
        "punkt_sha256": punkt_sha256,
        "phrases": phrases,
        "sources": [s.to_dict() for s in sources],
        "totals": {
            "books": len(ok),
            "skipped": len(sources) - len(ok),
            "sentences": sentences,
            "tokens": tokens,
        },
        "sentences_sha256": sentences_sha256,
        "seconds": round(seconds, 3),
    }
    write_json(out / MANIFEST, manifest)
    return Corpus(
        path=out,
        sources=sources,
        settings=settings,
        sentences=sentences,
        tokens=tokens,
        sentences_sha256=sentences_sha256,
        manifest_sha256=manifest_digest(manifest),
        phrases=None if phrases is None else phrases["count"],
        seconds=seconds,
    )


# ----------------------------------------------------------------------------- reading


def read_json(path: Path, what: str) -> dict:
    """One JSON file of the corpus folder; ``what`` names it in the error."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path} is not valid JSON ({exc}); the {what} is corrupt: re-run `wordstack ingest`") from exc


def manifest_digest(manifest: dict) -> str:
    """SHA-256 identifying a corpus: its manifest without times and per-run actions."""
    canon = json.dumps(_manifest_digest_input(manifest), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _manifest_digest_input(manifest: dict) -> dict:
    m = json.loads(json.dumps(manifest))
    m.pop("created", None)
    m.pop("seconds", None)
    for s in m.get("sources", []):
        s.pop("action", None)
    return m


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
    m = read_json(mpath, "manifest")
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


__all__ = ["CORPUS_FORMAT", "Corpus", "MANIFEST", "PHRASES", "PUNKT", "SENTENCES", "SHARDS", "SourceRecord",
           "load_corpus", "manifest_digest", "prepare_corpus_dir", "read_json", "shard_file", "write_manifest",
           "write_sentences"]
