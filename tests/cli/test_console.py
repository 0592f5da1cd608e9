"""The stderr side of commands (wordstack/_console.py): library log levels and progress bars."""
from __future__ import annotations

import subprocess
import sys

import pytest

# What `ingest --dask` does: configure logging for the command, then (inside corpus_tools)
# import distributed, whose import sets the "distributed" logger to INFO; or the other way round.
_PROBE = """
import logging, sys
from wordstack._console import configure_logging
if {import_first}:
    import distributed
configure_logging({verbose})
import distributed
logging.getLogger("distributed.scheduler").info("scheduler at tcp://127.0.0.1:1")
logging.getLogger("distributed.nanny").warning("a worker died")
"""


@pytest.mark.parametrize("import_first", [False, True], ids=["configured-first", "imported-first"])
def test_case11_distributed_info_is_quiet_without_v(import_first):
    pytest.importorskip("distributed")
    code = _PROBE.format(import_first=import_first, verbose=0)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "scheduler at" not in proc.stderr
    assert "a worker died" in proc.stderr


def test_case11_distributed_info_shows_with_v():
    pytest.importorskip("distributed")
    code = _PROBE.format(import_first=False, verbose=1)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "INFO distributed.scheduler: scheduler at" in proc.stderr


def test_case11_forced_progress_bar_of_5000_books_writes_a_bounded_log(monkeypatch, capsys):
    """WORDSTACK_PROGRESS=1 into a log file: 5,000 per-book reports give a few redraws, not 5,000."""
    from wordstack._console import IngestProgress

    monkeypatch.setenv("WORDSTACK_PROGRESS", "1")
    bar = IngestProgress()
    try:
        for done in range(5001):
            bar("tokenize", done, 5000)
    finally:
        bar.close()
    err = capsys.readouterr().err
    assert "5000/5000" in err
    assert len(err) < 5_000, f"{len(err):,} characters of progress for 5,000 books"
