"""Where the cells of a grid run: in this process, in local worker processes, or on Dask.

Each backend starts cells (:meth:`start`) and reports what they do as events to the
driver's ``on_event`` (:class:`Event`: ``progress``, ``done`` with the result, or
``interrupted`` / ``error``). Workers never write result files: they return the result
and the driver writes it (:mod:`models.bench._grid`). Checkpoints are written by whoever
trains: in the results folder when the worker sees it (this machine; a Dask worker on
storage shared at the same path), else in a temporary folder of the worker, whose bytes
come back with the result (a Dask worker elsewhere; then an interrupted cell restarts from
the checkpoint the driver last had).

Local worker processes are started by ``spawn`` (a fresh interpreter: no BLAS thread pool
inherited from the driver), one per cell, in a process group of their own: a Ctrl-C at
the terminal reaches only the driver, which sends each running cell one SIGTERM; the
cell's training saves its checkpoint and stops (a second Ctrl-C sends another: stop at
once). A worker whose driver has gone (killed) stops the same way at its next progress
report. BLAS runs one thread in every cell (``blas_threads(1)`` around the whole cell).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from pathlib import Path
from typing import Any, Callable

from corpus_tools import default_jobs
from corpus_tools.atomic import read_small_json

from ..core._errors import TrainingInterrupted
from ._cells import CellProgress, CellSpec, run_cell

__all__ = ["Event", "InlineBackend", "ProcessBackend", "DaskBackend", "LOCAL", "check_scheduler", "default_jobs"]

logger = logging.getLogger(__name__)

#: ``scheduler`` value asking for a Dask LocalCluster on this machine.
LOCAL = "local"
DASK_HINT = "install the optional extra with `pip install 'wordstack[dask]'` (in a checkout: `pip install -e '.[dask]'`)"
_ADDRESS_RE = re.compile(r"^[a-z][a-z0-9+.\-]*://\S+$|^[^\s/:]+:\d+$", re.IGNORECASE)
_PROGRESS_SECONDS = 0.5


@dataclass
class Event:
    """What a backend reports about a cell: ``kind`` is ``progress`` (``data``: a
    :class:`CellProgress`), ``done`` (``data``: the result; ``checkpoint_bytes``: the
    checkpoint when the worker could not write it in place), ``interrupted`` (``data``:
    the signal) or ``error`` (``data``: the message)."""

    kind: str
    cell: str
    data: Any = None
    checkpoint_bytes: bytes | None = None


class InlineBackend:
    """Cells run one at a time in this process (``jobs=1``); a stop signal reaches the
    training directly (it checkpoints and raises :class:`models.TrainingInterrupted`)."""

    slots = 1

    def __init__(self, on_event: Callable[[Event], None]):
        self.on_event = on_event
        self.running: set[str] = set()

    def start(self, spec: CellSpec, checkpoint: Path) -> None:
        self.running.add(spec.name)
        try:
            payload = run_cell(spec, checkpoint, progress=lambda p: self.on_event(Event("progress", spec.name, p)))
        except TrainingInterrupted:
            raise
        except Exception as exc:  # noqa: BLE001 - one cell's failure is reported, the grid goes on
            logger.debug("cell %s failed", spec.name, exc_info=True)
            self.running.discard(spec.name)
            self.on_event(Event("error", spec.name, f"{type(exc).__name__}: {exc}"))
            return
        self.running.discard(spec.name)
        self.on_event(Event("done", spec.name, payload))

    def wait(self, timeout: float) -> None:
        return None

    def stop(self, signum: int) -> None:
        return None

    def close(self) -> None:
        return None


# ----------------------------------------------------------------------------- local processes


def _process_main(spec: CellSpec, checkpoint: str, conn, parent: int) -> None:
    """A worker process: run one cell, send its events through ``conn``."""
    try:
        os.setpgid(0, 0)             # out of the terminal's process group: the driver decides
    except OSError:                  # pragma: no cover
        pass

    def on_signal(signum, frame):    # outside training (which defers it): stop now
        raise TrainingInterrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    last = [0.0, False]

    def send(message) -> None:
        try:
            conn.send(message)
        except (BrokenPipeError, EOFError, OSError):     # the driver is gone
            pass

    def progress(p: CellProgress) -> None:
        if os.getppid() != parent and not last[1]:       # orphaned: checkpoint and stop
            last[1] = True
            os.kill(os.getpid(), signal.SIGTERM)
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_SECONDS:
            last[0] = now
            send(("progress", p))

    try:
        send(("done", run_cell(spec, Path(checkpoint), progress=progress)))
    except TrainingInterrupted as exc:
        send(("interrupted", exc.signum))
    except BaseException as exc:  # noqa: BLE001
        send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


class ProcessBackend:
    """Up to ``jobs`` cells at a time, each in a fresh worker process (see the module docstring)."""

    def __init__(self, jobs: int, on_event: Callable[[Event], None]):
        self.slots = int(jobs)
        self.on_event = on_event
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[str, tuple[Any, Any]] = {}         # cell -> (process, connection)

    @property
    def running(self) -> set[str]:
        return set(self.workers)

    def start(self, spec: CellSpec, checkpoint: Path) -> None:
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_process_main, args=(spec, str(checkpoint), send, os.getpid()),
                                       name=f"wordstack-bench {spec.name}")
        process.start()
        send.close()
        self.workers[spec.name] = (process, receive)

    def wait(self, timeout: float) -> None:
        if not self.workers:
            return
        by_handle = {}
        for cell, (process, conn) in self.workers.items():
            by_handle[conn] = cell
            by_handle[process.sentinel] = cell
        ready = wait_for(list(by_handle), timeout)
        for cell in dict.fromkeys(by_handle[h] for h in ready):
            process, conn = self.workers[cell]
            finished = False
            try:
                while conn.poll():
                    kind, data = conn.recv()
                    if kind == "progress":
                        self.on_event(Event("progress", cell, data))
                        continue
                    finished = True
                    self._finish(cell)
                    self.on_event(Event(kind, cell, data))
                    break
            except (EOFError, OSError):
                pass
            if not finished and not process.is_alive():
                process.join()
                self._finish(cell)
                self.on_event(Event("error", cell, f"its worker process ended with exit code {process.exitcode} "
                                                   f"before reporting (killed, or out of memory?)"))

    def _finish(self, cell: str) -> None:
        process, conn = self.workers.pop(cell)
        conn.close()
        process.join(timeout=60)

    def stop(self, signum: int) -> None:
        for process, _ in self.workers.values():
            try:
                os.kill(process.pid, signal.SIGTERM)
            except OSError:
                pass

    def close(self) -> None:
        deadline = time.monotonic() + 120
        while self.workers and time.monotonic() < deadline:
            self.wait(0.5)
        for cell in list(self.workers):            # pragma: no cover - a worker that would not stop
            process, _ = self.workers[cell]
            process.kill()
            self._finish(cell)


# ----------------------------------------------------------------------------- Dask


def import_distributed():
    """``distributed``, or an ImportError naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"the bench on Dask (--dask) needs dask[distributed], which is not installed: "
                          f"{DASK_HINT}") from exc
    return distributed


