"""The word-vector queries and their JSON shapes: one implementation for every front end.

The CLI (``similar``, ``analogy``, ``odd-one-out`` and their ``--json``; the tables of
:mod:`wordstack._output` are drawn from the same payloads) and the HTTP server
(:mod:`wordstack.server`) both call these functions, so a word asked on either gets
the same answer in the same shape.

Each function takes the loaded models, side by side (a list of
``corpus_tools.Vectors``), and returns a JSON-ready payload: the query, then
``results``, one entry per model in the order given. An entry is
:func:`model_entry` (``model``, ``label``, ``vector_size``, ``epochs``) plus that
model's answer (``neighbors``, ``odd`` and ``scores``, ``similarity``, ``points``),
or, when a query word is not in its vocabulary, ``error`` (the message),
``unknown`` (the word) and ``suggestions`` (close vocabulary words). Scores are
cosines rounded to 6 decimals.

``corpus_tools`` is imported inside the functions: answering needs numpy only, and
``wordstack --help`` stays fast.
"""
from __future__ import annotations

from typing import Callable, Sequence

#: Decimals kept of a cosine in JSON (float32 vectors carry about 7).
SCORE_DECIMALS = 6


def model_entry(vecs) -> dict:
    """How a model is named in per-model results: folder, label, dimensions, epochs."""
    return {
        "model": str(vecs.path),
        "label": vecs.label,
        "vector_size": vecs.vector_size,
        "epochs": vecs.meta.get("params", {}).get("epochs"),
    }


def per_model(vectors_list, query: Callable[..., dict]) -> list[dict]:
    """Run ``query(vecs)`` on each model; an unknown word becomes an error entry with suggestions.

    Each entry is :func:`model_entry` plus what ``query`` returned, or ``error``,
    ``unknown`` (the word) and ``suggestions``.
    """
    import corpus_tools as ct

    out = []
    for vecs in vectors_list:
        entry = model_entry(vecs)
        try:
            entry.update(query(vecs))
        except ct.UnknownWordError as exc:
            entry["error"] = str(exc)
            entry["unknown"] = exc.word
            entry["suggestions"] = exc.suggestions
        out.append(entry)
    return out


def answered(results: list[dict]) -> bool:
    """True when at least one model answered."""
    return any("error" not in r for r in results)


def neighbors_json(neighbors) -> list[dict]:
    """A neighbour list (``corpus_tools.Neighbor``) as JSON: word and score."""
    return [{"word": nb.word, "score": round(nb.score, SCORE_DECIMALS)} for nb in neighbors]


def query_text(words: str | Sequence[str]) -> str:
    """How a query of one text or several words is shown: the words joined by spaces."""
    return words if isinstance(words, str) else " ".join(words)


# ----------------------------------------------------------------------------- the queries


def subword_marks(vecs, words) -> dict:
    """Which of ``words`` the model built from subwords (fastText n-grams): ``from_subwords``
    (any of them) and ``subword_terms`` (those words), for a per-model result."""
    built = [w for w in words if vecs.from_subwords(w)]
    return {"from_subwords": bool(built), "subword_terms": built}


def similar(vectors_list, words: str | Sequence[str], topn: int, *, with_terms: bool = False,
            exact: bool = False) -> dict:
    """Nearest words to ``words`` in each model: ``{"query", "results": [... "neighbors"]}``.

    ``words`` is a list (several words: their normalised sum) or a line of text; in
    both, known phrases are joined first (``corpus_tools.query_terms``). With
    ``with_terms`` each answer also holds ``terms``, the words as the model spells them.
    ``exact`` bypasses the models' nearest-neighbour indexes (``wordstack index``).
    """
    import corpus_tools as ct

    def query(vecs):
        terms = ct.query_terms(vecs, words)
        neighbors = neighbors_json(vecs.most_similar(terms, topn=topn, exact=exact))
        answer = {"terms": terms, "neighbors": neighbors} if with_terms else {"neighbors": neighbors}
        return {**answer, **subword_marks(vecs, terms)}

    return {"query": query_text(words), "results": per_model(vectors_list, query)}


def analogy(vectors_list, a: str, b: str, c: str, topn: int, *, restrict_vocab: int | None = None,
            exact: bool = False) -> dict:
    """``a : b :: c : ?`` in each model, the words nearest ``b - a + c`` (3CosAdd):
    ``{"query": {"a", "b", "c"}, "results": [... "neighbors"]}``; ``exact`` bypasses
    the models' nearest-neighbour indexes."""

    def query(vecs):
        return {"neighbors": neighbors_json(vecs.analogy(a, b, c, topn, restrict_vocab=restrict_vocab, exact=exact)),
                **subword_marks(vecs, [a, b, c])}

    return {"query": {"a": a, "b": b, "c": c}, "results": per_model(vectors_list, query)}


def odd_one_out(vectors_list, words: Sequence[str]) -> dict:
    """The word of ``words`` (at least 3) that fits least, in each model:
    ``{"words", "results": [... "odd", "scores"]}``, ``scores`` lowest first.

    Raises
    ------
    ValueError
        Fewer than 3 words.
    """
    words = list(words)
    if len(words) < 3:
        raise ValueError(f"odd-one-out needs at least 3 words, got {len(words)}")

    def query(vecs):
        odd, ranked = vecs.doesnt_match(words)
        marks = subword_marks(vecs, words)
        built = set(marks["subword_terms"])
        scores = [{**s, "from_subwords": s["word"] in built} for s in neighbors_json(ranked)]
        return {"odd": odd, "scores": scores, **marks}

    return {"words": words, "results": per_model(vectors_list, query)}


def similarity(vectors_list, a: str, b: str) -> dict:
    """The cosine of two words (or phrases) in each model:
    ``{"query": {"a", "b"}, "results": [... "similarity"]}``."""

    def query(vecs):
        return {"similarity": round(vecs.similarity(a, b), SCORE_DECIMALS), **subword_marks(vecs, [a, b])}

    return {"query": {"a": a, "b": b}, "results": per_model(vectors_list, query)}


def neighbourhood_map(vectors_list, words: str | Sequence[str], topn: int) -> dict:
    """A 2-D map (PCA) of the query and its ``topn`` nearest words, in each model:
    ``{"query", "results": [... "terms", "neighbors", and the fields of a map]}``.

    The fields of a map are those of ``wordstack map --json``
    (``corpus_tools.WordMap.to_dict``: ``method``, ``seed``, ``explained_variance``,
    ``points`` with ``word``, ``x``, ``y``, and ``skipped``); ``points`` holds the
    query terms first, then the neighbours best first. ``topn`` must be at least 2,
    so that a map has three points.
    """
    import corpus_tools as ct

    if topn < 2:
        raise ValueError(f"a map needs at least 2 neighbours, got {topn}")

    def query(vecs):
        terms = ct.query_terms(vecs, words)
        neighbors = vecs.most_similar(terms, topn=topn)
        wm = ct.map_words(vecs, [*terms, *(nb.word for nb in neighbors)], method="pca")
        return {"terms": terms, "neighbors": neighbors_json(neighbors), **wm.to_dict()}

    return {"query": query_text(words), "results": per_model(vectors_list, query)}


__all__ = ["SCORE_DECIMALS", "analogy", "answered", "model_entry", "neighbors_json", "neighbourhood_map",
           "odd_one_out", "per_model", "query_text", "similar", "similarity", "subword_marks"]
