"""The corpus folder: its files, the manifest, and opening a corpus again.

A corpus directory holds

``sentences.txt``
    One sentence a line, tokens separated by single spaces, books in the order
    given (folders expanded in sorted order). The format gensim's ``corpus_file``
    mode reads at full speed on all cores.
``manifest.json``
    Opens with wordstack's marker, ``"format": "wordstack-corpus", "version": 2``
    (release 0.1 wrote ``"format": "wordstack-corpus/1"`` and no version; such
    manifests still load). Per source: path, size, modification time, SHA-256,
    encoding, sentence and token counts, status (``ok`` or ``skipped`` with the
    reason); the tokenizer settings; the Punkt and phrase models' digests; totals;
    the SHA-256 of ``sentences.txt``. A path that is not valid UTF-8 (a file named
    ``bad\\xff.txt``) is shown with ``\\xNN`` escapes in ``path`` and kept exactly,
    percent-encoded, in ``path_bytes``.
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

:func:`corpus_tools.ingest` (:mod:`corpus_tools._ingest`) writes the folder
(into a temporary folder swapped in at the end, :func:`corpus_tools.atomic.atomic_dir`);
:func:`load_corpus` opens it again and checks that it is complete. Only a folder
that :func:`is_corpus_dir` recognises by the marker (or a strictly recognised 0.1
corpus) and that holds nothing else (:func:`corpus_dir_foreign`) is ever replaced.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from ._errors import CorpusError, CorpusOutputError
from ._tokenize import TokenizerSettings
from .atomic import atomic_path, check_folder_replaceable, folder_entries, read_small_json, recover_dir, write_json

#: The manifest's marker: ``"format": CORPUS_FORMAT, "version": CORPUS_VERSION``, its first two keys.
CORPUS_FORMAT = "wordstack-corpus"
CORPUS_VERSION = 2
#: Release 0.1's ``format`` (no ``version``), and the exact keys of its manifests.
LEGACY_FORMAT = "wordstack-corpus/1"
LEGACY_KEYS = frozenset({"format", "created", "settings", "punkt_sha256", "phrases", "sources", "totals",
                         "sentences_sha256", "seconds"})
#: Largest 0.1 manifest the recogniser parses (some 100,000 books); a version-2
#: manifest is recognised by its first bytes, whatever its size.
LEGACY_MANIFEST_MAX_BYTES = 64 << 20
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
        """The manifest entry: valid Unicode throughout, the exact path in ``path_bytes`` when
        the file name is not UTF-8."""
        d = asdict(self)
        path = _json_text(self.path)
        head = {"path": path}
        if path != self.path:
            try:
                head["path_bytes"] = urllib.parse.quote_from_bytes(os.fsencode(self.path), safe="/")
            except UnicodeEncodeError:  # not a name from the file system: the shown form is all there is
                pass
        d.pop("path")
        d["reason"] = None if self.reason is None else _json_text(self.reason)
        d["warnings"] = [_json_text(w) for w in self.warnings]
        return {**head, **d}

    @classmethod
    def from_dict(cls, entry: dict) -> "SourceRecord":
        """A manifest entry back as a record (the exact path restored from ``path_bytes``)."""
        return cls(**decode_source(entry))


def decode_source(entry: dict) -> dict:
    """A manifest entry with ``path`` the file's exact name again (``path_bytes`` decoded and dropped)."""
    entry = dict(entry)
    raw = entry.pop("path_bytes", None)
    if isinstance(raw, str):
        entry["path"] = os.fsdecode(urllib.parse.unquote_to_bytes(raw))
    return entry


