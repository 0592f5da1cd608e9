"""Atomic writes: build into a temporary file or folder beside the target, then rename.

An interrupted run (Ctrl-C, a crash, a full disk) therefore leaves the last good file
in place: readers see either the old version or the new one, never half of one.

This module is public API: ``corpus_tools`` writes corpora and model folders with it,
and ``models`` writes its checkpoints, sweep results and pictures with it
(``from corpus_tools.atomic import atomic_path``). It imports nothing beyond the
standard library.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_dir", "atomic_path", "recover_dir", "write_json"]

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


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception (including KeyboardInterrupt) the temporary file is removed and
    ``target`` is left untouched.
    """
    import tempfile

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            _publish_mode(tmp_path, directory=False)
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
