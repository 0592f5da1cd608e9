"""Issue 12, items 4 and 5: interrupted and concurrent runs, with real processes and signals.

The default model is built under a lock: two `similar` started together build it once, a
build killed with SIGKILL leaves nothing that blocks or breaks the next one. Ctrl-C during
an ingest on worker processes prints one line and exits 130.

The subprocesses run a tiny default configuration (two short shipped poems, 8 dimensions)
and slow down one step on purpose, so that a signal lands mid-build.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import corpus_tools as ct

SHIPPED = ("lovers_complaint_gut.txt.gz", "passionate_pilgrim_gut.txt.gz")

#: Runs `wordstack ARGS` with the default model made tiny; before tokenizing, a worker (or
#: this process, with -j 1) prints TOKENIZING and sleeps WORDSTACK_TEST_DELAY seconds.
SCRIPT = r"""
import os, sys, time
from pathlib import Path
import corpus_tools as ct
from corpus_tools import _defaults

_defaults.shipped_corpus = lambda: Path(os.environ["WORDSTACK_TEST_BOOKS"])
for name in list(ct.DEFAULT_CONFIGS):
    ct.DEFAULT_CONFIGS[name] = ct.Word2VecParams(vector_size=8, epochs=1, sg=0, min_count=2, workers=1)
delay = float(os.environ["WORDSTACK_TEST_DELAY"])
if delay:  # (importing _shards imports NLTK: only when a step is slowed down)
    from corpus_tools import _shards
    real = _shards.tokenize_part

    def slow(part, tokenizer):
        print("TOKENIZING", file=sys.stderr, flush=True)
        time.sleep(delay)
        return real(part, tokenizer)

    _shards.tokenize_part = slow
from wordstack.cli import cli
cli(sys.argv[1:], prog_name="wordstack")
"""


@pytest.fixture
def books(tmp_path) -> Path:
    folder = tmp_path / "books"
    folder.mkdir()
    for name in SHIPPED:
        shutil.copy(ct.shipped_corpus() / name, folder / name)
    return folder


def _default_sigint() -> None:
    """In the child: Ctrl-C as at a terminal, even when the test run itself was started in
    the background (``cmd &`` without job control sets SIGINT to ignored, and children
    inherit that, so Python would install no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args, books: Path, home: Path, delay: float = 0.0, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "WORDSTACK_HOME": str(home), "WORDSTACK_PROGRESS": "0",
           "WORDSTACK_TEST_BOOKS": str(books), "WORDSTACK_TEST_DELAY": str(delay)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, **kwargs)


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 60.0) -> list[str]:
    """Read stderr until a line holds ``text``; the lines read."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    proc.kill()
    raise AssertionError(f"never printed {text!r}; stderr so far: {''.join(seen)}")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.is_dir()) if folder.exists() else []


def test_default_model_two_processes_at_once_build_it_once(books, tmp_path):
    home = tmp_path / "home"
    first = start(["similar", "love", "-n", "3"], books, home, delay=0.5)
    second = start(["similar", "love", "-n", "3"], books, home, delay=0.5)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    for proc, (out, err) in zip((first, second), outs):
        assert proc.returncode == 0, err
        assert "love" in out
    stderr = "".join(err for _, err in outs)
    assert stderr.count("Ingesting the shipped Shakespeare corpus") == 1, stderr
    assert stderr.count("Training shakespeare-256d") == 1, stderr
    assert "waiting for another wordstack process" in stderr.lower()
    assert leftovers(home / "corpora") == leftovers(home / "models") == []


def test_default_model_build_killed_midway_then_a_query_works(books, tmp_path):
    home = tmp_path / "home"
    victim = start(["similar", "love"], books, home, delay=60.0, start_new_session=True)
    try:
        wait_for_line(victim, "TOKENIZING")
        victim.send_signal(signal.SIGKILL)  # the command only: its pool workers sleep on, orphaned
        victim.wait(timeout=30)
        assert leftovers(home / "corpora")  # its temporary corpus is still there, unlocked
        query = start(["similar", "love", "-n", "3"], books, home)
        out, err = query.communicate(timeout=120)
        assert query.returncode == 0, err  # 0.1: "not empty and holds no manifest.json" from now on
        assert "love" in out
        assert leftovers(home / "corpora") == leftovers(home / "models") == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(victim.pid, signal.SIGKILL)
        victim.stderr.close()
        victim.stdout.close()


def test_ctrl_c_during_ingest_prints_one_line_and_exits_130(books, tmp_path):
    home = tmp_path / "home"
    proc = start(["ingest", books, "--out", tmp_path / "c", "-j", "2"], books, home, delay=60.0,
                 start_new_session=True)
    wait_for_line(proc, "TOKENIZING")
    time.sleep(0.3)  # let the second worker start too
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "ForkPoolWorker" not in err, err
    after = [line for line in err.splitlines() if line.strip() and "TOKENIZING" not in line]
    assert after[-1] == "Interrupted; files written so far are intact."
    assert not (tmp_path / "c").exists() and leftovers(tmp_path) == []
