"""Queries against a brute-force oracle, suggestions, and damaged model directories."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools._vectors import _levenshtein_many

WORDS = ["king", "queen", "man", "woman", "prince", "princess", "sword", "shield", "love", "hate", "kings"]


@pytest.fixture(scope="module")
def vecs():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(len(WORDS), 6)).astype(np.float32)
    return ct.Vectors.from_vectors(WORDS, raw, counts=np.arange(len(WORDS), 0, -1))


def oracle_neighbors(vecs, query_vec, exclude, topn):
    unit = np.asarray(vecs.unit, dtype=np.float64)
    q = query_vec / np.linalg.norm(query_vec)
    sims = unit @ q
    order = [i for i in np.argsort(-sims, kind="stable") if vecs.words[i] not in exclude]
    return [(vecs.words[i], sims[i]) for i in order[:topn]]


def test_most_similar_matches_brute_force(vecs):
    got = vecs.most_similar("king", topn=4)
    want = oracle_neighbors(vecs, np.asarray(vecs.unit[0], np.float64), {"king"}, 4)
    assert [n.word for n in got] == [w for w, _ in want]
    np.testing.assert_allclose([n.score for n in got], [s for _, s in want], rtol=1e-5)
    assert all(-1 <= n.score <= 1 for n in got)


def test_most_similar_of_several_words_uses_normalised_sum(vecs):
    got = vecs.most_similar(["king", "woman"], topn=3, negative=["man"])
    q = np.asarray(vecs.unit[0], np.float64) + vecs.unit[3] - vecs.unit[2]
    want = oracle_neighbors(vecs, q, {"king", "woman", "man"}, 3)
    assert [n.word for n in got] == [w for w, _ in want]
    assert [n.word for n in vecs.analogy("man", "king", "woman", topn=3)] == [n.word for n in got]


def test_topn_larger_than_vocab(vecs):
    assert len(vecs.most_similar("king", topn=100)) == len(WORDS) - 1


def test_doesnt_match(vecs):
    odd, ranked = vecs.doesnt_match(["king", "queen", "sword"])
    mat = np.asarray(vecs.unit[[0, 1, 6]], np.float64)
    mean = mat.mean(axis=0)
    sims = mat @ (mean / np.linalg.norm(mean))
    assert odd == ["king", "queen", "sword"][int(np.argmin(sims))]
    assert [n.score for n in ranked] == sorted(n.score for n in ranked)
    with pytest.raises(ValueError, match="at least 3 words, got 2"):
        vecs.doesnt_match(["king", "queen"])


def test_lookup_is_case_insensitive_and_handles_phrases():
    v = ct.Vectors.from_vectors(["expecto_patronum", "harry"], np.eye(2, dtype=np.float32))
    assert v.key("Harry") == "harry"
    assert v.key("expecto patronum") == "expecto_patronum"
    assert v.key("Expecto  Patronum") == "expecto_patronum"
    assert "expecto patronum" in v and "ron" not in v


def test_unknown_word_offers_close_matches(vecs):
    with pytest.raises(ct.UnknownWordError) as err:
        vecs.most_similar("kng")
    assert err.value.suggestions[:2] == ["king", "kings"]
    assert "'kng' is not in the vocabulary" in str(err.value) and "did you mean: king" in str(err.value)


def test_unknown_word_without_close_matches(vecs):
    with pytest.raises(ct.UnknownWordError, match="no close match"):
        vecs.most_similar("xylophone")


def test_levenshtein_against_plain_dp():
    def plain(a, b):  # optimal string alignment distance, textbook form
        d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(len(a) + 1):
            d[i][0] = i
        for j in range(len(b) + 1):
            d[0][j] = j
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
                if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        return d[len(a)][len(b)]

    words = ["", "a", "king", "kings", "sing", "kingdom", "gink", "\u00e9t\u00e9", "ikng", "romeo"]
    width = max(len(w) for w in words)
    codes = np.zeros((len(words), width), np.int32)
    for i, w in enumerate(words):
        codes[i, : len(w)] = [ord(c) for c in w]
    lengths = np.array([len(w) for w in words])
    for q in ["king", "kng", "ete", "x", "romoe", "ikgn"]:
        assert list(_levenshtein_many(q, codes, lengths)) == [plain(q, w) for w in words]


def test_invalid_topn(vecs):
    with pytest.raises(ValueError, match="topn must be an integer >= 1, got 0"):
        vecs.most_similar("king", topn=0)


# ----------------------------------------------------------------------------- model directories


def test_load_is_memory_mapped_and_matches(small_model):
    v = ct.load_vectors(small_model)
    assert isinstance(v.unit, np.memmap)
    assert v.vector_size == 32 and len(v) == len(v.counts)
    assert v.label == "small (32d, 1 epoch)"
    assert v.most_similar("the", topn=3)[0].word != "the"


@pytest.fixture
def model_copy(small_model, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(small_model, target)
    return target


def forget_file_sizes(model_dir):
    """Drop meta.json's record of file sizes, so later checks must catch the damage."""
    meta = json.loads((model_dir / "meta.json").read_text())
    del meta["files"]
    (model_dir / "meta.json").write_text(json.dumps(meta))


