"""Explore word vectors: 2-D maps and clusters.

Maps project the chosen words' unit vectors to two dimensions with
scikit-learn's PCA or t-SNE (van der Maaten & Hinton 2008) and draw them with
matplotlib (Agg canvas, no pyplot state). Labels are placed by a small repel
loop in screen space: each label starts beside its point, overlapping labels
push each other apart along the axis of least overlap, labels are pushed off
the points they cover and pulled back toward their own point; a label that
ends up far from its point gets a thin leader line. That keeps ~100 labels
readable without an extra dependency.

Clusters are KMeans (scikit-learn) on the unit vectors of the most frequent
words; each cluster is listed by the words nearest its (normalised) centroid.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ._errors import UnknownWordError
from ._vectors import Vectors
from .pictures import check_picture_path, save_figure

METHODS = ("pca", "tsne")


# ----------------------------------------------------------------------------- maps


@dataclass
class WordMap:
    """Words projected to 2-D.

    Attributes
    ----------
    words : list of str
    coords : ndarray of shape (N, 2)
    method : str
        ``"pca"`` or ``"tsne"``.
    skipped : list of dict
        Requested words not in the vocabulary: ``{"word", "suggestions"}``.
    explained_variance : list of float or None
        PCA only: the share of variance of each of the two axes.
    seed : int
    from_subwords : list of str
        The words of ``words`` outside the vocabulary that a subword model built
        from their n-grams (placed, and drawn in italics).
    """

    words: list[str]
    coords: np.ndarray
    method: str
    skipped: list[dict] = field(default_factory=list)
    explained_variance: list[float] | None = None
    seed: int = 0
    from_subwords: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        built = set(self.from_subwords)
        return {
            "method": self.method,
            "seed": self.seed,
            "explained_variance": self.explained_variance,
            "points": [{"word": w, "x": float(x), "y": float(y), **({"from_subwords": True} if w in built else {})}
                       for w, (x, y) in zip(self.words, self.coords)],
            "skipped": self.skipped,
            "from_subwords": list(self.from_subwords),
        }


def _choose_words(vectors: Vectors, words: Sequence[str] | None, top: int | None, skip: int
                  ) -> tuple[list[str], list[dict]]:
    if words is not None and top is not None:
        raise ValueError("give either words or top, not both")
    if words is None:
        top = 100 if top is None else top
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be an integer >= 1, got {top!r}")
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise ValueError(f"skip must be an integer >= 0, got {skip!r}")
        return list(vectors.words[skip:skip + top]), []
    chosen: list[str] = []
    skipped: list[dict] = []
    for w in words:
        key = vectors.key(w)
        if key is None and vectors.from_subwords(w):
            key = w                                   # built from its n-grams (a subword model)
            try:
                vectors.vector(w)
            except UnknownWordError:                  # too short for any n-gram
                key = None
        if key is None:
            skipped.append({"word": w, "suggestions": vectors.suggest(w)})
        elif key not in chosen:
            chosen.append(key)
    return chosen, skipped


def map_words(vectors: Vectors, words: Sequence[str] | None = None, *, top: int | None = None, skip: int = 0,
              method: str = "pca", seed: int = 0, perplexity: float | None = None) -> WordMap:
    """Project words to 2-D with PCA or t-SNE.

    Parameters
    ----------
    vectors : Vectors
    words : sequence of str, optional
        The words to place (phrases with spaces are looked up joined by ``_``).
        Unknown ones are skipped and reported in :attr:`WordMap.skipped`; a subword
        model places them from their n-grams (:attr:`WordMap.from_subwords`).
    top : int, optional
        Instead of ``words``: the ``top`` most frequent words (default 100).
    skip : int, default 0
        With ``top``: leave out the ``skip`` most frequent words first.
    method : {"pca", "tsne"}, default "pca"
    seed : int, default 0
        Seed of t-SNE's optimisation (PCA uses the exact SVD). The same seed,
        words, model and scikit-learn version give the same map.
    perplexity : float, optional
        t-SNE perplexity (default: min(30, (N - 1) / 3)).

    Returns
    -------
    WordMap

    Raises
    ------
    ValueError
        Fewer than 3 of the words are in the vocabulary (the message lists the
        unknown ones with suggestions), or an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    chosen, skipped = _choose_words(vectors, words, top, skip)
    if len(chosen) < 3:
        unknown = "; ".join(
            f"{s['word']!r}" + (f" (did you mean {', '.join(s['suggestions'])}?)" if s["suggestions"] else "")
            for s in skipped
        )
        raise ValueError(
            f"a map needs at least 3 words in the vocabulary, got {len(chosen)}"
            + (f"; not in the vocabulary: {unknown}" if unknown else "")
            + "; give more known words (or use --top N)"
        )
    mat = np.array([vectors.vector(w) for w in chosen], dtype=np.float64)                # (N, D) unit rows
    built = [w for w in chosen if vectors.from_subwords(w)]
    explained = None
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, svd_solver="full")
        coords = pca.fit_transform(mat)
        explained = [float(x) for x in pca.explained_variance_ratio_]
    else:
        from sklearn.manifold import TSNE

        n = len(chosen)
        perp = perplexity if perplexity is not None else max(1.0, min(30.0, (n - 1) / 3))
        if not 0 < perp < n:
            raise ValueError(f"perplexity must be in (0, {n}) for {n} words, got {perp!r}")
        with _one_openmp_thread():
            coords = TSNE(n_components=2, perplexity=perp, init="pca", metric="cosine",
                          random_state=seed).fit_transform(mat)
    return WordMap(words=chosen, coords=np.asarray(coords, dtype=np.float64), method=method, skipped=skipped,
                   explained_variance=explained, seed=seed, from_subwords=built)


