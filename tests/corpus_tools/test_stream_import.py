"""Streaming import and export: the Cython scanner against a plain-Python twin, every chunk size
giving the same folder, gzip/bzip2/xz streams, errors found in a later chunk, and memory that does
not grow with the file (measured in a subprocess: ru_maxrss growth against the file's size)."""
import bz2
import gzip
import json
import lzma
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools._w2v_scan import line_hashes, normalise_rows, pack_binary, scan_binary
from corpus_tools._w2v_stream import VectorsStream


def _entries(n: int, dim: int, seed: int = 0, newline: bool = True):
    rng = np.random.default_rng(seed)
    words = [("wörd" if i % 7 == 0 else "w") + str(i) + "x" * int(rng.integers(0, 30)) for i in range(n)]
    vectors = rng.standard_normal((n, dim)).astype("<f4")
    body = b"".join(w.encode() + b" " + v.tobytes() + (b"\n" if newline else b"") for w, v in zip(words, vectors))
    return words, vectors, f"{n} {dim}\n".encode() + body


def _python_scan(data: bytes, dim: int):
    """The gold standard: the binary format read entry by entry in plain Python."""
    nl = data.index(b"\n")
    n = int(data[:nl].split()[0])
    pos, words, rows = nl + 1, [], []
    for _ in range(n):
        while data[pos:pos + 1] == b"\n":
            pos += 1
        space = data.index(b" ", pos)
        words.append(data[pos:space].decode())
        rows.append(np.frombuffer(data, "<f4", dim, space + 1))
        pos = space + 1 + 4 * dim
    return words, np.array(rows)


@pytest.mark.parametrize("newline", [True, False])
def test_scanner_matches_the_python_twin(newline):
    words, vectors, data = _entries(500, 7, newline=newline)
    gold_words, gold_rows = _python_scan(data, 7)
    assert gold_words == words
    start = data.index(b"\n") + 1
    rows = np.empty((1000, 7), np.float32)
    out = np.empty(len(data), np.uint8)
    n, pos, wlen, bad, _, _, no_space = scan_binary(data, start, len(data), 7, rows, out, 4096)
    assert (n, pos, bad, no_space) == (500, len(data), -1, False)
    assert out[:wlen].tobytes().decode().split("\n")[:-1] == gold_words
    np.testing.assert_array_equal(rows[:n], gold_rows)
    # stopping inside an entry: only the complete ones, and where the next starts
    n2, pos2, *_ = scan_binary(data, start, len(data) - 3, 7, rows, out, 4096)
    assert n2 == 499 and data[pos2:].startswith(words[-1].encode() + b" ")


def test_normalise_and_hash_and_pack_kernels_match_numpy():
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((50, 13)).astype(np.float32)
    rows[4] = 0
    norms = np.empty(50, np.float32)
    unit = rows.copy()
    assert normalise_rows(unit, norms, True) == -1
    np.testing.assert_allclose(norms, np.linalg.norm(rows.astype(np.float64), axis=1), rtol=1e-6)
    np.testing.assert_allclose(unit[norms > 0], (rows / np.where(norms > 0, norms, 1)[:, None])[norms > 0],
                               rtol=1e-6)
    assert not unit[4].any()
    bad = rows.copy()
    bad[7, 2] = np.inf
    assert normalise_rows(bad, norms, True) == 7
    block = b"alpha\nbeta\n\xc3\xa9\n"
    hashes = np.empty(3, np.uint64)
    assert line_hashes(block, hashes) == 3

    def fnv(word: bytes) -> int:
        h = 14695981039346656037
        for byte in word:
            h = ((h ^ byte) * 1099511628211) % 2**64
        return h

    assert hashes.tolist() == [fnv(b"alpha"), fnv(b"beta"), fnv(b"\xc3\xa9")]
    out = np.empty(len(block) + 3 * 13 * 4 + 3, np.uint8)
    size = pack_binary(block, rows[:3], out)
    assert out[:size].tobytes() == b"".join(w + b" " + r.tobytes() + b"\n"
                                            for w, r in zip([b"alpha", b"beta", b"\xc3\xa9"], rows[:3]))


@pytest.mark.parametrize("chunk_bytes", [4500, 9000, 1 << 20])
def test_every_chunk_size_gives_the_same_folder(tmp_path, chunk_bytes):
    words, vectors, data = _entries(3000, 20, seed=4)
    data = data.replace(b"\n" + words[2000].encode() + b" ", b"\n" + words[10].encode() + b" ")  # a duplicate
    (tmp_path / "v.bin").write_bytes(data)
    res = ct.import_vectors(tmp_path / "v.bin", tmp_path / "m", chunk_bytes=chunk_bytes)
    assert res.duplicates == [words[10]] and res.vocab_size == 2999
    vecs = ct.load_vectors(tmp_path / "m")
    keep = [i for i in range(3000) if i != 2000]
    assert vecs.words == [words[i] for i in keep]
    np.testing.assert_allclose(np.asarray(vecs.unit) * vecs.norms[:, None], vectors[keep], rtol=1e-6, atol=1e-6)
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["vocab_size"] == 2999 and meta["imported"]["duplicates"] == 1


