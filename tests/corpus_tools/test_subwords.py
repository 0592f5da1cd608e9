"""Subword (fastText) models: gensim's n-gram hashing reproduced bit for bit, training, the
model folder (no pickle, no gensim on the query path; damaged n-gram matrices refused),
out-of-vocabulary queries and evaluation with full coverage."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools._subwords import Subwords, ngram_hashes, subword_vector

FIXTURES = Path(__file__).parent.parent / "fixtures" / "release-0.1"

# letters of many kinds: ASCII, accented (precomposed), combining marks, CJK, emoji (4 UTF-8 bytes,
# some with skin-tone modifiers), and the wrapping characters themselves
_ALPHABET = (list("abcdefghijklmnopqrstuvwxyz") + list("éèàüñçøßÅ") + ["\u0301", "\u0308", "\u0327"]
             + list("日本語中文字한국") + ["😀", "🎉", "👍", "🏽", "‍"] + ["<", ">", "_", "'", "-", "0", "9"])


def random_words(n: int, seed: int = 0) -> list[str]:
    """``n`` random words: mostly 0-15 characters (many shorter than min_n), one in 200 of 1,000-1,400."""
    rng = random.Random(seed)
    words = []
    for i in range(n):
        length = rng.randint(1000, 1400) if i % 200 == 7 else rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 15])
        words.append("".join(rng.choice(_ALPHABET) for _ in range(length)))
    return words


WORDS = random_words(10_000)


def gensim_hashes(word, min_n, max_n, buckets):
    from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

    return [ft_hash_bytes(g) % buckets for g in compute_ngrams_bytes(word, min_n, max_n)]


# ----------------------------------------------------------------------------- parity with gensim


def test_the_test_words_cover_what_they_claim():
    assert len(WORDS) == 10_000
    assert sum(len(w) >= 1000 for w in WORDS) >= 40
    assert sum(len(w) < 3 for w in WORDS) >= 2000
    text = "".join(WORDS)
    for ch in ("é", "\u0301", "日", "😀"):
        assert ch in text


def test_hashes_equal_gensims_on_10000_random_words():
    """The full 32-bit hash (buckets 2**32), each n-gram in gensim's order."""
    t0 = time.perf_counter()
    for word in WORDS:
        assert ngram_hashes(word, 3, 6, 2 ** 32).tolist() == gensim_hashes(word, 3, 6, 2 ** 32), word[:40]
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("min_n,max_n", [(1, 1), (1, 4), (2, 5), (5, 5), (4, 9)])
def test_hashes_equal_gensims_for_other_ngram_lengths(min_n, max_n):
    """min_n = 1 exercises the rule that the lone "<" and ">" are no n-grams."""
    for word in WORDS[:1500]:
        assert ngram_hashes(word, min_n, max_n, 2_000_003).tolist() == gensim_hashes(word, min_n, max_n, 2_000_003)


def test_the_sign_quirk_of_fasttexts_hash():
    """A byte >= 0x80 is xored as a signed char (sign-extended): "é" hashes unlike its unsigned reading."""
    from gensim.models.fasttext_inner import ft_hash_bytes

    h = 2166136261
    for b in "<é>".encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF                       # unsigned bytes: not fastText's hash
    (got,) = ngram_hashes("é", 3, 3, 2 ** 32)
    assert got == ft_hash_bytes("<é>".encode("utf-8")) and got != h


@pytest.fixture(scope="module")
def tiny_fasttext():
    """A gensim FastText trained for a moment in memory: what matters is its n-gram matrix."""
    from gensim.models import FastText

    sentences = [["the", "king", "and", "the", "queen"], ["romeo", "loves", "juliet"]] * 20
    model = FastText(vector_size=8, min_count=1, bucket=5000, min_n=3, max_n=6, epochs=2, seed=3, workers=1)
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=2)
    return model


def test_vectors_equal_gensims_on_10000_random_words(tiny_fasttext):
    """np.array_equal with ``FastTextKeyedVectors.get_vector`` (the mean of the n-gram rows, in gensim's order)."""
    wv = tiny_fasttext.wv
    no_ngrams = 0
    for word in WORDS:
        if word in wv.key_to_index:
            continue
        ours = subword_vector(wv.vectors_ngrams, word, 3, 6)
        theirs = wv.get_vector(word)
        if ours is None:                                   # shorter than min_n once wrapped: gensim gives zeros
            no_ngrams += 1
            assert not theirs.any()
        else:
            assert ours.dtype == np.float32 and np.array_equal(ours, theirs), word[:40]
    assert no_ngrams > 0


