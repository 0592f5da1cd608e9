"""`wordstack seq` with memory models: train --memory, the side-by-side eval table,
run, plot, inspect, and the errors users can make."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wordstack.cli import cli

SMALL = ["--hidden", "12", "--width", "6", "--embedding", "6", "--steps", "30", "--batch", "4", "--lengths", "2:6",
         "--vocab", "6"]


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seqmem")
    stack, plain = folder / "stack.ckpt", folder / "plain.ckpt"
    result = invoke("seq", "train", "reverse", "--memory", "stack", *SMALL, "--out", str(stack), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    plain_result = invoke("seq", "train", "reverse", "--hidden", "12", "--steps", "30", "--batch", "4", "--lengths",
                          "2:6", "--vocab", "6", "--out", str(plain))
    assert plain_result.exit_code == 0, plain_result.output
    return stack, plain, summary


def test_train_with_memory_uses_the_memory_recipe(ckpts):
    stack, _, summary = ckpts
    assert summary["model"] == "lstm+stack" and summary["task"] == "reverse" and summary["steps"] == 30
    import models

    model = models.load(stack)
    assert model.memory == "stack" and model.stop_gradient and model.curriculum == "grow"
    assert model.pop_bias_ == (-1.0,) and model.optimizer == "adam" and model.memory_width == 6


def test_eval_table_side_by_side(ckpts):
    stack, plain, _ = ckpts
    result = invoke("seq", "eval", str(plain), str(stack), "--n", "24", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["model"] for r in rows] == ["lstm", "lstm+stack"]
    for r in rows:
        assert r["train_lengths"] == [2, 6] and r["test_lengths"] == [7, 12]
        assert 0.0 <= r["test"]["coarse"] <= r["test"]["fine"] <= 1.0 and r["train"]["n"] >= 24
    text = invoke("seq", "eval", str(plain), str(stack), "--n", "12", "--lengths", "7:8")
    lines = text.stdout.splitlines()
    assert lines[0].split()[:4] == ["model", "task", "params", "trained"]
    assert lines[1].startswith("lstm ") and lines[2].startswith("lstm+stack ") and "7-8" in lines[2]
    md = invoke("seq", "eval", str(stack), "--markdown", "--n", "12")
    assert md.stdout.startswith("| model | task | params |") and "| lstm+stack | reverse |" in md.stdout


def test_run_plot_and_inspect(ckpts, tmp_path):
    stack, _, _ = ckpts
    run = invoke("seq", "run", str(stack), "012345")
    assert run.exit_code == 0 and len(run.stdout.strip()) == 6
    png = tmp_path / "curve.png"
    assert invoke("seq", "plot", str(stack), "--out", str(png), "--n", "2").exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pushpop = tmp_path / "pushpop.png"
    result = invoke("seq", "inspect", str(stack), "01234", "--out", str(pushpop), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["png"] == str(pushpop) and data["target"] == "43210" and len(data["output"]) == 5
    assert len(data["push"]) == 11 and all(0 < p[0] < 1 for p in data["push"] + data["pop"])
    assert pushpop.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = invoke("seq", "inspect", str(stack), "0 1 2", "--out", str(pushpop))
    assert "(target 210:" in text.stdout and f"Wrote {pushpop}" in text.stdout


def test_resume_keeps_the_memory_and_refuses_another(ckpts, tmp_path):
    stack, _, _ = ckpts
    copy = tmp_path / "s.ckpt"
    copy.write_bytes(stack.read_bytes())
    more = invoke("seq", "train", "reverse", "--steps", "34", "--out", str(copy), "--json")
    data = json.loads(more.stdout)
    assert data["model"] == "lstm+stack" and data["resumed_from"] == 30 and data["steps"] == 34
    other = CliRunner().invoke(cli, ["seq", "train", "reverse", "--memory", "queue", "--out", str(copy)])
    assert other.exit_code == 1 and "holds an lstm+stack model, not lstm+queue" in other.output
    width = CliRunner().invoke(cli, ["seq", "train", "reverse", "--memory", "stack", "--width", "7", "--steps", "40",
                                     "--out", str(copy)])
    assert width.exit_code == 1 and "memory_width: 6 in the checkpoint, 7 asked" in width.output


def test_train_with_softmax_controls(tmp_path):
    out = tmp_path / "soft.ckpt"
    result = invoke("seq", "train", "reverse", "--memory", "deque", "--controls", "softmax", *SMALL, "--out", str(out))
    assert result.exit_code == 0, result.output
    import models

    model = models.load(out)
    assert model.controls == "softmax" and model.params_["b_mem"].shape == (2 * 2 + 2 * 6 + 2,)


@pytest.mark.parametrize("args,message", [
    (["reverse", "--memory", "heap"], "unknown memory 'heap'; choose one of stack, queue, deque"),
    (["add", "--memory", "stack"], "the memory models are for the symbol tasks"),
    (["reverse", "--width", "8"], "memory_width only apply to memory models: add --memory"),
    (["copy", "--aux-memory", "0.5", "--pop-bias", "-2"], "pop_bias, aux_memory only apply to memory models"),
    (["reverse", "--memory", "stack", "--activation", "sigmoid"], "--activation is for the plain RNN"),
    (["reverse", "--controls", "softmax"], "controls only apply to memory models: add --memory"),
    (["reverse", "--memory", "stack", "--model", "gru"], "unknown model 'gru'; choose one of rnn, lstm"),
])
def test_bad_memory_options_are_errors(tmp_path, args, message):
    out = tmp_path / "x.ckpt"
    result = CliRunner().invoke(cli, ["seq", "train", *args, "--steps", "1", "--out", str(out)])
    assert result.exit_code == 1 and f"Error: {message}" in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()


def test_inspect_errors(ckpts, tmp_path):
    stack, plain, _ = ckpts
    no_memory = CliRunner().invoke(cli, ["seq", "inspect", str(plain), "0123", "--out", str(tmp_path / "p.png")])
    assert no_memory.exit_code == 1 and "holds a lstm model without a memory: nothing to inspect" in no_memory.output
    bad_symbol = CliRunner().invoke(cli, ["seq", "inspect", str(stack), "01z", "--out", str(tmp_path / "p.png")])
    assert bad_symbol.exit_code == 1 and "symbols 'z' are outside the vocabulary" in bad_symbol.output
    missing = CliRunner().invoke(cli, ["seq", "inspect", str(tmp_path / "none.ckpt"), "01", "--out",
                                       str(tmp_path / "p.png")])
    assert missing.exit_code == 1 and "Error: no checkpoint at" in missing.output
    assert not (tmp_path / "p.png").exists()


def test_inspect_help_has_an_example():
    result = invoke("seq", "inspect", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "wordstack seq inspect" in result.output


def test_eval_shows_progress_on_a_terminal(ckpts, monkeypatch):
    stack, _, _ = ckpts
    monkeypatch.setenv("WORDSTACK_PROGRESS", "1")                       # as on a terminal
    result = invoke("seq", "eval", str(stack), "--lengths", "300:301", "--n", "2")
    assert result.exit_code == 0, result.output
    assert "evaluating" in result.stderr and "1204/1204" in result.stderr and "2/2 sequences" in result.stderr
    assert result.stdout.splitlines()[0].startswith("lstm+stack on reverse, 2 test sequences")


def test_run_and_eval_refuse_inputs_past_the_memory_limit(ckpts, monkeypatch):
    stack, _, _ = ckpts
    from models.estimators._base import SequenceModel

    monkeypatch.setattr(SequenceModel, "INFERENCE_MEMORY_LIMIT", 1 << 20)          # 1 MiB: a few hundred steps
    result = invoke("seq", "run", str(stack), "012345" * 200)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: a sequence of 2,401 steps needs about") and \
        "the limit is 0.000976562 GiB (SequenceModel.INFERENCE_MEMORY_LIMIT): at most" in result.stderr
    result = invoke("seq", "eval", str(stack), "--lengths", "5000:5000", "--n", "1")
    assert result.exit_code == 1 and "a sequence of 10,001 steps" in result.stderr
