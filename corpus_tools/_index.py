"""Approximate nearest-neighbour index of a model folder: faiss HNSW over the unit rows.

An HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor
search using Hierarchical Navigable Small World graphs", arXiv 1603.09320), built by
faiss (``IndexHNSWFlat``, inner product: the rows are unit length, so the inner
product is the cosine). A query visits a few thousand rows instead of all of them.

Storage: ``index-<16 hex digits>.faiss`` in the model folder, faiss's own binary
format (no pickle), recorded under ``index`` in ``meta.json``:

``file``, ``file_size``
    The index file and its size (a file of another size is refused unread).
``library``, ``library_version``, ``kind``, ``metric``
    ``faiss``, its version, ``HNSW,Flat``, ``inner_product``.
``M``, ``ef_construction``, ``ef_search``, ``ef_search_analogy``
    The graph's links per node, the search width while building, and the search
    widths queries use: for one word (``similar``), the smallest of
    :data:`EF_LADDER` that reached ``target_recall`` on the tuning words (unless
    given); for a sum of several words (``analogy``: the normalised b - a + c, which
    lies between words, where the graph is sparser), the same on tuning triples.
``vectors_fingerprint``
    :func:`vectors_fingerprint` of ``vectors.npy`` when the index was built: SHA-256 of
    the shape and of 1,024 evenly spaced rows (first and last included). It reads
    1,024 rows whatever the model's size, and changes when the model is re-trained,
    re-imported, reordered or cut; an edit of a single row it does not sample goes
    unnoticed (as it would for any check that does not read the whole matrix).
``recall_at_10``, ``recall_at_10_analogy``, ``recall_queries``, ``tuning_queries``, ``target_recall``, ``seed``
    The recall@10 against exact search, measured on ``recall_queries`` vocabulary
    words (and as many triples) drawn at random (``seed``) and disjoint from the
    ``tuning_queries`` ones that chose the search widths: the fraction of each
    query's 10 exact nearest neighbours (the query words excluded) that the index
    finds, through the same search as :meth:`corpus_tools.Vectors.most_similar`.
``build_seconds``, ``query_ms``
    Time to build the graph; median time of one query (one thread) while measuring.

Building takes the folder's lock (:data:`corpus_tools._model_dir.INDEX_LOCK`), writes
the index under a fresh name, then switches ``meta.json`` to it in one rename: a killed
build leaves the folder answering as before, and its stray file is removed by the next
build, which also removes the index it replaces (only files named as wordstack names
them). Loading checks the record, the file's size against the vectors' shape, the faiss
header, the fingerprint and the graph's arrays (every neighbour a row of the model)
before a query runs: an index that does not match the vectors is refused with
:class:`IndexMismatchError`. The vectors are memory-mapped from the index file
(faiss's ``IO_FLAG_MMAP_IFC``): opening an index reads the graph only.
"""
from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ._errors import ModelError
from ._model_dir import INDEX_FILE, INDEX_LOCK, META, VECTORS, check_model_files, index_file_name
from .atomic import atomic_path, exclusive_lock

#: The search widths tried when ``ef_search`` is chosen by recall, smallest first.
EF_LADDER = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
#: Rows of the fingerprint.
FINGERPRINT_ROWS = 1024
_ADD_BLOCK = 1 << 16
_EXACT_BLOCK = 1 << 14


class IndexMismatchError(ModelError):
    """A model folder's index does not match its vectors (stale, altered or not an index)."""


def vectors_fingerprint(unit: np.ndarray) -> str:
    """SHA-256 of the shape of ``unit`` (V, D) and of 1,024 evenly spaced rows (see the module docstring)."""
    n_rows, dim = unit.shape
    rows = np.unique(np.linspace(0, n_rows - 1, num=min(n_rows, FINGERPRINT_ROWS)).astype(np.int64)) \
        if n_rows else np.empty(0, np.int64)
    digest = hashlib.sha256(f"wordstack-rows/1 {n_rows} {dim} float32\n".encode("ascii"))
    digest.update(np.ascontiguousarray(unit[rows], dtype="<f4").tobytes())
    return "sha256:" + digest.hexdigest()


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a dependency
        from ._remote import MissingDependencyError

        raise MissingDependencyError(
            "the nearest-neighbour index needs faiss: pip install faiss-cpu (or query with --exact / exact=True)"
        ) from exc
    return faiss


