"""Big imports and exports do not fill the page cache (corpus_tools._page_cache)."""
import os

import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools import _page_cache


@pytest.fixture
def advice(monkeypatch):
    """Record every posix_fadvise call instead of making it (and small thresholds)."""
    calls = []
    monkeypatch.setattr(_page_cache, "_ADVISE", lambda fd, off, n, how: calls.append((fd, off, n, how)))
    monkeypatch.setattr(_page_cache, "KEEP_BYTES", 1000)
    monkeypatch.setattr(_page_cache, "STEP_BYTES", 500)
    return calls


def test_write_behind_keeps_the_tail_and_advises_once_per_step(tmp_path, advice):
    with open(tmp_path / "f", "wb") as fh:
        wb = _page_cache.WriteBehind(fh)
        ends = []
        for _ in range(12):
            fh.write(b"x" * 300)
            wb.written()
            ends.append(fh.tell())
    assert [c[1] for c in advice] == [0] * len(advice)          # always from the start: late pages retried
    assert all(c[3] == os.POSIX_FADV_DONTNEED for c in advice)
    # first advice once the file passes keep + step (1500 bytes: at 1500), then every >= 500 new bytes
    assert [c[2] for c in advice] == [1500 - 1000, 2100 - 1000, 2700 - 1000, 3300 - 1000]
    assert (tmp_path / "f").read_bytes() == b"x" * 3600


def test_small_files_are_left_alone(tmp_path, advice):
    with open(tmp_path / "f", "wb") as fh:
        wb = _page_cache.WriteBehind(fh)
        fh.write(b"x" * 1499)                 # below keep + step: no advice
        wb.written()
    assert advice == []
    (tmp_path / "small").write_bytes(b"y" * 1000)
    with open(tmp_path / "small", "rb") as fh:
        fh.read()
        _page_cache.drop_read(fh)             # all of it is the kept tail
    assert advice == []
    with open(tmp_path / "f", "rb") as fh:
        fh.read(1200)
        _page_cache.drop_read(fh)
    assert [c[1:3] for c in advice] == [(0, 200)]    # what was read, but its last 1000 bytes


def test_real_advice_changes_nothing_in_the_file(tmp_path, monkeypatch):
    if _page_cache._ADVISE is None:
        pytest.skip("no posix_fadvise here")
    monkeypatch.setattr(_page_cache, "KEEP_BYTES", 4096)
    monkeypatch.setattr(_page_cache, "STEP_BYTES", 4096)
    data = np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    with open(tmp_path / "f", "wb") as fh:
        wb = _page_cache.WriteBehind(fh)
        for s in range(0, len(data), 10_000):
            fh.write(data[s:s + 10_000])
            wb.written()
    with open(tmp_path / "f", "rb") as fh:
        assert fh.read() == data
        _page_cache.drop_read(fh)
    assert (tmp_path / "f").read_bytes() == data


def test_no_advice_function_means_no_calls(tmp_path, monkeypatch):
    monkeypatch.setattr(_page_cache, "_ADVISE", None)
    monkeypatch.setattr(_page_cache, "KEEP_BYTES", 0)
    with open(tmp_path / "f", "wb") as fh:
        wb = _page_cache.WriteBehind(fh)
        fh.write(b"x" * 10_000)
        wb.written()                       # would raise if it called None
        _page_cache.drop_read(fh)
    assert (tmp_path / "f").stat().st_size == 10_000


def test_import_and_export_advise_on_the_files_they_stream(tmp_path, advice):
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((400, 8)).astype("<f4")
    src = tmp_path / "v.bin"
    with open(src, "wb") as fh:
        fh.write(b"400 8\n")
        for i, v in enumerate(vecs):
            fh.write(f"w{i} ".encode() + v.tobytes() + b"\n")
    res = ct.import_vectors(src, tmp_path / "model", chunk_bytes=4096)
    assert res.vocab_size == 400
    assert advice, "the import gave no advice on a file larger than KEEP_BYTES"
    got = ct.load_vectors(tmp_path / "model")
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    np.testing.assert_allclose(got.unit, unit, rtol=1e-6, atol=1e-6)
    before = len(advice)
    ct.export_vectors(tmp_path / "model", tmp_path / "back.bin")
    assert len(advice) > before
    assert (tmp_path / "back.bin").stat().st_size == src.stat().st_size