def test_one_dimensional_vectors_are_summed_in_gensims_order_too():
    """With one dimension numpy would sum pairwise; the mean is still gensim's sequential float32 sum."""
    from gensim.models import FastText

    sentences = [["alpha", "beta", "gamma"]] * 10
    model = FastText(vector_size=1, min_count=1, bucket=300, epochs=1, seed=1, workers=1)
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=1)
    for word in random_words(300, seed=5):
        ours = subword_vector(model.wv.vectors_ngrams, word, 3, 6)
        if ours is not None and word not in model.wv.key_to_index:
            assert np.array_equal(ours, model.wv.get_vector(word))


def test_a_lone_surrogate_is_refused_clearly():
    with pytest.raises(UnicodeEncodeError):
        ngram_hashes("ab\udc80", 3, 6, 100)


@pytest.mark.parametrize("kwargs,message", [
    ({"min_n": 0}, "min_n must be an integer from 1"),
    ({"max_n": 2}, r"max_n \(2\) must be >= min_n \(3\)"),
    ({"buckets": 0}, "buckets must be an integer from 1"),
    ({"max_n": 65}, "max_n must be an integer from 1 to 64"),
    ({"buckets": True}, "buckets must be an integer"),
])
def test_invalid_subword_params(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ct.SubwordParams(**kwargs)


# ----------------------------------------------------------------------------- training and the model folder


def test_train_subwords_writes_the_ngram_matrix_and_its_parameters(subword_model):
    meta = json.loads((subword_model / "meta.json").read_text())
    assert meta["format"] == "wordstack-word2vec/1"
    assert meta["subwords"] == {"hashing": "fasttext-fnv1a-signed-char", "min_n": 3, "max_n": 6,
                                "buckets": 20_000, "lowercase": True}
    assert meta["params"]["vector_size"] == 16 and meta["params"]["seed"] == 1
    ngrams = np.load(subword_model / "ngrams.npy", allow_pickle=False)
    assert ngrams.dtype == np.float32 and ngrams.shape == (20_000, 16)
    assert meta["files"]["ngrams.npy"] == (subword_model / "ngrams.npy").stat().st_size
    assert meta["training"]["epochs"][0]["loss"] is None          # gensim's FastText computes no loss
    model = ct.load_gensim_model(subword_model)                    # the training state, for trusted folders
    assert type(model).__name__ == "FastText"
    assert np.array_equal(model.wv.vectors_ngrams, ngrams)
    vecs = ct.load_vectors(subword_model)
    assert vecs.has_subwords and vecs.label.endswith("(16d, 1 epoch, subwords)")
    for word in ("romeoo", "kingliest", "Mercutioes", "日本"):
        assert np.array_equal(vecs.vector(word, unit=False), model.wv.get_vector(word.lower()))
    w = vecs.words[5]
    np.testing.assert_allclose(vecs.vector(w, unit=False), model.wv.get_vector(w), rtol=1e-5)


def test_seeded_single_worker_subword_training_is_reproducible(shakespeare_corpus, tmp_path):
    params = ct.Word2VecParams(vector_size=8, epochs=1, sg=0, min_count=50, workers=1, seed=7)
    for name in ("a", "b"):
        ct.train(shakespeare_corpus, tmp_path / name, params, subwords=ct.SubwordParams(buckets=3000))
    for f in ("vectors.npy", "ngrams.npy"):
        assert np.array_equal(np.load(tmp_path / "a" / f), np.load(tmp_path / "b" / f))


def test_oov_queries_on_a_subword_model(subword_model):
    vecs = ct.load_vectors(subword_model)
    assert "romeoo" not in vecs and vecs.from_subwords("romeoo") and not vecs.from_subwords("romeo")
    neighbors = vecs.most_similar("romeoo", topn=5)
    assert len(neighbors) == 5 and "romeoo" not in [n.word for n in neighbors]
    query = vecs.vector("romeoo").astype(np.float64)
    best = np.argsort(-(np.asarray(vecs.unit, np.float64) @ query))[:5]
    assert [n.word for n in neighbors] == [vecs.words[i] for i in best]
    assert vecs.analogy("man", "king", "womann", topn=3)
    odd, ranked = vecs.doesnt_match(["romeoo", "juliet", "tybalt", "swordz"])
    assert {n.word for n in ranked} == {"romeoo", "juliet", "tybalt", "swordz"}
    assert -1 <= vecs.similarity("romeoo", "romeo") <= 1
    long_ngrams = Subwords(ct.SubwordParams(min_n=5, max_n=6, buckets=20_000), vecs.subwords.ngrams)
    with pytest.raises(ct.UnknownWordError):                       # "<ab>" is too short for any 5-gram
        ct.Vectors(vecs.words, vecs.unit, subwords=long_ngrams).most_similar("ab")


def test_word2vec_models_keep_their_suggestions(small_model):
    vecs = ct.load_vectors(small_model)
    assert not vecs.has_subwords and not vecs.from_subwords("romeoo")
    with pytest.raises(ct.UnknownWordError, match="did you mean: romeo"):
        vecs.most_similar("romeoo")


def test_a_release_0_1_model_folder_still_loads_as_word2vec():
    vecs = ct.load_vectors(FIXTURES / "word2vec-model")
    assert vecs.subwords is None and vecs.most_similar(vecs.words[0], topn=2)
    with pytest.raises(ct.UnknownWordError):
        vecs.most_similar("zzzzqqq-not-a-word")


def test_query_path_loads_no_pickle_and_no_gensim(subword_model):
    """Load and query a subword model, out-of-vocabulary words included, with unpickling and gensim blocked."""
    probe = f"""
import pickle, sys
def refuse(*a, **k):
    raise AssertionError("the query path unpickled something")
pickle.load = pickle.loads = refuse
pickle.Unpickler = refuse
class NoGensim:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "gensim":
            raise ImportError("gensim is blocked")
sys.meta_path.insert(0, NoGensim())
import corpus_tools as ct
vecs = ct.load_vectors({str(subword_model)!r})
assert vecs.most_similar("romeoo", topn=3) and vecs.doesnt_match(["romeoo", "juliet", "sword"])
from click.testing import CliRunner
from wordstack.cli import cli
r = CliRunner().invoke(cli, ["similar", "romeoo", "-m", {str(subword_model)!r}, "--json"])
assert r.exit_code == 0, r.output
print(sorted(m for m in ("gensim", "sklearn", "scipy", "nltk") if m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- damaged and hostile n-gram matrices


@pytest.fixture
def copy_of_model(subword_model, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(subword_model, dst, ignore=shutil.ignore_patterns("word2vec.model*"))
    return dst


def _edit_meta(folder: Path, change) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    change(meta)
    (folder / "meta.json").write_text(json.dumps(meta))


def _write_npy_header(path: Path, shape, dtype="<f4", payload=b"") -> None:
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(payload)


def test_a_truncated_ngram_matrix_is_refused(copy_of_model):
    f = copy_of_model / "ngrams.npy"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(ct.ModelError, match="ngrams.npy is truncated or altered"):
        ct.load_vectors(copy_of_model)


def test_a_header_claiming_a_huge_matrix_is_refused_before_anything_is_allocated(copy_of_model):
    f = copy_of_model / "ngrams.npy"
    _write_npy_header(f, (10 ** 12, 16))
    _edit_meta(copy_of_model, lambda m: m["files"].pop("ngrams.npy"))
    t0 = time.perf_counter()
    with pytest.raises(ct.ModelError, match="truncated"):
        ct.load_vectors(copy_of_model)
    assert time.perf_counter() - t0 < 1


def test_a_matrix_of_another_shape_than_meta_declares_is_refused(copy_of_model):
    _edit_meta(copy_of_model, lambda m: m["subwords"].update(buckets=10_000))
    with pytest.raises(ct.ModelError, match=r"has shape \(20000, 16\), but .* declares 10,000 buckets"):
        ct.load_vectors(copy_of_model)


def test_a_float64_or_pickled_matrix_is_refused(copy_of_model):
    f = copy_of_model / "ngrams.npy"
    _edit_meta(copy_of_model, lambda m: m["files"].pop("ngrams.npy"))
    np.save(f, np.zeros((20_000, 16)))
    with pytest.raises(ct.ModelError, match="float64 array"):
        ct.load_vectors(copy_of_model)
    np.save(f, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ct.ModelError, match="object array"):
        ct.load_vectors(copy_of_model)


@pytest.mark.parametrize("change,message", [
    (lambda s: s.update(hashing="md5"), "hashed with 'md5'"),
    (lambda s: s.update(max_n=2), "malformed subword parameters"),
    (lambda s: s.update(buckets="many"), "malformed subword parameters"),
    (lambda s: s.update(lowercase="yes"), "lowercase must be true or false"),
])
def test_malformed_subword_parameters_are_refused(copy_of_model, change, message):
    _edit_meta(copy_of_model, lambda m: change(m["subwords"]))
    with pytest.raises(ct.ModelError, match=message):
        ct.load_vectors(copy_of_model)


def test_a_missing_or_undeclared_ngram_matrix_is_refused(copy_of_model):
    (copy_of_model / "ngrams.npy").rename(copy_of_model / "elsewhere.npy")
    with pytest.raises(ct.ModelError, match="ngrams.npy is missing"):
        ct.load_vectors(copy_of_model)
    (copy_of_model / "elsewhere.npy").rename(copy_of_model / "ngrams.npy")
    _edit_meta(copy_of_model, lambda m: m.pop("subwords"))
    with pytest.raises(ct.ModelError, match="declares no subwords"):
        ct.load_vectors(copy_of_model)


def test_nan_in_the_ngram_matrix_is_an_error_at_query_time(copy_of_model):
    f = copy_of_model / "ngrams.npy"
    ngrams = np.load(f)
    ngrams[:] = np.nan
    np.save(f, ngrams)
    vecs = ct.load_vectors(copy_of_model)
    assert vecs.most_similar("romeo", topn=2)                      # vocabulary words are untouched
    with pytest.raises(ct.ModelError, match="NaN or infinity.*damaged"):
        vecs.most_similar("romeoo")


# ----------------------------------------------------------------------------- evaluation with full coverage


def test_evaluate_oov_subwords_scores_every_item(subword_model):
    vecs = ct.load_vectors(subword_model)
    ev = ct.evaluate(vecs, oov="subwords")
    assert [(p.name, p.oov) for p in ev.pairs] == [("wordsim353", "skip"), ("wordsim353", "subwords"),
                                                   ("simlex999", "skip"), ("simlex999", "subwords")]
    for p in ev.pairs:
        if p.oov == "subwords":
            assert p.coverage == 1.0 and p.skipped == 0 and p.from_subwords > 0 and p.spearman is not None
        else:
            assert p.coverage < 1.0 and p.from_subwords == 0
    skip, full = ev.analogies
    assert skip.oov == "skip" and full.oov == "subwords"
    assert full.total.coverage == 1.0 and full.total.questions == skip.total.questions == 19544
    assert full.total.from_subwords == skip.total.skipped > 0
    # the in-vocabulary questions are scored the same way in both (answers among the vocabulary)
    assert full.total.correct >= skip.total.correct
    plain = ct.evaluate(vecs)
    assert [p.spearman for p in plain.pairs] == [p.spearman for p in ev.pairs if p.oov == "skip"]
    assert plain.analogies[0].total == skip.total


def test_evaluate_oov_subwords_pairs_match_a_direct_computation(subword_model, tmp_path):
    from scipy import stats

    vecs = ct.load_vectors(subword_model)
    rows = [("romeo", "romeoo", 9.0), ("king", "kingliest", 7.5), ("sword", "swordplayz", 6.0), ("love", "hate", 2.0)]
    f = tmp_path / "pairs.tsv"
    f.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows))
    (score,) = ct.evaluate(vecs, pairs=[f], oov="subwords").pairs[1:]
    sims = [float(np.dot(vecs.vector(a), vecs.vector(b))) for a, b, _ in rows]
    assert score.from_subwords == 3 and score.coverage == 1.0
    assert score.spearman == pytest.approx(stats.spearmanr([s for *_, s in rows], sims).statistic)


def test_evaluate_oov_subwords_on_a_word2vec_model_says_what_to_do(small_model):
    with pytest.raises(ValueError, match="has no subword vectors.*--subwords"):
        ct.evaluate(ct.load_vectors(small_model), oov="subwords")
    with pytest.raises(ValueError, match="oov must be one of skip, subwords"):
        ct.evaluate(ct.load_vectors(small_model), oov="guess")


def test_map_places_oov_words_from_subwords(subword_model):
    wm = ct.map_words(ct.load_vectors(subword_model), ["romeo", "juliet", "romeoo", "tybalt", "zz"])
    assert wm.words == ["romeo", "juliet", "romeoo", "tybalt", "zz"] and wm.from_subwords == ["romeoo", "zz"]
    points = wm.to_dict()["points"]
    assert [p.get("from_subwords", False) for p in points] == [False, False, True, False, True]


# ----------------------------------------------------------------------------- fastText's .bin


def test_fasttext_bin_export_reads_back_in_gensim(subword_model, tmp_path):
    """gensim's reader of Facebook's format gives back every vector, in and out of the vocabulary."""
    from gensim.models.fasttext import load_facebook_vectors

    out = tmp_path / "ft.bin"
    res = ct.export_fasttext_bin(subword_model, out)
    assert res.format == "fasttext-bin" and res.bytes == out.stat().st_size
    vecs = ct.load_vectors(subword_model)
    kv = load_facebook_vectors(str(out))
    assert kv.index_to_key == vecs.words and (kv.min_n, kv.max_n, kv.bucket) == (3, 6, 20_000)
    np.testing.assert_allclose(kv.vectors, vecs.unit * vecs.norms[:, None], rtol=1e-5, atol=1e-6)
    assert np.array_equal(kv.vectors_ngrams, np.load(subword_model / "ngrams.npy"))
    for word in ("romeoo", "swordsmen", "日本"):
        assert np.array_equal(kv.get_vector(word), vecs.vector(word, unit=False))
    with pytest.raises(ct.OverwriteRefusedError):
        ct.export_fasttext_bin(subword_model, out)


def test_fasttext_bin_export_reads_in_the_fasttext_tool(subword_model, tmp_path):
    fasttext = pytest.importorskip("fasttext", reason="the fasttext wheel (pip install fasttext) is not installed")
    out = tmp_path / "ft.bin"
    ct.export_fasttext_bin(subword_model, out)
    model = fasttext.load_model(str(out))
    vecs = ct.load_vectors(subword_model)
    assert model.get_dimension() == 16 and len(model.words) == len(vecs)
    for word in ("romeo", vecs.words[200], "romeoo", "Ünïcödé"):
        want = vecs.vector(word.lower(), unit=False)
        np.testing.assert_allclose(model.get_word_vector(word.lower()), want, rtol=1e-5, atol=1e-6)
    got = [w for _, w in model.get_nearest_neighbors("romeoo", k=5)]
    assert got == [n.word for n in vecs.most_similar("romeoo", topn=5)]


def test_fasttext_bin_export_of_a_word2vec_model_says_what_to_do(small_model, tmp_path):
    with pytest.raises(ValueError, match="is a word2vec model.*--format vec"):
        ct.export_fasttext_bin(small_model, tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_the_ngram_matrix_is_stored_once_when_gensim_saved_it_beside_its_pickle(tmp_path):
    from corpus_tools._word2vec import _link_ngrams

    ngrams = np.arange(24, dtype=np.float32).reshape(6, 4)
    np.save(tmp_path / "gensim.npy", ngrams)
    _link_ngrams(tmp_path / "gensim.npy", tmp_path / "ngrams.npy", ngrams)
    assert (tmp_path / "ngrams.npy").stat().st_nlink == 2
    _link_ngrams(tmp_path / "gensim.npy", tmp_path / "other.npy", ngrams + 1)   # not the same matrix: no link
    _link_ngrams(tmp_path / "missing.npy", tmp_path / "third.npy", ngrams)      # gensim kept it in its pickle
    assert not (tmp_path / "other.npy").exists() and not (tmp_path / "third.npy").exists()
