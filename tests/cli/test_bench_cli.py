"""`wordstack seq bench`: the grid through the CLI (tiny budgets), the report from committed
result files, bad input, --jobs 2 stopped by SIGTERM and resumed, and Dask (same files)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_tools.pictures import is_wordstack_picture
from wordstack.cli import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bench-results"
TINY = ["--steps", "20", "--test-lengths", "41:45", "--n-per-length", "2"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner():
    return CliRunner()


def _scores(out: Path) -> dict:
    return {str(p.relative_to(out)): (json.loads(p.read_text())["score"], json.loads(p.read_text())["by_length"])
            for p in sorted(out.glob("*/*/seed*.json"))}


def test_a_tiny_grid_writes_one_result_per_cell_and_says_so(runner, tmp_path):
    out = tmp_path / "r"
    args = ["seq", "bench", "--tasks", "parity_check", "--models", "rnn,stack", "--seeds", "1", *TINY, "--out", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "2 cells: 0 done before, 2 finished now (this process)" in result.stdout
    assert re.search(r"\[1/2.*\] parity_check/rnn/seed0: score \d+\.\d%", result.stderr)
    assert sorted(str(p.relative_to(out)) for p in out.glob("*/*/*")) == [
        "parity_check/rnn/seed0.ckpt", "parity_check/rnn/seed0.json",
        "parity_check/stack/seed0.ckpt", "parity_check/stack/seed0.json"]
    again = runner.invoke(cli, args + ["--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["done_before"] == 2


def test_report_from_committed_results(runner, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results)
    result = runner.invoke(cli, ["seq", "bench", "--report", str(results)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.stdout and "3 pictures" in result.stdout
    page = (results / "README.md").read_text(encoding="utf-8")
    scores = page.split("## Score")[1].split("## Whole")[0]
    rows = {line.split(" | ")[1]: line for line in scores.splitlines() if line.startswith("| ") and " | " in line}
    # parity_check lstm: seeds 100, 100, 50; stack: its one seed diverged, 2 planned
    assert rows["parity check"].startswith("| **Regular (R)** | parity check | 100.0 / 83.3 | "
                                           "– (1/2 seeds, 1 diverged) | 100.0 | 100.0 | 100.0 | 100.0 |")
    # reverse_string lstm: 1 of 3 seeds (61.0); stack 99.8 and 90.0; the paper's 62.0, 100, 100, 60.9
    assert "| reverse string | 61.0 (1/3 seeds) | 99.8 / 94.9 | 62.0 | 100.0 | 100.0 | 60.9 |" in page
    assert "| reverse string | 0.0 (1/3 seeds) | 95.0 / 60.0 |" in page              # whole sequences
    assert "not verified against the PDF here" in page and "arXiv 2207.02098" in page
    assert "7 cells finished of 10 planned" in page
    for name in ("bench-scores.png", "bench-curve-parity_check.png", "bench-curve-reverse_string.png"):
        assert is_wordstack_picture(results / name), name
    # rebuilt in place; a user's file at --out is refused and left alone
    assert runner.invoke(cli, ["seq", "bench", "--report", str(results), "--no-pictures"]).exit_code == 0
    mine = tmp_path / "notes.md"
    mine.write_text("# my notes\n", encoding="utf-8")
    refused = runner.invoke(cli, ["seq", "bench", "--report", str(results), "--out", str(mine), "--no-pictures"])
    assert refused.exit_code == 1 and "Error:" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "# my notes\n"


@pytest.mark.parametrize("args, message", [
    (["--tasks", "revers_string"], "unknown task 'revers_string' (did you mean 'reverse_string'"),
    (["--tasks", "parity_check", "--models", "lstm,stak"], "unknown model 'stak' (did you mean 'stack'?)"),
    (["--tasks", "parity_check", "--jobs", "2", "--dask"], "drop --jobs, or drop --dask"),
    (["--tasks", "parity_check", "--dask", "not an address"], "--dask takes a Dask scheduler address"),
])
def test_bad_input_is_one_error_line(runner, tmp_path, args, message):
    result = runner.invoke(cli, ["seq", "bench", *args, *TINY, "--out", str(tmp_path / "r")])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_someone_elses_folder_and_misused_options(runner, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("x", encoding="utf-8")
    result = runner.invoke(cli, ["seq", "bench", "--tasks", "parity_check", *TINY, "--out", str(theirs)])
    assert result.exit_code == 1 and "is not a wordstack bench results folder" in result.stderr
    assert [p.name for p in theirs.iterdir()] == ["thesis.tex"]
    assert runner.invoke(cli, ["seq", "bench", "--report", str(theirs)]).exit_code == 1
    usage = runner.invoke(cli, ["seq", "bench", "--report", str(theirs), "--tasks", "parity_check"])
    assert usage.exit_code == 2 and "--report only reads a results folder" in usage.stderr
    assert runner.invoke(cli, ["seq", "bench", "--tasks", "parity_check"]).exit_code == 2      # no --out


def test_jobs_2_stopped_by_sigterm_resumes_and_matches_one_process(tmp_path):
    """Two worker processes, SIGTERM to the command mid-training: exit 143 with checkpoints;
    the same command again finishes; the numbers equal a run in one process."""
    grid = ["--tasks", "parity_check", "--models", "lstm,stack", "--seeds", "1", "--steps", "600",
            "--test-lengths", "41:45", "--n-per-length", "2", "--checkpoint-every", "0.2"]
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "wordstack", "seq", "bench", *grid, "--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ckpts = [out / "parity_check" / m / "seed0.ckpt" for m in ("lstm", "stack")]
    deadline = time.monotonic() + 120
    while not all(p.exists() for p in ckpts) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:                       # the machine was fast enough to finish first
        pytest.skip("the grid finished before the signal arrived")
    assert proc.returncode == 143, err
    assert "Terminated (SIGTERM)" in err and "run the same command to resume" in err
    import models

    stopped = {p.parent.name: models.load(p).train_state_.step for p in ckpts if p.exists()}
    assert stopped and all(step < 600 for step in stopped.values()), stopped
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    for model, step in stopped.items():
        result = json.loads((out / "parity_check" / model / "seed0.json").read_text())
        assert result["train"]["resumed_from_step"] == step and result["train"]["steps"] == 600
    inline = CliRunner().invoke(cli, ["seq", "bench", *grid, "--out", str(tmp_path / "inline")])
    assert inline.exit_code == 0, inline.output
    assert _scores(out) == _scores(tmp_path / "inline")


def test_dask_local_cluster_writes_the_same_results(runner, tmp_path):
    pytest.importorskip("distributed", reason="needs the dask extra (pip install -e '.[dask]')")
    grid = ["seq", "bench", "--tasks", "parity_check,reverse_string", "--models", "lstm", "--seeds", "1", *TINY]
    local = runner.invoke(cli, [*grid, "--out", str(tmp_path / "local")])
    dask = runner.invoke(cli, [*grid, "--dask", "--out", str(tmp_path / "dask")])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    assert "(Dask)" in dask.stdout
    assert _scores(tmp_path / "dask") == _scores(tmp_path / "local")
    assert sorted(p.name for p in (tmp_path / "dask" / "reverse_string" / "lstm").iterdir()) == ["seed0.ckpt",
                                                                                                  "seed0.json"]
