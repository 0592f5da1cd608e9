"""Atomic writes: build into a temporary file or folder beside the target, then rename.

An interrupted run (Ctrl-C, a crash, a full disk) therefore leaves the last good file
in place: readers see either the old version or the new one, never half of one.

A folder is replaced only when that loses nothing the user owns
(:func:`check_folder_replaceable`, which :func:`atomic_dir` applies before it writes
anything and again just before the swap): when it does not exist, is empty, or is a
complete artefact of the same kind that wordstack wrote, as the format's own
recogniser says (a :data:`Foreign` function; the model folder's is in
:mod:`corpus_tools._model_dir`, the corpus folder's in :mod:`corpus_tools._corpus_dir`).
The current folder, a folder that holds it, and a folder that is or holds the input
are refused too. Refusals raise :class:`OutputFolderError`, naming the folder and
the fix.

A temporary folder is locked (``fcntl.flock``) while it is being built, and so is an
old folder while it is set aside during a swap. The kernel drops such a lock when its
process dies however it dies (kill -9 included), so what a killed run left behind is
unlocked: the next :func:`atomic_dir` on the same target removes its temporary folder,
and :func:`recover_dir` puts back a folder that was set aside. :func:`exclusive_lock`
is the same lock on a lock file, for a build that concurrent commands must wait for
(the default model).

A file at a path the user gave is theirs until wordstack can tell it wrote it:
``atomic_path(target, replace_if=...)`` replaces an existing ``target`` only when the
predicate recognises it (pictures carry wordstack's mark, see
:mod:`corpus_tools.pictures`), or never (``replace_if=False``: exported vectors cannot
carry a mark), and otherwise raises :class:`corpus_tools.OverwriteRefusedError` before
anything is written. Internal writes (inside wordstack's own folders) keep the
default, ``replace_if=True``.

This module is public API: ``corpus_tools`` writes corpora and model folders with it,
and ``models`` writes its checkpoints, sweep results and pictures with it
(``from corpus_tools.atomic import atomic_path``). It imports nothing beyond the
standard library and the package's error classes (``corpus_tools._errors`` imports nothing).
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, Union

from ._errors import OutputFolderError, OverwriteRefusedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, so leftovers are never removed
    fcntl = None

__all__ = ["Foreign", "OutputFolderError", "ReplaceIf", "atomic_dir", "atomic_path", "check_file_replaceable",
           "check_folder_replaceable", "exclusive_lock", "folder_entries", "read_small_json", "recover_dir",
           "write_json"]

# tempfile and shutil are imported inside the writers: the query path only needs
# recover_dir, and must start fast.

#: ``foreign(folder)``: the entries of an existing, non-empty folder that are not part of
#: an artefact of one kind that wordstack wrote (as :func:`folder_entries` names them,
#: subfolders ending in ``/``). An empty list means the folder is such an artefact and
#: may be replaced; a folder without the artefact's marker has every entry foreign.
Foreign = Callable[[Path], list]

#: Temporary and set-aside folders are named ``.<target>.wordstack-*``, so that no
#: clean-up ever matches a user's own hidden folder.
_TAG = "wordstack-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish_mode(path: Path, directory: bool) -> None:
    """Give a temporary file or folder the permissions a plain open()/mkdir() would have.

    mkstemp/mkdtemp create them private (0600/0700); the finished file should be
    readable as the user's umask allows, like any other file they write.
    """
    base = 0o777 if directory else 0o666
    os.chmod(path, base & ~_umask())


#: ``replace_if`` of :func:`atomic_path`: always, never, or when a predicate recognises the file.
ReplaceIf = Union[bool, Callable[[Path], bool]]


def check_file_replaceable(target: str | os.PathLike, replace_if: ReplaceIf = True, refusal: str = "") -> None:
    """Raise :class:`~corpus_tools.OverwriteRefusedError` when ``target`` exists and may not be replaced.

    Parameters
    ----------
    target : str or path
    replace_if : bool or callable, default True
        ``True``: any existing file may be replaced; ``False``: none; a callable: those
        for which ``replace_if(target)`` is true.
    refusal : str
        Why the file is refused, completing "``target`` already exists and ...".
    """
    target = Path(target)
    if replace_if is True or not (target.exists() or target.is_symlink()) or target.is_dir():
        return
    if replace_if is False or not replace_if(target):
        raise OverwriteRefusedError.for_file(target, refusal or "wordstack cannot tell that it wrote it")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, replace_if: ReplaceIf = True, refusal: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception (including KeyboardInterrupt) the temporary file is removed and
    ``target`` is left untouched.

    Parameters
    ----------
    target : str or path
    replace_if : bool or callable, default True
        Whether an existing ``target`` may be replaced (see :func:`check_file_replaceable`):
        checked before anything is written and again just before the rename.
    refusal : str
        Why a refused file may not be replaced, for the error message.

    Raises
    ------
    OverwriteRefusedError
        ``target`` exists and ``replace_if`` does not allow replacing it.
    """
    import tempfile

    target = Path(target)
    check_file_replaceable(target, replace_if, refusal)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            _publish_mode(tmp_path, directory=False)
        check_file_replaceable(target, replace_if, refusal)   # a file may have appeared meanwhile
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_json(target: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON to ``target`` atomically."""
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, ensure_ascii=False, sort_keys=False)
            fh.write("\n")


# ----------------------------------------------------------------------------- which folders may be replaced


def folder_entries(folder: str | os.PathLike) -> list[str]:
    """The names in ``folder``, sorted, subfolders (not symlinks to them) ending in ``/``."""
    with os.scandir(folder) as it:
        return sorted(e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in it)


def read_small_json(path: str | os.PathLike, max_bytes: int) -> dict | None:
    """The JSON object in ``path``, or None when it is missing, larger than ``max_bytes``, not
    UTF-8 JSON or not an object. For recognisers: an untrusted file costs at most ``max_bytes``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError:
        return None
    if len(data) > max_bytes:
        return None
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _listing(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_folder_replaceable(target: str | os.PathLike, *, kind: str = "output", foreign: Foreign | None = None,
                             inputs: Iterable[str | os.PathLike] = (),
                             error: type[OutputFolderError] = OutputFolderError) -> Path:
    """Refuse ``target`` unless writing a new ``kind`` there loses nothing the user owns.

    ``target`` may be replaced when it does not exist, is an empty folder, or
    ``foreign(target)`` finds nothing in it that wordstack did not write. It is
    refused when it is a file; the current folder or a folder that holds it; or
    one of ``inputs`` or a folder that holds one. A folder that an interrupted swap
    left aside is put back first (:func:`recover_dir`), so the check sees it.

    Parameters
    ----------
    target : str or path
        The folder to be written.
    kind : str
        What is written there ("model", "corpus"), for the messages.
    foreign : callable, optional
        The recogniser of the artefact (see :data:`Foreign`); without one, only a
        missing or empty folder may be replaced.
    inputs : iterable of str or path
        Local files and folders the command reads.
    error : subclass of OutputFolderError
        What to raise (a format's own, e.g. ``CorpusOutputError``).

    Returns
    -------
    Path
        ``target``, absolute, symlinks resolved.

    Raises
    ------
    OutputFolderError
        ``target`` may not be replaced; nothing has been written.
    """
    shown = os.fspath(target)
    path = Path(target).expanduser().resolve()
    recover_dir(path)
    if path.exists() and not path.is_dir():
        raise error(f"{kind} folder {shown!r} is a file; name a new folder for the {kind}")
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the current folder was removed: it cannot be the target
        cwd = None
    if cwd is not None and (path == cwd or path in cwd.parents):
        what = "is the current folder" if path == cwd else "holds the current folder"
        raise error(
            f"{kind} folder {shown!r} {what}; wordstack builds a new folder beside the old one and swaps it in, "
            f"which it will not do to the folder you are working in: name a new folder such as {kind}/"
        )
    for raw in inputs:
        source = Path(raw).expanduser().resolve()
        if source == path or path in source.parents:
            what = "is" if source == path else "holds"
            raise error(
                f"{kind} folder {shown!r} {what} the input {os.fspath(raw)!r}; writing it would replace what "
                "is being read: choose a new folder name outside the input"
            )
    if path.is_dir():
        names = folder_entries(path)
        strangers = (foreign(path) if foreign is not None else names) if names else []
        if strangers:
            what = f"is not a wordstack {kind}: it" if strangers == names else "besides the wordstack " + kind
            raise error(
                f"{kind} folder {shown!r} {what} holds files wordstack did not write ({_listing(strangers)}); "
                "choose a new folder name (nothing was written)"
            )
    return path


# ----------------------------------------------------------------------------- folders


#: Descriptors through which this process holds a lock. A forked child (a worker of ingest's
#: pool) closes its copies at once: else a lock would outlive a killed parent in its workers.
_HELD: set[int] = set()


def _forget_locks_in_child() -> None:
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks_in_child)


def _unlock(fd: int) -> None:
    _HELD.discard(fd)
    with contextlib.suppress(OSError):
        os.close(fd)


def _try_lock(path: Path) -> int | None:
    """An open descriptor of ``path`` holding its exclusive lock, or None when another process holds it
    (or locks are not available)."""
    if fcntl is None:  # pragma: no cover - not POSIX
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    _HELD.add(fd)
    return fd


def _lock(path: Path) -> int:
    """An open descriptor of ``path`` holding its exclusive lock (waiting for it; unlocked without fcntl)."""
    fd = os.open(path, os.O_RDONLY)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
    _HELD.add(fd)
    return fd


def _leftovers(target: Path, kind: str) -> list[Path]:
    """This target's temporary (``kind="tmp"``) or set-aside (``"old"``) folders."""
    stem = glob.escape(f".{target.name}.{_TAG}")
    pattern = f"{stem}*.tmp" if kind == "tmp" else f"{stem}old-*"
    return [p for p in target.parent.glob(pattern) if p.is_dir() and not p.is_symlink()]


def _remove_leftovers(target: Path) -> None:
    """Remove what killed runs left beside ``target``: unlocked temporary folders, and unlocked
    old folders of swaps that had finished (``target`` exists again)."""
    import shutil

    stale = _leftovers(target, "tmp") + (_leftovers(target, "old") if target.exists() else [])
    for folder in stale:
        fd = _try_lock(folder)
        if fd is None:
            continue  # another process is building or swapping it
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            _unlock(fd)


def _new_tmp_dir(target: Path) -> tuple[Path, int | None]:
    """A fresh temporary folder beside ``target``, locked from the moment it bears the ``.tmp`` name."""
    import shutil
    import tempfile

    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.{_TAG}", suffix=".new", dir=target.parent))
    fd = None
    try:
        fd = _lock(fresh)
        tmp = fresh.with_name(fresh.name[: -len(".new")] + ".tmp")
        os.rename(fresh, tmp)
    except BaseException:
        if fd is not None:
            _unlock(fd)
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return tmp, fd


def _swap(tmp: Path, target: Path) -> None:
    """Put ``tmp`` in the place of ``target``: the old folder aside (locked), the new one in, the old one removed."""
    import shutil

    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.{_TAG}old-{os.urandom(4).hex()}")
    fd = _lock(target)
    try:
        os.replace(target, old)
        try:
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.replace(old, target)
            raise
    finally:
        if fd is not None:
            _unlock(fd)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike, *, kind: str = "output", foreign: Foreign | None = None,
               inputs: Iterable[str | os.PathLike] = (),
               error: type[OutputFolderError] = OutputFolderError) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; swap it in for ``target`` on success.

    ``target`` is checked with :func:`check_folder_replaceable` (same arguments) before
    anything is written, and again just before the swap, in case files appeared in
    it meanwhile. Without ``foreign``, only a missing or empty folder is replaced.

    The swap is two renames (old folder aside, new folder in) followed by removal of
    the old folder, so an existing ``target`` survives any failure before the swap.
    On any failure the temporary folder is removed. If the process is killed, the
    folder it leaves (``.<name>.wordstack-*.tmp``) is removed by the next
    ``atomic_dir`` on ``target``, and an old folder left aside between the two
    renames is put back by :func:`recover_dir`.

    Raises
    ------
    OutputFolderError
        ``target`` may not be replaced (see :func:`check_folder_replaceable`).
    """
    import shutil

    target = check_folder_replaceable(target, kind=kind, foreign=foreign, inputs=inputs, error=error)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    tmp, fd = _new_tmp_dir(target)
    try:
        yield tmp
        check_folder_replaceable(target, kind=kind, foreign=foreign, error=error)
        _publish_mode(tmp, directory=True)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if fd is not None:
            _unlock(fd)


def recover_dir(target: str | os.PathLike) -> bool:
    """Put back a folder left aside by an :func:`atomic_dir` swap that was cut short.

    A folder still locked by a swap in progress is left alone. Returns True when a
    folder was restored.
    """
    target = Path(target)
    if target.exists():
        return False
    legacy = glob.escape(f".{target.name}.old-")  # release 0.1's name, never locked
    aside = _leftovers(target, "old") + [p for p in target.parent.glob(f"{legacy}*") if p.is_dir()]
    for folder in sorted(aside, key=_mtime_ns, reverse=True):
        fd = _try_lock(folder) if fcntl is not None else None
        if fcntl is not None and fd is None:
            continue  # being swapped right now, or gone
        try:
            os.replace(folder, target)
        except OSError:
            continue
        finally:
            if fd is not None:
                _unlock(fd)
        return True
    return False


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if needed) for the ``with`` block.

    The lock is ``fcntl.flock``'s: the kernel releases it when the process ends,
    however it ends, so a lock left by a killed process never blocks anyone. While
    another process holds it this waits, calling ``on_wait()`` once first (to say
    so). Without ``fcntl`` (not POSIX) the block runs unlocked.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    _HELD.add(fd)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        _unlock(fd)
