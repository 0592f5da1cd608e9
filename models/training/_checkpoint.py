"""Checkpoints: one zip file holding ``meta.json`` and ``.npy`` arrays, no pickle.

Layout of a checkpoint (``unzip -l model.ckpt`` shows it)::

    meta.json                 format tag and version, model class, hyperparameters,
                              task spec, optimizer scalars, training state and history
    params/<name>.npy         one array per parameter (W_xh, W_hh, ...)
    optimizer/state<i>.npy    optimizer state vectors (momentum, moments ...)

Files are written atomically (temporary file beside the target, then ``os.replace``,
see :mod:`corpus_tools.atomic`): an interrupted save leaves the previous checkpoint
intact. Arrays are read with ``allow_pickle=False``.

Model classes register themselves with :func:`register_model` so that
:func:`load_model` can rebuild any of them (RNN, LSTM, and models built on them).
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from corpus_tools.atomic import atomic_path

from ..core._errors import CheckpointError

__all__ = ["FORMAT", "VERSION", "register_model", "model_classes", "save_model", "load_model",
           "read_checkpoint", "write_checkpoint"]

FORMAT = "wordstack-seq-checkpoint"
VERSION = 1

_MODEL_CLASSES: dict[str, type] = {}

#: Modules whose import registers model classes: ``models`` imports lazily, so
#: :func:`load_model` imports them before looking a class up.
MODEL_MODULES = ("models.estimators._recurrent", "models.estimators._memory_model", "models.ff._mlp")


def register_model(cls: type) -> type:
    """Class decorator: make ``cls`` loadable by :func:`load_model` under its class name."""
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


def model_classes() -> dict[str, type]:
    return dict(_MODEL_CLASSES)


def _array_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def write_checkpoint(path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write ``meta`` (JSON-able) and named arrays (``"params/W_xh"`` ...) atomically."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint path {path} is a directory; give a file name such as {path / 'model.ckpt'}")
    meta = {"format": FORMAT, "version": VERSION, **meta}
    text = json.dumps(meta, indent=1, allow_nan=True)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("meta.json", text)
            for name, array in arrays.items():
                zf.writestr(f"{name}.npy", _array_bytes(array))
    return path


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a checkpoint: (meta, arrays by name without ``.npy``).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CheckpointError
        Not a wordstack checkpoint (another zip, any other file), a newer format
        version, or a corrupt or truncated file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}; train one with `wordstack seq train TASK --out {path}`")
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "meta.json" not in names:
                raise CheckpointError(f"{path} is not a wordstack checkpoint (a zip archive without meta.json)")
            try:
                meta = json.loads(zf.read("meta.json").decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CheckpointError(f"{path} is corrupt: meta.json is not valid JSON ({exc})") from exc
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"{path} is not a wordstack sequence-model checkpoint "
                                      f"(format {meta.get('format') if isinstance(meta, dict) else None!r})")
            version = meta.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise CheckpointError(f"{path} has checkpoint format version {version!r}; this wordstack reads "
                                      f"up to version {VERSION}: upgrade wordstack")
            arrays = {}
            for name in sorted(names):
                if not name.endswith(".npy"):
                    continue
                with zf.open(name) as fh:
                    try:
                        arrays[name[:-4]] = np.lib.format.read_array(fh, allow_pickle=False)
                    except ValueError as exc:
                        raise CheckpointError(f"{path} is corrupt: array {name} cannot be read ({exc})") from exc
    except zipfile.BadZipFile as exc:
        raise CheckpointError(f"{path} is not a wordstack checkpoint or is corrupt/truncated ({exc})") from exc
    except (EOFError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise CheckpointError(f"{path} is corrupt or truncated ({exc})") from exc
    return meta, arrays


def save_model(model, path: str | os.PathLike) -> Path:
    """Save a fitted model (parameters, hyperparameters, task, optimizer and training state)."""
    meta, arrays = model._checkpoint_payload()
    return write_checkpoint(path, meta, arrays)


def load_model(path: str | os.PathLike, *, backend: str | None = None):
    """Load any registered model from a checkpoint written by :func:`save_model`.

    Parameters
    ----------
    path : path-like
    backend : {"cython", "numpy"}, optional
        Override the backend stored in the checkpoint.
    """
    meta, arrays = read_checkpoint(path)
    name = meta.get("model")
    if name not in _MODEL_CLASSES:
        import importlib

        for module in MODEL_MODULES:
            importlib.import_module(module)
    cls = _MODEL_CLASSES.get(name)
    if cls is None:
        raise CheckpointError(f"{path} holds a model of class {name!r}, which this wordstack does not know "
                              f"(known: {', '.join(sorted(_MODEL_CLASSES))})")
    try:
        return cls._from_checkpoint(meta, arrays, backend=backend)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt or inconsistent: {exc}") from exc