def _json_text(text: str) -> str:
    """``text`` as valid Unicode: bytes of a file name that are not UTF-8 (kept by Python as
    surrogate escapes) become ``\\xNN``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


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
    notes: list[str] = field(default_factory=list)  # this run's warnings beyond the books' (not in the manifest)

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


# ----------------------------------------------------------------------------- recognising our folders

_V2_HEAD = re.compile(rb'\A\s*\{\s*"format"\s*:\s*"wordstack-corpus"\s*,\s*"version"\s*:\s*(\d{1,6})\s*[,}]')
_TOP_FILES = (MANIFEST, SENTENCES, PUNKT, PHRASES)
# What a corpus folder may hold besides: atomic_path's leftovers of an interrupted 0.1 update,
# and in shards/ the shards, the parts of an interrupted run and a multi-part shard's temporary file.
_TOP_TMP = re.compile(r"\A\.(?:manifest\.json|sentences\.txt|punkt\.json|phrases\.json)\.[\w-]+\.tmp\Z")
_SHARD = re.compile(r"\A(?:[0-9a-f]{64}\.txt|\.part-[0-9a-f]{8}-\d+-\d+\.tmp|\.[0-9a-f]{64}\.txt\.[\w-]+\.tmp)\Z")


def manifest_version(folder: str | os.PathLike) -> int | None:
    """The version of the wordstack corpus manifest in ``folder``, or None when it holds none.

    Version 2 on is recognised by the marker that opens the file; version 1 (release
    0.1, ``"format": "wordstack-corpus/1"``) strictly: exactly the keys 0.1 wrote,
    beside a ``sentences.txt``, so that an unrelated ``manifest.json`` is never
    taken for a corpus.
    """
    folder = Path(folder)
    try:
        with open(folder / MANIFEST, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return None
    match = _V2_HEAD.match(head)
    if match:
        return int(match.group(1))
    if LEGACY_FORMAT.encode() not in head or not (folder / SENTENCES).is_file():
        return None
    m = read_small_json(folder / MANIFEST, LEGACY_MANIFEST_MAX_BYTES)
    if m is None or m.get("format") != LEGACY_FORMAT or set(m) != LEGACY_KEYS:
        return None
    return 1


def is_corpus_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a wordstack corpus folder (see :func:`manifest_version`)."""
    return Path(path).is_dir() and manifest_version(path) is not None


def _strangers(path: Path) -> list[str]:
    """Entries of ``path`` that a corpus folder never holds (``shards/x`` for those in ``shards/``)."""
    out = []
    for name in folder_entries(path):
        if name == SHARDS + "/":
            out.extend(f"{SHARDS}/{n}" for n in folder_entries(path / SHARDS)
                       if n.endswith("/") or not _SHARD.match(n))
        elif name.endswith("/") or not (name in _TOP_FILES or _TOP_TMP.match(name)):
            out.append(name)
    return out


def corpus_dir_foreign(path: str | os.PathLike) -> list[str]:
    """The entries of the folder ``path`` that are not part of a wordstack corpus folder.

    All of them when it holds no wordstack manifest; otherwise anything but the
    files of the module docstring (a user's notes, a file in ``shards/``). See
    :data:`corpus_tools.atomic.Foreign`.
    """
    path = Path(path)
    if not is_corpus_dir(path):
        return folder_entries(path)
    return _strangers(path)


def is_corpus_debris(path: str | os.PathLike) -> bool:
    """True when ``path`` holds only names a corpus folder has, whatever its manifest says.

    For wordstack's own cache (the default corpus in ``$WORDSTACK_HOME``): what an
    interrupted or damaged build left there may be rebuilt. Never used for a
    folder the user named.
    """
    return Path(path).is_dir() and not _strangers(Path(path))


def check_corpus_out(out: str | os.PathLike, inputs=()) -> Path:
    """Refuse ``out`` unless a corpus may be written there (before any work is done).

    Raises
    ------
    CorpusOutputError
        ``out`` holds files wordstack did not write, is the current folder, or is
        (or holds) one of ``inputs``; see :func:`corpus_tools.atomic.check_folder_replaceable`.
    """
    return check_folder_replaceable(out, kind="corpus", foreign=corpus_dir_foreign, inputs=inputs, error=CorpusOutputError)


def hash_sentences(path: str | os.PathLike) -> tuple[str, int, int]:
    """(SHA-256, sentences, tokens) of a ``sentences.txt``, read once in 1 MB blocks."""
    h = hashlib.sha256()
    n_sent = n_tok = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            lines = block.count(b"\n")
            n_sent += lines
            n_tok += block.count(b" ") + lines
    return h.hexdigest(), n_sent, n_tok


# ----------------------------------------------------------------------------- writing


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
        "version": CORPUS_VERSION,
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
    """One JSON object of the corpus folder; ``what`` names it in the error."""
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path} is not valid JSON ({exc}); the {what} is corrupt: re-run `wordstack ingest`") from exc
    if not isinstance(obj, dict):
        raise CorpusError(f"{path} holds a JSON {type(obj).__name__}, not an object; the {what} is corrupt: "
                          "re-run `wordstack ingest`")
    return obj


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