def test_missing_model_dir(tmp_path):
    with pytest.raises(ct.ModelError, match="does not exist; train one with `wordstack train"):
        ct.load_vectors(tmp_path / "nope")


@pytest.mark.parametrize("name", ["meta.json", "vectors.npy", "vocab.txt", "norms.npy"])
def test_missing_file_is_named(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(ct.ModelError, match=name.replace(".", r"\.") + " is missing"):
        ct.load_vectors(model_copy)


def test_truncated_vectors_are_detected(model_copy):
    data = (model_copy / "vectors.npy").read_bytes()
    (model_copy / "vectors.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(ct.ModelError, match=r"vectors\.npy is truncated or altered"):
        ct.load_vectors(model_copy)


def test_truncated_vectors_without_size_record(model_copy):
    forget_file_sizes(model_copy)
    data = (model_copy / "vectors.npy").read_bytes()
    (model_copy / "vectors.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(ct.ModelError, match="cannot read the vectors"):
        ct.load_vectors(model_copy)


def test_corrupt_meta(model_copy):
    (model_copy / "meta.json").write_text("{oops")
    with pytest.raises(ct.ModelError, match=r"meta\.json is corrupt"):
        ct.load_vectors(model_copy)


def test_vocab_and_vectors_disagree(model_copy):
    forget_file_sizes(model_copy)
    lines = (model_copy / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (model_copy / "vocab.txt").write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    with pytest.raises(ct.ModelError, match="inconsistent"):
        ct.load_vectors(model_copy)


def test_malformed_vocab_line(model_copy):
    forget_file_sizes(model_copy)
    with open(model_copy / "vocab.txt", "a", encoding="utf-8") as fh:
        fh.write("no-tab-here\n")
    with pytest.raises(ct.ModelError, match=r"vocab\.txt line \d+ is malformed"):
        ct.load_vectors(model_copy)


def test_vectors_file_with_pickle_is_refused(model_copy):
    forget_file_sizes(model_copy)
    np.save(model_copy / "vectors.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ct.ModelError, match="cannot read the vectors"):
        ct.load_vectors(model_copy)


# ------------------------------------------------------------------- untrusted model folders (issue 12, case 8)


@pytest.fixture
def tiny_model(tmp_path):
    """A 3-word, 4-dim model folder without meta.json's record of file sizes (later checks must hold)."""
    from corpus_tools._model_dir import write_model_dir

    out = tmp_path / "tiny"
    write_model_dir(out, ["a", "b", "c"], np.eye(3, 4) + 0.5, [3, 2, 1],
                    {"format": "wordstack-word2vec/1", "vocab_size": 3, "vector_size": 4})
    forget_file_sizes(out)
    return out


def lie_about_shape(npy_path, shape):
    """Rewrite an .npy file's header to announce ``shape``, keeping its data."""
    array = np.load(npy_path)
    header = np.lib.format.header_data_from_array_1_0(array)
    header["shape"] = shape
    with open(npy_path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(array.tobytes())


@pytest.mark.parametrize("name, shape", [("vectors.npy", (10**12, 4)), ("norms.npy", (10**12,))])
@pytest.mark.parametrize("mmap", [True, False])
def test_case8_npy_header_claiming_10e12_rows_is_refused_unread(tiny_model, name, shape, mmap):
    lie_about_shape(tiny_model / name, shape)
    with pytest.raises(ct.ModelError, match=rf"{name.replace('.', '[.]')} is truncated \(\d+ bytes; its header "
                                            rf"announces shape \(1000000000000,"):
        ct.load_vectors(tiny_model, mmap=mmap)


def test_case8_truncated_npy_names_the_file(tiny_model):
    data = (tiny_model / "vectors.npy").read_bytes()
    (tiny_model / "vectors.npy").write_bytes(data[:-8])
    with pytest.raises(ct.ModelError, match=r"tiny/vectors\.npy is truncated \(168 bytes; its header announces "
                                            r"shape \(3, 4\), 176 bytes\)"):
        ct.load_vectors(tiny_model, mmap=False)


def test_case8_vectors_shape_disagrees_with_meta_json(tiny_model):
    meta = json.loads((tiny_model / "meta.json").read_text())
    (tiny_model / "meta.json").write_text(json.dumps({**meta, "vocab_size": 5}))
    with pytest.raises(ct.ModelError, match=r"vectors\.npy has 3 rows but .*meta\.json says vocab_size 5"):
        ct.load_vectors(tiny_model)


def test_case8_vocab_is_read_no_further_than_the_vectors_rows(tiny_model):
    with open(tiny_model / "vocab.txt", "a", encoding="utf-8") as fh:
        fh.writelines(f"w{i}\t0\n" for i in range(1000))
    with pytest.raises(ct.ModelError, match=r"inconsistent: vocab\.txt has more than 3 words, vectors\.npy has "
                                            r"shape \(3, 4\)"):
        ct.load_vectors(tiny_model)


def test_case8_huge_meta_json_is_refused_unread(tiny_model):
    meta = json.loads((tiny_model / "meta.json").read_text())
    (tiny_model / "meta.json").write_text(json.dumps({**meta, "padding": "x" * (1 << 20)}))
    with pytest.raises(ct.ModelError, match=r"meta\.json is 1,048,\d{3} bytes; .* wordstack reads at most 1,048,576"):
        ct.load_vectors(tiny_model)