@pytest.mark.parametrize("compress, kind", [(gzip.compress, "gzip"), (bz2.compress, "bzip2"),
                                            (lzma.compress, "xz")])
def test_compressed_streams(tmp_path, compress, kind):
    words, vectors, data = _entries(800, 16, seed=5)
    (tmp_path / "v.bin.z").write_bytes(compress(data))
    res = ct.import_vectors(tmp_path / "v.bin.z", tmp_path / "m", chunk_bytes=5000, limit=700)
    vecs = ct.load_vectors(tmp_path / "m")
    assert vecs.words == words[:700] and res.vocab_size == 700
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["imported"]["compression"] == kind
    (tmp_path / "cut.z").write_bytes(compress(data)[:-200])
    with pytest.raises(ct.VectorsFileError, match=rf"cut.z (is a damaged {kind} file|is truncated)"):
        ct.import_vectors(tmp_path / "cut.z", tmp_path / "m2", chunk_bytes=5000)
    assert not (tmp_path / "m2").exists()


def test_errors_in_a_later_chunk_name_the_entry_and_leave_nothing(tmp_path):
    words, vectors, data = _entries(2000, 8, seed=6)
    bad = data.replace(b"\n" + words[1500].encode() + b" ", b"\n" + b"tab\there" + b" ")
    (tmp_path / "tab.bin").write_bytes(bad)
    with pytest.raises(ct.VectorsFileError, match=r"entry 1501 has the word 'tab\\there', which is empty or holds"):
        ct.import_vectors(tmp_path / "tab.bin", tmp_path / "m", chunk_bytes=5000)
    latin = data.replace(b"\n" + words[1800].encode() + b" ", b"\n" + b"caf\xe9" + b" ")
    (tmp_path / "latin.bin").write_bytes(latin)
    with pytest.raises(ct.VectorsFileError, match=r"entry 1801: the word b'caf\\xe9' is not valid UTF-8"):
        ct.import_vectors(tmp_path / "latin.bin", tmp_path / "m", chunk_bytes=5000)
    res = ct.import_vectors(tmp_path / "latin.bin", tmp_path / "m", chunk_bytes=5000, unicode_errors="replace")
    assert ct.load_vectors(tmp_path / "m").words[1800] == "caf\ufffd" and res.vocab_size == 2000
    nan = bytearray(data)
    at = data.index(b"\n" + words[1900].encode() + b" ") + len(words[1900]) + 2
    nan[at:at + 4] = np.float32(np.nan).tobytes()
    (tmp_path / "nan.bin").write_bytes(bytes(nan))
    with pytest.raises(ct.VectorsFileError, match=rf"the vector of '{words[1900]}' \(entry 1901\) holds NaN"):
        ct.import_vectors(tmp_path / "nan.bin", tmp_path / "m2", chunk_bytes=5000)
    assert not (tmp_path / "m2").exists()


def test_text_files_stream_too(tmp_path):
    words, vectors, _ = _entries(3000, 5, seed=7)
    ct.export_vectors(ct.Vectors.from_vectors(words, vectors), tmp_path / "v.txt", format="word2vec-txt",
                      precision=9)
    with VectorsStream(tmp_path / "v.txt", chunk_bytes=4096) as stream:
        chunks = [(c.first, len(c.rows)) for c in stream.chunks()]
        assert stream.format == "word2vec-txt" and stream.header
    assert chunks[0][0] == 0 and sum(n for _, n in chunks) == 3000 and len(chunks) > 10
    ct.import_vectors(tmp_path / "v.txt", tmp_path / "m", chunk_bytes=4096)
    back = ct.load_vectors(tmp_path / "m")
    assert back.words == words
    np.testing.assert_allclose(np.asarray(back.unit) * back.norms[:, None], vectors, rtol=1e-6, atol=1e-6)


def test_streamed_export_equals_the_in_memory_one(tmp_path):
    words, vectors, data = _entries(2500, 9, seed=8)
    (tmp_path / "v.bin").write_bytes(data)
    ct.import_vectors(tmp_path / "v.bin", tmp_path / "m")
    for fmt in ("word2vec-bin", "word2vec-txt", "vec"):
        ct.export_vectors(tmp_path / "m", tmp_path / f"folder.{fmt}", format=fmt)       # streamed
        ct.export_vectors(ct.load_vectors(tmp_path / "m"), tmp_path / f"loaded.{fmt}", format=fmt)
        assert (tmp_path / f"folder.{fmt}").read_bytes() == (tmp_path / f"loaded.{fmt}").read_bytes()
    got_words, got, _ = ct.read_word2vec(tmp_path / "folder.word2vec-bin")
    assert got_words == words
    np.testing.assert_allclose(got, vectors, rtol=1e-6, atol=1e-6)


