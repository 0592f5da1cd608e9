"""`wordstack seq`: train (and resume), eval, run, plot, and the errors users can make."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wordstack.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def add_ckpt(tmp_path_factory):
    """Trask's setting, trained for the default 10,000 sequences (about a second)."""
    path = tmp_path_factory.mktemp("seq") / "add.ckpt"
    result = invoke("seq", "train", "add", "--out", str(path), "--json")
    assert result.exit_code == 0, result.output
    return path, json.loads(result.stdout)


@pytest.fixture(scope="module")
def rev_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("seq") / "rev.ckpt"
    result = invoke("seq", "train", "reverse", "--hidden", "12", "--steps", "40", "--batch", "4",
                    "--lengths", "2:5", "--vocab", "6", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_train_add_defaults_and_json(add_ckpt):
    path, summary = add_ckpt
    assert summary["task"] == "add" and summary["model"] == "rnn"
    assert summary["steps"] == 10_000 and summary["sequences"] == 10_000
    assert summary["last_block"]["coarse"] == 1.0
    assert summary["sequences_per_second"] > 0 and path.exists()


def test_run_adds_numbers(add_ckpt):
    path, _ = add_ckpt
    result = invoke("seq", "run", str(path), "1234", "5678")
    assert result.exit_code == 0 and result.stdout.strip() == "6912"
    big = invoke("seq", "run", str(path), str(2**62 + 12345), str(2**61 + 99))
    assert big.stdout.strip() == str(2**62 + 12345 + 2**61 + 99)


def test_eval_generalises_to_64_bits(add_ckpt):
    path, _ = add_ckpt
    result = invoke("seq", "eval", str(path), "--lengths", "64", "--n", "300", "--json")
    data = json.loads(result.stdout)
    assert data["by_length"][0]["length"] == 64 and data["overall"]["coarse"] == 1.0
    table = invoke("seq", "eval", str(path), "--lengths", "6:9", "--n", "40")
    lines = table.stdout.splitlines()
    assert "per-symbol" in lines[1] and [ln.split()[0] for ln in lines[2:]] == ["6", "7", "8", "9", "all"]


def test_train_symbol_task_eval_run_plot(rev_ckpt, tmp_path):
    out = invoke("seq", "eval", str(rev_ckpt), "--lengths", "6:9", "--n", "20", "--json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["model"] == "lstm" and [r["length"] for r in data["by_length"]] == [6, 7, 8, 9]
    run = invoke("seq", "run", str(rev_ckpt), "0123")
    assert run.exit_code == 0 and len(run.stdout.strip()) == 4 and set(run.stdout.strip()) <= set("012345")
    png = tmp_path / "rev.png"
    plot = invoke("seq", "plot", str(rev_ckpt), "--out", str(png), "--n", "4", "--json")
    assert plot.exit_code == 0 and json.loads(plot.stdout)["png"] == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_trains_further_and_refuses_conflicts(tmp_path):
    path = tmp_path / "r.ckpt"
    first = invoke("seq", "train", "copy", "--hidden", "6", "--steps", "20", "--batch", "2", "--lengths", "2:4",
                   "--vocab", "4", "--out", str(path), "--json")
    assert json.loads(first.stdout)["steps"] == 20
    again = invoke("seq", "train", "copy", "--out", str(path))
    assert again.exit_code == 0 and "already trained for 20 steps" in again.stdout
    more = invoke("seq", "train", "copy", "--steps", "35", "--out", str(path), "--json")
    data = json.loads(more.stdout)
    assert data["steps"] == 35 and data["resumed_from"] == 20 and data["steps_this_run"] == 15
    conflict = invoke("seq", "train", "copy", "--hidden", "9", "--steps", "50", "--out", str(path))
    assert conflict.exit_code == 1
    assert "Error: cannot resume" in conflict.output and "hidden_size: 6 in the checkpoint, 9 asked" in conflict.output
    other = invoke("seq", "train", "reverse", "--out", str(path))
    assert other.exit_code == 1 and "trained on 'copy'" in other.output and "--restart" in other.output
    restart = invoke("seq", "train", "copy", "--hidden", "9", "--steps", "5", "--batch", "2", "--lengths", "2:4",
                     "--restart", "--out", str(path), "--json")
    assert restart.exit_code == 0 and json.loads(restart.stdout)["resumed_from"] is None


@pytest.mark.parametrize("args,message", [
    (["seq", "train", "sort", "--out", "x.ckpt"], "unknown task 'sort'; choose one of add, copy, reverse, bigram-flip"),
    (["seq", "train", "add", "--model", "gru", "--out", "x.ckpt"], "unknown model 'gru'; choose one of rnn, lstm"),
    (["seq", "train", "add", "--optimizer", "adagrad", "--out", "x.ckpt"], "sgd, momentum, rmsprop, adam"),
    (["seq", "train", "bigram-flip", "--lengths", "3:3", "--steps", "1", "--out", "x.ckpt"], "even"),
])
def test_bad_names_are_errors_listing_the_valid_ones(tmp_path, args, message):
    result = CliRunner().invoke(cli, [a if a != "x.ckpt" else str(tmp_path / a) for a in args])
    assert result.exit_code == 1 and f"Error: {message}" in result.output or message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("option,value,message", [
    ("--lengths", "64:8", "1 <= low <= high"),
    ("--lengths", "0:5", "1 <= low <= high"),
    ("--lengths", "eight", "8:64"),
    ("--hidden", "0", "0 is not in the range x>=1"),
    ("--lr", "0", "'--lr'"),
])
def test_bad_numbers_are_usage_errors(tmp_path, option, value, message):
    result = CliRunner().invoke(cli, ["seq", "train", "reverse", option, value, "--out", str(tmp_path / "x.ckpt")])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x.ckpt").exists()


def test_bad_checkpoints(tmp_path):
    missing = CliRunner().invoke(cli, ["seq", "eval", str(tmp_path / "none.ckpt")])
    assert missing.exit_code == 1 and "Error: no checkpoint at" in missing.output
    foreign = tmp_path / "foreign.ckpt"
    foreign.write_text("not a model")
    for cmd in (["eval", str(foreign)], ["run", str(foreign), "12"], ["plot", str(foreign), "--out",
                                                                      str(tmp_path / "p.png")]):
        result = CliRunner().invoke(cli, ["seq", *cmd])
        assert result.exit_code == 1 and "Error:" in result.output and "not a wordstack checkpoint" in result.output
    resume_foreign = CliRunner().invoke(cli, ["seq", "train", "add", "--out", str(foreign)])
    assert resume_foreign.exit_code == 1 and "not a wordstack checkpoint" in resume_foreign.output


def test_run_rejects_input_outside_the_vocabulary(rev_ckpt, add_ckpt):
    bad = CliRunner().invoke(cli, ["seq", "run", str(rev_ckpt), "01z9"])
    assert bad.exit_code == 1
    assert "Error: symbols 'z', '9' are outside the vocabulary" in bad.output and "012345" in bad.output
    for args in (["12", "x3"], ["--", "12", "-3"], ["12"]):
        add_bad = CliRunner().invoke(cli, ["seq", "run", str(add_ckpt[0]), *args])
        assert add_bad.exit_code == 1 and "Error: binary addition takes two non-negative integers" in add_bad.output


def test_divergence_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(cli, ["seq", "train", "reverse", "--model", "rnn", "--optimizer", "sgd", "--lr", "500",
                                      "--steps", "2000", "--batch", "4", "--lengths", "4:8", "--out",
                                      str(tmp_path / "d.ckpt")])
    assert result.exit_code == 1 and "Error: training diverged at step" in result.output


def test_help_has_examples():
    for cmd in ("train", "eval", "run", "plot"):
        result = invoke("seq", cmd, "--help")
        assert result.exit_code == 0 and "Example:" in result.output and "wordstack seq" in result.output


def test_sigterm_during_train_saves_a_checkpoint_that_resumes(tmp_path):
    """A job scheduler's SIGTERM to a real `wordstack seq train` process: the checkpoint is
    written, one line says so, exit status 143 (128 + SIGTERM); the same command resumes."""
    path = tmp_path / "term.ckpt"
    args = ["seq", "train", "reverse", "--hidden", "6", "--batch", "2", "--lengths", "2:4", "--vocab", "4",
            "--steps", "10000000", "--checkpoint-every", "1000", "--out", str(path)]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "WORDSTACK_PROGRESS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(root)]))}
    proc = subprocess.Popen([sys.executable, "-m", "wordstack", *args], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # Ctrl-C as at a terminal
    chunks = []

    def read():
        for chunk in iter(lambda: proc.stderr.read1(4096), b""):
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while b"training" not in b"".join(chunks):              # the bar: the loop has started
        assert proc.poll() is None and time.monotonic() < deadline, b"".join(chunks).decode(errors="replace")
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    stderr = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 143, stderr
    last = stderr.strip().splitlines()[-1]
    assert last == f"Terminated (SIGTERM): the checkpoint in {path} holds the last step; run the same command to " \
                   f"resume.", stderr
    assert "Traceback" not in stderr
    import models

    step = models.load(path).train_state_.step
    assert step > 0
    args[args.index("--steps") + 1] = str(step + 8)
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["resumed_from"] == step and summary["steps"] == step + 8


def test_run_and_eval_refuse_a_checkpoint_declaring_1e12_floats(rev_ckpt, tmp_path):
    """A hostile checkpoint (a .npy header claiming 10^12 floats): one clean Error line, at once."""
    import io
    import zipfile

    import numpy as np

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    bad = tmp_path / "lie.ckpt"
    with zipfile.ZipFile(rev_ckpt) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, header.getvalue() + bytes(64) if name == "params/W_x.npy" else data)
    start = time.monotonic()
    for args in (["run", str(bad), "0123"], ["eval", str(bad)]):
        result = invoke("seq", *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
        assert "lie.ckpt is refused: parameter 'W_x' has shape (1000000000000,) float64" in result.stderr
    assert time.monotonic() - start < 5
