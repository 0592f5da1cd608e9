"""Helpers of the server tests: hand-made model folders and a real `wordstack serve` process."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from corpus_tools._model_dir import write_model_dir

ROOT = Path(__file__).resolve().parents[2]
TINY_WORDS = ["king", "queen", "man", "woman", "prince", "princess", "kings", "sword", "dagger", "crown",
              "expecto_patronum", "café", "apple", "pear", "plum", "fig"]


def write_tiny(out: Path, words, seed: int, dim: int = 6, epochs: int = 1) -> Path:
    """A hand-made model folder: random vectors, fruit words (the last four of TINY_WORDS) close together."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(words), dim))
    for i, w in enumerate(words):
        if w in ("apple", "pear", "plum", "fig"):
            vectors[i] = np.r_[5, 5, np.zeros(dim - 2)] + rng.normal(scale=0.2, size=dim)
    write_model_dir(out, list(words), vectors, np.arange(len(words), 0, -1) * 10,
                    {"format": "wordstack-word2vec/1", "params": {"epochs": epochs, "vector_size": dim}})
    return out


def server_env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               WORDSTACK_PROGRESS="0", **extra)
    env.pop("WORDSTACK_DEBUG", None)
    return env


def default_sigint() -> None:
    """In the child: Ctrl-C as at a terminal, even when the test run itself was started in
    the background (``cmd &`` without job control sets SIGINT to ignored, and children
    inherit that, so Python would install no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ServerProcess:
    """A `wordstack serve ... --port 0` subprocess: its URL (from the line it prints) and how it ended."""

    def __init__(self, args, env=None, timeout: float = 120):
        self.proc = subprocess.Popen([sys.executable, "-m", "wordstack", "serve", *map(str, args), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                     env=env or server_env(), preexec_fn=default_sigint)
        self.lines = []
        deadline = time.monotonic() + timeout
        self.url = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Serving"):
                self.url = line.split(" at ", 1)[1].split()[0]
                while line and not line.startswith("API:"):   # the model list, then the API line
                    line = self.proc.stdout.readline()
                    self.lines.append(line)
                break
        if self.url is None:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=30)
            raise AssertionError(f"the server did not start: {''.join(self.lines)}{err}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
        """Send ``sig``; the exit status and what the server wrote on stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"the server did not stop on {sig!r} within {timeout} s: {err}")
        return self.proc.returncode, err


@contextlib.contextmanager
def running_server(args, env=None):
    server = ServerProcess(args, env)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.stop()