_MEASURE = textwrap.dedent("""
    import json, sys
    import corpus_tools as ct
    src, small, out, kind = sys.argv[1:5]
    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))
    def reset():          # peak RSS back to the current RSS (Linux >= 4.0), so that only what follows counts
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return status("VmRSS")
    if kind == "import":
        ct.import_vectors(small, out + "-warm", chunk_bytes=1 << 20)      # every module and kernel loaded
        before = reset()
        ct.import_vectors(src, out, chunk_bytes=1 << 20)
    elif kind == "read":                                                    # the control: all in memory
        ct.read_word2vec(small)
        before = reset()
        words, vectors, _ = ct.read_word2vec(src)
    else:
        ct.export_vectors(small, out + "-warm.bin", chunk_bytes=1 << 20)
        before = reset()
        ct.export_vectors(src, out, chunk_bytes=1 << 20)
    print(json.dumps({"before": before, "after": status("VmHWM")}))
""")


def _rss_growth(kind: str, src, small, out) -> int:
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(src), str(small), str(out), kind],
                          capture_output=True, text=True, check=True)
    rss = json.loads(proc.stdout.strip().splitlines()[-1])
    return rss["after"] - rss["before"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS from /proc/self (Linux)")
def test_memory_does_not_grow_with_the_file(tmp_path):
    """A 24 MB file imported with a 1 MiB buffer: peak RSS grows by a few MB, not by the file
    (reading it whole, or memory-mapping it, would add its 24 MB at least: the control below)."""
    words, vectors, data = _entries(20000, 300, seed=9)
    (tmp_path / "big.bin").write_bytes(data)
    (tmp_path / "small.bin").write_bytes(_entries(50, 300)[2])
    size = len(data)
    assert size > 24_000_000
    control = _rss_growth("read", tmp_path / "big.bin", tmp_path / "small.bin", tmp_path / "unused")
    assert control > size, f"the measurement must see an in-memory read ({control:,} bytes for {size:,})"
    growth = _rss_growth("import", tmp_path / "big.bin", tmp_path / "small.bin", tmp_path / "m")
    assert growth < size / 4, f"import: peak RSS grew by {growth:,} bytes for a {size:,}-byte file"
    assert ct.load_vectors(tmp_path / "m").words == words
    growth = _rss_growth("export", tmp_path / "m", tmp_path / "m-warm", tmp_path / "out.bin")
    assert growth < size / 4, f"export: peak RSS grew by {growth:,} bytes for a {size:,}-byte model"
    assert (tmp_path / "out.bin").stat().st_size == size


def test_rows_of_a_chunk_stay_valid_for_as_many_chunks_as_row_buffers(tmp_path):
    words, vectors, data = _entries(500, 8, seed=3)
    src = tmp_path / "v.bin"
    src.write_bytes(data)
    with VectorsStream(src, chunk_bytes=2048, row_buffers=3) as stream:
        held = []
        for chunk in stream.chunks():
            held.append(chunk)
            if len(held) > 3:
                held.pop(0)
            for c in held:                          # this chunk and the two before it are intact
                assert np.array_equal(c.rows, vectors[c.first:c.first + len(c.rows)])
    with pytest.raises(ValueError, match="row_buffers must be an integer >= 1, got 0"):
        VectorsStream(src, row_buffers=0)


def test_read_ahead_yields_in_order_raises_where_the_source_failed_and_stops_its_thread():
    import threading

    from corpus_tools._w2v_stream import read_ahead

    assert list(read_ahead(iter(range(100)))) == list(range(100))

    def failing():
        yield from range(5)
        raise ValueError("entry 6 is damaged")

    got = []
    with pytest.raises(ValueError, match="entry 6 is damaged"):
        for x in read_ahead(failing()):
            got.append(x)
    assert got == [0, 1, 2, 3, 4]

    made = []

    def endless():
        i = 0
        while True:
            made.append(i)
            yield i
            i += 1

    before = threading.active_count()
    it = read_ahead(endless())
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()                                      # the caller stops early: the thread is joined
    assert threading.active_count() == before
    assert len(made) <= 3 + 2                       # it ran at most two items ahead


def test_an_error_in_a_later_chunk_stops_the_read_ahead_import_and_leaves_nothing(tmp_path):
    words, vectors, data = _entries(400, 8, seed=4)
    src = tmp_path / "v.bin"
    src.write_bytes(data[: len(data) - 50])          # truncated inside the last entry
    with pytest.raises(ct.VectorsFileError, match="is truncated"):
        ct.import_vectors(src, tmp_path / "out", chunk_bytes=4096)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.bin"]
