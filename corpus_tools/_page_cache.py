"""Streaming big files without filling the page cache: what ``import`` and ``export`` write and read.

Importing a 3,000,000 x 300 model reads 3.6 GB and writes 3.6 GB. Left to itself, the
kernel keeps every page of both in the page cache: the dirty pages of the new
``vectors.npy`` pile up until the dirty limit (about 2.3 GB on a 24 GiB machine),
where the writer is throttled to the disk's write speed, and the source's pages push
the user's other cached files out. Like ``dd oflag=nocache`` or ``rsync
--drop-cache``, :class:`WriteBehind` hands what was written to the disk as the file
grows and drops it from the cache once it is on the disk, keeping only the last
:data:`KEEP_BYTES`; :func:`drop_read` drops what was read of a source file.

Measured on the lead's machine (``benchmarks/bench_import_large.py``, cold, 3.6 GB):
the import took 4.3-7.4 s without this and 2.7-3.5 s with it, in alternating runs.
Files smaller than :data:`KEEP_BYTES` are never touched, so a small model stays
cached for the query that usually follows its import. Where the system has no
``posix_fadvise`` (macOS, Windows) these are no-ops.
"""
from __future__ import annotations

import os

#: The most recently written (or read) bytes of a file left in the page cache.
KEEP_BYTES = 256 << 20
#: Advice is given at most once per this many new bytes (one system call per step).
STEP_BYTES = 64 << 20

_ADVISE = getattr(os, "posix_fadvise", None)


def _drop(fd: int, stop: int) -> None:
    """Advise the kernel that ``[0, stop)`` of ``fd`` is not needed again: dirty pages are
    queued for writing (asynchronously), clean ones leave the page cache."""
    try:
        _ADVISE(fd, 0, stop, os.POSIX_FADV_DONTNEED)
    except OSError:       # a file system that refuses advice: the cache only stays fuller
        pass


class WriteBehind:
    """Keep at most about :data:`KEEP_BYTES` + :data:`STEP_BYTES` of a file being written in the page cache.

    Call :meth:`written` after each write to the (binary, buffered) file object.
    Each call past a new :data:`STEP_BYTES` advises the whole range up to
    ``KEEP_BYTES`` before the end: pages still being written at one call are
    dropped at a later one.
    """

    def __init__(self, fh, keep: int | None = None, step: int | None = None):
        self.fh = fh
        self.keep = KEEP_BYTES if keep is None else keep
        self.step = STEP_BYTES if step is None else step
        self._next = self.keep + self.step

    def written(self) -> None:
        if _ADVISE is None:
            return
        end = self.fh.tell()
        if end >= self._next:
            self.fh.flush()
            _drop(self.fh.fileno(), end - self.keep)
            self._next = end + self.step


def drop_read(fh, keep: int | None = None) -> None:
    """Drop from the page cache what was read of ``fh`` (a file opened for reading), but its last ``keep`` bytes."""
    if _ADVISE is None:
        return
    try:
        upto, fd = fh.tell() - (KEEP_BYTES if keep is None else keep), fh.fileno()
    except (OSError, AttributeError, ValueError):
        return
    if upto > 0:
        _drop(fd, upto)
