"""Ingest on a Dask cluster: the tokenize (and phrase) stages run as Dask tasks.

:class:`DaskExecutor` is the Dask implementation of :class:`~corpus_tools._executor.Executor`;
planning, shard writing and the final ``sentences.txt`` stay in
:func:`corpus_tools.ingest`, shared with the local path, so both write the same
bytes.

How the work travels
--------------------
- **Tasks**: one per book (small books packed together, up to a few MB of text,
  so that Dask's 10-30 ms per task stays small), or per part (``PART_CHARS``
  characters) of a very large book, submitted with Dask's futures API
  (``Client.submit`` + ``as_completed``), at most two per worker thread at a
  time. The futures API rather than ``dask.bag``: a bag's ``compute()`` gathers
  every result into the client at once, while futures let the client write each
  book's shard and drop it as soon as it arrives, so the client's memory does not
  grow with the corpus.
- **Models**: the Punkt model (and later the phrase model) is trained once on the
  client and sent as the payload of one small task that every book task depends
  on. Dask copies its result to each worker once; each worker process builds the
  tokenizer from it once. Unlike scattered data, the task can be recomputed if
  every worker holding it dies.
- **Shards**: workers never write into the corpus folder (on a cluster it is not
  theirs to see). Each task returns its book's tokenized text compressed with
  zlib (about a third of the text's size); the client writes the shard. The
  client writes ``sentences.txt`` from the shards anyway, so this costs a third
  of what the client writes regardless, and needs no shared storage.
- **Failures**: when a worker dies, the scheduler re-runs its tasks elsewhere
  (and a task whose result was lost before the client fetched it); the client
  takes exactly one result per book, so nothing is lost or written twice. A book
  a worker cannot read comes back as "skipped" with its reason, like locally.

Sources must be readable by every worker *and* the client (which lists folders,
checks for unchanged books and reads the Punkt sample): local paths on storage
shared at the same path, ``file://`` URLs likewise, or fsspec URLs (``s3://``...,
see :mod:`corpus_tools._remote`). Every worker needs wordstack installed (same
version as the client) and the fsspec back-end of any URL used.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
import warnings
from typing import Any

from ._errors import CorpusError, CorpusToolsError
from ._executor import Executor, ModelSpec, WorkerFn, _Session, default_jobs, run_item
from ._remote import MissingDependencyError

logger = logging.getLogger(__name__)

#: Say this to ask for a LocalCluster sized to the machine.
LOCAL = "local"
EXTRA_HINT = "install the optional extra with `pip install 'wordstack[dask]'` (in a checkout: `pip install -e '.[dask]'`)"
# tcp://host:8786, tls://..., ws://..., or host:port
_ADDRESS_RE = re.compile(r"^[a-z][a-z0-9+.\-]*://\S+$|^[^\s/:]+:\d+$", re.IGNORECASE)


def import_distributed():
    """``distributed``, or an error that names the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            f"ingest on Dask (--dask, scheduler=...) needs dask[distributed], which is not installed: {EXTRA_HINT}"
        ) from exc
    return distributed


def check_scheduler(scheduler: Any, jobs: int | None = None) -> Any:
    """Validate ``scheduler`` (``"local"``, an address or a ``distributed.Client``); return it.

    Raises
    ------
    ValueError
        ``scheduler`` is none of those, or ``jobs`` is given with a cluster that
        was started elsewhere.
    """
    if jobs is not None and scheduler != LOCAL:
        raise ValueError(
            f"jobs={jobs!r} sizes the local process pool or a LocalCluster; a Dask cluster at an address "
            "has the workers it was started with: drop jobs (--jobs), or use scheduler='local' (--dask alone)"
        )
    if isinstance(scheduler, str):
        if scheduler == LOCAL or _ADDRESS_RE.match(scheduler):
            return scheduler
        raise ValueError(
            f"scheduler must be 'local' (a LocalCluster on this machine) or a Dask scheduler address such as "
            f"'tcp://host:8786', got {scheduler!r}; on the command line put --dask after the books, "
            "or give it an address"
        )
    distributed = sys.modules.get("distributed")  # a Client exists only if distributed is imported
    if distributed is not None and isinstance(scheduler, distributed.Client):
        return scheduler
    raise ValueError(
        f"scheduler must be 'local', an address such as 'tcp://host:8786' or a distributed.Client, "
        f"got {scheduler!r}"
    )