def check_scheduler(scheduler: Any) -> Any:
    """``"local"``, a scheduler address (``tcp://host:8786``) or a ``distributed.Client``."""
    if isinstance(scheduler, str):
        if scheduler == LOCAL or _ADDRESS_RE.match(scheduler):
            return scheduler
        raise ValueError(f"--dask takes a Dask scheduler address such as tcp://host:8786 (or nothing, for a "
                         f"LocalCluster on this machine), got {scheduler!r}")
    import sys

    distributed = sys.modules.get("distributed")
    if distributed is not None and isinstance(scheduler, distributed.Client):
        return scheduler
    raise ValueError(f"scheduler must be 'local', an address such as 'tcp://host:8786' or a distributed.Client, "
                     f"got {scheduler!r}")


def _dask_cell(spec: CellSpec, checkpoint: str, marker: str, marker_id: str,
               checkpoint_bytes: bytes | None) -> tuple[dict, bytes | None]:
    """What a Dask worker runs: the cell, in the results folder when it sees that folder
    (its marker, with this grid's id), else in a temporary folder whose checkpoint goes back."""
    seen = read_small_json(marker, 1 << 16)
    if seen is not None and seen.get("id") == marker_id:
        return run_cell(spec, checkpoint), None
    with tempfile.TemporaryDirectory(prefix="wordstack-bench-") as tmp:
        path = Path(tmp) / Path(checkpoint).name
        if checkpoint_bytes is not None:
            path.write_bytes(checkpoint_bytes)
        payload = run_cell(spec, path)
        return payload, path.read_bytes() if path.is_file() else None


