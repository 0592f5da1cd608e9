"""`wordstack ingest --dask [ADDRESS]` through click's CliRunner."""
from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

import corpus_tools as ct
from wordstack.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def books(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    for i in range(3):
        (folder / f"b{i}.txt").write_text(f"Book {i}. One fish. Two fish! Red fish? Blue fish.\n" * 20,
                                          encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    return folder


@pytest.fixture
def recorded(monkeypatch):
    """ct.ingest with its arguments recorded; runs locally in this process."""
    calls = []
    real = ct.ingest

    def fake(books, out, **kwargs):
        calls.append(kwargs)
        return real(books, out, **{**kwargs, "scheduler": None, "jobs": 1})

    monkeypatch.setattr(ct, "ingest", fake)
    return calls


def test_dask_alone_asks_for_a_local_cluster(runner, books, tmp_path, recorded):
    result = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c"), "--dask"])
    assert result.exit_code == 0, result.output
    assert recorded[-1]["scheduler"] == "local" and recorded[-1]["jobs"] is None
    result = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c"), "--dask", "tcp://10.1.2.3:8786"])
    assert result.exit_code == 0, result.output
    assert recorded[-1]["scheduler"] == "tcp://10.1.2.3:8786"
    result = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c")])
    assert recorded[-1]["scheduler"] is None


def test_dask_without_the_extra_names_it(runner, books, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask[distributed] were not installed
    result = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c"), "--dask"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
    assert "pip install 'wordstack[dask]'" in result.stderr and "pip install -e '.[dask]'" in result.stderr
    assert not (tmp_path / "c").exists()


def test_dask_in_front_of_the_books_is_explained(runner, books, tmp_path):
    result = runner.invoke(cli, ["ingest", "--dask", str(books), "--out", str(tmp_path / "c")])
    assert result.exit_code != 0
    # click either misses BOOKS or the library rejects the folder as an address
    assert "BOOKS" in result.stderr or "put --dask after the books" in result.stderr


def test_jobs_with_a_scheduler_address_is_an_error(runner, books, tmp_path):
    result = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "c"), "-j", "2",
                                 "--dask", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 1
    assert "Error: jobs=2 sizes the local process pool or a LocalCluster" in result.stderr
    assert "drop jobs (--jobs)" in result.stderr


def test_dask_local_cluster_end_to_end(runner, books, tmp_path):
    pytest.importorskip("distributed", reason="needs the dask extra (pip install -e '.[dask]')")
    local = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "local"), "-j", "2", "--json"])
    dask = runner.invoke(cli, ["ingest", str(books), "--out", str(tmp_path / "dask"), "-j", "2", "--dask",
                               "--json"])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    a, b = json.loads(local.stdout), json.loads(dask.stdout)
    assert b["sentences_sha256"] == a["sentences_sha256"]
    assert b["books"] == 3 and b["tokenized"] == 3 and b["skipped"] == a["skipped"]
    assert "empty.txt" in dask.stderr  # the skipped book is reported as locally
    assert (tmp_path / "dask" / "sentences.txt").read_bytes() == (tmp_path / "local" / "sentences.txt").read_bytes()
