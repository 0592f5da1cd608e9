"""``wordstack serve``: an HTTP JSON API over word-vector models, and the explorer page.

A Starlette application (:func:`create_app`) over models loaded once
(:class:`ModelSet`: memory-mapped, no pickle), run by uvicorn (:func:`serve`). The
answers are the payloads of :mod:`wordstack._queries`, the same JSON the CLI's
``--json`` prints. Routes, parameters, bounds and errors: ``docs/api.md``.

Why Starlette on uvicorn rather than the standard library's ``http.server``: the
latter is documented as not for production; it speaks HTTP/1.0 unless told
otherwise, has no keep-alive handling worth the name, no timeouts on idle or slow
clients, no bound on concurrent connections, and one thread per connection.
uvicorn is an asyncio HTTP/1.1 server (keep-alive, pipelining-safe parsing by h11
or httptools, idle timeouts, a concurrency limit, graceful shutdown on signals);
Starlette gives routing, query multi-dicts, static files and a test client, with
two small pure-Python dependencies.

Examples
--------
>>> from wordstack.server import serve                       # doctest: +SKIP
>>> serve(["models/small", "models/big"], port=8000)         # doctest: +SKIP
"""
from ._app import HostCheck, create_app
from ._models import ModelSet, PrefixIndex, ServedModel, complete
from ._params import (MAX_COMPLETE_N, MAX_MAP_N, MAX_N, MAX_QUERY_BYTES, MAX_WORD_CHARS, MAX_WORDS, ApiError,
                      Params)
from ._run import EXIT_STATUS, MAX_WORKERS, ServeError, bind, is_loopback, run, run_workers, serve, url_of

__all__ = ["ApiError", "EXIT_STATUS", "HostCheck", "MAX_COMPLETE_N", "MAX_MAP_N", "MAX_N", "MAX_QUERY_BYTES",
           "MAX_WORDS", "MAX_WORD_CHARS", "MAX_WORKERS", "ModelSet", "Params", "PrefixIndex", "ServeError",
           "ServedModel", "bind", "complete", "create_app", "is_loopback", "run", "run_workers", "serve", "url_of"]
