"""Running the application: the listening socket, uvicorn, and how the server stops.

The socket is bound here, before uvicorn starts, so that a port in use, a port that
needs privileges or a host that is not this machine's is one clear
:class:`ServeError`, and ``port=0`` (a free port, for tests and scripts) reports the
port it got. uvicorn serves HTTP/1.1 with keep-alive on it, idle connections closed
after :data:`KEEP_ALIVE_SECONDS`, at most :data:`MAX_CONNECTIONS` requests in flight
(503 beyond), request heads bounded by its parser.

SIGINT (Ctrl-C) and SIGTERM stop the server gracefully: no new connections, the
requests in flight answered (for at most :data:`SHUTDOWN_SECONDS`); :func:`serve`
then returns 130 or 143, the exit statuses the other commands use for them.

``workers=N`` (``--workers``) forks N worker processes once the models are loaded and
the socket listens (POSIX only): each runs uvicorn on the same socket and answers
from the same memory-mapped vectors (the page cache holds one copy), so N cores answer
at once, where one Python process answers on one core at a time (the GIL). The parent
only supervises: it turns SIGINT or SIGTERM into a graceful stop of every worker,
replaces a worker that dies (a crash loop stops the server instead), and its workers
end with it (Linux: the parent-death signal).
"""
from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from typing import Callable, Sequence

#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_SECONDS = 5
#: Requests (and connections) in flight at once; more get 503 Service Unavailable.
MAX_CONNECTIONS = 256
#: Seconds a stopping server waits for the requests in flight.
SHUTDOWN_SECONDS = 5
#: Exit status of a server stopped by each signal (128 + the signal's number, as shells report).
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: Host names of the loopback interface, allowed in the ``Host`` header of a loopback server.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Most worker processes a server forks.
MAX_WORKERS = 64
#: A worker that dies within this many seconds of its start counts towards a crash loop...
CRASH_SECONDS = 5.0
#: ...and this many such deaths in a row stop the server (status 1) instead of another restart.
CRASH_LIMIT = 3


class ServeError(Exception):
    """The server cannot start: the message names the problem (port in use, ...) and the fix."""


def is_loopback(address: str) -> bool:
    """True for an address of the loopback interface (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (``port=0``: a free one).

    Raises
    ------
    ServeError
        The host is not an address of this machine, the port is in use, or binding
        it needs privileges; the message says what to change.
    """
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ServeError(f"port must be an integer from 0 to 65535, got {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on host {host!r}: {exc.strerror}; give an address of this machine "
                         "(--host 127.0.0.1 is the default)") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # a restart reuses the port at once
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is in use (another wordstack serve, or another server); "
                             "choose another with --port, or --port 0 for a free one") from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"listening on port {port} needs privileges; choose a port above 1023 "
                             "with --port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"{host} is not an address of this machine; give one of its addresses "
                             "with --host (127.0.0.1 is the default)") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    """The http:// URL a bound socket answers at (IPv6 addresses in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(app, sock: socket.socket, *, access_log: bool = False, worker: bool = False) -> int:
    """Serve ``app`` on ``sock`` with uvicorn until SIGINT or SIGTERM; the exit status.

    ``worker``: a worker of :func:`run_workers`; it stops on SIGTERM only (its parent
    sends that for Ctrl-C too; the Ctrl-C a terminal sends to the whole process group
    is ignored, or uvicorn would take the second signal for an impatient user and
    drop the requests in flight).

    Returns
    -------
    int
        130 after SIGINT, 143 after SIGTERM (:data:`EXIT_STATUS`), 0 when the server
        stopped otherwise.
    """
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, minus its re-raising of the stopping signal after shutdown:
        the caller turns the signal into an exit status."""

        stopped_by: int | None = None

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            original = {sig: signal.signal(sig, signal.SIG_IGN if worker and sig == signal.SIGINT
                                           else self.handle_exit) for sig in EXIT_STATUS}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig, frame):
            if self.stopped_by is None:
                self.stopped_by = sig
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, lifespan="off", ws="none", interface="asgi3", log_level="warning", access_log=access_log,
        timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=SHUTDOWN_SECONDS, server_header=False, proxy_headers=False,
    )
    server = Server(config)
    with one_blas_thread():
        server.run(sockets=[sock])
    return EXIT_STATUS.get(server.stopped_by, 0)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(sig).name}"
        except ValueError:   # pragma: no cover - a signal Python has no name for
            return f"killed by signal {sig}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _worker_main(app, sock: socket.socket, parent: int, access_log: bool) -> int:
    """In a forked worker: end with the parent (Linux), then serve."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
        except (OSError, AttributeError):   # pragma: no cover - a libc without prctl
            pass
    if os.getppid() != parent:              # the parent died before the line above
        return 0
    # libuv (uvloop) accepts every pending connection in one wake-up, so one worker took
    # both of two clients connecting at once while the other idled; with this it accepts
    # one, then yields, and the next connection goes to another worker (read at first use)
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    return run(app, sock, access_log=access_log, worker=True)


def run_workers(app, sock: socket.socket, workers: int, *, access_log: bool = False,
                log: Callable[[str], None] | None = None) -> int:
    """Serve ``app`` on ``sock`` from ``workers`` forked processes until SIGINT or SIGTERM.

    Call it with no other thread running (a fork copies only the calling thread; a
    lock another one held would stay locked in the workers). The parent forwards
    SIGINT and SIGTERM to every worker as SIGTERM (a graceful stop), waits for them,
    and returns 130 or 143. A worker that ends while the server is not stopping is
    reported through ``log`` and replaced; :data:`CRASH_LIMIT` workers in a row that
    end within :data:`CRASH_SECONDS` of their start stop the server with status 1.

    Returns
    -------
    int
        130 after SIGINT, 143 after SIGTERM, 1 after a crash loop.
    """
    if not hasattr(os, "fork"):
        raise ServeError("more than one worker needs fork (Linux, macOS); on this system serve with --workers 1")
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    parent = os.getpid()
    children: dict[int, float] = {}
    stopping: list[int] = []

    def start() -> None:
        # the stopping signals are held across the fork: the parent's handler must not run
        # in a worker (it would stop the worker's siblings), nor miss a worker not yet listed
        signal.pthread_sigmask(signal.SIG_BLOCK, list(EXIT_STATUS))
        try:
            pid = os.fork()
            if pid == 0:
                for sig in EXIT_STATUS:
                    signal.signal(sig, signal.SIG_IGN if sig == signal.SIGINT else signal.SIG_DFL)
            else:
                children[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, list(EXIT_STATUS))
        if pid == 0:                                                 # the worker
            status = 1
            try:
                status = _worker_main(app, sock, parent, access_log)
            except BaseException:                                    # noqa: BLE001 - reported, then gone
                import traceback

                traceback.print_exc()
            finally:
                os._exit(status)

    def stop(sig, frame) -> None:
        if not stopping:
            stopping.append(sig)
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    original = {sig: signal.signal(sig, stop) for sig in EXIT_STATUS}
    crashes = 0
    crash_loop = False
    try:
        for _ in range(workers):
            start()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:   # pragma: no cover - every child already reaped
                break
            started = children.pop(pid, None)
            if started is None or stopping:
                continue
            crashes = crashes + 1 if time.monotonic() - started < CRASH_SECONDS else 1
            if crashes >= CRASH_LIMIT:
                log(f"wordstack serve: {crashes} workers in a row ended within {CRASH_SECONDS:g} s of their start "
                    f"(the last: {_describe(status)}); stopping the server")
                crash_loop = True
                stop(signal.SIGTERM, None)
                continue
            log(f"wordstack serve: worker {pid} ended ({_describe(status)}); starting another")
            start()
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
    if crash_loop:
        return 1
    return EXIT_STATUS.get(stopping[0], 0) if stopping else 0


def one_blas_thread():
    """Run BLAS on one thread per query while serving.

    The server's concurrency comes from its requests; a BLAS pool per product on top
    made a Shakespeare-sized query five times slower alone and twenty times slower
    beside a second one (threads spinning against each other on 2 cores).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _import_pca() -> None:
    try:
        import sklearn.decomposition  # noqa: F401
    except ImportError:   # pragma: no cover - a broken install; the first map will say so
        pass