def _check_format(m: dict, mpath: Path) -> None:
    """Refuse a manifest that is not one of the versions this wordstack reads."""
    fmt, version = m.get("format"), m.get("version")
    if fmt == LEGACY_FORMAT or (fmt == CORPUS_FORMAT and version == CORPUS_VERSION):
        return
    if fmt == CORPUS_FORMAT and isinstance(version, int) and version > CORPUS_VERSION:
        raise CorpusError(f"{mpath} is a corpus of version {version}, written by a newer wordstack; this one "
                          f"reads versions 1 to {CORPUS_VERSION}: upgrade wordstack, or re-ingest the books")
    raise CorpusError(f"{mpath} has format {fmt!r} (version {version!r}); this wordstack reads "
                      f"{CORPUS_FORMAT!r} version {CORPUS_VERSION} and {LEGACY_FORMAT!r}")


def _manifest_fields(m: dict, mpath: Path) -> tuple[list[SourceRecord], TokenizerSettings, int, int]:
    """The sources, settings and totals of a manifest, each checked; a damaged one raises CorpusError."""
    def damaged(what: str) -> CorpusError:
        return CorpusError(f"{mpath} {what}: the manifest is damaged; rebuild the corpus with "
                           f"`wordstack ingest BOOKS --out NEW_FOLDER` (the same books), or restore the folder")

    for key, kind in (("settings", dict), ("sources", list), ("totals", dict), ("sentences_sha256", str)):
        if key not in m:
            raise damaged(f"lacks {key!r}")
        if not isinstance(m[key], kind):
            raise damaged(f"has {key!r} of type {type(m[key]).__name__}, not {kind.__name__}")
    totals = m["totals"]
    for key in ("sentences", "tokens"):
        value = totals.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise damaged(f"lacks a count of {key} in 'totals' (got {value!r})")
    try:
        sources = [SourceRecord.from_dict({**s, "action": "reused"}) for s in m["sources"]]
    except (TypeError, ValueError) as exc:
        raise damaged(f"has a malformed entry in 'sources' ({exc})") from exc
    try:
        settings = TokenizerSettings.from_dict(m["settings"])
    except (TypeError, ValueError) as exc:
        raise damaged(f"has malformed 'settings' ({exc})") from exc
    return sources, settings, totals["sentences"], totals["tokens"]


def load_corpus(path: str | os.PathLike) -> Corpus:
    """Open an existing corpus directory and check that it is complete.

    Corpora of release 0.1 (manifest format ``wordstack-corpus/1``) load too.

    Raises
    ------
    CorpusError
        The folder is missing, has no manifest or sentences, the manifest is
        damaged (a missing or malformed key), or of a format this wordstack does
        not read; the message names the file and the fix.
    """
    path = Path(path).expanduser()
    recover_dir(path)
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
    if "format" not in m:
        raise CorpusError(f"{mpath} lacks 'format': it is not a wordstack corpus manifest; "
                          f"create a corpus with `wordstack ingest BOOKS --out NEW_FOLDER`")
    _check_format(m, mpath)
    sources, settings, n_sent, n_tok = _manifest_fields(m, mpath)
    spath = path / SENTENCES
    if not spath.exists():
        raise CorpusError(f"{spath} is missing; re-run `wordstack ingest` on the same books to rebuild it")
    phrases = m.get("phrases")
    return Corpus(
        path=path,
        sources=sources,
        settings=settings,
        sentences=n_sent,
        tokens=n_tok,
        sentences_sha256=m["sentences_sha256"],
        manifest_sha256=manifest_digest(m),
        phrases=phrases.get("count") if isinstance(phrases, dict) else None,
        seconds=m.get("seconds", 0.0),
    )


__all__ = ["CORPUS_FORMAT", "CORPUS_VERSION", "Corpus", "LEGACY_FORMAT", "MANIFEST", "PHRASES", "PUNKT", "SENTENCES",
           "SHARDS", "SourceRecord", "check_corpus_out", "corpus_dir_foreign", "decode_source", "hash_sentences",
           "is_corpus_debris", "is_corpus_dir", "load_corpus", "manifest_digest", "manifest_version", "read_json",
           "shard_file", "write_manifest", "write_sentences"]
