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
"""
from __future__ import annotations

import contextlib
import errno
import ipaddress
import signal
import socket
import threading
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


def run(app, sock: socket.socket, *, access_log: bool = False) -> int:
    """Serve ``app`` on ``sock`` with uvicorn until SIGINT or SIGTERM; the exit status.

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
            original = {sig: signal.signal(sig, self.handle_exit) for sig in EXIT_STATUS}
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


def serve(model_dirs: Sequence[str], host: str = "127.0.0.1", port: int = 8000, *, access_log: bool = False,
          on_ready: Callable[[str, object, bool], None] | None = None) -> int:
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
        The socket cannot be bound (port in use, ...).
    corpus_tools.ModelError
        A model folder is missing or damaged.
    """
    from ._app import create_app
    from ._models import ModelSet

    sock = bind(host, port)
    # the first map imports scikit-learn (a second or more): do it now, beside the loading
    threading.Thread(target=_import_pca, name="import-sklearn", daemon=True).start()
    try:
        model_set = ModelSet.load(model_dirs)
        loopback = is_loopback(sock.getsockname()[0])
        app = create_app(model_set, allowed_hosts=LOOPBACK_NAMES if loopback else None)
        if on_ready is not None:
            on_ready(url_of(sock), model_set, loopback)
        return run(app, sock, access_log=access_log)
    finally:
        sock.close()


__all__ = ["EXIT_STATUS", "KEEP_ALIVE_SECONDS", "LOOPBACK_NAMES", "MAX_CONNECTIONS", "SHUTDOWN_SECONDS",
           "ServeError", "bind", "is_loopback", "run", "serve", "url_of"]
