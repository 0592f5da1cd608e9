"""Checkpoints: one zip file holding ``meta.json`` and ``.npy`` arrays, no pickle.

Layout of a checkpoint (``unzip -l model.ckpt`` shows it)::

    meta.json                 format tag and version, model class, hyperparameters,
                              task spec, optimizer scalars, training state and history
    params/<name>.npy         one array per parameter (W_xh, W_hh, ...), float64, of the
                              shape ``meta.json``'s ``param_shapes`` gives
    optimizer/state<i>.npy    optimizer state vectors (momentum, moments ...), float64 (n_parameters,)
    curves/, direction_changes/   the MLP's learning curves and sign-change counts

Files are written atomically (temporary file beside the target, then ``os.replace``,
see :mod:`corpus_tools.atomic`): an interrupted save leaves the previous checkpoint
intact. Arrays are never unpickled.

Reading is bounded whatever the file (a checkpoint may come from anyone): the member
table, ``meta.json`` and the arrays are checked against limits and against what
``meta.json`` declares before anything is inflated (see :func:`read_checkpoint`).

Model classes register themselves with :func:`register_model` so that
:func:`load_model` can rebuild any of them (RNN, LSTM, and models built on them).
"""
from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from corpus_tools.atomic import atomic_path

from ..core._errors import CheckpointError

__all__ = ["FORMAT", "VERSION", "register_model", "model_classes", "save_model", "load_model",
           "read_checkpoint", "write_checkpoint", "check_param_shapes", "MAX_META_BYTES", "MAX_ARRAY_BYTES",
           "MAX_DIRECTORY_BYTES"]

FORMAT = "wordstack-seq-checkpoint"
VERSION = 1

