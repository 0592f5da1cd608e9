"""Ingest on Dask: the same corpus, byte for byte, as the local multi-process ingest.

Also: very large books split into parts, phrases applied on the workers, file://
and fsspec sources, unreadable books, a worker killed mid-run, and bad schedulers.
"""
from __future__ import annotations

import gzip
import json
import os
import signal
import time

import pytest

distributed = pytest.importorskip(
    "distributed", reason="needs the dask extra (pip install -e '.[dask]'): dask[distributed] is not installed"
)

import corpus_tools as ct  # noqa: E402
from corpus_tools import _shards  # noqa: E402
from corpus_tools._dask import _start_local_cluster  # noqa: E402

PROSE = (
    "The quick brown fox jumps over the lazy dog. It was not amused! Was it? "
    "Mr. Smith said the dog was well-earned rest's keeper at five o'clock.\n\n"
)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes, as `--dask` starts on this machine."""
    cluster = _start_local_cluster(distributed, 2)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def make_books(folder, n=6, repeat=30):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        words = " ".join(f"w{i}x{j}" for j in range(i + 3))
        (folder / f"book{i:02d}.txt").write_text(f"Book {i}. {words}.\n\n" + PROSE * repeat, encoding="utf-8")
    return folder


def add_bad_books(folder):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (folder / "broken.txt.gz").write_bytes(gzip.compress(b"text " * 1000)[:40])
    (folder / "old.txt").write_bytes("Caf\u00e9 society. The na\u00efve hero.".encode("cp1252"))


def corpus_files(path):
    """Every file of a corpus folder by relative path; the manifest without its times."""
    files = {}
    for f in sorted(path.rglob("*")):
        if f.is_file():
            files[str(f.relative_to(path))] = f.read_bytes()
    manifest = json.loads(files.pop("manifest.json"))
    manifest.pop("created")
    manifest.pop("seconds")
    return files, manifest


def assert_same_corpus(a, b):
    files_a, manifest_a = corpus_files(a)
    files_b, manifest_b = corpus_files(b)
    assert sorted(files_a) == sorted(files_b)
    for name in files_a:
        assert files_a[name] == files_b[name], f"{name} differs"
    assert manifest_a == manifest_b


def test_identical_to_local_processes_with_unreadable_books(client, tmp_path):
    books = make_books(tmp_path / "books")
    add_bad_books(books)
    local = ct.ingest([books], tmp_path / "local", jobs=2)
    dask = ct.ingest([books], tmp_path / "dask", scheduler=client)
    assert_same_corpus(tmp_path / "local", tmp_path / "dask")
    assert dask.sentences_sha256 == local.sentences_sha256
    assert dask.manifest_sha256 == local.manifest_sha256
    status = {os.path.basename(s.path): (s.status, s.action) for s in dask.sources}
    assert status["book00.txt"] == ("ok", "tokenized")
    for bad in ("empty.txt", "image.txt", "broken.txt.gz"):
        assert status[bad] == ("skipped", "skipped")
    assert [s.reason for s in dask.skipped] == [s.reason for s in local.skipped]
    assert any("old.txt" in w and "cp1252" in w for w in dask.warnings)
    # the shards travelled back: every ok book has one, named by its bytes' SHA-256
    assert {f.name for f in (tmp_path / "dask" / "shards").iterdir()} == {f"{s.sha256}.txt" for s in dask.sources
                                                                          if s.status == "ok"}


def test_reingest_on_dask_reuses_and_matches_local(client, tmp_path):
    books = make_books(tmp_path / "books", n=4)
    ct.ingest([books], tmp_path / "c", scheduler=client)
    (books / "book01.txt").write_text("A new second book. Short.\n", encoding="utf-8")
    again = ct.ingest([books], tmp_path / "c", scheduler=client)
    assert [s.action for s in again.sources] == ["reused", "tokenized", "reused", "reused"]
    ct.ingest([books], tmp_path / "local", jobs=1)
    assert (tmp_path / "c" / "sentences.txt").read_bytes() == (tmp_path / "local" / "sentences.txt").read_bytes()
    # a corpus written on Dask is reused as it is by a local run
    local_again = ct.ingest([books], tmp_path / "c", jobs=2)
    assert {s.action for s in local_again.sources} == {"reused"}


def big_book(path, paragraphs=20_000):
    # about 3.3 MB: four of read_book's 1 MB chunks
    text = "".join(f"Paragraph {i}. " + PROSE for i in range(paragraphs))
    path.write_text(text, encoding="utf-8")
    return path


def test_very_large_book_split_into_parts_gives_the_same_bytes(client, tmp_path, monkeypatch):
    books = make_books(tmp_path / "books", n=2, repeat=5)
    big = big_book(books / "book99_big.txt")
    whole = ct.ingest([books], tmp_path / "whole", jobs=1)

    monkeypatch.setattr(_shards, "PART_CHARS", 1 << 20)  # a part per chunk
    parts = _shards.plan_parts(0, str(big), big.stat().st_size)
    assert len(parts) == 4 and parts[-1].stop_chunk is None
    ct.ingest([books], tmp_path / "dask", scheduler=client)
    assert_same_corpus(tmp_path / "whole", tmp_path / "dask")
    rec = [s for s in whole.sources if s.path == str(big)][0]
    assert rec.tokens > 500_000 and rec.status == "ok"
    assert not [f for f in (tmp_path / "dask" / "shards").iterdir() if f.name.startswith(".")]


def test_phrases_applied_on_workers_match_local(client, tmp_path):
    (tmp_path / "books").mkdir()
    filler = [f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(600)]
    for b in range(3):
        text = "".join(
            ("Harry cried expecto patronum. " if i % 30 == b else "")
            + f"The {filler[(7 * i + b) % 600]} looked at the {filler[(13 * i + 5) % 600]} and {filler[i]}.\n"
            for i in range(600)
        )
        (tmp_path / "books" / f"hp{b}.txt").write_text(text, encoding="utf-8")
    ps = ct.PhraseSettings(min_count=5, threshold=5.0)
    local = ct.ingest([tmp_path / "books"], tmp_path / "local", jobs=2, phrases=ps)
    dask = ct.ingest([tmp_path / "books"], tmp_path / "dask", scheduler=client, phrases=ps)
    assert dask.phrases == local.phrases >= 1
    assert_same_corpus(tmp_path / "local", tmp_path / "dask")
    assert "expecto_patronum" in (tmp_path / "dask" / "sentences.txt").read_text(encoding="utf-8").split()


def test_file_urls_read_as_local_paths(client, tmp_path):
    books = make_books(tmp_path / "books", n=3)
    ct.ingest([books], tmp_path / "local", jobs=2)
    ct.ingest([books.as_uri()], tmp_path / "url", scheduler=client)
    ct.ingest([(books / "book01.txt").as_uri(), str(books / "*.txt")], tmp_path / "mixed", scheduler=client)
    assert_same_corpus(tmp_path / "local", tmp_path / "url")
    mixed = json.loads((tmp_path / "mixed" / "manifest.json").read_text())
    assert [os.path.basename(s["path"]) for s in mixed["sources"]] == ["book01.txt", "book00.txt", "book02.txt"]


def test_fsspec_memory_urls_on_threaded_workers(tmp_path):
    """A non-local protocol end to end: memory:// is visible to workers that share this process."""
    fsspec = pytest.importorskip("fsspec")
    books = make_books(tmp_path / "books", n=3)
    fs = fsspec.filesystem("memory")
    root = f"memory:///wordstack-test-{os.getpid()}/books"  # fsspec's canonical form
    for f in sorted(books.iterdir()):
        fs.pipe(f"{root}/{f.name}", f.read_bytes())
    fs.pipe(f"{root}/empty.txt", b"")
    (books / "empty.txt").write_bytes(b"")
    try:
        with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as c:
            remote = ct.ingest([root], tmp_path / "remote", scheduler=c)
        local = ct.ingest([books], tmp_path / "local", jobs=2)
    finally:
        fs.rm(root, recursive=True)
    assert remote.sentences_sha256 == local.sentences_sha256
    assert [s.path for s in remote.sources] == [f"{root}/{f}" for f in
                                                ("book00.txt", "book01.txt", "book02.txt", "empty.txt")]
    assert [(s.tokens, s.sha256) for s in remote.sources] == [(s.tokens, s.sha256) for s in local.sources]
    (skipped,) = remote.skipped
    assert skipped.reason == f"{root}/empty.txt: no words found (empty file); skipped"


