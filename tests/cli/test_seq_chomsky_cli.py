"""`wordstack seq` on the tasks of Delétang et al. 2023: train (plain and with a memory),
eval, run in the task's notation, the task list in the help, and the errors."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wordstack.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("extra", [[], ["--memory", "stack"], ["--model", "rnn"]])
def test_train_eval_run_even_pairs(tmp_path, extra):
    path = tmp_path / "ep.ckpt"
    result = invoke("seq", "train", "even_pairs", "--out", str(path), "--steps", "6", "--lengths", "1:40",
                    "--json", *extra)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["task"] == "even_pairs" and summary["steps"] == 6
    ev = invoke("seq", "eval", str(path), "--lengths", "41:44", "--n", "8", "--json")
    assert ev.exit_code == 0, ev.output
    assert [r["length"] for r in json.loads(ev.stdout)["by_length"]] == [41, 42, 43, 44]
    run = invoke("seq", "run", str(path), "0101001")
    assert run.exit_code == 0 and run.stdout.strip() in ("0 (even)", "1 (odd)")


def test_run_in_the_task_s_notation_and_its_errors(tmp_path):
    path = tmp_path / "mab.ckpt"
    assert invoke("seq", "train", "modular-arithmetic-brackets", "--out", str(path), "--steps", "3").exit_code == 0
    run = invoke("seq", "run", str(path), "--", "(-2)")
    assert run.exit_code == 0 and run.stdout.strip() in list("01234")
    bad = CliRunner().invoke(cli, ["seq", "run", str(path), "(1+2"])
    assert bad.exit_code == 1 and "Error: not an expression: ')' expected at the end of '(1+2'" in bad.output
    bad = CliRunner().invoke(cli, ["seq", "run", str(path), "1*2"])
    assert bad.exit_code == 1 and "symbols '*' are not in its alphabet (01234+-())" in bad.output


def test_options_a_task_does_not_take_are_errors(tmp_path):
    result = CliRunner().invoke(cli, ["seq", "train", "parity_check", "--vocab", "3", "--out", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "parity_check takes no option 'vocab_size': it has a fixed alphabet and no options; drop it (--vocab)" \
        in result.output
    ok = invoke("seq", "train", "bucket_sort", "--vocab", "3", "--steps", "2", "--out", str(tmp_path / "b"), "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["task"] == "bucket_sort"


def test_train_help_lists_every_task():
    from models.tasks import CHOMSKY_TASKS

    text = invoke("seq", "train", "--help").stdout
    flat = " ".join(text.split())
    for name in ["add", "copy", "reverse", "bigram-flip", *CHOMSKY_TASKS]:
        assert name in flat
    assert "deterministic context-free: stack_manipulation, reverse_string," in flat
    assert flat.index("Tasks:") < flat.index("Example:")