def _start_local_cluster(distributed, n_workers: int):
    """A LocalCluster of single-threaded worker processes that start with the tokenizer imported.

    Where the platform has it, workers are forked from a *forkserver* that has
    imported distributed and corpus_tools once (Dask's default, spawn, has every
    worker start a fresh interpreter and import NLTK and SciPy again: seconds of
    CPU per worker). Only the start uses it; a worker restarted later (after a
    crash) is spawned as usual.
    """
    import multiprocessing

    import dask

    try:
        from distributed.utils import get_mp_context  # reads the method when a worker starts
    except ImportError:  # pragma: no cover - older distributed fixes the method at import
        get_mp_context = None
    forkserver_ok = "forkserver" in multiprocessing.get_all_start_methods() and get_mp_context is not None
    method = "forkserver" if forkserver_ok else dask.config.get("distributed.worker.multiprocessing-method")
    # Background work of an idle-looking cluster costs real CPU next to pure-Python tasks:
    # the statistical profiler samples each worker's stack every 10 ms, the event-loop tick
    # runs every 20 ms, the system monitor every 0.5 s, the nanny's memory check every
    # 0.1 s. On a 2-core machine these settings save about a tenth of the CPU of an ingest.
    settings = {
        "distributed.worker.multiprocessing-method": method,
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "500ms",
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.worker.memory.monitor-interval": "1s",
    }
    with dask.config.set(settings):
        if method == "forkserver":
            from multiprocessing import forkserver

            ctx = get_mp_context()  # sets distributed's own forkserver preload list first
            preload = list(getattr(forkserver._forkserver, "_preload_modules", None) or [])
            if "corpus_tools._ingest" not in preload:
                ctx.set_forkserver_preload(preload + ["corpus_tools._ingest"])
        return distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.ERROR,
            # a spawned worker imports the tokenizer while it starts, not on its first book
            # (_ingest imports every worker function: _shards' tokenizer and _phrases')
            preload=["corpus_tools._ingest"],
        )


def _worker_probe() -> str:
    from importlib.metadata import version

    return version("wordstack")


def _model_payload(spec: ModelSpec) -> ModelSpec:
    return spec


class _DaskSession(_Session):
    _REFRESH_S = 5.0

    def __init__(self, client, fn: WorkerFn, model: ModelSpec):
        distributed = import_distributed()
        self.client, self.fn = client, fn
        self.run = uuid.uuid4().hex[:12]
        builder, digest, _ = model
        # The model rides in one task's arguments: the scheduler can recompute it if every
        # worker holding it dies, which scattered data cannot survive.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ll]arge.*graph.*")
            self.model_future = client.submit(_model_payload, model, pure=False,
                                              key=f"wordstack-model-{builder.__name__}-{digest[:16]}-{self.run}")
        self.completed = distributed.as_completed(loop=client.loop)
        self.pending: dict[str, tuple[Any, int, Any]] = {}
        self._window_checked = 0.0
        self._window = 2

    @property
    def window(self) -> int:
        now = time.monotonic()
        if now - self._window_checked > self._REFRESH_S:
            threads = sum(self.client.nthreads().values())
            self._window = max(2, 2 * threads)
            self._window_checked = now
        return self._window

    def submit(self, index, item):
        key = f"wordstack-{self.fn.__name__}-{self.run}-{index}"
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ll]arge.*graph.*")
            future = self.client.submit(run_item, self.fn, index, item, self.model_future, key=key, pure=False)
        self.pending[key] = (future, index, item)
        self.completed.add(future)

    def next_done(self):
        distributed = import_distributed()
        while True:
            future = next(self.completed)
            entry = self.pending.pop(future.key, None)
            if entry is None:  # already handed back once
                continue
            _, index, item = entry
            try:
                got_index, result = future.result()
            except distributed.KilledWorker as exc:
                raise CorpusError(
                    f"Dask workers kept dying while running {item!r} ({exc}); a worker may be running out of "
                    "memory: give workers more memory, or lower corpus_tools._shards.PART_CHARS"
                ) from exc
            finally:
                future.release()
            if got_index != index:  # pragma: no cover - would be a Dask bug
                raise CorpusError(f"Dask returned the result of item {got_index} for item {index}")
            return index, result

    def close(self):
        futures = [f for f, _, _ in self.pending.values()]
        if futures:
            self.client.cancel(futures)
        self.pending.clear()
        self.model_future.release()