def _one_openmp_thread():
    """Run scikit-learn's OpenMP loops on one thread.

    For the few thousand words a map or clustering holds, threads gain little, and
    on a busy machine OpenMP's spinning threads made a 36-word t-SNE take 45 s
    instead of 0.2 s. Results do not depend on the thread count.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def _repel(anchor: np.ndarray, size: np.ndarray, bounds: tuple[float, float, float, float],
           iterations: int = 2000, pad: float = 2.0) -> np.ndarray:
    """Label centres (pixels) that do not overlap each other or the points.

    Parameters
    ----------
    anchor : ndarray of shape (N, 2)
        The points, in pixels.
    size : ndarray of shape (N, 2)
        Each label's width and height in pixels.
    bounds : (x0, y0, x1, y1)
        The axes area in pixels; labels are kept inside.

    Returns
    -------
    ndarray of shape (N, 2)
    """
    n = len(anchor)
    half = size / 2 + pad                                   # (N, 2)
    home = anchor + np.column_stack([half[:, 0] + 2, np.zeros(n)])  # just right of the point
    pos = home.copy()
    point_r = 4.0
    # tie-break for labels at exactly the same coordinate: the later one moves up/right
    order_sign = np.sign(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(float)   # (N, N)
    order_sign[order_sign == 0] = 1.0
    x0, y0, x1, y1 = bounds
    for it in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]           # (N, N, 2)
        overlap = half[:, None, :] + half[None, :, :] - np.abs(delta)   # (N, N, 2)
        hit = (overlap[..., 0] > 0) & (overlap[..., 1] > 0)
        np.fill_diagonal(hit, False)
        move = np.zeros_like(pos)
        if hit.any():
            axis_x = overlap[..., 0] < overlap[..., 1]       # push along the axis of least overlap
            sign = np.sign(delta)
            sign = np.where(sign == 0, order_sign[..., None], sign)
            move[:, 0] += np.where(hit & axis_x, overlap[..., 0] * sign[..., 0], 0.0).sum(axis=1) / 2
            move[:, 1] += np.where(hit & ~axis_x, overlap[..., 1] * sign[..., 1], 0.0).sum(axis=1) / 2
        # labels off the points (only while there is room to settle: the first 2/3 of the iterations)
        dp = pos[:, None, :] - anchor[None, :, :]            # (N, N, 2)
        over_p = half[:, None, :] + point_r - np.abs(dp)
        hit_p = (over_p[..., 0] > 0) & (over_p[..., 1] > 0) & (it < 2 * iterations // 3)
        if hit_p.any():
            axis_x = over_p[..., 0] < over_p[..., 1]
            sign = np.sign(dp)
            sign[sign == 0] = 1.0
            move[:, 0] += np.where(hit_p & axis_x, over_p[..., 0] * sign[..., 0], 0.0).sum(axis=1) * 0.5
            move[:, 1] += np.where(hit_p & ~axis_x, over_p[..., 1] * sign[..., 1], 0.0).sum(axis=1) * 0.5
        if not hit.any() and not hit_p.any():
            break
        # a weak spring back toward the home spot beside the own point, for labels that collide with nothing
        free = ~hit.any(axis=1) & ~hit_p.any(axis=1)
        move[free] += (home[free] - pos[free]) * 0.05
        pos += np.clip(move, -20, 20)
        pos[:, 0] = np.clip(pos[:, 0], x0 + half[:, 0], x1 - half[:, 0])
        pos[:, 1] = np.clip(pos[:, 1], y0 + half[:, 1], y1 - half[:, 1])
    return pos


def plot_map(word_map: WordMap, out: str | os.PathLike, *, title: str | None = None,
             groups: Sequence[int] | None = None, group_names: dict[int, str] | None = None,
             labels: Sequence[bool] | None = None, size: tuple[float, float] = (11.0, 8.5), dpi: int = 100,
             fontsize: float = 8.0) -> Path:
    """Draw a :class:`WordMap` as a labelled scatter plot and save it (atomically, see
    :func:`corpus_tools.pictures.save_figure`).

    Parameters
    ----------
    word_map : WordMap
    out : str or path
        The picture to write: ``.png``, ``.svg`` or ``.pdf``. An existing file is
        replaced only if it is a picture wordstack drew.
    title : str, optional
    groups : sequence of int, optional
        A group (cluster) number per word: points are coloured by group.
    group_names : dict, optional
        Legend text per group number (shown right of the map).
    labels : sequence of bool, optional
        Which words get a label (default: all).
    size : (width, height) in inches
    dpi : int
    fontsize : float

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ValueError
        ``out`` does not end in .png, .svg or .pdf.
    corpus_tools.OverwriteRefusedError
        A file wordstack did not draw is at ``out`` (checked before drawing).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    check_picture_path(out)

    coords = word_map.coords
    n = len(word_map.words)
    show = np.ones(n, dtype=bool) if labels is None else np.asarray(labels, dtype=bool)
    fig = Figure(figsize=size, dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    if groups is not None:
        groups = np.asarray(groups)
        from matplotlib import colormaps

        cmap = colormaps["tab20"]
        colors = [cmap(int(g) % 20) for g in groups]
    else:
        colors = ["#1f77b4"] * n
    ax.scatter(coords[:, 0], coords[:, 1], s=14, c=colors, zorder=3, edgecolors="white", linewidths=0.4)
    span = np.ptp(coords, axis=0)
    span[span == 0] = 1.0
    lo, hi = coords.min(axis=0) - 0.08 * span, coords.max(axis=0) + 0.08 * span
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    method = {"pca": "PCA", "tsne": "t-SNE"}[word_map.method]
    built = set(word_map.from_subwords)
    note = f" (in italics: {len(built)} built from subwords)" if built else ""
    ax.set_title(title or f"{n} words, {method}{note}", fontsize=11)
    if word_map.explained_variance:
        ev = word_map.explained_variance
        ax.set_xlabel(f"PC1 ({ev[0]:.1%} of variance)", fontsize=9)
        ax.set_ylabel(f"PC2 ({ev[1]:.1%} of variance)", fontsize=9)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.tick_params(labelsize=8)
    if groups is not None and group_names:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", linestyle="", markersize=5, color=cmap(int(g) % 20),
                          label=f"{g}: {name}") for g, name in group_names.items()]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                  handletextpad=0.3, borderaxespad=0.0)
    fig.tight_layout()
    canvas.draw()
    renderer = canvas.get_renderer()
    idx = np.flatnonzero(show)
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    texts = [ax.text(coords[i, 0], coords[i, 1], word_map.words[i], fontsize=fontsize, ha="center",
                     va="center", zorder=4, path_effects=halo,
                     fontstyle="italic" if word_map.words[i] in built else "normal") for i in idx]
    if texts:
        sizes = np.array([[t.get_window_extent(renderer).width, t.get_window_extent(renderer).height]
                          for t in texts])
        anchor = ax.transData.transform(coords[idx])                       # (L, 2) pixels
        bbox = ax.get_window_extent(renderer)
        pos = _repel(anchor, sizes, (bbox.x0, bbox.y0, bbox.x1, bbox.y1))
        to_data = ax.transData.inverted()
        home = anchor + np.column_stack([sizes[:, 0] / 2 + 4, np.zeros(len(idx))])
        # a label pushed away from its spot beside the point gets a leader line to the box's nearest edge
        edge = np.clip(anchor, pos - sizes / 2, pos + sizes / 2)                    # (L, 2) pixels
        moved = np.hypot(*(pos - home).T) > 5
        for t, xy, a, e, m in zip(texts, to_data.transform(pos), anchor, edge, moved):
            t.set_position(tuple(xy))
            if m:
                (ax_, ay_), (ex, ey) = to_data.transform(np.array([a, e]))
                ax.plot([ax_, ex], [ay_, ey], color="0.55", lw=0.5, zorder=2)
    return save_figure(fig, out, dpi=dpi)