@dataclass
class IndexResult:
    """What :func:`build_index` built.

    Attributes
    ----------
    path : Path
        The index file.
    info : dict
        What ``meta.json`` now records under ``index`` (see the module docstring).
    vocab_size, vector_size : int
    target_met : bool
        Whether the search widths reached ``target_recall`` on the tuning queries.
    missed : tuple of str
        The query kinds (``"word"``, ``"analogy"``) whose widest search width tried
        stayed below ``target_recall`` (empty when the target was met).
    """

    path: Path
    info: dict
    vocab_size: int
    vector_size: int
    missed: tuple = ()

    @property
    def target_met(self) -> bool:
        """Whether the search widths reached ``target_recall`` on the tuning queries (nothing :attr:`missed`)."""
        return not self.missed


def exact_top(unit: np.ndarray, queries: np.ndarray, exclude: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` rows of ``unit`` with the highest inner product with each query, by exact search.

    Parameters
    ----------
    unit : ndarray of shape (V, D)
    queries : ndarray of shape (Q, D)
    exclude : int ndarray of shape (Q, E)
        Rows left out of each query's answer (the query words).
    k : int

    Returns
    -------
    ndarray of shape (Q, k), int64
        Best first. The matrix is read in blocks of 16,384 rows (memory: Q x 16,384 scores).
    """
    queries = np.asarray(queries, dtype=np.float32)                         # (Q, D)
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)          # (Q, k)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for s in range(0, len(unit), _EXACT_BLOCK):
        block = np.asarray(unit[s:s + _EXACT_BLOCK], dtype=np.float32)
        scores = queries @ block.T                                           # (Q, b)
        for col in exclude.T:
            mine = (col >= s) & (col < s + len(block))
            scores[np.flatnonzero(mine), col[mine] - s] = -np.inf
        both_s = np.concatenate([best_s, scores], axis=1)
        both_i = np.concatenate([best_i, np.broadcast_to(np.arange(s, s + len(block)), scores.shape)], axis=1)
        top = np.argpartition(-both_s, k - 1, axis=1)[:, :k]
        best_s = np.take_along_axis(both_s, top, axis=1)
        best_i = np.take_along_axis(both_i, top, axis=1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, axis=1)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each row of ``truth`` found in the same row of ``found``."""
    k = truth.shape[1]
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / k for f, t in zip(found, truth)]))


def _ann_top(index, queries: np.ndarray, exclude: np.ndarray, k: int, ef: int) -> np.ndarray:
    """What the index answers for each query, ``exclude`` dropped, ``k`` rows (padded with -1)."""
    faiss = _faiss()
    params = faiss.SearchParametersHNSW()
    params.efSearch = max(ef, k + exclude.shape[1])
    _, found = index.search(np.ascontiguousarray(queries, dtype=np.float32), k + exclude.shape[1], params=params)
    out = np.full((len(found), k), -1, dtype=np.int64)
    for i, (row, drop) in enumerate(zip(found, exclude)):
        kept = row[~np.isin(row, drop) & (row >= 0)][:k]
        out[i, :len(kept)] = kept
    return out


#: The two kinds of queries an index is tuned and measured on: a word's own row
#: (``similar``), and the normalised b - a + c of three words (``analogy``), which lies
#: between the words and needs a wider search to find the same share of neighbours.
QUERY_KINDS = ("word", "analogy")


def _queries(unit: np.ndarray, rows: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Query vectors (Q, D) and the rows each excludes (Q, E), from ``rows`` (Q*E drawn words)."""
    if kind == "word":
        return np.asarray(unit[rows], dtype=np.float32), rows[:, None]
    triples = rows.reshape(-1, 3)
    a, b, c = (np.asarray(unit[triples[:, j]], dtype=np.float64) for j in range(3))
    q = b - a + c
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
    return q.astype(np.float32), triples


def build_index(model_dir: str | os.PathLike, *, m: int = 32, ef_construction: int = 200,
                ef_search: int | None = None, target_recall: float = 0.98, queries: int = 1000,
                seed: int = 0, threads: int | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> IndexResult:
    """Build (or rebuild) the nearest-neighbour index of a model folder, in place.

    Parameters
    ----------
    model_dir : str or path
        A wordstack model folder; the index is added to it (see the module docstring).
    m : int, default 32
        Links per node of the HNSW graph (faiss's ``M``): more is better recall and
        more memory (about ``8 M`` bytes a word). On a clustered 1M x 300 model, 32
        reached recall@10 0.98 at search width 128 (1.2 ms a query on a busy machine),
        16 only at 192 (3.8 ms): the wider graph costs 10% more file and build time.
    ef_construction : int, default 200
        Search width while building: more is a better graph, built more slowly. On the
        clustered 1M x 300 model (same machine, same vectors), 200 reached the 0.98
        recall target at search width 96, with 0.988 on held-out words, where 100 needed
        128 and held out only 0.982 (0.976 on other words in an earlier session: at the
        threshold); queries back to back took 0.39 against 0.46 ms; the build took 361
        against 177 s on 2 cores.
    ef_search : int, optional
        Search width of queries. Default: the smallest of :data:`EF_LADDER` whose
        recall@10 on the tuning words reaches ``target_recall``.
    target_recall : float, default 0.98
    queries : int, default 1000
        Words whose recall is measured (and as many more to choose ``ef_search``),
        at most half the vocabulary each.
    seed : int, default 0
        Draws the words. faiss's graph is deterministic for one thread; with
        several, its links depend on their timing (recall varies by ~0.001).
    threads : int, optional
        Threads faiss builds with (default: all cores).
    progress : callable, optional
        ``progress(stage, done, total)``: stage ``"add"`` (rows added), ``"exact"``
        (words whose exact neighbours are found), ``"tune"`` (search widths tried).

    Returns
    -------
    IndexResult

    Raises
    ------
    ModelError
        ``model_dir`` is not a readable model folder, or has fewer than 20 words.
    ValueError
        A parameter is out of range.
    """
    faiss = _faiss()
    for name, value, low in (("m", m, 2), ("ef_construction", ef_construction, 1), ("queries", queries, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if ef_search is not None and (isinstance(ef_search, bool) or not isinstance(ef_search, int) or ef_search < 1):
        raise ValueError(f"ef_search must be an integer >= 1, got {ef_search!r}")
    if not 0 < target_recall <= 1:
        raise ValueError(f"target_recall must be in (0, 1], got {target_recall!r}")
    if m > 512:
        raise ValueError(f"m must be at most 512, got {m}; 16 to 64 is usual")
    path, meta, (n_rows, dim) = check_model_files(model_dir)
    if n_rows < 20:
        raise ModelError(f"{path} has {n_rows} words; an index is worth building from thousands on (exact search "
                         "is instant below that), and its recall needs at least 20 words to be measured")
    unit = np.load(path / VECTORS, mmap_mode="r", allow_pickle=False)
    report = progress or (lambda stage, done, total: None)
    old_threads = faiss.omp_get_max_threads()
    if threads is not None:
        faiss.omp_set_num_threads(max(1, threads))
    try:
        with exclusive_lock(path / INDEX_LOCK):
            t0 = time.perf_counter()
            index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            for s in range(0, n_rows, _ADD_BLOCK):
                index.add(np.ascontiguousarray(unit[s:s + _ADD_BLOCK], dtype=np.float32))
                report("add", min(s + _ADD_BLOCK, n_rows), n_rows)
            build_seconds = time.perf_counter() - t0
            info, missed = _measure(index, unit, ef_search, target_recall, queries, seed, report)
            name = index_file_name()
            faiss.write_index(index, str(path / name))
            del index
            info = {"file": name, "file_size": (path / name).stat().st_size, "library": "faiss",
                    "library_version": faiss.__version__, "kind": "HNSW,Flat", "metric": "inner_product",
                    "M": m, "ef_construction": ef_construction, **info,
                    "vectors_fingerprint": vectors_fingerprint(unit), "build_seconds": round(build_seconds, 3),
                    "threads": faiss.omp_get_max_threads(), "seed": seed,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            try:
                _record(path, info)
            except BaseException:
                (path / name).unlink(missing_ok=True)
                raise
            for stray in os.listdir(path):           # the index replaced, and what killed builds left
                if INDEX_FILE.fullmatch(stray) and stray != name:
                    (path / stray).unlink(missing_ok=True)
    finally:
        faiss.omp_set_num_threads(old_threads)
    return IndexResult(path / name, info, n_rows, dim, tuple(missed))


def _measure(index, unit, ef_search, target_recall, queries, seed, report) -> tuple[dict, list[str]]:
    """Choose ef_search on tuning queries and measure recall@10 on others (see the module docstring);
    also the query kinds whose widest width tried missed ``target_recall``."""
    n_rows = len(unit)
    k = 10 if n_rows > 20 else n_rows - 2
    n_q = min(queries, n_rows // 8)
    rng = np.random.default_rng(seed)
    out: dict = {}
    missed: list[str] = []
    times: list[float] = []
    for kind in QUERY_KINDS:
        width = 1 if kind == "word" else 3
        drawn = rng.choice(n_rows, size=(2, n_q * width), replace=False)   # tuning, held out: disjoint words
        sets = [_queries(unit, np.ascontiguousarray(part), kind) for part in drawn]
        truths = []
        for j, (q, excl) in enumerate(sets):
            parts = [exact_top(unit, q[s:s + 256], excl[s:s + 256], k) for s in range(0, len(q), 256)]
            truths.append(np.concatenate(parts))
            report("exact", (QUERY_KINDS.index(kind) * 2 + j + 1) * n_q, 4 * n_q)
        ef = ef_search if kind == "word" else None
        if ef is None:
            ladder = [e for e in EF_LADDER if e > k] or [EF_LADDER[-1]]
            start = ladder.index(out["ef_search"]) if kind == "analogy" and out["ef_search"] in ladder else 0
            for i, ef in enumerate(ladder[start:]):
                report("tune", i + 1, len(ladder) - start)
                if _recall(_ann_top(index, *sets[0], k, ef), truths[0]) >= target_recall:
                    break
            else:
                missed.append(kind)
        recall = _recall(_ann_top(index, *sets[1], k, ef), truths[1])
        suffix = "" if kind == "word" else "_analogy"
        out[f"ef_search{suffix}"] = ef
        out[f"recall_at_10{suffix}"] = round(recall, 4)
        if kind == "word":
            faiss = _faiss()
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(ef, k + 1)
            for q in sets[1][0][:200]:
                t = time.perf_counter()
                index.search(q[None, :], k + 1, params=params)
                times.append(time.perf_counter() - t)
    out.update({"recall_queries": n_q, "tuning_queries": n_q, "target_recall": target_recall,
                "query_ms": round(1e3 * statistics.median(times), 4)})
    return out, missed


def _record(path: Path, info: dict) -> None:
    """Rewrite ``meta.json`` with ``index`` set to ``info`` (one atomic rename)."""
    with open(path / META, "rb") as fh:
        meta = json.loads(fh.read().decode("utf-8"))
    meta["index"] = info
    with atomic_path(path / META) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, ensure_ascii=False)
            fh.write("\n")


# ----------------------------------------------------------------------------- loading and searching


class AnnIndex:
    """A model folder's index, checked against its vectors and opened (see :func:`load_index`)."""

    def __init__(self, index, info: dict, path: Path):
        self.faiss_index, self.info, self.path = index, info, path
        self.ef_search = int(info["ef_search"])
        combined = info.get("ef_search_analogy")
        self.ef_search_combined = combined if isinstance(combined, int) and combined > 0 else 4 * self.ef_search
        self._params: dict[int, object] = {}     # efSearch -> faiss's search parameters, made once (SWIG objects)

    def search(self, query: np.ndarray, k: int, restrict: int | None = None, combined: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the (about) ``k`` nearest unit rows to the unit vector ``query`` (D,), best
        first, and their inner products with it (float32, computed by faiss from the vectors
        the index stores: the model's unit rows, as its fingerprint checks).

        ``combined``: the query is a sum of several words (an analogy), searched with
        ``ef_search_analogy``. ``restrict``: only rows below it (faiss's
        ``IDSelectorRange``; the search width grows by the share of rows left out, so
        that as many candidates are seen).
        """
        faiss = _faiss()
        n_rows = self.faiss_index.ntotal
        widen = 1.0 if restrict is None else n_rows / max(restrict, 1)
        ef = self.ef_search_combined if combined else self.ef_search
        width = int(max(ef, k) * widen) + 1
        selector = None
        if restrict is None:          # read-only once made: shared by concurrent searches
            params = self._params.get(width)
            if params is None:
                params = faiss.SearchParametersHNSW()
                params.efSearch = width
                self._params[width] = params
        else:
            params = faiss.SearchParametersHNSW()
            params.efSearch = width
            selector = faiss.IDSelectorRange(0, restrict)
            params.sel = selector
        scores, found = self.faiss_index.search(np.ascontiguousarray(query[None, :], dtype=np.float32), k,
                                                params=params)
        del selector
        row = found[0]
        kept = row >= 0
        return row[kept], scores[0][kept]


def _bad_index(file: Path, why: str) -> IndexMismatchError:
    return IndexMismatchError(
        f"the index {file} {why}; rebuild it with `wordstack index {file.parent}` (or corpus_tools.build_index), "
        "or query without it: --exact (exact=True)"
    )


def load_index(path: str | os.PathLike, meta: dict, unit: np.ndarray) -> AnnIndex | None:
    """The index that ``meta.json`` records for the vectors ``unit`` (V, D), or None when there is none.

    Checked before faiss reads a byte: the record's fields, the file's name (one that
    wordstack writes, in the folder), its size (as recorded, and within what a graph
    over V rows of D numbers takes), the faiss header (kind, D, V, inner product) and
    the vectors' fingerprint; then, once read, the graph's arrays (every neighbour a row).

    Raises
    ------
    IndexMismatchError
        The index does not match the vectors or is damaged; the message says how to
        rebuild it or query without it.
    """
    info = meta.get("index")
    if info is None:
        return None
    path = Path(path)
    n_rows, dim = unit.shape
    shown = path / str(info.get("file") if isinstance(info, dict) else "index")
    if not isinstance(info, dict) or not isinstance(info.get("file"), str) or not INDEX_FILE.fullmatch(info["file"]):
        raise _bad_index(shown, f"is recorded in {path / META} in a form this wordstack does not read")
    fields = {"file_size": int, "M": int, "ef_search": int, "vectors_fingerprint": str}
    for key, kind in fields.items():
        if not isinstance(info.get(key), kind) or isinstance(info.get(key), bool):
            raise _bad_index(shown, f"has no valid {key!r} in {path / META}")
    file = path / info["file"]
    if not file.is_file():
        raise _bad_index(file, f"that {path / META} records is missing")
    size = file.stat().st_size
    if size != info["file_size"]:
        raise _bad_index(file, f"is {size:,} bytes but {path / META} records {info['file_size']:,}: it was altered "
                               "or cut short")
    m = info["M"]
    low = n_rows * 4 * dim
    high = n_rows * (4 * dim + 12 + 4 * 4 * m) + (1 << 20)
    if not (2 <= m <= 512 and low <= size <= high):
        raise _bad_index(file, f"is {size:,} bytes, which no HNSW index (M={m}) of {n_rows:,} vectors of {dim} "
                               "numbers has")
    with open(file, "rb") as fh:
        head = fh.read(37)
    if len(head) < 37 or head[:4] != b"IHNf":
        raise _bad_index(file, "is not a faiss HNSW index (its header is not IHNf)")
    d = int.from_bytes(head[4:8], "little", signed=True)
    ntotal = int.from_bytes(head[8:16], "little", signed=True)
    metric = int.from_bytes(head[33:37], "little", signed=True)
    if (d, ntotal) != (dim, n_rows) or metric != 0:
        raise _bad_index(file, f"holds {ntotal:,} vectors of {d} numbers (metric {metric}), but {path / VECTORS} "
                               f"has {n_rows:,} of {dim} (inner product, metric 0): it belongs to another model")
    if vectors_fingerprint(unit) != info["vectors_fingerprint"]:
        raise _bad_index(file, f"was built for other vectors than those of {path / VECTORS} (their fingerprint "
                               "changed: the model was re-trained, re-imported or edited since)")
    faiss = _faiss()
    try:
        index = faiss.read_index(str(file), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError as exc:
        raise _bad_index(file, f"cannot be read by faiss ({str(exc).splitlines()[0][:200]})") from None
    _check_graph(index, file, n_rows, dim)
    return AnnIndex(index, info, file)


def _check_graph(index, file: Path, n_rows: int, dim: int) -> None:
    """Every neighbour id a row, offsets increasing to the neighbour count, the entry point a row."""
    faiss = _faiss()
    if not isinstance(index, faiss.IndexHNSWFlat) or index.d != dim or index.ntotal != n_rows:
        raise _bad_index(file, "is not the HNSW index of these vectors")
    hnsw = index.hnsw
    n_links = hnsw.neighbors.size()
    neighbors = faiss.rev_swig_ptr(hnsw.neighbors.data(), n_links) if n_links else np.empty(0, np.int32)
    offsets = faiss.vector_to_array(hnsw.offsets)
    levels = faiss.vector_to_array(hnsw.levels)
    ok = (len(offsets) == n_rows + 1 and len(levels) == n_rows and offsets[0] == 0 and offsets[-1] == n_links
          and bool(np.all(np.diff(offsets.astype(np.int64)) >= 0))
          and (n_rows == 0 or (0 <= hnsw.entry_point < n_rows and int(levels.max()) == hnsw.max_level + 1))
          and (n_links == 0 or (int(neighbors.min()) >= -1 and int(neighbors.max()) < n_rows)))
    if not ok:
        raise _bad_index(file, "is damaged (its graph links rows that do not exist)")


__all__ = ["EF_LADDER", "QUERY_KINDS", "AnnIndex", "IndexMismatchError", "IndexResult", "build_index", "exact_top", "load_index",
           "vectors_fingerprint"]
