"""Book sources named by URL: ``file://`` paths and any fsspec protocol (``s3://``, ``gs://``...).

Ingest names each book by a *source*: a local path (``str``) or a URL. This module
is the one place that knows the difference:

- ``file://`` URLs are turned into plain local paths when the books are found,
  so a corpus ingested from ``file:///data/books`` is the same, byte for byte, as
  one ingested from ``/data/books``.
- Other URLs go through `fsspec <https://filesystem-spec.readthedocs.io>`_, the
  file-system layer Dask itself reads with (``dask.bag.read_text`` and friends):
  folders are listed with ``fs.find``, patterns expanded with ``fs.glob``, and a
  book is read by streaming it to a temporary local file that the ordinary
  reader (:func:`corpus_tools.read_book`: decoding, archives, EPUB, Gutenberg
  stripping) then reads. Messages name the URL, never the temporary file.

Which protocols work is fsspec's business: ``memory://`` (tests) and the local
file system are built in; ``http(s)://`` needs ``aiohttp``, ``s3://`` ``s3fs``,
``gs://`` ``gcsfs``, ``az://``/``abfs://`` ``adlfs``, ``hdfs://`` ``pyarrow``,
``sftp://`` ``paramiko`` — each installed on the client *and* on every worker.
"""
from __future__ import annotations

import contextlib
import datetime
import logging
import os
import re
import shutil
import tempfile
import urllib.parse
from typing import Iterable, Iterator

from ._errors import CorpusToolsError, NoBooksError
from ._sources import BOOK_SUFFIXES, UnreadableBookError, file_sha256, find_books, own_folders_message

logger = logging.getLogger(__name__)

# scheme://... or chained fsspec URLs such as simplecache::s3://...
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(?:::[A-Za-z][A-Za-z0-9+.\-]*)*://")
_GLOB_CHARS = set("*?[")


class MissingDependencyError(CorpusToolsError, ImportError):
    """An optional package that the requested feature needs is not installed."""


def is_url(source: str | os.PathLike) -> bool:
    """True when ``source`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(source, str) and _URL_RE.match(source) is not None


def is_remote(source: str) -> bool:
    """True for a URL that is not ``file://`` (read through fsspec)."""
    return is_url(source) and not source.lower().startswith("file://")


def file_url_to_path(url: str) -> str:
    """``file:///data/books`` -> ``/data/books`` (also ``file://localhost/...``).

    Raises
    ------
    ValueError
        The URL names another host: ``file://`` URLs must name this machine's files.
    """
    parsed = urllib.parse.urlparse(url)
    if parsed.netloc not in ("", "localhost"):
        raise ValueError(
            f"{url!r}: a file:// URL must name a local file (file:///path), not host {parsed.netloc!r}; "
            "use the path the workers see, or another protocol (s3://, ...) for remote storage"
        )
    return urllib.parse.unquote(parsed.path)


def _fsspec():
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with the dask extra
        raise MissingDependencyError(
            "reading books from URLs needs fsspec: install the optional extra with "
            "`pip install 'wordstack[dask]'` (in a checkout: `pip install -e '.[dask]'`) or `pip install fsspec`"
        ) from exc
    return fsspec


def _url_to_fs(url: str):
    fsspec = _fsspec()
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        # fsspec says which package a protocol needs (s3fs, gcsfs, ...)
        raise MissingDependencyError(f"{url!r}: cannot open this protocol ({exc})") from exc


def _find_remote(url: str) -> list[str]:
    fs, root = _url_to_fs(url)
    try:
        if any(c in root for c in _GLOB_CHARS):
            found = sorted(p for p in fs.glob(root) if fs.isfile(p))
            if not found:
                raise NoBooksError(f"pattern {url!r} matches no files; check the pattern")
        elif fs.isdir(root):
            base = root.rstrip("/")
            found = sorted(
                p for p in fs.find(root)
                if p.lower().endswith(BOOK_SUFFIXES)
                and not any(part.startswith(".") for part in p[len(base):].split("/"))
            )
            if not found:
                raise NoBooksError(
                    f"folder {url!r} holds no books: wordstack reads files ending in "
                    f"{', '.join(BOOK_SUFFIXES)}; put books there or name the files directly"
                )
        elif fs.isfile(root):
            found = [root]
        else:
            raise NoBooksError(f"{url!r}: no such file or folder; check the URL")
    except OSError as exc:
        raise NoBooksError(f"{url!r}: cannot list ({exc}); check the URL and your credentials") from exc
    return [fs.unstrip_protocol(p) for p in found]


