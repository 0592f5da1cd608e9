"""Import/export of word2vec binary/text and fastText .vec files: round trips, gensim interop, bad input."""
import gzip
import json

import numpy as np
import pytest

import corpus_tools as ct
from corpus_tools._model_dir import write_model_dir

WORDS = ["the", "king", "königin", "café", "naïve", "東京", "new_york", "x"]


@pytest.fixture
def model_dir(tmp_path):
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((len(WORDS), 5)).astype(np.float32) * 3
    out = tmp_path / "model"
    write_model_dir(out, WORDS, vectors, np.arange(len(WORDS))[::-1], {"format": "wordstack-word2vec/1"})
    return out, vectors


@pytest.mark.parametrize("fmt", ["word2vec-bin", "word2vec-txt", "vec"])
def test_round_trip_keeps_words_and_vectors(model_dir, tmp_path, fmt):
    src, vectors = model_dir
    exp = ct.export_vectors(src, tmp_path / "v.out", format=fmt, precision=9)
    assert (exp.vocab_size, exp.vector_size, exp.format) == (len(WORDS), 5, fmt)
    res = ct.import_vectors(tmp_path / "v.out", tmp_path / "back")
    assert res.format == ("word2vec-bin" if fmt == "word2vec-bin" else "word2vec-txt")
    back = ct.load_vectors(tmp_path / "back")
    assert back.words == WORDS
    raw = np.asarray(back.unit) * back.norms[:, None]
    np.testing.assert_allclose(raw, vectors, rtol=1e-6, atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == ["meta.json", "norms.npy", "vectors.npy",
                                                                     "vocab.txt"]  # no pickle
    meta = json.loads((tmp_path / "back" / "meta.json").read_text(encoding="utf-8"))
    assert meta["format"] == "wordstack-word2vec/1" and meta["imported"]["format"] == res.format


def test_text_precision_rounds_to_significant_digits(model_dir, tmp_path):
    src, vectors = model_dir
    ct.export_vectors(src, tmp_path / "v.txt", format="word2vec-txt", precision=3)
    lines = (tmp_path / "v.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{len(WORDS)} 5"
    word, *nums = lines[2].split(" ")
    assert word == "king"
    assert nums == [f"{x:.3g}" for x in (vectors[1].astype(np.float64))]
    ct.export_vectors(src, tmp_path / "v.vec", format="vec", precision=3)
    vec_lines = (tmp_path / "v.vec").read_text(encoding="utf-8").splitlines()
    assert vec_lines[2] == lines[2] + " "  # fastText ends every number with a space


def test_gensim_reads_our_files_and_we_read_gensims(model_dir, tmp_path):
    from gensim.models import KeyedVectors

    src, vectors = model_dir
    for binary, fmt in ((True, "word2vec-bin"), (False, "word2vec-txt")):
        out = tmp_path / f"ours.{fmt}"
        ct.export_vectors(src, out, format=fmt, precision=9)
        kv = KeyedVectors.load_word2vec_format(str(out), binary=binary)
        assert kv.index_to_key == WORDS
        np.testing.assert_allclose(kv.vectors, vectors, rtol=1e-6, atol=1e-6)
        theirs = tmp_path / f"theirs.{fmt}"
        kv.save_word2vec_format(str(theirs), binary=binary)
        words, got, info = ct.read_word2vec(theirs)
        assert words == WORDS and info["format"] == fmt
        np.testing.assert_allclose(got, vectors, rtol=1e-6, atol=1e-6)


def test_headerless_glove_text_and_gzip(tmp_path):
    body = "alpha 1 0 0\nbeta 0 1 0\ngamma 0 0 2\n"
    (tmp_path / "glove.txt").write_text(body, encoding="utf-8")
    words, vectors, info = ct.read_word2vec(tmp_path / "glove.txt")
    assert words == ["alpha", "beta", "gamma"] and info == {"format": "word2vec-txt", "header": False}
    np.testing.assert_array_equal(vectors, [[1, 0, 0], [0, 1, 0], [0, 0, 2]])
    with gzip.open(tmp_path / "v.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("3 3\n" + body)
    words, vectors, info = ct.read_word2vec(tmp_path / "v.txt.gz", limit=2)
    assert words == ["alpha", "beta"] and vectors.shape == (2, 3) and info["header"]


def test_duplicates_keep_first_vector(tmp_path):
    (tmp_path / "d.txt").write_text("3 2\na 1 0\nb 0 1\na 5 5\n", encoding="utf-8")
    res = ct.import_vectors(tmp_path / "d.txt", tmp_path / "m")
    assert res.duplicates == ["a"] and res.vocab_size == 2
    v = ct.load_vectors(tmp_path / "m")
    assert v.words == ["a", "b"]
    np.testing.assert_allclose(v.vector("a", unit=False), [1, 0])


def test_export_rejects_words_with_spaces(tmp_path):
    v = ct.Vectors.from_vectors(["new york", "b", "c"], np.eye(3))
    with pytest.raises(ValueError, match=r"'new york' \(row 1\) contains whitespace.*join its parts with '_'"):
        ct.export_vectors(v, tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def _bin_file(path, words, vectors, header=None):
    with open(path, "wb") as fh:
        fh.write((header or f"{len(words)} {vectors.shape[1]}\n").encode())
        for w, row in zip(words, vectors.astype("<f4")):
            fh.write(w.encode() + b" " + row.tobytes() + b"\n")


def test_truncated_binary_is_reported(tmp_path):
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    _bin_file(tmp_path / "v.bin", ["a", "b", "c"], vectors)
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-7])
    with pytest.raises(ct.VectorsFileError, match=r"cut.bin is truncated: the header announces 3 vectors of 4 "
                                                  r"float32 numbers, but it ends inside entry 3 after 2 complete"):
        ct.import_vectors(tmp_path / "cut.bin", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_binary_with_more_vectors_than_header(tmp_path):
    vectors = np.ones((3, 4), dtype=np.float32)
    _bin_file(tmp_path / "v.bin", ["a", "b", "c"], vectors, header="2 4\n")
    with pytest.raises(ct.VectorsFileError, match="announces 2 vectors but more data follows"):
        ct.read_word2vec(tmp_path / "v.bin")


def test_text_header_count_too_high_or_too_low(tmp_path):
    (tmp_path / "hi.txt").write_text("4 2\na 1 0\nb 0 1\nc 1 1\n", encoding="utf-8")
    with pytest.raises(ct.VectorsFileError, match=r"announces 4 vectors but the file holds only 3; correct the "
                                                  r"header to '3 2'"):
        ct.read_word2vec(tmp_path / "hi.txt")
    (tmp_path / "lo.txt").write_text("2 2\na 1 0\nb 0 1\nc 1 1\n", encoding="utf-8")
    with pytest.raises(ct.VectorsFileError, match="announces 2 vectors but line 4 holds another one"):
        ct.read_word2vec(tmp_path / "lo.txt")


def test_ragged_dimensions_and_non_numbers_name_the_line(tmp_path):
    (tmp_path / "r.txt").write_text("3 3\na 1 0 0\nb 0 1\nc 0 0 1\n", encoding="utf-8")
    with pytest.raises(ct.VectorsFileError, match=r"r.txt line 3: 'b' has 2 numbers, expected 3"):
        ct.read_word2vec(tmp_path / "r.txt")
    (tmp_path / "n.txt").write_text("3 3\na 1 0 0\nb 0 1 0\nc 0 zero 1\n", encoding="utf-8")
    with pytest.raises(ct.VectorsFileError, match=r"n.txt line 4: 'zero' is not a number"):
        ct.read_word2vec(tmp_path / "n.txt")


def test_other_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ct.read_word2vec(tmp_path / "missing.bin")
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(ct.VectorsFileError, match="is empty"):
        ct.read_word2vec(tmp_path / "empty.txt")
    (tmp_path / "junk.txt").write_text("hello\n", encoding="utf-8")
    with pytest.raises(ct.VectorsFileError, match="neither a 'V D' header nor 'word x1 x2 ...'"):
        ct.read_word2vec(tmp_path / "junk.txt")
    (tmp_path / "nan.txt").write_text("2 2\na 1 0\nb nan 1\n", encoding="utf-8")
    with pytest.raises(ct.VectorsFileError, match=r"vector of 'b' \(entry 2\) holds NaN"):
        ct.import_vectors(tmp_path / "nan.txt", tmp_path / "m")
    with open(tmp_path / "latin.bin", "wb") as fh:
        fh.write(b"1 2\ncaf\xe9 " + np.ones(2, "<f4").tobytes())
    with pytest.raises(ct.VectorsFileError, match="not valid UTF-8.*unicode_errors='replace'"):
        ct.read_word2vec(tmp_path / "latin.bin")
    words, _, _ = ct.read_word2vec(tmp_path / "latin.bin", unicode_errors="replace")
    assert words == ["caf\ufffd"]
    with pytest.raises(ValueError, match="format must be one of"):
        ct.read_word2vec(tmp_path / "latin.bin", format="glove")


# ----------------------------------------------------------------------------- untrusted headers (issue 12, case 8)

_ONE_ENTRY = b"a " + np.ones(3, "<f4").tobytes() + b"\n"


@pytest.mark.parametrize("compress", [False, True])
def test_case8_binary_header_claiming_10e12_vectors_is_refused(tmp_path, compress):
    data = b"1000000000000 300\n" + _ONE_ENTRY
    (tmp_path / "huge.bin").write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ct.VectorsFileError, match=r"huge.bin is truncated: the header announces "
                                                  r"1,000,000,000,000 vectors of 300 float32 numbers.*need at least "
                                                  r"1,201,000,000,000,000 bytes after the header; the file has 15"):
        ct.import_vectors(tmp_path / "huge.bin", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_case8_binary_header_is_checked_against_the_file_size_before_allocating(tmp_path):
    """2,000,000 x 100 float32 would be an 800 MB array for a 32-byte file: nothing of that size is allocated."""
    import tracemalloc

    (tmp_path / "big.bin").write_bytes(b"2000000 100\n" + _ONE_ENTRY)
    tracemalloc.start()
    try:
        with pytest.raises(ct.VectorsFileError, match="announces 2,000,000 vectors of 100 float32 numbers"):
            ct.read_word2vec(tmp_path / "big.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, peak


@pytest.mark.parametrize("name, data", [("dims.bin", b"1 1000000000\n" + _ONE_ENTRY),
                                        ("dims.txt", b"300 1000000000\na 1 2 3\n"),
                                        ("dims.bin.gz", gzip.compress(b"300 1000000000\n" + _ONE_ENTRY))],
                         ids=["bin", "txt", "gz"])
def test_case8_header_with_absurd_dimension_names_the_limit(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ct.VectorsFileError, match=rf"{name}: the header gives dimension 1,000,000,000; wordstack "
                                                  r"reads at most 100,000 dimensions"):
        ct.read_word2vec(tmp_path / name)
