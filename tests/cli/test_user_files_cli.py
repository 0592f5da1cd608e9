"""No wordstack command overwrites a file the user owns (issue 12): every command that writes a
file at a path the user gives (export, map, clusters, seq plot, seq inspect, ff sweep) refuses a
file there that wordstack cannot recognise as its own, before doing any work; pictures it drew
carry its mark and are redrawn in place. And pictures come in the format their name asks for
(case 13)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools._model_dir import write_model_dir
from wordstack.cli import cli

WORDS = ["king", "queen", "man", "woman", "apple", "pear", "plum", "fig"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "tiny"
    vectors = np.random.default_rng(3).standard_normal((len(WORDS), 4))
    write_model_dir(out, WORDS, vectors, np.arange(len(WORDS), 0, -1), {"format": "wordstack-word2vec/1"})
    return out


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# every command that writes a file at --out, with what it needs besides
COMMANDS = {
    "export": lambda model, out: ["export", model, "--out", out],
    "map": lambda model, out: ["map", model, "--top", 5, "--out", out],
    "clusters": lambda model, out: ["clusters", model, "-k", 2, "--top", 8, "--out", out],
    "seq plot": lambda model, out: ["seq", "plot", Path(out).with_name("any.ckpt"), "--out", out],
    "seq inspect": lambda model, out: ["seq", "inspect", Path(out).with_name("any.ckpt"), "0123", "--out", out],
    "ff sweep": lambda model, out: ["ff", "sweep", "--lr", "1", "--epochs", 10, "--out", out],
}
SUFFIX = {"export": ".bin", "map": ".png", "clusters": ".pdf", "seq plot": ".svg", "seq inspect": ".png",
          "ff sweep": ".png"}


def assert_refused(result, path, data):
    assert result.exit_code == 1, result.output
    assert f"Error: {path} already exists and " in result.stderr and "write to another name" in result.stderr
    assert "Traceback" not in result.output
    assert path.read_bytes() == data
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_file_of_the_users_at_out_is_never_overwritten(tiny, tmp_path, command):
    path = tmp_path / f"thesis{SUFFIX[command]}"
    data = b"Chapter 1. It was a dark and stormy night.\n"
    path.write_bytes(data)
    assert_refused(run(*COMMANDS[command](tiny, path)), path, data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.binary(max_size=300),
       name=st.sampled_from(["notes", "photo", "ch1", ".hidden"]))
def test_property_no_command_changes_a_user_file_at_out(tiny, command, data, name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}{SUFFIX[command]}"
        path.write_bytes(data)
        result = run(*COMMANDS[command](tiny, path))
        assert path.read_bytes() == data
        assert result.exit_code == 1 and "already exists" in result.stderr, result.output


def test_exported_vectors_are_not_replaced_even_by_a_second_export(tiny, tmp_path):
    out = tmp_path / "v.bin"
    assert run("export", tiny, "--out", out).exit_code == 0
    data = out.read_bytes()
    result = run("export", tiny, "--out", out, "--format", "vec")
    assert_refused(result, out, data)
    assert "never replaces a vectors file" in result.stderr


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF-")])
def test_case13_map_writes_the_format_its_name_asks_for_and_redraws_its_own(tiny, tmp_path, fmt, magic):
    out = tmp_path / f"map.{fmt}"
    for _ in range(2):                       # the second run replaces the picture the first one drew
        result = run("map", tiny, "--top", 5, "--out", out)
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize("command", ["map", "clusters", "seq plot", "seq inspect", "ff sweep"])
def test_case13_an_unknown_picture_extension_is_refused_with_the_choices(tiny, tmp_path, command):
    out = tmp_path / "picture.jpg"
    result = run(*COMMANDS[command](tiny, out))
    assert result.exit_code == 2, result.output
    assert "ends in .jpg; wordstack draws pictures as .png, .svg, .pdf" in result.stderr
    assert not out.exists()
