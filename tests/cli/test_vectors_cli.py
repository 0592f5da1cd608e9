"""The word-vector commands through click's CliRunner: similar (interactive, phrases, unknown words),
analogy, odd-one-out, evaluate, map, clusters, export, import; on a hand-made model (answers checked
against a brute-force numpy oracle), on a small model trained with phrases on the shipped corpus,
on the default-model path and on an imported file."""
import json
import pickle
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

import corpus_tools as ct
from corpus_tools._model_dir import write_model_dir
from wordstack.cli import cli

TINY_WORDS = ["king", "queen", "man", "woman", "prince", "princess", "kings", "sword", "dagger", "crown",
              "expecto_patronum", "café", "apple", "pear", "plum", "fig"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A 16-word, 6-dim model; fruit words form a tight group."""
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((len(TINY_WORDS), 6))
    vectors[-4:] = np.array([5, 5, 0, 0, 0, 0]) + rng.normal(scale=0.2, size=(4, 6))
    out = tmp_path_factory.mktemp("tiny") / "tiny"
    write_model_dir(out, TINY_WORDS, vectors, np.arange(len(TINY_WORDS), 0, -1),
                    {"format": "wordstack-word2vec/1", "params": {"epochs": 1}})
    return out


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A small model trained with phrases on a third of the shipped Shakespeare corpus (about 10 s)."""
    base = tmp_path_factory.mktemp("trained")
    books = sorted(ct.shipped_corpus().glob("*.txt.gz"))[::3]
    ct.ingest(books, base / "corpus", phrases=ct.PhraseSettings(), jobs=2)
    ct.train(base / "corpus", base / "model", ct.Word2VecParams(vector_size=24, epochs=2, workers=2))
    return base / "model"


def run(*args, input=None, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def oracle(model, positive, negative=(), topn=3):
    """Brute force: cosine to the normalised sum of unit vectors, inputs excluded, ties by row."""
    v = ct.load_vectors(model)
    unit = np.asarray(v.unit, dtype=np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    rows = [v.index[w] for w in positive], [v.index[w] for w in negative]
    q = unit[rows[0]].sum(0) - unit[rows[1]].sum(0)
    scores = unit @ (q / np.linalg.norm(q))
    order = [i for i in sorted(range(len(v)), key=lambda i: (-scores[i], i)) if i not in rows[0] + rows[1]]
    return [(v.words[i], scores[i]) for i in order[:topn]]


def assert_neighbors(got, expected):
    assert [n["word"] for n in got] == [w for w, _ in expected]
    assert [n["score"] for n in got] == pytest.approx([s for _, s in expected], abs=2e-6)


# ----------------------------------------------------------------------------- similar


def test_interactive_similar_reads_queries_until_exit(tiny):
    res = run("similar", "-m", tiny, "-n", 3, "--json", input="king\nking queen\nExpecto Patronum\nEXIT\nqueen\n")
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["query"] for d in lines] == ["king", "king queen", "Expecto Patronum"]
    assert_neighbors(lines[0]["results"][0]["neighbors"], oracle(tiny, ["king"]))
    assert_neighbors(lines[1]["results"][0]["neighbors"], oracle(tiny, ["king", "queen"]))
    assert lines[1]["results"][0]["terms"] == ["king", "queen"]
    assert lines[2]["results"][0]["terms"] == ["expecto_patronum"]
    assert_neighbors(lines[2]["results"][0]["neighbors"], oracle(tiny, ["expecto_patronum"]))


def test_interactive_similar_side_by_side_ends_on_empty_line_or_eof(tiny, tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(tiny, other)
    res = run("similar", "-m", tiny, "-m", other, "-n", 2, input="sword\nkingz\n\nqueen\n")
    out = res.stdout
    header = "  tiny (6d, 1 epoch)          copy (6d, 1 epoch)"
    assert out.splitlines().count(header) == 2
    assert "queen\n" not in out.split("kingz")[1]  # stopped at the empty line
    assert "'kingz' is not in the vocabulary of model tiny (6d, 1 epoch); did you mean: king, kings?" in out
    first = oracle(tiny, ["sword"], topn=2)
    assert f"1. {first[0][0]}" in out and f"2. {first[1][0]}" in out
    res = run("similar", "-m", tiny, "--json", input="crown")  # EOF without newline
    assert [json.loads(x)["query"] for x in res.stdout.splitlines()] == ["crown"]


def test_unknown_word_has_suggestions_in_error_and_json(tiny):
    res = run("similar", "kingz", "-m", tiny, ok=False)
    assert res.exit_code == 1
    assert res.output.strip() == ("Error: 'kingz' is not in the vocabulary of model tiny (6d, 1 epoch); "
                                  "did you mean: king, kings?")
    res = run("similar", "kingz", "-m", tiny, "--json", ok=False)
    assert res.exit_code == 1
    entry = json.loads(res.stdout)["results"][0]
    assert (entry["unknown"], entry["suggestions"]) == ("kingz", ["king", "kings"])


def test_side_by_side_when_one_model_lacks_the_word(tiny, trained):
    res = run("similar", "café", "-m", tiny, "-m", trained, "-n", 2)
    lines = res.stdout.splitlines()
    assert lines[0] == "café"
    assert lines[2].startswith(f"   1. {oracle(tiny, ['café'], topn=1)[0][0]}")
    assert lines[2].rstrip().endswith("unknown word 'café'")
    assert lines[-1].startswith("  'café' is not in the vocabulary of model model (24d, 2 epochs)")


def test_phrase_query_on_a_model_trained_with_phrases(trained):
    v = ct.load_vectors(trained)
    phrase = next(w for w in v.words[:300] if w.count("_") == 1)
    res = run("similar", phrase.replace("_", " ").title(), "-m", trained, "-n", 5, "--json")
    got = json.loads(res.stdout)["results"][0]["neighbors"]
    assert_neighbors(got, oracle(trained, [phrase], topn=5))


# ----------------------------------------------------------------------------- analogy, odd-one-out


def test_analogy_json_and_side_by_side(tiny, tmp_path):
    res = run("analogy", "man", "king", "woman", "-m", tiny, "-n", 4, "--json")
    d = json.loads(res.stdout)
    assert d["query"] == {"a": "man", "b": "king", "c": "woman"}
    assert_neighbors(d["results"][0]["neighbors"], oracle(tiny, ["king", "woman"], ["man"], topn=4))
    res = run("analogy", "man", "king", "woman", "-m", tiny, "-n", 2)
    assert res.stdout.splitlines()[0] == "man : king :: woman : ?"
    res = run("analogy", "man", "kin", "woman", "-m", tiny, ok=False)
    assert res.exit_code == 1 and "Error: 'kin' is not in the vocabulary" in res.output and "king" in res.output


def test_odd_one_out(tiny):
    res = run("odd-one-out", "apple", "pear", "plum", "sword", "-m", tiny, "--json")
    d = json.loads(res.stdout)
    r = d["results"][0]
    assert d["words"] == ["apple", "pear", "plum", "sword"] and r["odd"] == "sword"
    v = ct.load_vectors(tiny)
    mat = np.asarray(v.unit[[v.index[w] for w in d["words"]]], dtype=np.float64)
    mean = mat.mean(0) / np.linalg.norm(mat.mean(0))
    expected = sorted(zip(mat @ mean, d["words"]))
    assert [s["word"] for s in r["scores"]] == [w for _, w in expected]
    assert [s["score"] for s in r["scores"]] == pytest.approx([s for s, _ in expected], abs=2e-6)
    res = run("odd-one-out", "apple", "pear", "-m", tiny, ok=False)
    assert res.exit_code == 2 and "give at least 3 words, got 2" in res.output


def test_similarity_json_text_and_unknown_word(tiny, trained):
    v = ct.load_vectors(tiny)
    cosine = float(np.dot(v.unit[v.index["king"]], v.unit[v.index["queen"]]))
    d = json.loads(run("similarity", "king", "queen", "-m", tiny, "--json").stdout)
    assert d["query"] == {"a": "king", "b": "queen"}
    assert d["results"][0]["similarity"] == pytest.approx(cosine, abs=2e-6)
    assert run("similarity", "King", "queen", "-m", tiny).stdout == f"{v.label}: {cosine:.3f}\n"
    res = run("similarity", "king", "quen", "-m", tiny, ok=False)
    assert res.exit_code == 1 and "Error: 'quen' is not in the vocabulary" in res.output and "queen" in res.output
    # side by side, one model lacking a word: the other still answers (exit 0), the error is listed
    res = run("similarity", "king", "expecto_patronum", "-m", tiny, "-m", trained)
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{v.label}: ") and "'expecto_patronum' is not in the vocabulary" in lines[1]


# ----------------------------------------------------------------------------- evaluate


def test_evaluate_json_matches_the_library(trained):
    res = run("evaluate", trained, "--restrict-vocab", 5000, "--json")
    d = json.loads(res.stdout)
    expected = ct.evaluate(ct.load_vectors(trained), restrict_vocab=5000).to_dict()
    assert d == {"label": ct.load_vectors(trained).label, **json.loads(json.dumps(expected))}
    assert [p["name"] for p in d["pairs"]] == ["wordsim353", "simlex999"]
    assert d["analogies"][0]["total"]["questions"] == 19544
    text = run("evaluate", trained, "--restrict-vocab", 5000).stdout
    g = expected["analogies"][0]["total"]
    assert f"{g['correct']}/{g['evaluated']} correct, {g['evaluated']}/19544 questions" in text
    assert "wordsim353" in text and "out of vocabulary" in text


def test_evaluate_own_files_with_malformed_lines(tiny, tmp_path):
    (tmp_path / "q.txt").write_text(": royal\nman king woman queen\nman king\nking queen prince princess\n"
                                    ": gram-x\nking kings sword swords\n", encoding="utf-8")
    (tmp_path / "p.tsv").write_text("apple\tpear\t9\nsword\tdagger\t8\nkin\tg\t1\napple\tsword\tx\n"
                                    "king\tapple\t1\n", encoding="utf-8")
    res = run("evaluate", tiny, "--analogies", tmp_path / "q.txt", "--pairs", tmp_path / "p.tsv", "--json")
    d = json.loads(res.stdout)
    assert [p["name"] for p in d["pairs"]] == ["p"] and [a["name"] for a in d["analogies"]] == ["q"]
    p = d["pairs"][0]
    assert (p["pairs"], p["evaluated"], p["skipped"], p["coverage"]) == (4, 3, 1, 0.75)
    assert p["malformed"] == [{"line": 4, "text": "apple\tsword\tx", "reason": "score 'x' is not a number"}]
    a = d["analogies"][0]
    assert a["malformed"] == [{"line": 3, "text": "man king", "reason": "expected 4 words, got 2"}]
    assert [(s["name"], s["evaluated"], s["skipped"]) for s in a["sections"]] == [("royal", 2, 0), ("gram-x", 0, 1)]
    expected = ct.evaluate_analogies(ct.load_vectors(tiny), tmp_path / "q.txt")
    assert a["total"]["correct"] == expected.total.correct
    assert "q.txt line 3: expected 4 words, got 2; skipped: 'man king'" in res.stderr


# ----------------------------------------------------------------------------- map, clusters


def test_map_json_png_and_too_few_words(tiny, tmp_path):
    res = run("map", tiny, "-w", "apple,pear", "-w", "plum", "-w", "kingz", "-w", "sword", "--json",
              "--out", tmp_path / "m.png")
    d = json.loads(res.stdout)
    wm = ct.map_words(ct.load_vectors(tiny), ["apple", "pear", "plum", "sword"])
    assert [p["word"] for p in d["points"]] == wm.words
    np.testing.assert_allclose([[p["x"], p["y"]] for p in d["points"]], wm.coords, atol=1e-9)
    assert d["skipped"] == [{"word": "kingz", "suggestions": ["king", "kings"]}]
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    assert "'kingz' is not in the vocabulary; skipped (did you mean: king, kings?)" in res.stderr
    res = run("map", tiny, "-w", "apple,pearz,plumz", "--out", tmp_path / "x.png", ok=False)
    assert res.exit_code == 1
    assert "Error: a map needs at least 3 words in the vocabulary, got 1" in res.output
    assert not (tmp_path / "x.png").exists()
    res = run("map", tiny, "--top", 10, ok=False)
    assert res.exit_code == 2 and "--out FILE.png" in res.output


def test_clusters_json_and_too_many(tiny):
    res = run("clusters", tiny, "-k", 2, "--top", 16, "--show", 3, "--json")
    d = json.loads(res.stdout)
    expected = ct.cluster_words(ct.load_vectors(tiny), 2, top=16, show=3).to_dict()
    assert {k: v for k, v in d.items() if k not in ("model", "label", "out")} == expected
    fruit = [c for c in d["clusters"] if "apple" in c["words"] or "pear" in c["words"]]
    assert len(fruit) == 1
    res = run("clusters", tiny, "-k", 20, "--top", 100, ok=False)
    assert res.exit_code == 1
    assert "Error: k=20 clusters is more than the 16 words to cluster" in res.output


# ----------------------------------------------------------------------------- export / import


def test_export_import_round_trip_then_query(trained, tmp_path):
    for fmt in ("word2vec-bin", "vec"):
        out = tmp_path / f"v.{fmt}"
        d = json.loads(run("export", trained, "--format", fmt, "--out", out, "--precision", 9, "--json").stdout)
        v = ct.load_vectors(trained)
        assert (d["vocab_size"], d["vector_size"], d["format"]) == (len(v), 24, fmt)
        d = json.loads(run("import", out, "--out", tmp_path / f"m-{fmt}", "--json").stdout)
        assert (d["vocab_size"], d["vector_size"], d["header"]) == (len(v), 24, True)
        a = json.loads(run("similar", "king", "-m", trained, "--json").stdout)["results"][0]["neighbors"]
        b = json.loads(run("similar", "king", "-m", tmp_path / f"m-{fmt}", "--json").stdout)["results"][0]
        assert [n["word"] for n in b["neighbors"]] == [n["word"] for n in a]
        assert b["label"] == f"m-{fmt} (24d)"
    # the imported model evaluates and maps like the original
    ev_a = json.loads(run("evaluate", trained, "--restrict-vocab", 2000, "--json").stdout)
    ev_b = json.loads(run("evaluate", tmp_path / "m-word2vec-bin", "--restrict-vocab", 2000, "--json").stdout)
    assert ev_b["pairs"][0]["spearman"] == pytest.approx(ev_a["pairs"][0]["spearman"], abs=1e-6)
    assert ev_b["analogies"][0]["total"] == ev_a["analogies"][0]["total"]
    d = json.loads(run("map", tmp_path / "m-word2vec-bin", "--top", 10, "--json").stdout)
    assert [p["word"] for p in d["points"]] == ct.load_vectors(trained).words[:10]


def test_import_errors_and_export_rejects_spaces(tmp_path):
    (tmp_path / "r.txt").write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    res = run("import", tmp_path / "r.txt", "--out", tmp_path / "m", ok=False)
    assert res.exit_code == 1 and "Error:" in res.output and "r.txt line 3: 'b' has 2 numbers, expected 3" in res.output
    with open(tmp_path / "t.bin", "wb") as fh:
        fh.write(b"2 3\na " + np.ones(3, "<f4").tobytes() + b"\nb " + b"\0\0")
    res = run("import", tmp_path / "t.bin", "--out", tmp_path / "m", ok=False)
    assert res.exit_code == 1 and "is truncated" in res.output
    write_model_dir(tmp_path / "sp", ["new york", "b", "c"], np.eye(3), np.zeros(3), {"format": "wordstack-word2vec/1"})
    res = run("export", tmp_path / "sp", "--out", tmp_path / "x.bin", ok=False)
    assert res.exit_code == 1 and "'new york' (row 1) contains whitespace" in res.output


# ----------------------------------------------------------------------------- default model, no pickle


def test_commands_on_the_default_model_load_no_pickle(trained, tmp_path, monkeypatch):
    home = tmp_path / "home"
    default = home / "models" / "shakespeare-256d"
    shutil.copytree(trained, default)
    (default / "word2vec.model").unlink()  # the gensim pickle: queries must not need it
    monkeypatch.setenv("WORDSTACK_HOME", str(home))

    def no_pickle(*args, **kwargs):
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    d = json.loads(run("evaluate", "--json", "--restrict-vocab", 3000).stdout)
    assert d["model"] == str(default) and d["restrict_vocab"] == 3000
    d = json.loads(run("analogy", "man", "king", "woman", "--json", "-n", 3).stdout)
    assert d["results"][0]["model"] == str(default)
    assert_neighbors(d["results"][0]["neighbors"], oracle(default, ["king", "woman"], ["man"]))
    d = json.loads(run("map", "--top", 20, "--skip", 30, "--json").stdout)
    v = ct.load_vectors(default)
    assert [p["word"] for p in d["points"]] == v.words[30:50]
    d = json.loads(run("clusters", "-k", 4, "--top", 200, "--json").stdout)
    assert sum(c["size"] for c in d["clusters"]) == 200
    res = run("similar", "--json", input="king\n")
    assert json.loads(res.stdout)["results"][0]["model"] == str(default)
    res = run("export", "--format", "word2vec-txt", "--out", tmp_path / "d.txt")
    assert (tmp_path / "d.txt").read_text(encoding="utf-8").split("\n", 1)[0] == f"{len(v)} 24"


@pytest.mark.slow
def test_default_model_is_trained_on_first_use(tmp_path, monkeypatch):
    """The real default model (256d, 10 epochs on the whole shipped corpus; minutes)."""
    monkeypatch.setenv("WORDSTACK_HOME", str(tmp_path / "home"))
    d = json.loads(run("evaluate", "--json").stdout)
    default = tmp_path / "home" / "models" / "shakespeare-256d"
    assert d["model"] == str(default) and d["label"] == "shakespeare-256d (256d, 10 epochs)"
    google = d["analogies"][0]["total"]
    assert google["evaluated"] > 1000 and google["accuracy"] > 0.02
    d = json.loads(run("analogy", "man", "king", "woman", "--json", "-n", 10).stdout)
    assert_neighbors(d["results"][0]["neighbors"], oracle(default, ["king", "woman"], ["man"], topn=10))


# ----------------------------------------------------------------------------- issue 12, case 13


def test_case13_duplicate_word_warning_is_printed_once(tmp_path):
    """In a real process: the library's log record and the command's warning used to both reach stderr."""
    import subprocess
    import sys

    (tmp_path / "dup.txt").write_text("3 2\na 1 0\nb 0 1\na 1 1\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "wordstack", "import", str(tmp_path / "dup.txt"), "--out",
                           str(tmp_path / "m")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("duplicated word") == 1, proc.stderr
    assert "warning: 1 duplicated word; kept the first vector of each (e.g. 'a')" in proc.stderr
    assert "Imported 2 words x 2 dims" in proc.stdout


def test_case13_one_word_of_one_dimension_is_counted_in_the_singular(tmp_path):
    (tmp_path / "one.txt").write_text("1 1\nsolo 0.5\n", encoding="utf-8")
    res = run("import", tmp_path / "one.txt", "--out", tmp_path / "m")
    assert res.stdout.startswith("Imported 1 word x 1 dim (word2vec-txt) in ")
    res = run("export", tmp_path / "m", "--out", tmp_path / "one.bin")
    assert res.stdout.startswith("Exported 1 word x 1 dim (word2vec-bin, ")
