"""Reading a request's query parameters within bounds, and the API's error.

Every parameter is checked before any model is asked: an unknown name, a value
given twice where one is expected, a missing or empty one, one too long, too many
words or an ``n`` out of range is an :class:`ApiError` with status 400 whose message
names the parameter, what was received and what is accepted.
"""
from __future__ import annotations

from typing import Iterable

#: The longest query string accepted, in bytes (longer: 414 URI Too Long).
MAX_QUERY_BYTES = 4096
#: The longest word, phrase or prefix accepted, in characters.
MAX_WORD_CHARS = 100
#: The most words one query may hold (``q`` values split on spaces, odd-one-out's ``w``).
MAX_WORDS = 20
#: Bounds of ``n``: neighbours of ``similar``, answers of ``analogy``.
MAX_N = 100
#: Bounds of ``n`` of ``map`` (a map shows each neighbour's label).
MAX_MAP_N = 50
#: Bounds of ``n`` of ``complete``.
MAX_COMPLETE_N = 50


class ApiError(Exception):
    """A request the API answers with an error: HTTP ``status``, a ``message`` naming the
    problem and the fix, and optional fields of the error object (``unknown``,
    ``suggestions``) and of the body (``body``: the query's per-model results)."""

    def __init__(self, status: int, message: str, *, fields: dict | None = None, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.body = body or {}

    def to_json(self) -> dict:
        """The response body: ``{"error": {"status", "message", ...fields}, ...body}``."""
        return {"error": {"status": self.status, "message": self.message, **self.fields}, **self.body}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


class Params:
    """The query parameters of one request (a multi-dict: ``?w=a&w=b``), read within bounds.

    Parameters
    ----------
    items : iterable of (str, str)
        The decoded parameters in order (Starlette's ``request.query_params.multi_items()``).
    allowed : iterable of str
        The names this endpoint takes; any other is refused, so a typo (``?nn=5``)
        is an error rather than silently ignored.
    """

    def __init__(self, items: Iterable[tuple[str, str]], allowed: Iterable[str]):
        allowed = tuple(allowed)
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            if name not in allowed:
                takes = ", ".join(allowed) if allowed else "no parameters"
                raise bad_request(f"unknown parameter {name!r}; this endpoint takes {takes}")
            self._values.setdefault(name, []).append(value)

    def _checked(self, name: str, value: str) -> str:
        value = value.strip()
        if len(value) > MAX_WORD_CHARS:
            raise bad_request(f"{name} is {len(value)} characters long; at most {MAX_WORD_CHARS} are accepted")
        return value

    def one(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        """The single value of ``name`` (stripped, non-empty when required)."""
        values = self._values.get(name, [])
        if len(values) > 1:
            raise bad_request(f"{name} was given {len(values)} times; give it once")
        if not values or not values[0].strip():
            if required:
                raise bad_request(f"{name} is missing; give it as ?{name}=...")
            return default
        return self._checked(name, values[0])

    def many(self, name: str, *, minimum: int = 1) -> list[str]:
        """The non-empty values of ``name`` in order; their words together at most :data:`MAX_WORDS`."""
        values = [self._checked(name, v) for v in self._values.get(name, [])]
        values = [v for v in values if v]
        words = sum(len(v.split()) for v in values)
        if words > MAX_WORDS:
            raise bad_request(f"{name} holds {words} words; at most {MAX_WORDS} are accepted")
        if len(values) < minimum:
            if minimum == 1:
                raise bad_request(f"{name} is missing; give it as ?{name}=...")
            raise bad_request(f"{name} needs at least {minimum} values (repeat it: ?{name}=...&{name}=...), "
                              f"got {len(values)}")
        return values

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        """The integer ``name`` (default ``default``), within ``[low, high]``."""
        text = self.one(name, required=False)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise bad_request(f"{name} must be an integer, got {text!r}") from None
        if not low <= value <= high:
            raise bad_request(f"{name} must be between {low} and {high}, got {value}")
        return value


__all__ = ["ApiError", "MAX_COMPLETE_N", "MAX_MAP_N", "MAX_N", "MAX_QUERY_BYTES", "MAX_WORDS",
           "MAX_WORD_CHARS", "Params", "bad_request"]
