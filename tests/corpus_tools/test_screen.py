"""The int8 screen of exact queries: its kernels against numpy, its bounds, and its answers
against the full float32 product (the same words in the same order, every time)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from corpus_tools import Vectors, _screen, _screen_kernels, load_vectors
from corpus_tools._model_dir import unit_rows


# ---------------------------------------------------------------- numpy twins of the kernels

def quantize_rows_reference(X):
    X = np.asarray(X, np.float64)
    scale = (np.abs(X).max(axis=1) / 127).astype(np.float32)
    s = scale.astype(np.float64)[:, None]
    codes = np.where(s > 0, np.rint(np.divide(X, s, out=np.zeros_like(X), where=s > 0)), 0)
    codes = np.clip(codes, -127, 127).astype(np.int8)
    l1 = (scale.astype(np.float64) * np.abs(codes.astype(np.int64)).sum(axis=1)).astype(np.float32)
    return codes, scale, l1


def bounds_reference(codes, scale, l1, q, slack):
    q = np.asarray(q, np.float32).astype(np.float64)
    t = np.abs(q).max() / 16384
    b = np.rint(q / t).astype(np.int64) if t > 0 else np.zeros(len(q), np.int64)
    dots = codes.astype(np.int64) @ b
    est = scale.astype(np.float64) * t * dots
    err = 0.5 * t * l1.astype(np.float64) + scale.astype(np.float64) * (0.5 * t * np.abs(b).sum() + 0.25 * len(q) * t) + slack
    return est - err, est + err


def unit_matrix(rng, v, d, clusters=0):
    """Random unit rows; with ``clusters``, rows gathered around that many centres (so
    that many scores crowd just below the best ones, the hard case for a screen)."""
    if clusters:
        centres = rng.standard_normal((clusters, d))
        X = centres[rng.integers(0, clusters, v)] + 0.15 * rng.standard_normal((v, d))
    else:
        X = rng.standard_normal((v, d))
    return unit_rows(X.astype(np.float32))[0]


def exact_top(matrix, q, k, exclude=(), n_rows=None):
    """The plain float32 product's answer, as Vectors ranks it: score desc, then row."""
    mat = matrix[:n_rows] if n_rows is not None else matrix
    scores = mat @ np.asarray(q, np.float32)
    scores[[i for i in exclude if i < len(scores)]] = -np.inf
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    return order, scores[order]


# ---------------------------------------------------------------- kernels

@pytest.mark.parametrize("v,d", [(1, 1), (7, 3), (50, 64), (301, 300), (20, 1024)])
def test_quantize_rows_matches_numpy(v, d):
    X = np.random.default_rng(v * d).standard_normal((v, d)).astype(np.float32)
    X[0] = 0.0                                             # a zero row: scale 0, codes 0
    codes = np.empty((v, d), np.int8)
    scale = np.empty(v, np.float32)
    l1 = np.empty(v, np.float32)
    _screen_kernels.quantize_rows(X, codes, scale, l1)
    ref = quantize_rows_reference(X)
    np.testing.assert_array_equal(codes, ref[0])
    np.testing.assert_array_equal(scale, ref[1])
    np.testing.assert_allclose(l1, ref[2], rtol=1e-6)
    assert scale[0] == 0 and not codes[0].any()
    # every element within half a level of the value it stands for
    assert np.all(np.abs(X - scale[:, None] * codes) <= scale[:, None] / 2 * (1 + 1e-6))


def test_quantize_rows_in_blocks_fills_the_right_rows():
    X = np.random.default_rng(1).standard_normal((10, 5)).astype(np.float32)
    codes = np.zeros((10, 5), np.int8)
    scale = np.zeros(10, np.float32)
    l1 = np.zeros(10, np.float32)
    _screen_kernels.quantize_rows(X[:4], codes, scale, l1, 0)
    _screen_kernels.quantize_rows(X[4:], codes, scale, l1, 4)
    np.testing.assert_array_equal(codes, quantize_rows_reference(X)[0])
    with pytest.raises(ValueError, match="wrong shape"):
        _screen_kernels.quantize_rows(X, codes, scale, l1, 4)


