"""`wordstack ff`: train and sweep, their output formats, and the errors users can make."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from wordstack.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_train_xor_defaults_json():
    """The issue's setting: hidden 4, lr 1, 60,000 full-batch epochs, error every 10,000."""
    result = invoke("ff", "train", "--table", "xor", "--hidden", "4", "--lr", "1", "--epochs", "60000", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["table"] == "xor" and out["layers"] == [3, 4, 1] and out["epochs"] == 60_000
    assert [r["epoch"] for r in out["errors"]] == list(range(0, 60_001, 10_000))
    errors = [r["error"] for r in out["errors"]]
    assert errors == sorted(errors, reverse=True) and errors[-1] == out["final_error"] < 0.01
    assert [row["inputs"] for row in out["rows"]] == [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
    for row in out["rows"]:
        assert abs(row["output"][0] - row["target"][0]) < 0.02


def test_train_text_prints_the_error_every_n_epochs_and_the_outputs(tmp_path):
    ckpt = tmp_path / "copy.ckpt"
    result = invoke("ff", "train", "--table", "copy-first", "--hidden", "0", "--epochs", "3000", "--every", "1000",
                    "--dropout", "0", "--out", str(ckpt))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("MLP (3, 1) on the copy-first table: sgd, lr 1")
    assert re.findall(r"Error after +([\d,]+) epochs: 0\.\d{6}", result.stdout) == ["0", "1,000", "2,000", "3,000"]
    assert "Final outputs (dropout off):" in result.stdout
    rows = [line.split() for line in lines if re.match(r"\s+[01] [01] 1 ", line)]
    assert [(r[3], round(float(r[4]))) for r in rows] == [("0", 0), ("0", 0), ("1", 1), ("1", 1)]
    assert f"Saved {ckpt}" in result.stdout
    import models

    assert models.load(ckpt).layers == (3, 1)


def test_train_with_dropout_and_two_hidden_layers():
    result = invoke("ff", "train", "--hidden", "8,4", "--dropout", "0.2", "--epochs", "500", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["layers"] == [3, 8, 4, 1] and out["epochs"] == 500


def test_train_text_with_dropout_says_which_errors_are_thinned():
    result = invoke("ff", "train", "--dropout", "0.5", "--epochs", "200", "--every", "100")
    assert result.exit_code == 0, result.output
    assert "dropout 0.5; 200 epochs" in result.stdout and "thinned network" in result.stdout
    assert len(re.findall(r"Error after", result.stdout)) == 3


def test_train_diverging_lr_is_a_clean_error():
    result = invoke("ff", "train", "--lr", "1000")
    assert result.exit_code == 1
    assert re.search(r"Error: training diverged at epoch 1: .*Lower the learning rate \(--lr\)", result.output)
    assert "Traceback" not in result.output


def test_sweep_reports_divergence_and_writes_the_png(tmp_path):
    png = tmp_path / "sweep.png"
    result = invoke("ff", "sweep", "--table", "xor", "--lr", "0.001,1,1000", "--hidden", "4,8", "--epochs", "2000",
                    "--out", str(png), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["png"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"
    status = {(r["hidden"], r["learning_rate"]): r["status"] for r in out["runs"]}
    assert status == {(4, 0.001): "not learned", (4, 1.0): "learned", (4, 1000.0): "diverged",
                      (8, 0.001): "not learned", (8, 1.0): "learned", (8, 1000.0): "diverged"}
    assert all(len(r["direction_changes"]["per_weight"]["W1"]) == 3 for r in out["runs"])


def test_sweep_text_table():
    result = invoke("ff", "sweep", "--lr", "1,1000", "--epochs", "1500")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Sweep on xor: 1,500 epochs, sgd, sigmoid hidden units, squared loss")
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"\s+4\s", line)]
    assert [r[:3] for r in rows] == [["4", "1", "learned"], ["4", "1000", "diverged"]]
    assert rows[1][3:6] == ["at", "epoch", "1"]
    assert "Wrote" not in result.stdout                    # no --out, no picture


@pytest.mark.parametrize("args,message", [
    (["train", "--table", "and"], "Error: unknown table 'and'; choose one of xor, copy-first"),
    (["sweep", "--table", "nand", "--lr", "1"], "Error: unknown table 'nand'; choose one of xor, copy-first"),
    (["train", "--activation", "softplus"], "Error: unknown activation 'softplus'; choose one of sigmoid, tanh, relu"),
    (["sweep", "--activation", "softplus", "--lr", "1"], "Error: unknown activation 'softplus'"),
    (["train", "--loss", "hinge"], "Error: unknown loss 'hinge'; choose one of squared, cross_entropy"),
    (["train", "--optimizer", "adagrad"], "Error: unknown optimizer 'adagrad'"),
])
def test_unknown_names(args, message):
    result = invoke("ff", *args)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args,message", [
    (["train", "--hidden", "4,x"], "'x' is not an integer"),
    (["train", "--hidden", "-2"], "every value must be >= 0, got -2"),
    (["train", "--hidden", "0,4"], "0 (no hidden layer) cannot be combined"),
    (["sweep", "--hidden", "4,2.5"], "'2.5' is not an integer"),
    (["train", "--lr", "0"], "0.0 is not in the range x>0"),
    (["train", "--lr", "-1"], "is not in the range x>0"),
    (["sweep", "--lr", "1,0"], "every value must be > 0, got 0"),
    (["sweep", "--lr", "1,-5"], "every value must be > 0, got -5"),
    (["sweep", "--lr", "1,fast"], "'fast' is not a number"),
    (["train", "--dropout", "1"], "0<=x<1"),
    (["train", "--dropout", "-0.1"], "0<=x<1"),
    (["sweep", "--dropout", "1.5"], "0<=x<1"),
    (["train", "--epochs", "-5"], "x>=0"),
])
def test_bad_values_are_usage_errors(args, message):
    result = invoke("ff", *args)
    assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.parametrize("path", [["ff"], ["ff", "train"], ["ff", "sweep"]])
def test_help_has_examples(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    if len(path) > 1:
        assert "Example:" in result.output and f"wordstack ff {path[1]}" in result.output
    else:
        assert "train" in result.output and "sweep" in result.output


def test_group_is_registered():
    result = invoke("--help")
    assert re.search(r"^\s+ff\s+Feed-forward networks", result.output, re.M)


def test_case13_one_epoch_and_one_run_are_singular():
    result = invoke("ff", "train", "--epochs", "1", "--every", "1")
    assert result.exit_code == 0, result.output
    assert "; 1 epoch in " in result.stdout and "Error after       1 epoch : " in result.stdout
    result = invoke("ff", "sweep", "--lr", "1", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Sweep on xor: 1 epoch, ") and "; 1 run in " in result.stdout
