"""Where wordstack keeps things: the shipped corpus and the user's data directory."""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

#: Environment variable that overrides the user data directory.
HOME_ENV = "WORDSTACK_HOME"


def wordstack_home() -> Path:
    """The user's wordstack data directory.

    ``$WORDSTACK_HOME`` when set, else ``$XDG_DATA_HOME/wordstack``, else
    ``~/.local/share/wordstack``. The folder is not created here.
    """
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "wordstack"


def shipped_corpus() -> Path:
    """Folder of the Shakespeare texts shipped inside the package (42 works, gzip).

    Works for editable and regular installs alike; never depends on the current
    directory.
    """
    root = importlib.resources.files("corpus_tools.shipped") / "shakespeare"
    path = Path(str(root))
    if not path.is_dir():  # pragma: no cover - only on a broken install
        raise FileNotFoundError(
            f"the shipped corpus is missing from the installation (looked in {path}); "
            "reinstall wordstack with `pip install .` from a full checkout"
        )
    return path


def default_corpus_dir() -> Path:
    """Corpus directory that the default model is trained from."""
    return wordstack_home() / "corpora" / "shakespeare"


def default_model_dir() -> Path:
    """Model directory of the default (256-dim, 10-epoch) Shakespeare model."""
    return wordstack_home() / "models" / "shakespeare-256d"