def find_sources(paths: Iterable[str | os.PathLike], *, own_folders: list | None = None) -> list[str]:
    """Expand local paths, ``file://`` URLs and fsspec URLs into book sources, in order.

    Local paths and ``file://`` URLs are expanded by :func:`corpus_tools.find_books`
    (absolute paths as ``str``; wordstack's own corpus and model folders left out,
    and listed in ``own_folders`` when given, else named in one logged warning);
    other URLs by fsspec (folders recursively, sorted; glob patterns). Duplicates
    are dropped, first occurrence kept.

    Raises
    ------
    NoBooksError
        A path or URL names nothing, or no books at all were given.
    """
    raw = [p if isinstance(p, str) else os.fspath(p) for p in paths]
    if not raw:
        raise NoBooksError("no books given; name files, folders or glob patterns of books")
    found: list[str] = []
    seen: set[str] = set()
    own: list = []
    for item in raw:
        if is_remote(item):
            sources = _find_remote(item)
        else:
            local = file_url_to_path(item) if is_url(item) else item
            sources = [str(p) for p in find_books([local], own_folders=own)]
        for s in sources:
            if s not in seen:
                seen.add(s)
                found.append(s)
    if own_folders is not None:
        own_folders.extend(own)
    elif own:
        logger.warning(own_folders_message(own))
    return found


def _mtime_ns(info: dict) -> int:
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime.datetime):
            return int(value.timestamp() * 1e9)
        try:
            return int(float(value) * 1e9)
        except (TypeError, ValueError):
            pass
        try:
            return int(datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1e9)
        except ValueError:
            pass
    return 0


def source_stat(source: str) -> tuple[int, int]:
    """(size in bytes, modification time in ns; 0 when the store keeps none).

    Raises
    ------
    OSError
        The source cannot be reached.
    """
    if not is_remote(source):
        st = os.stat(source)
        return st.st_size, st.st_mtime_ns
    fs, path = _url_to_fs(source)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - fsspec back-ends raise their own types
        raise OSError(str(exc)) from exc
    return int(info.get("size") or 0), _mtime_ns(info)


def source_sha256(source: str) -> str:
    """Hex SHA-256 of a source's bytes (streamed)."""
    with local_copy(source) as local:
        return file_sha256(local)


@contextlib.contextmanager
def local_copy(source: str) -> Iterator[str]:
    """A local path holding ``source``'s bytes: the file itself, or a temporary copy of a URL.

    The copy keeps the file name (and so the suffix that says how to read it) and
    is removed on exit.

    Raises
    ------
    UnreadableBookError
        The URL cannot be read.
    """
    if not is_remote(source):
        yield source
        return
    fsspec = _fsspec()
    tmpdir = tempfile.mkdtemp(prefix="wordstack-book-")
    name = source.rstrip("/").rsplit("/", 1)[-1] or "book"
    local = os.path.join(tmpdir, name)
    try:
        try:
            with fsspec.open(source, "rb") as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except MissingDependencyError:
            raise
        except Exception as exc:  # noqa: BLE001 - fsspec back-ends raise their own types
            raise UnreadableBookError(f"{source}: cannot open ({exc}); skipped") from exc
        yield local
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def relabel(message: str, local: str, source: str) -> str:
    """Name ``source`` instead of its temporary copy ``local`` in a message."""
    return message if local == source else message.replace(local, source)


__all__ = [
    "MissingDependencyError",
    "find_sources",
    "file_url_to_path",
    "is_remote",
    "is_url",
    "local_copy",
    "relabel",
    "source_sha256",
    "source_stat",
]
