"""Hostile checkpoint files are refused quickly and cleanly, before anything large is
inflated (issue 12, item 8): a deflated member that inflates to 3 GB, a 1.5 GB
meta.json, a member declaring 10^12 floats, members meta.json does not name, sizes
that disagree with the .npy header, doctored hyperparameters.

The files are small on disk: a run of zeros deflated with full flushes repeats one
~1 KB block per MiB, so "3 GB" of zeros is a 3 MB file, written here byte by byte.
"""
from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zlib
from contextlib import contextmanager

import numpy as np
import pytest

import models
from models import LSTM, CheckpointError, tasks
from models.training import _checkpoint
from models.training._checkpoint import read_checkpoint

MiB = 1 << 20


# ----------------------------------------------------------------------------- crafting zips


def deflated_run(head: bytes, n_mib: int, fill: int = 0) -> bytes:
    """Raw deflate data of ``head`` followed by ``n_mib`` MiB of the byte ``fill``."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)]
    block = c.compress(bytes([fill]) * MiB) + c.flush(zlib.Z_FULL_FLUSH)   # the same bytes every MiB
    out.append(block * n_mib)
    out.append(c.flush())
    return b"".join(out)


def raw_zip(path, entries):
    """Write a zip by hand: ``entries`` of (name, data as stored, method 0/8, declared
    uncompressed size, crc). zipfile would recompute sizes; a hostile file need not."""
    local, central = io.BytesIO(), io.BytesIO()
    for name, data, method, size, crc in entries:
        offset = local.tell()
        encoded = name.encode()
        local.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                                len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data),
                                  size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    directory = central.getvalue()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), local.tell(), 0)
    path.write_bytes(local.getvalue() + directory + end)
    return path


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(dtype, shape) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                               "shape": tuple(shape)})
    return buf.getvalue()


def stored(name, data):
    return (name, data, 0, len(data), zlib.crc32(data))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """(meta, arrays) of a real little LSTM checkpoint (W_x (5, 24): 960 bytes of data)."""
    model = LSTM(hidden_size=6)
    model._setup(tasks.Reverse(vocab_size=4))
    path = model.save(tmp_path_factory.mktemp("small") / "small.ckpt")
    return read_checkpoint(path)


def members(meta, arrays, **replace):
    """Entries of a checkpoint (all stored) with some members replaced by other entries."""
    out = [stored("meta.json", json.dumps(meta).encode())]
    for name, value in arrays.items():
        member = f"{name}.npy"
        out.append(replace.pop(member) if member in replace else stored(member, npy(value)))
    return out + list(replace.values())


@contextmanager
def quick_and_small(seconds=2.0, peak_bytes=16 * MiB):
    """The block must finish within ``seconds`` and allocate at most ``peak_bytes``."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < peak_bytes, f"allocated {peak / MiB:.1f} MiB"


# ----------------------------------------------------------------------------- the cases


