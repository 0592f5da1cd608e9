"""Issue 12, "Done when": no wordstack command given a folder of the user's as ``--out``
changes or deletes anything in it.

Hypothesis writes random user files (random names, dotfiles and subfolders among them,
names that wordstack's own formats use, random bytes) into a folder; ingest, train and
import are each given that folder as ``--out``, each refuses, and every name, byte and
modification time in the folder is as before, with nothing left beside it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus_tools as ct
from wordstack.cli import cli

PROSE = "The king and the queen walked in the garden. The queen spoke of love and war. " * 30

#: Names wordstack's formats use, so that the recognisers are tried on look-alikes.
OUR_NAMES = ["manifest.json", "sentences.txt", "punkt.json", "phrases.json", "shards", "meta.json", "vocab.txt",
             "vectors.npy", "norms.npy", "word2vec.model", ".hidden", ".manifest.json.abc.tmp"]
name = st.one_of(
    st.sampled_from(OUR_NAMES),
    st.text(alphabet="abcXYZ019._- é", min_size=1, max_size=12).filter(lambda n: n not in (".", "..")),
)
user_files = st.lists(st.tuples(st.lists(name, min_size=1, max_size=3), st.binary(max_size=64)),
                      min_size=1, max_size=8)


def write_tree(root: Path, files) -> None:
    """Write each (parts, bytes); an entry whose path clashes with an earlier one is left out."""
    root.mkdir()
    for parts, data in files:
        path = root.joinpath(*parts)
        if path.exists() or any(p.is_file() for p in path.parents):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for entry in [".", *dirnames, *filenames]:
            p = Path(dirpath) / entry
            st_ = p.lstat()
            out[str(p.relative_to(root))] = (None if p.is_dir() else p.read_bytes(), st_.st_mtime_ns, st_.st_mode)
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    books = root / "books"
    books.mkdir()
    (books / "a.txt").write_text(PROSE, encoding="utf-8")
    ct.ingest([books], root / "corpus", jobs=1)
    (root / "small.vec").write_text("2 2\nking 1 0\nqueen 0 1\n", encoding="utf-8")
    return root


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=user_files)
def test_no_command_changes_the_users_files_in_its_out_folder(inputs, files):
    parent = Path(tempfile.mkdtemp(dir=inputs))
    try:
        folder = parent / "mine"
        write_tree(folder, files)
        before = snapshot(folder)
        commands = [
            ["ingest", inputs / "books", "--out", folder, "-j", "1"],
            ["train", inputs / "corpus", "--out", folder, "--dim", "4", "--epochs", "1", "--min-count", "1"],
            ["import", inputs / "small.vec", "--out", folder],
        ]
        for args in commands:
            result = CliRunner().invoke(cli, [str(a) for a in args])
            assert result.exit_code == 1, (args[0], result.output)
            assert "holds files wordstack did not write" in result.output and "Traceback" not in result.output
        assert snapshot(folder) == before
        assert sorted(os.listdir(parent)) == ["mine"]  # no temporary folder beside it
    finally:
        shutil.rmtree(parent)