@pytest.mark.parametrize("v,d,n_rows", [(1, 1, 1), (33, 17, 33), (200, 300, 120), (64, 1024, 64), (5, 8, 0)])
def test_screen_bounds_match_numpy_and_hold_the_float32_scores(v, d, n_rows):
    rng = np.random.default_rng(v + d)
    M = unit_matrix(rng, v, d)
    q = unit_matrix(rng, 1, d)[0]
    screen = _screen.Int8Screen(M)
    lower, upper = screen.bounds(q, n_rows)
    ref_lower, ref_upper = bounds_reference(screen.codes[:n_rows], screen.scale[:n_rows], screen.l1[:n_rows], q,
                                            screen.slack)
    np.testing.assert_allclose(lower, ref_lower, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(upper, ref_upper, rtol=1e-12, atol=1e-12)
    exact = M[:n_rows] @ q
    assert np.all(lower <= exact) and np.all(exact <= upper)
    # and tight enough to be worth it: a few hundredths of a cosine at most
    assert n_rows == 0 or np.max(upper - lower) < 0.08


def test_screen_bounds_refuse_bad_shapes():
    M = unit_matrix(np.random.default_rng(0), 10, 4)
    screen = _screen.Int8Screen(M)
    with pytest.raises(ValueError, match="wrong shape"):
        screen.bounds(np.ones(5, np.float32))
    with pytest.raises(ValueError, match="wrong shape"):
        screen.bounds(np.ones(4, np.float32), 11)
    with pytest.raises(ValueError, match="at most 1024 dimensions"):
        _screen.Int8Screen(np.ones((2, 1025), np.float32))
    with pytest.raises(ValueError, match="float32"):
        _screen.Int8Screen(np.ones((2, 4), np.float64))


def test_portable_simd_path_matches_numpy():
    """The SSE2 build of the dot products (processors without AVX2) gives the same bounds."""
    code = ("import numpy as np, test_screen as t; from corpus_tools import _screen_kernels as k; "
            "assert k.simd_level() == 0; "
            "t.test_screen_bounds_match_numpy_and_hold_the_float32_scores(200, 300, 120); "
            "t.test_screen_bounds_match_numpy_and_hold_the_float32_scores(33, 17, 33); print('ok')")
    env = {**os.environ, "WORDSTACK_SIMD": "sse2"}
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


# ---------------------------------------------------------------- answers

@pytest.mark.parametrize("clusters", [0, 3, 40])
def test_top_is_the_exact_answer(clusters):
    rng = np.random.default_rng(clusters)
    M = unit_matrix(rng, 3000, 64, clusters)
    screen = _screen.Int8Screen(M)
    for trial in range(200):
        q = M[rng.integers(len(M))] + 0.05 * rng.standard_normal(64).astype(np.float32)
        q = (q / np.linalg.norm(q)).astype(np.float32)
        k = int(rng.integers(1, 30))
        exclude = sorted(set(rng.integers(0, len(M), int(rng.integers(0, 4))).tolist()))
        n_rows = None if trial % 3 else int(rng.integers(k + len(exclude), len(M)))   # exclusions past it too
        rows, scores = screen.top(q, k, exclude, n_rows)
        want_rows, want_scores = exact_top(M, q, k, exclude, n_rows)
        np.testing.assert_allclose(scores, want_scores, rtol=0, atol=2e-6)
        # the same rows in the same order, except where two scores tie to float32 rounding
        if not np.array_equal(rows, want_rows):
            near_tie = set(np.flatnonzero(np.abs(M @ q - want_scores[-1]) < 2e-6).tolist())
            assert set(rows.tolist()) ^ set(want_rows.tolist()) <= near_tie


def test_top_with_duplicate_rows_ties_by_row():
    """Equal scores (duplicated vectors) are ranked by row, as the full product ranks them."""
    rng = np.random.default_rng(5)
    M = unit_matrix(rng, 100, 16)
    M[10] = M[20] = M[30] = M[40]
    screen = _screen.Int8Screen(M)
    rows, _ = screen.top(M[40], 4, [])
    assert rows.tolist() == [10, 20, 30, 40]
    rows, _ = screen.top(M[40], 3, [10, 40])
    assert rows[:2].tolist() == [20, 30]


def test_top_refuses_more_rows_than_there_are():
    screen = _screen.Int8Screen(unit_matrix(np.random.default_rng(7), 5, 4))
    with pytest.raises(ValueError, match="k=5 rows asked of 5 rows with 1 excluded"):
        screen.top(screen.matrix[0], 5, [2])
    with pytest.raises(ValueError, match="k=0"):
        screen.top(screen.matrix[0], 0, [])


def test_top_asking_for_every_row():
    M = unit_matrix(np.random.default_rng(6), 12, 8)
    screen = _screen.Int8Screen(M)
    rows, scores = screen.top(M[0], 11, [0])
    want_rows, want_scores = exact_top(M, M[0], 11, [0])
    assert rows.tolist() == want_rows.tolist() and 0 not in rows.tolist()
    np.testing.assert_allclose(scores, want_scores, atol=2e-6)


def test_vectors_with_the_screen_answer_as_without(small_model):
    plain = load_vectors(small_model)
    fast = load_vectors(small_model)
    assert fast.enable_screen() and fast._screen is not None
    assert fast._screen.nbytes == fast.unit.size + 8 * len(fast)
    words = plain.words[:400] + plain.words[-100:]
    for w in words:
        a, b = plain.most_similar(w, 10, exact=True), fast.most_similar(w, 10, exact=True)
        assert [n.word for n in a] == [n.word for n in b], w
        np.testing.assert_allclose([n.score for n in a], [n.score for n in b], atol=2e-6)
    for w in words[:30]:
        for restrict in (None, 50, 1000):
            a = plain.analogy(w, "king", "queen", 5, restrict_vocab=restrict, exact=True)
            b = fast.analogy(w, "king", "queen", 5, restrict_vocab=restrict, exact=True)
            assert [n.word for n in a] == [n.word for n in b]
    everything = fast.most_similar(words[0], 10 ** 6, exact=True)
    assert len(everything) == len(fast) - 1
    assert [n.word for n in everything[:50]] == [n.word for n in plain.most_similar(words[0], 50, exact=True)]
    assert fast.most_similar(words[0], 3, restrict_vocab=1, exact=True) == []   # only the word itself


def test_enable_screen_declines_what_it_cannot_hold():
    rng = np.random.default_rng(0)
    big = Vectors.from_vectors([f"w{i}" for i in range(50)], rng.standard_normal((50, 8)))
    assert not big.enable_screen(max_elements=399) and big._screen is None
    assert big.enable_screen(max_elements=400)
    wide = Vectors.from_vectors(["a", "b"], rng.standard_normal((2, 1100)))
    assert not wide.enable_screen()
    f64 = Vectors(["a", "b"], np.eye(2))
    assert not f64.enable_screen()


def test_the_server_screens_its_models(small_model):
    from wordstack.server import ModelSet

    assert ModelSet.load([small_model]).models[0].vectors._screen is not None
    plain = ModelSet([load_vectors(small_model)], screen=False)
    assert plain.models[0].vectors._screen is None
