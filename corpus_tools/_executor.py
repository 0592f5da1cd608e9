"""Executors: where ingest's per-book work runs — in this process, a local process pool, or Dask.

:func:`corpus_tools.ingest` plans the work (which books, split into which parts),
writes every file itself, and hands an executor only a worker function, the items
to run it on and a *model* to ship to the workers once (the Punkt tokenizer, then
the phrase model). The executor runs ``fn(item, model)`` wherever it runs things
and yields ``(index, result)`` pairs, either as they complete or in item order.

One loop (:meth:`Executor.map`) does the windowing for every executor: at most
``window`` items are out at a time (submitted and not yet handed back, including
results held back to restore item order), so memory on the client and on the
workers stays flat however many books there are, and a slow first book cannot
make later results pile up.

Models travel as a :data:`ModelSpec` ``(builder, digest, payload)``: plain data
(``payload``) and a module-level function that turns it into the object the
worker uses. Each worker process builds it once per ``digest`` and keeps it
(:func:`worker_model`), so a model is sent and built once per worker, not per task.
"""
from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import queue
import signal
import sys
from typing import Any, Callable, Iterable, Iterator

logger = logging.getLogger(__name__)

#: (builder, digest, payload): ``builder(payload)`` makes the model; ``digest`` names it.
ModelSpec = tuple[Callable[[Any], Any], str, Any]
#: A worker function: ``fn(item, model) -> result``; must be a module-level function.
WorkerFn = Callable[[Any, Any], Any]

_MODELS: dict[str, Any] = {}
_MODELS_MAX = 4


def worker_model(spec: ModelSpec) -> Any:
    """The model ``spec`` describes, built once per process and cached by its digest."""
    builder, digest, payload = spec
    key = f"{builder.__module__}.{builder.__qualname__}:{digest}"
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) >= _MODELS_MAX:
            _MODELS.clear()
        model = _MODELS[key] = builder(payload)
    return model


def run_item(fn: WorkerFn, index: int, item: Any, spec: ModelSpec) -> tuple[int, Any]:
    """What every worker runs: ``(index, fn(item, model))``."""
    return index, fn(item, worker_model(spec))


def default_jobs() -> int:
    """Cores this process may run on (its CPU affinity on Linux, else the machine's count):
    the default number of workers of ``ingest``, ``train`` and ``seq bench``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _Session:
    """One :meth:`Executor.map` call's connection to the workers."""

    window: int = 1

    def submit(self, index: int, item: Any) -> None:
        raise NotImplementedError

    def next_done(self) -> tuple[int, Any]:
        """Block until some submitted item is done; return ``(index, result)``."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class Executor:
    """Runs a worker function over items; subclasses say where.

    Attributes
    ----------
    compress : bool
        Whether worker results should be compressed for the trip back (true when
        they cross a network).
    """

    compress: bool = False

    def _session(self, fn: WorkerFn, model: ModelSpec, n_items: int | None) -> _Session:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__

    def slots(self) -> int:
        """How many items can run at once (worker processes or threads)."""
        return 1

    def map(self, fn: WorkerFn, items: Iterable[Any], model: ModelSpec, *, n_items: int | None = None,
            ordered: bool = False) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(item, model))`` for every item, each index exactly once.

        Parameters
        ----------
        fn : callable
            Module-level function ``fn(item, model)``.
        items : iterable
            Consumed lazily, at most ``window`` ahead of what has been yielded.
        model : ModelSpec
            Built once per worker process.
        n_items : int, optional
            How many items there are, at least (a pool starts no more workers
            than that; 0 starts none).
        ordered : bool
            Yield in item order (results that finish early are held back, and
            count against the window) instead of as they complete.
        """
        if n_items == 0:
            return
        session = self._session(fn, model, n_items)
        try:
            pending = enumerate(items)
            exhausted = False
            outstanding = 0  # submitted and not yet yielded
            held: dict[int, Any] = {}
            next_out = 0
            while True:
                while not exhausted and outstanding < session.window:
                    nxt = next(pending, None)
                    if nxt is None:
                        exhausted = True
                    else:
                        session.submit(*nxt)
                        outstanding += 1
                if outstanding == 0:
                    return
                index, result = session.next_done()
                if not ordered:
                    outstanding -= 1
                    yield index, result
                    continue
                held[index] = result
                while next_out in held:
                    outstanding -= 1
                    yield next_out, held.pop(next_out)
                    next_out += 1
        finally:
            session.close()

    def close(self) -> None:
        """Release the workers (a no-op for executors that start them per map)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----------------------------------------------------------------------------- local


class _InlineSession(_Session):
    window = 1

    def __init__(self, fn: WorkerFn, model: ModelSpec):
        self.fn, self.model = fn, model
        self.queue: collections.deque = collections.deque()

    def submit(self, index, item):
        self.queue.append((index, item))

    def next_done(self):
        index, item = self.queue.popleft()
        return run_item(self.fn, index, item, self.model)


_POOL_MODEL: list = []


def _init_pool_worker(spec: ModelSpec) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it (it terminates the
    # pool and says so in one line); a worker interrupted too would print its traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _POOL_MODEL[:] = [spec]
    worker_model(spec)


def _pool_run(fn: WorkerFn, index: int, item: Any) -> tuple[int, Any]:
    return run_item(fn, index, item, _POOL_MODEL[0])


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _pool_context():
    # fork starts workers in milliseconds with NLTK already imported; elsewhere spawn.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _PoolSession(_Session):
    def __init__(self, fn: WorkerFn, model: ModelSpec, processes: int):
        self.fn = fn
        self.window = 2 * processes
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.pool = _pool_context().Pool(processes, initializer=_init_pool_worker, initargs=(model,))

    def submit(self, index, item):
        self.pool.apply_async(_pool_run, (self.fn, index, item), callback=self.done.put,
                              error_callback=lambda exc: self.done.put(_Failed(exc)))

    def next_done(self):
        got = self.done.get()
        if isinstance(got, _Failed):
            raise got.exc
        return got

    def close(self):
        self.pool.terminate()
        self.pool.join()


class LocalExecutor(Executor):
    """This machine: ``jobs`` worker processes (fork on Linux), or this process when one is enough.

    Parameters
    ----------
    jobs : int
        Worker processes; a map over fewer items than ``jobs`` starts fewer, and
        a map that needs only one runs in this process.
    """

    compress = False

    def __init__(self, jobs: int):
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
        self.jobs = jobs

    def describe(self) -> str:
        return f"{self.jobs} local process{'es' if self.jobs != 1 else ''}"

    def slots(self) -> int:
        return self.jobs

    def _session(self, fn, model, n_items):
        processes = self.jobs if n_items is None else min(self.jobs, n_items)
        if processes <= 1:
            return _InlineSession(fn, model)
        return _PoolSession(fn, model, processes)


__all__ = ["Executor", "LocalExecutor", "ModelSpec", "default_jobs", "run_item", "worker_model"]
