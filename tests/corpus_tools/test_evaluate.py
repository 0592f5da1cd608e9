"""Evaluation on word pairs and analogies, checked against gensim's own evaluate_* on the same vectors."""
import numpy as np
import pytest

import corpus_tools as ct


def _benchmark_words(n_pairs=150, n_questions=600):
    """A vocabulary covering part of WordSim-353 and of the Google analogies (some words missing)."""
    words = []
    with open(ct.gensim_test_data("wordsim353.tsv"), encoding="utf-8") as fh:
        for line in list(fh)[2:2 + n_pairs]:
            words += line.split("\t")[:2]
    with open(ct.gensim_test_data("questions-words.txt"), encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith(":")]
    for line in lines[::len(lines) // n_questions]:
        words += [w.lower() for w in line.split()]
    vocab = list(dict.fromkeys(words))
    return [w for i, w in enumerate(vocab) if i % 7 != 3]  # leave some out: coverage < 100%


@pytest.fixture(scope="module")
def vectors():
    words = _benchmark_words() + ["King", "PARIS"]  # case variants, rarer than their lowercase forms
    rng = np.random.default_rng(3)
    return ct.Vectors.from_vectors(words, rng.standard_normal((len(words), 16)))


def _gensim(vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.vector_size)
    kv.add_vectors(vectors.words, np.asarray(vectors.unit) * vectors.norms[:, None])
    return kv


@pytest.mark.parametrize("restrict_vocab", [300_000, 400])
def test_pairs_agree_with_gensim(vectors, restrict_vocab):
    kv = _gensim(vectors)
    for name in ("wordsim353.tsv", "simlex999.txt"):
        path = ct.gensim_test_data(name)
        ours = ct.evaluate_pairs(vectors, path, restrict_vocab=restrict_vocab)
        pearson, spearman, oov_ratio = kv.evaluate_word_pairs(str(path), restrict_vocab=restrict_vocab)
        assert ours.evaluated > 10
        assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
        assert ours.spearman_pvalue == pytest.approx(spearman.pvalue, rel=1e-4)
        assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
        assert 100 * ours.skipped / ours.pairs == pytest.approx(oov_ratio)
        assert ours.pairs == {"wordsim353.tsv": 353, "simlex999.txt": 999}[name]


@pytest.mark.parametrize("restrict_vocab", [400])  # the vocabulary has ~600 words: 400 restricts it
def test_analogies_agree_with_gensim(vectors, restrict_vocab):
    path = ct.gensim_test_data("questions-words.txt")
    ours = ct.evaluate_analogies(vectors, path, restrict_vocab=restrict_vocab)
    score, sections = _gensim(vectors).evaluate_word_analogies(str(path), restrict_vocab=restrict_vocab)
    theirs = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections}
    assert ours.total.evaluated > 50
    for s in ours.sections:
        if s.evaluated:
            assert (s.correct, s.evaluated) == theirs[s.name], s.name
    assert (ours.total.correct, ours.total.evaluated) == theirs["Total accuracy"]
    assert ours.total.accuracy == pytest.approx(score)
    assert ours.total.questions == 19544
    assert ours.semantic.questions + ours.syntactic.questions == 19544
    assert ours.syntactic.evaluated == sum(s.evaluated for s in ours.sections if s.name.startswith("gram"))


def test_exact_analogies_score_100_percent(tmp_path):
    # d = b - a + c exactly, in orthogonal directions: every answer is right.
    words = ["man", "king", "woman", "queen", "boy", "prince", "girl", "princess"]
    e = np.eye(8)
    vecs = np.stack([e[0], e[0] + e[1], e[2], e[2] + e[1], e[3], e[3] + e[1], e[4], e[4] + e[1]])
    v = ct.Vectors.from_vectors(words, vecs)
    (tmp_path / "q.txt").write_text(
        ": family\nman king woman queen\nboy prince girl princess\n"
        ": gram-made-up\nMan King Boy Prince\nman king dog cat\n", encoding="utf-8")
    score = ct.evaluate_analogies(v, tmp_path / "q.txt")
    assert [(s.name, s.correct, s.evaluated, s.skipped) for s in score.sections] == [
        ("family", 2, 2, 0), ("gram-made-up", 1, 1, 1)]
    assert (score.semantic.accuracy, score.syntactic.accuracy, score.total.accuracy) == (1.0, 1.0, 1.0)
    assert score.total.coverage == 0.75


def test_malformed_analogy_lines_are_reported_and_the_rest_evaluated(tmp_path):
    words = ["a", "b", "c", "d"]
    v = ct.Vectors.from_vectors(words, np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]], float))
    (tmp_path / "q.txt").write_text(": s\na b c d\na b c\n\na b c d e\nc d a b\n", encoding="utf-8")
    score = ct.evaluate_analogies(v, tmp_path / "q.txt")
    assert [(m.line, m.text, m.reason) for m in score.malformed] == [
        (3, "a b c", "expected 4 words, got 3"), (5, "a b c d e", "expected 4 words, got 5")]
    assert (score.total.correct, score.total.evaluated) == (2, 2)


def test_malformed_pairs_lines_and_own_files(tmp_path):
    words = ["cat", "dog", "car", "bus"]
    v = ct.Vectors.from_vectors(words, np.array([[1, 0.1], [1, 0.15], [0.1, 1], [0.3, 1]]))
    (tmp_path / "p.tsv").write_text("# comment\ncat\tdog\t9\ncat\tcar\t1\ncat bus 2\ndog\tbus\tlow\n"
                                    "car\tbus\t8\ncat\tunicorn\t3\n", encoding="utf-8")
    ev = ct.evaluate(v, pairs=[tmp_path / "p.tsv"])
    assert ev.analogies == []
    (p,) = ev.pairs
    assert (p.name, p.pairs, p.evaluated, p.skipped) == ("p", 4, 3, 1)
    assert [(m.line, m.reason) for m in p.malformed] == [
        (4, "expected 3 fields separated by '\\t', got 1"), (5, "score 'low' is not a number")]
    # gold 9, 1, 8 vs cosines: cat-dog and car-bus high, cat-car low -> same ranking
    assert p.spearman == pytest.approx(1.0)
    d = ev.to_dict()
    assert d["pairs"][0]["coverage"] == 0.75 and d["pairs"][0]["malformed"][0]["line"] == 4


def test_standard_benchmarks_and_their_coverage(vectors):
    ev = ct.evaluate(vectors)
    assert [p.name for p in ev.pairs] == ["wordsim353", "simlex999"]
    assert [a.name for a in ev.analogies] == ["google"]
    d = ev.to_dict()
    google = d["analogies"][0]
    assert google["total"]["questions"] == 19544
    assert google["total"]["coverage"] == pytest.approx(google["total"]["evaluated"] / 19544)
    assert [s["name"] for s in google["sections"]][:2] == ["capital-common-countries", "capital-world"]


def test_bad_arguments(vectors, tmp_path):
    with pytest.raises(ValueError, match="restrict_vocab must be an integer >= 1, got 0"):
        ct.evaluate(vectors, restrict_vocab=0)
    with pytest.raises(FileNotFoundError, match="benchmark file .*nope.txt' does not exist"):
        ct.evaluate(vectors, analogies=[tmp_path / "nope.txt"])
