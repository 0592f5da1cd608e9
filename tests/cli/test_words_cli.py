"""The word-vector commands through click's CliRunner: output, JSON, errors, defaults."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

import corpus_tools as ct
from wordstack.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_every_command_has_help_with_example(runner):
    result = invoke(runner, "--help")
    assert result.exit_code == 0 and "Commands:" in result.output
    commands = list(cli.commands)
    assert {"ingest", "train", "similar", "demo"} <= set(commands)

    def walk(group, prefix):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, prefix + [name])
            else:
                yield prefix + [name]

    for path in walk(cli, []):
        out = invoke(runner, *path, "--help")
        assert out.exit_code == 0, path
        assert "Example:" in out.output, f"`wordstack {' '.join(path)} --help` has no Example"


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "wordstack", "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "wordstack, version 0.1.0"


def test_ingest_json(runner, tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "a.txt").write_text("One fish. Two fish! Red fish?\n", encoding="utf-8")
    (books / "b.txt").write_bytes(b"")
    result = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c"), "--json", "-j", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["books"] == 1 and data["tokenized"] == 1 and data["reused"] == 0
    assert data["sentences"] == 3 and data["tokens"] == 6
    assert data["skipped"][0]["path"].endswith("b.txt") and "empty" in data["skipped"][0]["reason"]
    assert "warning:" in result.stderr and "b.txt" in result.stderr
    assert (tmp_path / "c" / "sentences.txt").read_text() == "one fish\ntwo fish\nred fish\n"


def test_ingest_text_summary(runner, tmp_path):
    (tmp_path / "a.txt").write_text("Hello there. General Kenobi.\n", encoding="utf-8")
    result = runner.invoke(cli, ["ingest", str(tmp_path / "a.txt"), "-o", str(tmp_path / "c")])
    assert result.exit_code == 0
    assert result.stdout.startswith("Ingested 1 book (1 tokenized, 0 unchanged, 0 skipped): 2 sentences, 4 tokens")


def test_ingest_missing_path_is_a_clean_error(runner, tmp_path):
    result = runner.invoke(cli, ["ingest", str(tmp_path / "nope"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "no such file or folder" in result.stderr
    assert "Traceback" not in result.output


def test_ingest_empty_folder(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(cli, ["ingest", str(tmp_path / "empty"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 1 and "holds no books" in result.stderr


def test_train_and_similar_json(runner, shakespeare_corpus, tmp_path):
    out = tmp_path / "m"
    result = runner.invoke(cli, ["train", str(shakespeare_corpus), "--out", str(out), "--dim", "16",
                                 "--epochs", "2", "--cbow", "--min-count", "10", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["vector_size"] == 16 and len(data["epochs"]) == 2
    assert data["vocab_size"] == len(ct.load_vectors(out))

    result = runner.invoke(cli, ["similar", "romeo", "-m", str(out), "-n", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "romeo"
    (entry,) = data["results"]
    assert entry["vector_size"] == 16 and entry["epochs"] == 2 and entry["model"] == str(out)
    want = ct.load_vectors(out).most_similar("romeo", topn=5)
    assert [n["word"] for n in entry["neighbors"]] == [n.word for n in want]
    assert [n["score"] for n in entry["neighbors"]] == pytest.approx([n.score for n in want], abs=1e-6)


def test_similar_side_by_side(runner, small_model, tmp_path):
    other = tmp_path / "other"
    ct.train(ct.load_vectors(small_model).meta["corpus"]["path"], other,
             ct.Word2VecParams(vector_size=8, epochs=1, sg=0, min_count=20))
    result = runner.invoke(cli, ["similar", "king", "-m", str(small_model), "-m", str(other), "-n", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "king"
    assert "small (32d, 1 epoch)" in lines[1] and "other (8d, 1 epoch)" in lines[1]
    assert lines[1].index("small") < lines[1].index("other")
    left = [n.word for n in ct.load_vectors(small_model).most_similar("king", topn=3)]
    right = [n.word for n in ct.load_vectors(other).most_similar("king", topn=3)]
    for rank in range(3):
        row = lines[2 + rank].split()
        assert row[0] == f"{rank + 1}." and row[1] == left[rank]
        assert row[3] == f"{rank + 1}." and row[4] == right[rank]


def test_similar_unknown_word(runner, small_model):
    result = runner.invoke(cli, ["similar", "romoe", "-m", str(small_model)])
    assert result.exit_code == 1
    assert "Error: 'romoe' is not in the vocabulary" in result.stderr
    suggested = result.stderr.split("did you mean: ")[1].rstrip("?\n").split(", ")
    assert "romeo" in suggested and "rome" in suggested


def test_similar_unknown_word_json(runner, small_model):
    result = runner.invoke(cli, ["similar", "romoe", "-m", str(small_model), "--json"])
    assert result.exit_code == 1
    entry = json.loads(result.stdout)["results"][0]
    assert entry["unknown"] == "romoe" and "romeo" in entry["suggestions"]
    assert entry["suggestions"] == ct.load_vectors(small_model).suggest("romoe")


def test_similar_missing_model(runner, tmp_path):
    result = runner.invoke(cli, ["similar", "romeo", "-m", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "Error: model folder" in result.stderr and "does not exist" in result.stderr


def test_case13_a_file_given_as_model_folder_is_called_a_file(runner, tmp_path):
    (tmp_path / "notes.txt").write_text("shopping list\n")
    result = runner.invoke(cli, ["similar", "romeo", "-m", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1 and "does not exist" not in result.stderr
    assert "notes.txt' is a file, not a model folder: a model folder holds meta.json, vocab.txt" in result.stderr


def test_case13_one_book_of_one_sentence_is_counted_in_the_singular(runner, tmp_path):
    (tmp_path / "one.txt").write_text("Fish swim.\n", encoding="utf-8")
    result = runner.invoke(cli, ["ingest", str(tmp_path / "one.txt"), "--out", str(tmp_path / "c"), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "Ingested 1 book (1 tokenized, 0 unchanged, 0 skipped): 1 sentence, 2 tokens in" in result.stdout


def test_similar_truncated_model_names_the_file(runner, small_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_model, broken)
    data = (broken / "vectors.npy").read_bytes()
    (broken / "vectors.npy").write_bytes(data[:100])
    result = runner.invoke(cli, ["similar", "romeo", "-m", str(broken)])
    assert result.exit_code == 1 and "vectors.npy is truncated" in result.stderr


def test_train_invalid_dim(runner, shakespeare_corpus, tmp_path):
    result = runner.invoke(cli, ["train", str(shakespeare_corpus), "--out", str(tmp_path / "m"), "--dim", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--dim': 0 is not in the range x>=1" in result.stderr
    assert not (tmp_path / "m").exists()


def test_train_ctrl_c_is_clean(runner, shakespeare_corpus, small_model, tmp_path, monkeypatch):
    target = tmp_path / "m"
    shutil.copytree(small_model, target)
    real_train = ct.train

    def interrupted(corpus, out, params, on_epoch=None):
        def stop(report):
            raise KeyboardInterrupt

        return real_train(corpus, out, params, on_epoch=stop)

    monkeypatch.setattr(ct, "train", interrupted)
    result = runner.invoke(cli, ["train", str(shakespeare_corpus), "--out", str(target), "--dim", "8"])
    assert result.exit_code == 130 and "Interrupted" in result.stderr
    assert ct.load_vectors(target).vector_size == 32  # the previous model survived


def test_similar_without_words_reads_queries_from_stdin(runner, small_model):
    # issue 3: no WORDS means interactive mode; empty input ends it at once (more in test_vectors_cli.py)
    result = runner.invoke(cli, ["similar", "-m", str(small_model)], input="")
    assert result.exit_code == 0 and result.stdout == ""


def test_default_model_lists_juliet_for_romeo(runner, default_model_home, monkeypatch):
    """The issue's acceptance check: `wordstack similar romeo` on the default 256-dim model."""
    monkeypatch.setenv("WORDSTACK_HOME", str(default_model_home))
    result = runner.invoke(cli, ["similar", "romeo", "--json"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["results"]
    assert entry["vector_size"] == 256 and entry["epochs"] == 10
    assert "juliet" in [n["word"] for n in entry["neighbors"]]


def test_demo_runs_end_to_end(runner, monkeypatch):
    # the real configurations are exercised by test_default_model_lists_juliet_for_romeo;
    # here tiny ones keep the demo's own plumbing fast
    monkeypatch.setitem(ct.DEFAULT_CONFIGS, "shakespeare-64d", ct.Word2VecParams(vector_size=8, epochs=1, sg=0))
    monkeypatch.setitem(ct.DEFAULT_CONFIGS, "shakespeare-256d", ct.Word2VecParams(vector_size=12, epochs=1, sg=0))
    monkeypatch.setitem(ct.DEFAULT_CONFIGS, "shakespeare-ft", ct.Word2VecParams(vector_size=6, epochs=1, sg=0))
    monkeypatch.setitem(ct.DEFAULT_SUBWORDS, "shakespeare-ft", ct.SubwordParams(buckets=2000))
    result = runner.invoke(cli, ["demo", "-q", "romeo", "-q", "zzzzunknown", "-n", "3"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "romeo" in out and "shakespeare-64d (8d, 1 epoch)" in out and "shakespeare-256d (12d, 1 epoch)" in out
    assert "not in the vocabulary" in out
    assert "shakespeare-ft (6d, 1 epoch, subwords)" in out and "zzzzunknown (from subwords)" in out
    again = runner.invoke(cli, ["demo", "-q", "king"])
    assert again.exit_code == 0 and "training" not in again.stderr.lower()


def test_query_path_imports_no_heavy_libraries(small_model):
    """`wordstack --help` and `similar` must not pay for gensim, NLTK or scikit-learn."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from wordstack.cli import cli\n"
        "r = CliRunner().invoke(cli, ['--help'])\n"
        "assert r.exit_code == 0\n"
        f"r = CliRunner().invoke(cli, ['similar', 'romeo', '-m', {str(small_model)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('gensim', 'nltk', 'sklearn', 'matplotlib', 'scipy', 'tqdm', 'logging')"
        " if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_demo_rebuilds_a_damaged_cached_corpus(runner, monkeypatch):
    monkeypatch.setitem(ct.DEFAULT_CONFIGS, "shakespeare-64d", ct.Word2VecParams(vector_size=8, epochs=1, sg=0))
    monkeypatch.setitem(ct.DEFAULT_CONFIGS, "shakespeare-256d", ct.Word2VecParams(vector_size=8, epochs=1, sg=0))
    monkeypatch.setitem(ct.DEFAULT_CONFIGS, "shakespeare-ft", ct.Word2VecParams(vector_size=8, epochs=1, sg=0))
    monkeypatch.setitem(ct.DEFAULT_SUBWORDS, "shakespeare-ft", ct.SubwordParams(buckets=2000))
    ct.default_corpus_dir().mkdir(parents=True)
    (ct.default_corpus_dir() / "manifest.json").write_text("{broken")
    result = runner.invoke(cli, ["demo", "-q", "king"])
    assert result.exit_code == 0, result.output
    assert "Ingesting the shipped Shakespeare corpus" in result.stderr
    assert result.stderr.count("Training shakespeare-") == len(ct.DEFAULT_CONFIGS) == 3
