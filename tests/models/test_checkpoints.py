"""Checkpoint files: round trip, atomic writes, and clear errors for corrupt or foreign files."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import models
from models import CheckpointError, LSTM, RNN, tasks
from models.training._checkpoint import read_checkpoint, write_checkpoint


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "rev.ckpt"
    m = LSTM(hidden_size=6, optimizer="momentum", learning_rate=0.05, batch_size=2, n_steps=50, lengths=(2, 4))
    m.fit(tasks.Reverse(vocab_size=5), checkpoint=path)
    return m, path


def test_round_trip(trained):
    m, path = trained
    loaded = models.load(path)
    assert type(loaded) is LSTM and loaded.get_params() == {**m.get_params(), "lengths": (2, 4)}
    np.testing.assert_array_equal(loaded.params_.theta, m.params_.theta)
    assert loaded.task_ == m.task_ and loaded.train_state_.step == 50
    np.testing.assert_array_equal(loaded.optimizer_.state[0], m.optimizer_.state[0])
    batch = m.task_.sample(np.random.default_rng(0), 3, 3)
    np.testing.assert_array_equal(loaded.predict_proba(batch), m.predict_proba(batch))
    assert models.load(path, backend="numpy").backend == "numpy"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert {"meta.json", "params/W_x.npy", "optimizer/state0.npy"} <= names
    assert not any(n.endswith(".pkl") for n in names)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(trained, tmp_path, monkeypatch):
    m, _ = trained
    path = tmp_path / "x.ckpt"
    m.save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("models.training._checkpoint._array_bytes", boom)
    with pytest.raises(OSError, match="disk full"):
        m.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.ckpt"]          # no temporary left behind


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="seq train"):
        models.load(tmp_path / "nope.ckpt")
    with pytest.raises(CheckpointError, match="directory"):
        models.load(tmp_path)


def test_foreign_files(tmp_path):
    text = tmp_path / "notes.ckpt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="not a wordstack checkpoint"):
        models.load(text)
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.zeros(3))
    with pytest.raises(CheckpointError, match="without meta.json"):
        models.load(npz)
    other = tmp_path / "other.ckpt"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("meta.json", json.dumps({"format": "something-else"}))
    with pytest.raises(CheckpointError, match="not a wordstack sequence-model checkpoint"):
        models.load(other)


def test_corrupt_files(trained, tmp_path):
    _, path = trained
    data = path.read_bytes()
    truncated = tmp_path / "trunc.ckpt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt|not a wordstack"):
        models.load(truncated)
    meta, arrays = read_checkpoint(path)
    future = tmp_path / "future.ckpt"
    write_checkpoint(future, {**meta, "version": 99}, arrays)
    with pytest.raises(CheckpointError, match="version 99.*upgrade"):
        models.load(future)
    missing = tmp_path / "missing.ckpt"
    write_checkpoint(missing, meta, {k: v for k, v in arrays.items() if k != "params/W_h"})
    with pytest.raises(CheckpointError, match="'W_h' is missing"):
        models.load(missing)
    wrong = tmp_path / "wrong.ckpt"
    write_checkpoint(wrong, meta, {**arrays, "params/W_h": np.zeros((2, 2))})
    with pytest.raises(CheckpointError, match="'W_h' has shape"):
        models.load(wrong)
    nan = tmp_path / "nan.ckpt"
    write_checkpoint(nan, meta, {**arrays, "params/b": np.full_like(arrays["params/b"], np.nan)})
    with pytest.raises(CheckpointError, match="NaN"):
        models.load(nan)
    unknown = tmp_path / "unknown.ckpt"
    write_checkpoint(unknown, {**meta, "model": "Transformer"}, arrays)
    with pytest.raises(CheckpointError, match="'Transformer'.*known: LSTM, MLP, MemoryRNN, RNN"):
        models.load(unknown)
    broken = tmp_path / "broken.ckpt"
    write_checkpoint(broken, {**meta, "task": {"name": "sort"}}, arrays)
    with pytest.raises(CheckpointError, match="corrupt or inconsistent.*sort"):
        models.load(broken)
    bad_json = tmp_path / "badjson.ckpt"
    with zipfile.ZipFile(bad_json, "w") as zf:
        zf.writestr("meta.json", "{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        models.load(bad_json)
    pickled = tmp_path / "pickled.ckpt"
    with zipfile.ZipFile(pickled, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        import io
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        zf.writestr("params/W_x.npy", buf.getvalue())
    with pytest.raises(CheckpointError, match="cannot be read"):
        models.load(pickled)


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        RNN().save(tmp_path / "m.ckpt")


def test_missing_kernel_says_how_to_build(monkeypatch):
    import sys

    import models._kernels as kernels
    import models.recurrent

    # the compiled module cannot be imported (as when it was never built)
    monkeypatch.delattr(models.recurrent, "_lstm", raising=False)
    monkeypatch.setitem(sys.modules, "models.recurrent._lstm", None)
    with pytest.raises(models.KernelNotBuiltError, match="build_ext --inplace.*backend='numpy'"):
        kernels.load_kernels("lstm", "cython")
    assert kernels.load_kernels("lstm", "numpy").__name__ == "models.recurrent._lstm_ref"
    with pytest.raises(models.UnknownNameError, match="cython, numpy"):
        kernels.load_kernels("lstm", "fortran")
