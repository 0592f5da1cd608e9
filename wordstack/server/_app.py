"""The HTTP JSON API over a :class:`~wordstack.server.ModelSet`, and the explorer page: a
Starlette application.

Every route is a GET (HEAD too) and read-only. An API answer is the payload of the same
:mod:`wordstack._queries` function the CLI's ``--json`` prints. Errors are JSON,
``{"error": {"status", "message", ...}}``: 400 for a malformed request (the message names
the parameter and what is accepted), 404 for an unknown word when no model knows it
(with ``unknown`` and ``suggestions``, and the per-model ``results``) or an unknown
path, 405 for another method, 414 for a query string over
:data:`~wordstack.server._params.MAX_QUERY_BYTES`, 500 for a failure of the server
itself (logged with its traceback on the server's side, never sent). The routes and
their parameters are documented in ``docs/api.md``.

Where a query runs: over small models (at most :data:`INLINE_ELEMENTS` vector
elements served, the Shakespeare models' size and ten times more) on the event loop
itself, since it takes less time than handing it to a thread; over larger ones, and
maps always (scikit-learn's PCA, and its import on the first map), in Starlette's
thread pool, where numpy releases the GIL in its products, so that a slow query does
not hold up the event loop or the other requests.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import _queries
from ._models import ModelSet, complete
from ._params import MAX_COMPLETE_N, MAX_MAP_N, MAX_N, MAX_QUERY_BYTES, ApiError, Params

logger = logging.getLogger(__name__)

#: Largest total of vector elements (words x dimensions over the models served) whose
#: queries run on the event loop; larger ones run in the thread pool.
INLINE_ELEMENTS = 20_000_000

#: The explorer page and its scripts and styles, shipped as package data.
STATIC = Path(__file__).parent / "static"

#: Headers of the page: no script, style or connection from anywhere but this server.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


def _unknown_word(payload: dict) -> ApiError:
    """The 404 of a query no model could answer: the first unknown word, the suggestions of
    every model (merged, at most 10), and a message: the models' errors, or one sentence
    when they all miss the same word."""
    failed = payload["results"]
    word = failed[0]["unknown"]
    suggestions = list(dict.fromkeys(s for r in failed for s in r["suggestions"]))[:10]
    if len(failed) > 1 and all(r["unknown"] == word for r in failed):
        hint = (f"did you mean: {', '.join(suggestions)}?" if suggestions
                else "no close match either; check the spelling")
        message = f"{word!r} is not in the vocabulary of any of the {len(failed)} models; {hint}"
    else:
        message = "; ".join(r["error"] for r in failed)
    return ApiError(404, message, fields={"unknown": word, "suggestions": suggestions}, body=payload)


class _Api:
    """The handlers of the query routes: each reads its parameters and calls one query."""

    def __init__(self, model_set: ModelSet):
        self.model_set = model_set

    def _vectors(self, params: Params) -> list:
        return [m.vectors for m in self.model_set.select(params.many("model", minimum=0))]

    def models(self, params: Params) -> dict:
        return {"models": [m.describe() for m in self.model_set.models]}

    def similar(self, params: Params) -> dict:
        words = params.many("q")
        n = params.integer("n", default=10, low=1, high=MAX_N)
        return _queries.similar(self._vectors(params), words, n)

    def analogy(self, params: Params) -> dict:
        a, b, c = params.one("a"), params.one("b"), params.one("c")
        n = params.integer("n", default=10, low=1, high=MAX_N)
        restrict = params.integer("restrict_vocab", default=0, low=1, high=2**31 - 1) or None
        return _queries.analogy(self._vectors(params), a, b, c, n, restrict_vocab=restrict)

    def odd_one_out(self, params: Params) -> dict:
        return _queries.odd_one_out(self._vectors(params), params.many("w", minimum=3))

    def similarity(self, params: Params) -> dict:
        return _queries.similarity(self._vectors(params), params.one("a"), params.one("b"))

    def map(self, params: Params) -> dict:
        words = params.many("q")
        n = params.integer("n", default=10, low=2, high=MAX_MAP_N)
        return _queries.neighbourhood_map(self._vectors(params), words, n)

    def complete(self, params: Params) -> dict:
        prefix = params.one("prefix")
        n = params.integer("n", default=10, low=1, high=MAX_COMPLETE_N)
        return complete(self.model_set.select(params.many("model", minimum=0)), prefix, n)


def _endpoint(handler: Callable[[Params], dict], allowed: Iterable[str], inline: bool):
    """An API route: bounded query string, parameters checked, the query on the event loop
    (``inline``) or in the thread pool, every failure a JSON error (a server fault logged
    here, its traceback never sent)."""
    allowed = tuple(allowed)

    async def endpoint(request: Request) -> Response:
        try:
            size = len(request.scope.get("query_string", b""))
            if size > MAX_QUERY_BYTES:
                raise ApiError(414, f"the query string is {size:,} bytes long; at most {MAX_QUERY_BYTES:,} "
                                    "are accepted")
            params = Params(request.query_params.multi_items(), allowed)
            payload = handler(params) if inline else await run_in_threadpool(handler, params)
            if "results" in payload and not _queries.answered(payload["results"]):
                raise _unknown_word(payload)
            return JSONResponse(payload)
        except ApiError as exc:
            return JSONResponse(exc.to_json(), status_code=exc.status)
        except ValueError as exc:     # the libraries' refusals of a query (too few words for a map, ...)
            return error_response(400, str(exc))
        except Exception:  # noqa: BLE001 - a bug of ours: logged with its traceback, answered without it
            logger.exception("internal error answering %s?%s", request.url.path, request.url.query)
            return error_response(500, f"internal error while answering {request.url.path}; "
                                       "the server's log has the details")

    return endpoint


class HostCheck:
    """ASGI middleware: answer only requests whose ``Host`` header names this server.

    A server on the loopback interface is reachable from any web page the user's
    browser opens, through DNS rebinding (a foreign name that resolves to 127.0.0.1);
    refusing foreign ``Host`` headers closes that door. ``allowed`` are host names
    without the port.
    """

    def __init__(self, app, allowed: Iterable[str]):
        self.app = app
        allowed = [h.lower() for h in allowed]
        self.allowed = frozenset(allowed)
        self.shown = ", ".join(h for h in dict.fromkeys(allowed) if f"[{h}]" not in self.allowed)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.lower() not in self.allowed:
                response = error_response(421, f"this server answers only requests addressed to "
                                               f"{self.shown}, not {host!r}")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        message = f"no such page {request.url.path}; the API is under /api/ (see /api/models), the explorer at /"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed: the server is read-only; use GET"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, f"internal error while answering {request.url.path}; the server's log has the details")


def create_app(model_set: ModelSet, *, allowed_hosts: Iterable[str] | None = None) -> Starlette:
    """The ASGI application answering the JSON API and the explorer page from ``model_set``.

    Parameters
    ----------
    model_set : ModelSet
        The loaded models; queries answer from them side by side.
    allowed_hosts : iterable of str, optional
        When given, the host names (no port) that requests must be addressed to;
        others get 421 (see :class:`HostCheck`). :func:`wordstack.server.serve` passes
        the loopback names when it listens on loopback.

    Examples
    --------
    >>> from starlette.testclient import TestClient                          # doctest: +SKIP
    >>> app = create_app(ModelSet.load(["models/big"]))                       # doctest: +SKIP
    >>> TestClient(app).get("/api/similar", params={"q": "romeo"}).json()     # doctest: +SKIP
    """
    api = _Api(model_set)
    page = (STATIC / "index.html").read_bytes()
    inline = sum(m.vectors.unit.size for m in model_set.models) <= INLINE_ELEMENTS

    def endpoint(handler, allowed):
        return _endpoint(handler, allowed, inline)

    async def index(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/api/models", endpoint(api.models, ()), methods=["GET"]),
        Route("/api/similar", endpoint(api.similar, ("q", "n", "model")), methods=["GET"]),
        Route("/api/analogy", endpoint(api.analogy, ("a", "b", "c", "n", "restrict_vocab", "model")),
              methods=["GET"]),
        Route("/api/odd-one-out", endpoint(api.odd_one_out, ("w", "model")), methods=["GET"]),
        Route("/api/similarity", endpoint(api.similarity, ("a", "b", "model")), methods=["GET"]),
        Route("/api/map", _endpoint(api.map, ("q", "n", "model"), inline=False), methods=["GET"]),
        Route("/api/complete", endpoint(api.complete, ("prefix", "n", "model")), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _server_error})
    if allowed_hosts is not None:
        app.add_middleware(HostCheck, allowed=allowed_hosts)
    app.state.model_set = model_set
    return app


__all__ = ["HostCheck", "INLINE_ELEMENTS", "PAGE_HEADERS", "STATIC", "create_app", "error_response"]