def test_worker_killed_mid_run_loses_and_duplicates_nothing(tmp_path):
    books = make_books(tmp_path / "books", n=16, repeat=400)
    cluster = _start_local_cluster(distributed, 2)
    try:
        with distributed.Client(cluster) as c:
            before = c.run(os.getpid)
            killed = []

            def kill_one(stage, done, total):
                if stage == "tokenize" and done == 3 and not killed:
                    addr, pid = sorted(before.items())[0]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(addr)

            dask = ct.ingest([books], tmp_path / "dask", scheduler=c, progress=kill_one)
            deadline = time.monotonic() + 60
            while len(c.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)  # the nanny restarts the killed worker
            after = c.run(os.getpid)
    finally:
        cluster.close()
    assert killed, "the run finished before a worker could be killed"
    assert set(after.values()) != set(before.values())
    local = ct.ingest([books], tmp_path / "local", jobs=2)
    assert_same_corpus(tmp_path / "local", tmp_path / "dask")
    assert len(dask.sources) == 16 and dask.count("tokenized") == 16
    lines = (tmp_path / "dask" / "sentences.txt").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("book ") for line in lines) == 16  # each book's first sentence exactly once
    assert dask.sentences == local.sentences


def test_bad_scheduler_values(tmp_path):
    books = make_books(tmp_path / "books", n=1)
    with pytest.raises(ValueError, match="scheduler must be 'local'.*got 'books/'"):
        ct.ingest([books], tmp_path / "c", scheduler="books/")
    with pytest.raises(ValueError, match="scheduler must be 'local'.*got 3"):
        ct.ingest([books], tmp_path / "c", scheduler=3)
    with pytest.raises(ValueError, match="jobs=2 sizes the local process pool or a LocalCluster"):
        ct.ingest([books], tmp_path / "c", scheduler="tcp://127.0.0.1:8786", jobs=2)
    assert not (tmp_path / "c").exists()


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    import dask

    books = make_books(tmp_path / "books", n=1)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(ct.CorpusToolsError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
            ct.ingest([books], tmp_path / "c", scheduler="tcp://127.0.0.1:9")