class DaskBackend:
    """Cells as Dask tasks, one per worker thread at a time.

    ``scheduler``: ``"local"`` starts a LocalCluster of single-threaded worker processes,
    one per core, closed afterwards; an address connects to that cluster; a Client is
    used as it is. Workers report no progress within a cell (the grid shows them running).
    Stopping cancels the cells; a LocalCluster is closed (its workers stop where they are:
    the cells resume from their last periodic checkpoint).
    """

    def __init__(self, scheduler: Any, on_event: Callable[[Event], None], marker: Path, marker_id: str):
        scheduler = check_scheduler(scheduler)
        distributed = import_distributed()
        self.on_event = on_event
        self.marker, self.marker_id = str(marker), marker_id
        self.cluster = None
        self.own_client = not isinstance(scheduler, distributed.Client)
        if scheduler == LOCAL:
            import dask

            with dask.config.set({"distributed.worker.profile.enabled": False,
                                  "distributed.admin.tick.interval": "500ms"}):
                self.cluster = distributed.LocalCluster(n_workers=default_jobs(), threads_per_worker=1,
                                                        processes=True, dashboard_address=":0",
                                                        silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster)
        elif isinstance(scheduler, str):
            try:
                self.client = distributed.Client(scheduler)
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with "
                                 f"`dask scheduler` and workers with `dask worker {scheduler}`, or give --dask "
                                 f"alone for a LocalCluster") from exc
        else:
            self.client = scheduler
        self.slots = max(1, sum(self.client.nthreads().values()))
        self.futures: dict[str, Any] = {}
        self.run = uuid.uuid4().hex[:8]

    @property
    def running(self) -> set[str]:
        return set(self.futures)

    def start(self, spec: CellSpec, checkpoint: Path) -> None:
        data = checkpoint.read_bytes() if checkpoint.is_file() else None
        key = f"wordstack-bench-{spec.task}-{spec.model}-{spec.seed}-{self.run}"
        self.futures[spec.name] = self.client.submit(_dask_cell, spec, str(checkpoint), self.marker,
                                                     self.marker_id, data, key=key, pure=False, retries=1)

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            finished = [cell for cell, f in self.futures.items() if f.done()]
            if finished or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        for cell in finished:
            future = self.futures.pop(cell)
            try:
                payload, data = future.result()
            except Exception as exc:  # noqa: BLE001 - reported, the grid goes on
                self.on_event(Event("error", cell, f"{type(exc).__name__}: {exc}"))
                continue
            finally:
                future.release()
            self.on_event(Event("done", cell, payload, data))

    def stop(self, signum: int) -> None:
        if self.futures:
            self.client.cancel(list(self.futures.values()))
        for cell in list(self.futures):
            self.futures.pop(cell)
            self.on_event(Event("interrupted", cell, signum))

    def close(self) -> None:
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