def serve(model_dirs: Sequence[str], host: str = "127.0.0.1", port: int = 8000, *, workers: int = 1,
          access_log: bool = False, on_ready: Callable[[str, object, bool], None] | None = None) -> int:
    """Load ``model_dirs`` once and answer the JSON API and the explorer page until stopped.

    Parameters
    ----------
    model_dirs : sequence of str
        Model folders, served side by side in this order.
    host : str, default "127.0.0.1"
        The address to listen on. A loopback server answers only requests addressed
        to a loopback name (``Host`` header; see :class:`~wordstack.server.HostCheck`).
    port : int, default 8000
        0 takes a free port (``on_ready`` receives the URL).
    workers : int, default 1
        Processes answering requests (see the module docstring): one per core lets
        every core answer; 1 answers on one core at a time. More than one needs fork
        (POSIX).
    access_log : bool
        Log one line per request (uvicorn's access log).
    on_ready : callable, optional
        Called with the URL, the :class:`~wordstack.server.ModelSet` and whether the
        socket is on loopback, once the models are loaded and the socket listens,
        before the first request is answered.

    Returns
    -------
    int
        The exit status: 130 after Ctrl-C, 143 after SIGTERM.

    Raises
    ------
    ServeError
        The socket cannot be bound (port in use, ...), or ``workers`` is out of range.
    corpus_tools.ModelError
        A model folder is missing or damaged.
    """
    from ._app import create_app
    from ._models import ModelSet

    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ServeError(f"workers must be an integer from 1 to {MAX_WORKERS}, got {workers!r}; one per core "
                         f"({os.cpu_count() or 1} here) is usual")
    if workers > 1 and not hasattr(os, "fork"):
        raise ServeError("more than one worker needs fork (Linux, macOS); on this system serve with --workers 1")
    sock = bind(host, port)
    # the first map imports scikit-learn (a second or more): do it now, beside the loading
    importer = threading.Thread(target=_import_pca, name="import-sklearn", daemon=True)
    importer.start()
    try:
        model_set = ModelSet.load(model_dirs)
        loopback = is_loopback(sock.getsockname()[0])
        app = create_app(model_set, allowed_hosts=LOOPBACK_NAMES if loopback else None)
        if workers > 1:
            importer.join()       # no other thread at the fork (and the workers share the import)
        if on_ready is not None:
            on_ready(url_of(sock), model_set, loopback)
        if workers > 1:
            return run_workers(app, sock, workers, access_log=access_log)
        return run(app, sock, access_log=access_log)
    finally:
        sock.close()


__all__ = ["CRASH_LIMIT", "CRASH_SECONDS", "EXIT_STATUS", "KEEP_ALIVE_SECONDS", "LOOPBACK_NAMES", "MAX_CONNECTIONS",
           "MAX_WORKERS", "SHUTDOWN_SECONDS", "ServeError", "bind", "is_loopback", "run", "run_workers", "serve",
           "url_of"]