#: Largest ``meta.json`` read (its declared size). A run with the whole learning curve
#: (4,000 records at most) writes about 1 MB.
MAX_META_BYTES = 4 << 20
#: Largest total of the arrays (their declared sizes): 1 GiB, some 40 million parameters
#: with Adam's two state vectors; wordstack's largest models have well under a million.
MAX_ARRAY_BYTES = 1 << 30
#: Largest member table (the zip's central directory): 1 MiB, thousands of members.
MAX_DIRECTORY_BYTES = 1 << 20
_MAX_OPTIMIZER_STATES = 4               # Adam keeps 2 vectors, momentum and RMSProp 1
_READ_CHUNK = 1 << 20

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
    """Write ``meta`` (JSON-able) and named arrays (``"params/W_xh"`` ...) atomically.

    :func:`read_checkpoint` reads back only arrays that ``meta`` declares (see the module
    docstring: ``param_shapes``, ``n_parameters`` with ``optimizer``, an MLP's ``fit``),
    with those shapes; it refuses a file holding anything else.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint path {path} is a directory; give a file name such as {path / 'model.ckpt'}")
    meta = {"format": FORMAT, "version": VERSION, **meta}
    text = json.dumps(meta, indent=1, allow_nan=True)
    with atomic_path(path, replace_if=is_checkpoint, refusal="is not a wordstack checkpoint") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("meta.json", text)
            for name, array in arrays.items():
                zf.writestr(f"{name}.npy", _array_bytes(array))
    return path


def is_checkpoint(path: str | os.PathLike) -> bool:
    """True for a file wordstack wrote as a checkpoint: a zip whose ``meta.json`` (read
    within :data:`MAX_META_BYTES`) carries :data:`FORMAT`. Only such a file is ever
    replaced by :func:`write_checkpoint`; any other file at that path is refused."""
    path = Path(path)
    try:
        _check_directory(path)
        with zipfile.ZipFile(path) as zf:
            _read_meta(path, zf, zf.getinfo("meta.json"))
    except (OSError, KeyError, zipfile.BadZipFile, CheckpointError, ValueError):
        return False
    return True


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a checkpoint: (meta, arrays by name without ``.npy``).

    Nothing is inflated before it is known to be bounded: the zip's member table is
    at most :data:`MAX_DIRECTORY_BYTES`, ``meta.json`` at most :data:`MAX_META_BYTES`
    (its declared size, and never more is read), and every array member is one that
    ``meta.json`` names, whose ``.npy`` header (read first) gives the dtype and shape
    the metadata declares and whose declared size is exactly that header plus dtype x
    shape; the arrays together are at most :data:`MAX_ARRAY_BYTES`. Members are read
    in chunks of at most 1 MiB and never past their declared size.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CheckpointError
        Not a wordstack checkpoint (another zip, any other file), a newer format
        version, a corrupt or truncated file, or one past a limit above (the message
        names the member and the limit).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}; train one with `wordstack seq train TASK --out {path}`")
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    try:
        _check_directory(path)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [info.filename for info in infos]
            if "meta.json" not in names:
                raise CheckpointError(f"{path} is not a wordstack checkpoint (a zip archive without meta.json)")
            twice = sorted(n for n, count in Counter(names).items() if count > 1)
            if twice:
                raise CheckpointError(f"{path} is corrupt: it holds member {twice[0]} more than once")
            meta = _read_meta(path, zf, zf.getinfo("meta.json"))
            members = [info for info in infos if info.filename != "meta.json"]
            expected = _expected_arrays(path, meta)
            total = 0
            for info in members:                     # sizes first: nothing is inflated yet
                name = info.filename[:-4] if info.filename.endswith(".npy") else None
                if name not in expected:
                    raise CheckpointError(f"{path} is refused: member {info.filename} is not an array that "
                                          f"meta.json declares (a wordstack checkpoint holds only those)")
                total += info.file_size
                if total > MAX_ARRAY_BYTES:
                    raise CheckpointError(f"{path} is refused: member {info.filename} declares {info.file_size:,} "
                                          f"bytes, which takes the arrays past the limit of {MAX_ARRAY_BYTES:,} "
                                          f"bytes (MAX_ARRAY_BYTES)")
            arrays = {}
            for info in members:
                name = info.filename[:-4]
                arrays[name] = _read_array(path, zf, info, *expected[name])
    except zipfile.BadZipFile as exc:
        raise CheckpointError(f"{path} is not a wordstack checkpoint or is corrupt/truncated ({exc})") from exc
    except (zlib.error, NotImplementedError, RuntimeError) as exc:     # bad deflate data, method, encryption
        raise CheckpointError(f"{path} is corrupt or unreadable ({exc})") from exc
    except (EOFError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise CheckpointError(f"{path} is corrupt or truncated ({exc})") from exc
    return meta, arrays


def _check_directory(path: Path) -> None:
    """Refuse, before :mod:`zipfile` parses it, a member table (central directory) over
    :data:`MAX_DIRECTORY_BYTES` or a zip64 archive (wordstack never writes one: its
    checkpoints stay far below the 65,535 members and 2 GiB where zip64 starts)."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        tail_length = min(size, 22 + 0xFFFF + 20)          # end record, its comment, a zip64 locator
        fh.seek(size - tail_length)
        tail = fh.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return                                             # not a zip: zipfile says so
    entries, directory = struct.unpack("<HI", tail[at + 10:at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF or (at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07"):
        raise CheckpointError(f"{path} is refused: a zip64 archive (wordstack checkpoints never are)")
    if directory > MAX_DIRECTORY_BYTES:
        raise CheckpointError(f"{path} is refused: its member table declares {directory:,} bytes, more than the "
                              f"limit of {MAX_DIRECTORY_BYTES:,} bytes (MAX_DIRECTORY_BYTES)")


def _fill(path: Path, fh, info: zipfile.ZipInfo, out: np.ndarray, offset: int = 0) -> None:
    """Read exactly ``out.nbytes`` bytes of member ``info`` into ``out``, in chunks of at
    most :data:`_READ_CHUNK`, then check that the member ends there (one more byte asked)."""
    view = memoryview(out.reshape(-1).view(np.uint8))
    done = 0
    while done < len(view):
        n = fh.readinto(view[done:done + _READ_CHUNK])
        if not n:
            raise CheckpointError(f"{path} is corrupt or truncated: member {info.filename} ends after "
                                  f"{offset + done:,} of its declared {info.file_size:,} bytes")
        done += n
    if fh.read(1):
        raise CheckpointError(f"{path} is corrupt: member {info.filename} holds more than its declared "
                              f"{info.file_size:,} bytes")


def _read_meta(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    """``meta.json``, parsed and checked (format, version), read only if its declared size is
    within :data:`MAX_META_BYTES`."""
    if info.file_size > MAX_META_BYTES:
        raise CheckpointError(f"{path} is refused: its meta.json declares {info.file_size:,} bytes, more than the "
                              f"limit of {MAX_META_BYTES:,} bytes (MAX_META_BYTES; wordstack writes about 1 MB at "
                              f"most)")
    data = np.empty(info.file_size, dtype=np.uint8)
    with zf.open(info) as fh:
        _fill(path, fh, info, data)
    try:
        meta = json.loads(data.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:    # JSONDecodeError is a ValueError
        raise CheckpointError(f"{path} is corrupt: meta.json is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a wordstack sequence-model checkpoint "
                              f"(format {meta.get('format') if isinstance(meta, dict) else None!r})")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {version!r}; this wordstack reads "
                              f"up to version {VERSION}: upgrade wordstack")
    return meta


def _declared_shape(path: Path, value, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > 8 or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value):
        raise CheckpointError(f"{path} is corrupt: meta.json declares {what} of shape {value!r} (a list of sizes "
                              f">= 0 expected)")
    return tuple(value)


def _expected_arrays(path: Path, meta: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The arrays ``meta.json`` declares: name (without ``.npy``) -> (dtype kind, shape).

    ``params/<name>``: float64 of ``param_shapes[name]``; with an ``optimizer`` entry,
    ``optimizer/state<i>`` (i < 4): float64 of shape (n_parameters,); with an MLP's
    ``fit`` entry, ``curves/loss`` and ``curves/error``: float64 of shape (n_epochs + 1,),
    and ``direction_changes/<name>``: integers of the parameter's shape.
    """
    shapes = meta.get("param_shapes") or {}
    if not isinstance(shapes, dict):
        raise CheckpointError(f"{path} is corrupt: meta.json's param_shapes is not a mapping of names to shapes")
    params = {name: _declared_shape(path, value, f"parameter {name!r}") for name, value in shapes.items()}
    n_parameters = sum(math.prod(s) for s in params.values())
    if 8 * n_parameters > MAX_ARRAY_BYTES:
        raise CheckpointError(f"{path} is refused: meta.json declares {n_parameters:,} parameters "
                              f"({8 * n_parameters:,} bytes), more than the limit of {MAX_ARRAY_BYTES:,} bytes "
                              f"(MAX_ARRAY_BYTES)")
    if meta.get("n_parameters", n_parameters) != n_parameters:
        raise CheckpointError(f"{path} is corrupt: meta.json declares n_parameters {meta.get('n_parameters')!r}, "
                              f"but its param_shapes add up to {n_parameters:,}")
    expected = {f"params/{name}": ("float64", shape) for name, shape in params.items()}
    if "optimizer" in meta:
        expected.update({f"optimizer/state{i}": ("float64", (n_parameters,)) for i in range(_MAX_OPTIMIZER_STATES)})
    fit = meta.get("fit")
    if isinstance(fit, dict) and "n_epochs" in fit:
        (epochs,) = _declared_shape(path, [fit["n_epochs"]], "the MLP's fit.n_epochs")
        expected.update({f"curves/{curve}": ("float64", (epochs + 1,)) for curve in ("loss", "error")})
        expected.update({f"direction_changes/{name}": ("integer", shape) for name, shape in params.items()})
    return expected


def _read_array(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str,
                shape: tuple[int, ...]) -> np.ndarray:
    """One ``.npy`` member: its header first (dtype, shape and declared size checked against
    what ``meta.json`` declares), then exactly its data."""
    name = info.filename[:-4]
    what = f"parameter {name[len('params/'):]!r}" if name.startswith("params/") else f"array {name}"
    want = "float64" if kind == "float64" else "integer"
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                stored, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                stored, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f".npy format version {version[0]}.{version[1]}, which wordstack does not write")
        except ValueError as exc:
            raise CheckpointError(f"{path} is corrupt: array {info.filename} cannot be read ({exc})") from exc
        ok = dtype == np.float64 if kind == "float64" else dtype.kind in "iu"
        if not ok:
            raise CheckpointError(f"{path} is corrupt: array {info.filename} cannot be read as {what}: it holds "
                                  f"dtype {dtype}, meta.json declares {want}")
        if tuple(stored) != shape:
            raise CheckpointError(f"{path} is refused: {what} has shape {tuple(stored)} {dtype}, but meta.json "
                                  f"declares {shape} {want} (member {info.filename})")
        header = fh.tell()
        size = header + math.prod(shape) * dtype.itemsize
        if info.file_size != size:
            raise CheckpointError(f"{path} is corrupt: member {info.filename} declares {info.file_size:,} bytes, "
                                  f"but its header ({dtype}, shape {shape}) makes it {size:,}")
        out = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
        _fill(path, fh, info, out, header)
    return out.T if fortran else out


def check_param_shapes(meta: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> None:
    """Before a model allocates its parameters: the shapes its hyperparameters and task make
    must be those ``meta.json`` declares (and within :data:`MAX_ARRAY_BYTES`), so that a
    doctored hyperparameter cannot allocate what the arrays never held."""
    size = sum(math.prod(s) for s in shapes.values())
    if 8 * size > MAX_ARRAY_BYTES:
        raise CheckpointError(f"refused: its hyperparameters make {size:,} parameters ({8 * size:,} bytes), more "
                              f"than the limit of {MAX_ARRAY_BYTES:,} bytes (MAX_ARRAY_BYTES)")
    declared = meta.get("param_shapes")
    if isinstance(declared, dict):
        declared = {k: tuple(v) for k, v in declared.items()}
        made = {k: tuple(int(d) for d in v) for k, v in shapes.items()}
        if declared != made:
            listing = ", ".join(f"{k}: {declared.get(k)} declared, {made.get(k)} made"
                                for k in {**declared, **made} if declared.get(k) != made.get(k))
            raise CheckpointError(f"corrupt or inconsistent: its hyperparameters and task do not make the "
                                  f"parameters meta.json declares ({listing})")


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
    except CheckpointError as exc:
        if str(path) in str(exc):
            raise
        raise CheckpointError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt or inconsistent: {exc}") from exc
