"""Atomic writes: build into a temporary file or folder beside the target, then rename.

An interrupted run (Ctrl-C, a crash, a full disk) therefore leaves the last good file
in place: readers see either the old version or the new one, never half of one.

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
standard library and ``corpus_tools._errors`` (which imports nothing).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Callable, Iterator, Union

from ._errors import OverwriteRefusedError

__all__ = ["ReplaceIf", "atomic_dir", "atomic_path", "check_replaceable", "recover_dir", "write_json"]

# tempfile and shutil are imported inside the writers: the query path only needs
# recover_dir, and must start fast.


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


def check_replaceable(target: str | os.PathLike, replace_if: ReplaceIf = True, refusal: str = "") -> None:
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
        Whether an existing ``target`` may be replaced (see :func:`check_replaceable`):
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
    check_replaceable(target, replace_if, refusal)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            _publish_mode(tmp_path, directory=False)
        check_replaceable(target, replace_if, refusal)   # a file may have appeared meanwhile
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


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; swap it in for ``target`` on success.

    The swap is two renames (old folder aside, new folder in) followed by removal of
    the old folder, so an existing ``target`` survives any failure before the swap.
    If the process dies between the two renames, the previous folder is left as
    ``.<name>.old-*`` beside ``target`` and :func:`recover_dir` puts it back.
    """
    import shutil
    import tempfile

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _publish_mode(tmp, directory=True)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_dir(target: str | os.PathLike) -> bool:
    """Put back a folder left aside by an :func:`atomic_dir` swap that was cut short.

    Returns True when a folder was restored.
    """
    target = Path(target)
    if target.exists():
        return False
    leftovers = sorted(target.parent.glob(f".{target.name}.old-*"))
    if not leftovers:
        return False
    os.replace(leftovers[-1], target)
    return True