# ----------------------------------------------------------------------------- clusters


@dataclass
class Cluster:
    """One KMeans cluster: its size and its words nearest the centroid (cosine)."""

    id: int
    size: int
    words: list[str]
    scores: list[float]


@dataclass
class Clustering:
    """KMeans clusters of the ``top`` most frequent words.

    Attributes
    ----------
    clusters : list of Cluster
        Largest first.
    words : list of str
        The clustered words (the ``top`` most frequent).
    labels : ndarray of shape (N,)
        The cluster id of each word.
    inertia : float
    seed : int
    """

    clusters: list[Cluster]
    words: list[str]
    labels: np.ndarray
    inertia: float
    seed: int

    def to_dict(self) -> dict:
        return {
            "k": len(self.clusters),
            "top": len(self.words),
            "seed": self.seed,
            "inertia": self.inertia,
            "clusters": [{"id": c.id, "size": c.size, "words": c.words,
                          "scores": [round(s, 6) for s in c.scores]} for c in self.clusters],
        }


def cluster_words(vectors: Vectors, k: int, *, top: int = 1000, skip: int = 0, show: int = 10,
                  seed: int = 0) -> Clustering:
    """KMeans clusters of the most frequent words.

    Parameters
    ----------
    vectors : Vectors
    k : int
        Number of clusters; at most the number of words clustered.
    top : int, default 1000
        Cluster the this many most frequent words (fewer if the vocabulary is smaller).
    skip : int, default 0
        Leave out the this many most frequent words first (e.g. function words).
    show : int, default 10
        Words listed per cluster, nearest the centroid first.
    seed : int, default 0
        KMeans initialisation seed; with the same model, words and
        scikit-learn version the clusters are identical.

    Returns
    -------
    Clustering

    Raises
    ------
    ValueError
        ``k`` < 2 or larger than the number of words to cluster.
    """
    from sklearn.cluster import KMeans

    for name, value, minimum in (("k", k, 2), ("top", top, 1), ("show", show, 1), ("skip", skip, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    words = list(vectors.words[skip:skip + top])
    if k > len(words):
        raise ValueError(
            f"k={k} clusters is more than the {len(words)} words to cluster "
            f"(top={top}, skip={skip}, vocabulary {len(vectors)}); use a smaller -k or a larger --top"
        )
    mat = np.asarray(vectors.unit[skip:skip + len(words)], dtype=np.float64)   # (N, D)
    with _one_openmp_thread():
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(mat)
    labels = km.labels_
    centroids = km.cluster_centers_                                           # (k, D)
    centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    clusters: list[Cluster] = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        sims = mat[members] @ centroids[c]
        order = np.lexsort((members, -sims))[:show]
        clusters.append(Cluster(id=c, size=int(len(members)), words=[words[members[i]] for i in order],
                                scores=[float(sims[i]) for i in order]))
    clusters.sort(key=lambda c: (-c.size, c.id))
    return Clustering(clusters=clusters, words=words, labels=np.asarray(labels), inertia=float(km.inertia_),
                      seed=seed)


def plot_clusters(vectors: Vectors, clustering: Clustering, out: str | os.PathLike, *, per_cluster: int = 3,
                  method: str = "tsne", title: str | None = None) -> Path:
    """Map of the clustered words coloured by cluster; the words nearest each centroid are labelled.

    t-SNE (the default, seeded with the clustering's seed) keeps clusters apart
    on the page far better than PCA does. ``out`` is a picture as for :func:`plot_map`
    (checked before the map is computed).
    """
    check_picture_path(out)
    wm = map_words(vectors, clustering.words, method=method, seed=clustering.seed)
    labelled = {w for c in clustering.clusters for w in c.words[:per_cluster]}
    name = {"pca": "PCA", "tsne": "t-SNE"}[method]
    names = {c.id: ", ".join(c.words[:3]) for c in clustering.clusters}
    return plot_map(wm, out, groups=clustering.labels, group_names=names, size=(13.0, 8.5),
                    labels=[w in labelled for w in wm.words], title=title or f"{len(clustering.clusters)} KMeans clusters of {len(wm.words)} words "
                                   f"({name}); labels: the words nearest each centroid")


__all__ = ["Cluster", "Clustering", "METHODS", "WordMap", "cluster_words", "map_words", "plot_clusters",
           "plot_map"]
