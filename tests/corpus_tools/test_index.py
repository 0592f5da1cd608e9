"""The nearest-neighbour index of a model folder: recall against exact search, the same answers'
form and scores, restrict_vocab, stale / altered / foreign indexes refused, rebuilds and killed
builds leaving the folder answering, re-import over an indexed folder."""
import json
import shutil

import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools import _index
from corpus_tools._model_dir import write_model_dir

V, D = 3000, 24


def _clustered(seed: int, n: int = V, dim: int = D) -> np.ndarray:
    """Words around 60 centres of different spreads (neighbours are meaningful, unlike uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((60, dim)) * 2
    which = rng.integers(0, 60, n)
    return centres[which] + rng.standard_normal((n, dim)) * rng.uniform(0.3, 1.0, 60)[which, None]


def _words(n: int = V) -> list[str]:
    return [f"w{i}" for i in range(n)]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "model"
    write_model_dir(out, _words(), _clustered(1), np.zeros(V), {"format": "wordstack-word2vec/1"})
    result = ct.build_index(out, queries=200, threads=1)
    return out, result


def _fresh_copy(indexed, tmp_path):
    src, _ = indexed
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst


def test_recall_against_exact_search_on_held_out_words(indexed):
    path, result = indexed
    info = result.info
    assert info["recall_at_10"] >= 0.95 and info["recall_at_10_analogy"] >= 0.95 and result.target_met
    vecs = ct.load_vectors(path)
    assert vecs.has_index and vecs.index_info["file"] == result.path.name
    rng = np.random.default_rng(5)
    found = total = 0
    for row in rng.choice(V, 100, replace=False):
        word = f"w{row}"
        approx = vecs.most_similar(word, topn=10)
        exact = vecs.most_similar(word, topn=10, exact=True)
        assert all(isinstance(n, ct.Neighbor) for n in approx) and len(approx) == 10
        scores = {n.word: n.score for n in exact}
        for n in approx:                         # same scores as the full product for the words both found
            if n.word in scores:
                assert n.score == pytest.approx(scores[n.word], abs=1e-6)
        assert [n.score for n in approx] == sorted((n.score for n in approx), reverse=True)
        assert word not in {n.word for n in approx}
        found += len(scores.keys() & {n.word for n in approx})
        total += 10
    assert found / total >= 0.95


def test_meta_json_records_the_index(indexed):
    path, result = indexed
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    rec = meta["index"]
    assert rec == result.info
    assert rec["library"] == "faiss" and rec["library_version"] and rec["kind"] == "HNSW,Flat"
    assert (rec["M"], rec["ef_construction"]) == (32, 200) and rec["ef_search"] in _index.EF_LADDER
    assert rec["file_size"] == (path / rec["file"]).stat().st_size and rec["recall_queries"] == 200
    assert rec["vectors_fingerprint"] == _index.vectors_fingerprint(np.load(path / "vectors.npy", mmap_mode="r"))
    assert rec["build_seconds"] > 0 and rec["query_ms"] > 0
    assert meta["files"]["vectors.npy"] == (path / "vectors.npy").stat().st_size  # the model's own record kept


def test_analogy_through_the_index_matches_exact(indexed):
    vecs = ct.load_vectors(indexed[0])
    rng = np.random.default_rng(9)
    found = 0
    for a, b, c in rng.choice(V, (40, 3), replace=False):
        approx = {n.word for n in vecs.analogy(f"w{a}", f"w{b}", f"w{c}")}
        exact = {n.word for n in vecs.analogy(f"w{a}", f"w{b}", f"w{c}", exact=True)}
        assert not approx & {f"w{a}", f"w{b}", f"w{c}"}
        found += len(approx & exact)
    assert found / 400 >= 0.9


def test_restrict_vocab_with_an_index(indexed):
    vecs = ct.load_vectors(indexed[0])
    small = vecs.most_similar("w7", topn=5, restrict_vocab=1000)            # < half: exact over 1000 rows
    assert small == vecs.most_similar("w7", topn=5, restrict_vocab=1000, exact=True)
    big = vecs.most_similar("w7", topn=10, restrict_vocab=2500)             # >= half: the index, rows filtered
    assert all(vecs.index[n.word] < 2500 for n in big) and len(big) == 10
    exact = vecs.most_similar("w7", topn=10, restrict_vocab=2500, exact=True)
    assert len({n.word for n in big} & {n.word for n in exact}) >= 8


def test_stale_index_is_refused_and_exact_still_answers(indexed, tmp_path):
    path = _fresh_copy(indexed, tmp_path)
    unit = np.load(path / "vectors.npy", mmap_mode="r+")
    unit[:] = unit[::-1]                                   # same size, other rows: as if edited in place
    unit.flush()
    del unit
    vecs = ct.load_vectors(path)
    with pytest.raises(ct.IndexMismatchError, match=r"was built for other vectors than those of .*vectors.npy.*"
                                                    r"rebuild it with `wordstack index .*--exact"):
        vecs.most_similar("w1")
    assert len(vecs.most_similar("w1", exact=True)) == 10
    ct.build_index(path, queries=50, threads=1)             # rebuilding fixes it
    assert len(ct.load_vectors(path).most_similar("w1")) == 10


def test_altered_or_foreign_index_files_are_refused_before_faiss_reads_them(indexed, tmp_path):
    path = _fresh_copy(indexed, tmp_path)
    name = json.loads((path / "meta.json").read_text())["index"]["file"]
    with open(path / name, "r+b") as fh:                   # cut short
        fh.truncate(1000)
    with pytest.raises(ct.IndexMismatchError, match=r"is 1,000 bytes but .*meta.json records .*altered or cut short"):
        ct.load_vectors(path).most_similar("w1")
    meta = json.loads((path / "meta.json").read_text())
    meta["index"]["file_size"] = 1000                      # ... and the record forged to match
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ct.IndexMismatchError, match="which no HNSW index .* of 3,000 vectors of 24 numbers has"):
        ct.load_vectors(path).most_similar("w1")
    meta["index"]["file"] = "../../etc/passwd"
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ct.IndexMismatchError, match="in a form this wordstack does not read"):
        ct.load_vectors(path).most_similar("w1")


def test_index_of_another_model_is_refused(indexed, tmp_path):
    other = tmp_path / "other"
    write_model_dir(other, _words(), _clustered(2), np.zeros(V), {"format": "wordstack-word2vec/1"})
    meta_src = json.loads((indexed[0] / "meta.json").read_text())
    name = meta_src["index"]["file"]
    shutil.copy(indexed[0] / name, other / name)           # the index and its record copied over
    meta = json.loads((other / "meta.json").read_text())
    meta["index"] = meta_src["index"]
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ct.IndexMismatchError, match="fingerprint changed"):
        ct.load_vectors(other).analogy("w1", "w2", "w3")
    garbage = tmp_path / "garbage"
    shutil.copytree(other, garbage)
    data = bytearray((garbage / name).read_bytes())
    data[:4] = b"IxFI"
    (garbage / name).write_bytes(bytes(data))
    with pytest.raises(ct.IndexMismatchError, match="is not a faiss HNSW index"):
        ct.load_vectors(garbage).most_similar("w1")


def test_rebuild_replaces_only_the_index_wordstack_wrote(indexed, tmp_path):
    path = _fresh_copy(indexed, tmp_path)
    old = json.loads((path / "meta.json").read_text())["index"]["file"]
    before = {p.name: p.read_bytes() for p in path.iterdir() if p.suffix != ".faiss" and p.name != "meta.json"}
    res = ct.build_index(path, m=8, queries=50, threads=1)
    assert res.path.name != old and not (path / old).exists() and res.info["M"] == 8
    after = {p.name: p.read_bytes() for p in path.iterdir() if p.suffix != ".faiss" and p.name != "meta.json"}
    assert after == before                                 # the vectors, vocabulary and norms untouched
    assert [p.name for p in path.glob("*.faiss")] == [res.path.name]


def test_a_killed_build_leaves_the_folder_answering_as_before(indexed, tmp_path, monkeypatch):
    from corpus_tools._model_dir import model_dir_foreign

    path = _fresh_copy(indexed, tmp_path)
    meta_before = (path / "meta.json").read_bytes()
    answer = ct.load_vectors(path).most_similar("w3")

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_index, "_record", killed)          # killed after the new file, before meta.json
    with pytest.raises(KeyboardInterrupt):
        ct.build_index(path, queries=50, threads=1)
    assert (path / "meta.json").read_bytes() == meta_before
    assert len(list(path.glob("*.faiss"))) == 1
    assert ct.load_vectors(path).most_similar("w3") == answer
    monkeypatch.undo()
    stray = path / "index-0123456789abcdef.faiss"          # what a kill -9 during the write leaves
    stray.write_bytes(b"half an index")
    assert ct.load_vectors(path).most_similar("w3") == answer
    assert model_dir_foreign(path) == []                    # the stray file is recognised as wordstack's
    ct.build_index(path, queries=50, threads=1)
    assert not stray.exists() and len(list(path.glob("*.faiss"))) == 1


def test_indexed_folder_can_be_replaced_by_import_and_train(indexed, tmp_path):
    from corpus_tools._model_dir import model_dir_foreign

    path = _fresh_copy(indexed, tmp_path)
    assert model_dir_foreign(path) == []                    # index, lock and record are the model's own
    ct.export_vectors(path, tmp_path / "v.bin")
    ct.import_vectors(tmp_path / "v.bin", path)             # replaces the folder, index included
    vecs = ct.load_vectors(path)
    assert not vecs.has_index and not list(path.glob("*.faiss")) and len(vecs.most_similar("w1")) == 10


def test_bad_parameters_and_tiny_models(tmp_path, indexed):
    with pytest.raises(ValueError, match="m must be an integer >= 2"):
        ct.build_index(indexed[0], m=1)
    with pytest.raises(ValueError, match="target_recall must be in"):
        ct.build_index(indexed[0], target_recall=1.5)
    write_model_dir(tmp_path / "tiny", _words(10), _clustered(3, 10), np.zeros(10), {"format": "wordstack-word2vec/1"})
    with pytest.raises(ct.ModelError, match="has 10 words; an index is worth building"):
        ct.build_index(tmp_path / "tiny")
    with pytest.raises(ct.ModelError, match="does not exist"):
        ct.build_index(tmp_path / "missing")
    assert not ct.Vectors.from_vectors(["a", "b"], np.eye(2)).has_index


def test_exact_top_matches_a_full_sort():
    rng = np.random.default_rng(0)
    unit = rng.standard_normal((40000, 8)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    rows = np.array([0, 16383, 16384, 39999])
    got = _index.exact_top(unit, unit[rows], rows[:, None], 10)
    scores = unit[rows] @ unit.T
    scores[np.arange(4), rows] = -np.inf
    np.testing.assert_array_equal(got, np.argsort(-scores, axis=1, kind="stable")[:, :10])
