"""Phrase-aware queries, 2-D maps (PCA / t-SNE, label repel, PNG) and KMeans clusters."""
import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools._explore import _repel


@pytest.fixture(scope="module")
def blobs():
    """Three well-separated groups of 12 words in 10 dimensions, plus two phrases."""
    rng = np.random.default_rng(0)
    centres = np.eye(10)[:3] * 5
    words, rows = [], []
    for g, name in enumerate(("fruit", "tool", "city")):
        for i in range(12):
            words.append(f"{name}{i}")
            rows.append(centres[g] + rng.normal(scale=0.3, size=10))
    words += ["expecto_patronum", "new_york_city"]
    rows += [rng.normal(size=10), rng.normal(size=10)]
    return ct.Vectors.from_vectors(words, np.array(rows))


def test_query_terms_join_known_phrases_longest_first(blobs):
    assert ct.query_terms(blobs, "expecto patronum") == ["expecto_patronum"]
    assert ct.query_terms(blobs, "Expecto  Patronum fruit1") == ["expecto_patronum", "fruit1"]
    assert ct.query_terms(blobs, "new york city tool2") == ["new_york_city", "tool2"]
    assert ct.query_terms(blobs, ["fruit1", "tool2 city3"]) == ["fruit1", "tool2", "city3"]
    assert ct.query_terms(blobs, "new york") == ["new", "york"]  # unknown stay as typed -> UnknownWordError
    with pytest.raises(ct.UnknownWordError, match="'new' is not in the vocabulary"):
        blobs.most_similar(ct.query_terms(blobs, "new york"))


def test_pca_map_matches_svd_projection(blobs):
    words = [f"fruit{i}" for i in range(5)] + ["tool0", "city0", "nonsense", "fruit0"]
    wm = ct.map_words(blobs, words, method="pca")
    assert wm.words == words[:7]  # unknown skipped, duplicate dropped, order kept
    assert wm.skipped == [{"word": "nonsense", "suggestions": []}]
    x = np.asarray(blobs.unit[[blobs.index[w] for w in wm.words]], dtype=np.float64)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    expected = xc @ vt[:2].T
    for axis in range(2):  # equal up to the sign of each axis
        sign = np.sign(expected[:, axis] @ wm.coords[:, axis])
        np.testing.assert_allclose(wm.coords[:, axis], sign * expected[:, axis], atol=1e-9)
    np.testing.assert_allclose(wm.explained_variance, (s[:2] ** 2) / (s ** 2).sum())
    d = wm.to_dict()
    assert d["points"][0] == {"word": "fruit0", "x": float(wm.coords[0, 0]), "y": float(wm.coords[0, 1])}


def test_tsne_map_is_seeded_and_separates_groups(blobs):
    a = ct.map_words(blobs, top=36, method="tsne", seed=3)
    b = ct.map_words(blobs, top=36, method="tsne", seed=3)
    np.testing.assert_array_equal(a.coords, b.coords)
    group = np.repeat(np.arange(3), 12)
    centres = np.array([a.coords[group == g].mean(axis=0) for g in range(3)])
    nearest = np.argmin(((a.coords[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == group).all()


def test_map_needs_three_known_words(blobs):
    with pytest.raises(ValueError, match=r"at least 3 words in the vocabulary, got 2; not in the vocabulary: "
                                         r"'fruit99' \(did you mean fruit9, fruit0"):
        ct.map_words(blobs, ["fruit1", "tool1", "fruit99"])
    with pytest.raises(ValueError, match="method must be one of pca, tsne"):
        ct.map_words(blobs, top=10, method="umap")
    with pytest.raises(ValueError, match="either words or top"):
        ct.map_words(blobs, ["fruit1"], top=3)


def test_repel_removes_overlaps_from_a_pile_up():
    rng = np.random.default_rng(1)
    anchor = rng.uniform(400, 440, size=(60, 2))        # 60 points within 40 px
    size = np.tile([40.0, 10.0], (60, 1))
    pos = _repel(anchor, size, (0, 0, 1000, 800))
    half = size / 2
    over = (half[:, None] + half[None] - np.abs(pos[:, None] - pos[None])).min(axis=-1)
    np.fill_diagonal(over, -1)
    assert over.max() <= 0.5  # no two labels overlap by more than half a pixel
    assert (pos >= half).all() and (pos[:, 0] <= 1000 - half[:, 0]).all()


def test_plot_map_writes_a_png(blobs, tmp_path):
    wm = ct.map_words(blobs, top=36, method="pca")
    out = ct.plot_map(wm, tmp_path / "m.png", title="blobs")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    clustering = ct.cluster_words(blobs, 3, top=36)
    out = ct.plot_clusters(blobs, clustering, tmp_path / "c.png", method="pca")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_clusters_recover_the_groups(blobs):
    result = ct.cluster_words(blobs, 3, top=36, show=4, seed=0)
    assert [c.size for c in result.clusters] == [12, 12, 12]
    for c in result.clusters:
        prefix = c.words[0].rstrip("0123456789")
        assert all(w.startswith(prefix) for w in c.words) and len(c.words) == 4
        assert c.scores == sorted(c.scores, reverse=True)
    again = ct.cluster_words(blobs, 3, top=36, show=4, seed=0)
    assert again.to_dict() == result.to_dict()


def test_clusters_bad_k(blobs):
    with pytest.raises(ValueError, match=r"k=40 clusters is more than the 36 words to cluster"):
        ct.cluster_words(blobs, 40, top=36)
    with pytest.raises(ValueError, match="k must be an integer >= 2, got 1"):
        ct.cluster_words(blobs, 1)