def test_deflated_3gb_member_is_refused_before_inflating(small, tmp_path):
    meta, arrays = small
    size = 3_000_000_000
    header = npy_header(np.float64, ((size - 128) // 8,))
    bomb = ("params/W_x.npy", deflated_run(header, size // MiB), 8, len(header) + (size - 128) // 8 * 8, 0)
    path = raw_zip(tmp_path / "bomb.ckpt", members(meta, arrays, **{"params/W_x.npy": bomb}))
    assert path.stat().st_size < 4e6
    with quick_and_small():
        with pytest.raises(CheckpointError, match=r"bomb.ckpt.*member params/W_x.npy declares 3,000,000,000 bytes"
                                                  r".*limit of 1,073,741,824 bytes"):
            models.load(path)


def test_deflated_member_under_the_cap_is_refused_from_its_header(small, tmp_path):
    """64 MiB of zeros under a header that the metadata contradicts: only the header is inflated."""
    meta, arrays = small
    header = npy_header(np.float64, (8 * MiB,))
    member = ("params/W_x.npy", deflated_run(header, 64), 8, len(header) + 64 * MiB, 0)
    path = raw_zip(tmp_path / "big.ckpt", members(meta, arrays, **{"params/W_x.npy": member}))
    with quick_and_small(peak_bytes=4 * MiB):
        with pytest.raises(CheckpointError, match=r"'W_x' has shape \(8388608,\) float64, but meta.json declares "
                                                  r"\(5, 24\) float64 \(member params/W_x.npy\)"):
            models.load(path)


def test_member_whose_declared_size_exceeds_its_header_is_refused_unread(small, tmp_path):
    """Right header, but the zip entry declares 64 MiB more: refused before its data is read."""
    meta, arrays = small
    header = npy_header(np.float64, (5, 24))
    member = ("params/W_x.npy", deflated_run(header, 64), 8, len(header) + 64 * MiB, 0)
    path = raw_zip(tmp_path / "long.ckpt", members(meta, arrays, **{"params/W_x.npy": member}))
    with quick_and_small(peak_bytes=4 * MiB):
        with pytest.raises(CheckpointError, match=r"params/W_x.npy declares 67,108,992 bytes, but its header "
                                                  r"\(float64, shape \(5, 24\)\) makes it 1,088"):
            models.load(path)


def test_huge_meta_json_is_refused_unread(small, tmp_path):
    meta, arrays = small
    head = json.dumps(meta).encode()[:-1] + b", \"padding\": \""
    bomb = ("meta.json", deflated_run(head, 1431, fill=ord(" ")), 8, len(head) + 1431 * MiB, 0)   # 1.5 GB
    path = raw_zip(tmp_path / "meta-bomb.ckpt", [bomb] + members(meta, arrays)[1:])
    with quick_and_small():
        with pytest.raises(CheckpointError, match=r"meta-bomb.ckpt.*meta.json declares 1,500,5\d\d,\d{3} bytes, "
                                                  r"more than the limit of 4,194,304 bytes"):
            models.load(path)


def test_member_declaring_1e12_floats_is_a_clean_error(small, tmp_path):
    meta, arrays = small
    lie = npy_header(np.float64, (10**12,)) + bytes(960)        # a header of 10^12 floats, 960 bytes of data
    path = raw_zip(tmp_path / "lie.ckpt", members(meta, arrays, **{"params/W_x.npy": stored("params/W_x.npy", lie)}))
    with quick_and_small():
        with pytest.raises(CheckpointError, match=r"'W_x' has shape \(1000000000000,\) float64, but meta.json "
                                                  r"declares \(5, 24\)"):
            models.load(path)
    # ... and metadata that declares them is refused before any member is opened
    declared = {**meta, "param_shapes": {**meta["param_shapes"], "W_x": [10**12]}}
    path = raw_zip(tmp_path / "declared.ckpt", members(declared, arrays, **{"params/W_x.npy": stored(
        "params/W_x.npy", lie)}))
    with quick_and_small():
        with pytest.raises(CheckpointError, match=r"meta.json declares 1,000,000,000,\d{3} parameters .*limit of "
                                                  r"1,073,741,824 bytes"):
            models.load(path)


def test_members_not_named_by_the_metadata_are_refused(small, tmp_path):
    meta, arrays = small
    for extra in (stored("params/extra.npy", npy(np.zeros(3))), stored("notes.txt", b"hello"),
                  stored("optimizer/state0.npy", npy(np.zeros(meta["n_parameters"])))):   # no optimizer in meta
        path = raw_zip(tmp_path / "extra.ckpt", members(meta, arrays, **{extra[0]: extra}))
        with pytest.raises(CheckpointError, match=f"member {extra[0]} is not an array that meta.json declares"):
            models.load(path)
    twice = members(meta, arrays)
    path = raw_zip(tmp_path / "twice.ckpt", twice + [twice[1]])
    with pytest.raises(CheckpointError, match="holds member params/.* more than once"):
        models.load(path)


def test_truncated_member_and_wrong_dtype_are_clean_errors(small, tmp_path):
    meta, arrays = small
    data = npy(arrays["params/W_x"])
    short = ("params/W_x.npy", data[:500], 0, len(data), zlib.crc32(data))      # declares more than it holds
    path = raw_zip(tmp_path / "short.ckpt", members(meta, arrays, **{"params/W_x.npy": short}))
    with pytest.raises(CheckpointError, match="short.ckpt .*(corrupt|truncated)"):
        models.load(path)
    as_int = npy(arrays["params/W_x"].astype(np.int64))
    path = raw_zip(tmp_path / "int.ckpt", members(meta, arrays, **{"params/W_x.npy": stored("params/W_x.npy", as_int)}))
    with pytest.raises(CheckpointError, match="params/W_x.npy cannot be read as parameter 'W_x': it holds dtype int64"):
        models.load(path)


def test_total_of_the_arrays_is_capped(small, tmp_path, monkeypatch):
    meta, arrays = small
    path = raw_zip(tmp_path / "ok.ckpt", members(meta, arrays))
    assert models.load(path).params_.size == meta["n_parameters"]
    monkeypatch.setattr(_checkpoint, "MAX_ARRAY_BYTES", 3000)        # 2,528 bytes of data, + the headers
    with pytest.raises(CheckpointError, match=r"ok.ckpt is refused: member params/\S+ declares [\d,]+ bytes, which "
                                              r"takes the arrays past the limit of 3,000 bytes"):
        models.load(path)


def test_member_table_is_capped_before_zipfile_reads_it(small, tmp_path, monkeypatch):
    meta, arrays = small
    path = raw_zip(tmp_path / "ok.ckpt", members(meta, arrays))
    monkeypatch.setattr(_checkpoint, "MAX_DIRECTORY_BYTES", 100)
    with pytest.raises(CheckpointError, match=r"member table declares [\d,]+ bytes, more than the limit of 100"):
        models.load(path)


def test_hyperparameters_that_disagree_with_param_shapes_are_refused_before_allocating(small, tmp_path):
    meta, arrays = small
    doctored = {**meta, "hyperparams": {**meta["hyperparams"], "hidden_size": 10**6}}
    path = raw_zip(tmp_path / "hyper.ckpt", members(doctored, arrays))
    with quick_and_small():
        with pytest.raises(CheckpointError, match=r"hyper.ckpt: refused: its hyperparameters make [\d,]+ "
                                                  r"parameters .*limit of 1,073,741,824 bytes"):
            models.load(path)
    doctored = {**meta, "hyperparams": {**meta["hyperparams"], "hidden_size": 7}}
    path = raw_zip(tmp_path / "hyper7.ckpt", members(doctored, arrays))
    with pytest.raises(CheckpointError, match=r"do not make the parameters meta.json declares \(W_x: \(5, 24\) "
                                              r"declared, \(5, 28\) made"):
        models.load(path)


def test_a_file_of_the_users_is_never_overwritten_by_a_checkpoint(tmp_path):
    """write_checkpoint (seq train --out, ff train --out, model.save) replaces only a
    checkpoint wordstack wrote; a user's file at that path is refused and left as it was."""
    import corpus_tools
    import models
    from models import tasks

    model = models.RNN(hidden_size=4, n_steps=5, seed=0).fit(tasks.BinaryAddition())
    for content in (b"my notes\n", b"PK\x03\x04 not really a zip"):
        mine = tmp_path / "notes.ckpt"
        mine.write_bytes(content)
        with pytest.raises(corpus_tools.OverwriteRefusedError, match="notes.ckpt.*not a wordstack checkpoint"):
            model.save(mine)
        assert mine.read_bytes() == content
        assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.ckpt"]     # no temporary file left
    ours = tmp_path / "model.ckpt"
    model.save(ours)
    model.set_params(n_steps=10).fit(tasks.BinaryAddition())
    model.save(ours)                                       # a checkpoint of ours is replaced
    assert models.load(ours).train_state_.step == 10
