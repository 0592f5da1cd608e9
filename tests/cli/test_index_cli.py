"""`wordstack index` and --exact through click's CliRunner: the build's report (text and JSON), queries
through the index against --exact, a stale index refused with an `Error:` line, import/export of a file."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import corpus_tools as ct
from wordstack.cli import cli

V, D = 2000, 16


@pytest.fixture()
def model(tmp_path):
    rng = np.random.default_rng(4)
    centres = rng.standard_normal((40, D)) * 2
    vectors = centres[rng.integers(0, 40, V)] + rng.standard_normal((V, D)) * 0.6
    ct.export_vectors(ct.Vectors.from_vectors([f"w{i}" for i in range(V)], vectors), tmp_path / "v.bin")
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "v.bin"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    return tmp_path / "m"


def test_index_reports_build_and_recall(model):
    result = CliRunner().invoke(cli, ["index", str(model), "--queries", "100", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2,000 words x 16 dims (faiss" in result.stdout and "recall@10 " in result.stdout
    assert "against exact search on 100 held-out words" in result.stdout
    result = CliRunner().invoke(cli, ["index", str(model), "-M", "8", "--ef-search", "40", "--queries", "50",
                                      "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["M"], out["ef_search"], out["vocab_size"], out["library"]) == (8, 40, 2000, "faiss")
    assert 0 <= out["recall_at_10"] <= 1 and out["index"].endswith(".faiss")
    assert json.loads((model / "meta.json").read_text())["index"]["ef_search"] == 40
    assert len(list(model.glob("index-*.faiss"))) == 1           # the rebuild replaced the first index


def test_queries_through_the_index_and_exact(model):
    assert CliRunner().invoke(cli, ["index", str(model), "--queries", "100"]).exit_code == 0
    runner = CliRunner()
    for cmd in (["similar", "w3"], ["analogy", "w1", "w2", "w3"]):
        via = runner.invoke(cli, [*cmd, "-m", str(model), "--json"])
        exact = runner.invoke(cli, [*cmd, "-m", str(model), "--json", "--exact"])
        assert via.exit_code == exact.exit_code == 0, via.output + exact.output
        got = [n["word"] for n in json.loads(via.stdout)["results"][0]["neighbors"]]
        want = [n["word"] for n in json.loads(exact.stdout)["results"][0]["neighbors"]]
        assert len(got) == 10 and len(set(got) & set(want)) >= 8
    odd = runner.invoke(cli, ["odd-one-out", "w1", "w2", "w3", "-m", str(model), "--exact", "--json"])
    assert odd.exit_code == 0 and json.loads(odd.stdout)["results"][0]["odd"] in {"w1", "w2", "w3"}


def test_stale_index_is_an_error_that_says_what_to_do(model):
    assert CliRunner().invoke(cli, ["index", str(model), "--queries", "50"]).exit_code == 0
    unit = np.load(model / "vectors.npy", mmap_mode="r+")
    unit[:] = unit[::-1]
    unit.flush()
    del unit
    result = CliRunner().invoke(cli, ["similar", "w3", "-m", str(model)])
    assert result.exit_code == 1
    assert "Error: the index" in result.output and "was built for other vectors" in result.output
    assert "rebuild it with `wordstack index" in result.output and "--exact" in result.output
    assert CliRunner().invoke(cli, ["similar", "w3", "-m", str(model), "--exact"]).exit_code == 0


def test_export_of_an_indexed_folder_streams_the_vectors(model, tmp_path):
    assert CliRunner().invoke(cli, ["index", str(model), "--queries", "50"]).exit_code == 0
    result = CliRunner().invoke(cli, ["export", str(model), "--out", str(tmp_path / "back.bin")])
    assert result.exit_code == 0, result.output
    words, vectors, _ = ct.read_word2vec(tmp_path / "back.bin")
    original_words, original, _ = ct.read_word2vec(tmp_path / "v.bin")
    assert words == original_words
    np.testing.assert_allclose(vectors, original, rtol=1e-5, atol=1e-6)


def test_a_missed_recall_target_names_the_query_kind_that_missed(model, monkeypatch):
    """Analogies missing the target while single words reach it: the warning says which,
    with the recall each reached, instead of blaming both search widths."""
    from corpus_tools import _index

    real, real_queries, kind = _index._recall, _index._queries, []

    def queries(unit, rows, what):              # the kind being tuned: the last one made
        kind.append(what)
        return real_queries(unit, rows, what)

    monkeypatch.setattr(_index, "_queries", queries)
    monkeypatch.setattr(_index, "_recall", lambda found, truth: real(found, truth) * (0.5 if kind[-1] == "analogy"
                                                                                     else 1.0))
    result = CliRunner().invoke(cli, ["index", str(model), "--queries", "50", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["target_met"] is False and out["recall_at_10_analogy"] < 0.6 and out["ef_search_analogy"] == 1024
    assert "analogies (b - a + c) did not reach recall@10 0.98 even at the widest search tried (1024)" in result.stderr
    assert f"single-word queries reached it at search width {out['ef_search']}" in result.stderr
    assert "single-word queries did not reach" not in result.stderr
    res = ct.build_index(model, queries=50, threads=1)
    assert (res.target_met, res.missed) == (False, ("analogy",))
    monkeypatch.setattr(_index, "_recall", real)
    res = ct.build_index(model, queries=50, threads=1)
    assert (res.target_met, res.missed) == (True, ())