class DaskExecutor(Executor):
    """Run ingest's per-book work on a Dask cluster.

    Parameters
    ----------
    scheduler : "local", str or distributed.Client
        ``"local"``: start a ``LocalCluster`` of ``jobs`` single-threaded worker
        processes (default: one per core) and close it afterwards. An address
        (``"tcp://host:8786"``): connect to that scheduler. A ``Client``: use it
        as it is (it is left open).
    jobs : int, optional
        Workers of the LocalCluster; only with ``"local"``.

    Raises
    ------
    MissingDependencyError
        dask[distributed] is not installed.
    CorpusToolsError
        The scheduler cannot be reached, or its workers lack wordstack.
    """

    compress = True

    def __init__(self, scheduler: Any, jobs: int | None = None):
        scheduler = check_scheduler(scheduler, jobs)
        distributed = import_distributed()
        self._cluster = None
        self._own_client = True
        if scheduler == LOCAL:
            n_workers = default_jobs() if jobs is None else jobs
            self._cluster = _start_local_cluster(distributed, n_workers)
            self.client = distributed.Client(self._cluster)
            self.where = f"a LocalCluster of {n_workers} worker process{'es' if n_workers != 1 else ''}"
        elif isinstance(scheduler, str):
            try:
                # waits up to distributed.comm.timeouts.connect (30 s by default)
                self.client = distributed.Client(scheduler)
            except (OSError, TimeoutError) as exc:
                raise CorpusToolsError(
                    f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with `dask scheduler` "
                    f"and workers with `dask worker {scheduler}`, or use --dask alone for a LocalCluster"
                ) from exc
            self.where = f"the Dask cluster at {scheduler}"
        else:
            self.client = scheduler
            self._own_client = False
            self.where = f"the Dask cluster at {scheduler.scheduler.address}"
        try:
            self._check_workers()
        except BaseException:
            self.close()
            raise
        logger.info("ingest on %s (dashboard: %s)", self.where, self.client.dashboard_link)

    def _check_workers(self) -> None:
        from importlib.metadata import version

        mine = version("wordstack")
        try:
            theirs = self.client.run(_worker_probe)
        except Exception as exc:  # noqa: BLE001 - unpickling fails on a worker without corpus_tools
            raise CorpusToolsError(
                f"the workers of {self.where} cannot run wordstack code ({type(exc).__name__}: {exc}); "
                f"install wordstack {mine} on every worker (`pip install 'wordstack[dask]'`)"
            ) from exc
        wrong = {addr: v for addr, v in theirs.items() if v != mine}
        if wrong:
            raise CorpusToolsError(
                f"workers run another wordstack version than this client ({mine}): "
                + ", ".join(f"{a} has {v}" for a, v in sorted(wrong.items()))
                + f"; install wordstack {mine} on every worker"
            )

    def describe(self) -> str:
        return self.where

    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def _session(self, fn, model, n_items):
        return _DaskSession(self.client, fn, model)

    def close(self) -> None:
        if self._own_client and getattr(self, "client", None) is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


__all__ = ["DaskExecutor", "LOCAL", "check_scheduler", "import_distributed"]
