"""The bench grid (models.bench): scores, result files, resumption, damaged files, bad input.

Tiny budgets throughout (20-300 steps, test lengths 41-45, 2 sequences a length), in this
process (the worker processes and Dask: tests/cli/test_bench_cli.py).
"""
from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

import models
from models import Evaluation, LengthResult, TrainingInterrupted, UnknownNameError, sequence_metrics
from models.bench._cells import CellSpec, check_cell_result, run_cell
from models.bench._recipes import BENCH_MODELS, STEP_SECONDS, TASK_OVERRIDES, bench_recipe, budget_steps, check_models, check_tasks
from models.bench._workers import _dask_cell
from models.tasks import CHOMSKY_TASKS, make_task
from models.training._metrics import correct_positions

TINY = {"n_steps": 20, "test_lengths": (41, 45), "n_per_length": 2}


def _grid(out, **kw):
    return models.run_bench(out, **{"tasks": ["reverse_string", "parity_check"], "models": "lstm,stack", "seeds": 1,
                                    **TINY, **kw})


def _json(path):
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- scores


def test_score_is_the_mean_over_lengths_of_per_token_accuracy():
    # length 2: 2 sequences, targets at 2 steps each: 3 of 4 symbols right, one sequence whole
    c2 = np.array([[True, True], [True, False]])
    m2 = np.ones((2, 2))
    # length 4: 1 sequence, 4 target steps (and one input step), all right
    c4 = np.array([[False], [True], [True], [True], [True]])
    m4 = np.array([[0.0], [1], [1], [1], [1]])
    ev = Evaluation("t", [LengthResult(2, sequence_metrics(c2, m2)), LengthResult(4, sequence_metrics(c4, m4))])
    s = models.score_evaluation(ev)
    assert s["by_length"]["per_token"] == [0.75, 1.0]
    assert s["score"] == pytest.approx((0.75 + 1.0) / 2)                # each length weighs the same
    assert ev.overall.per_symbol == pytest.approx(7 / 8)                 # not the pooled accuracy
    assert s["by_length"]["whole_sequence"] == [0.5, 1.0] and s["whole_sequence"] == pytest.approx(0.75)
    assert s["by_length"]["lengths"] == [2, 4] and s["by_length"]["n"] == [2, 1]
    with pytest.raises(ValueError, match="without lengths"):
        models.score_evaluation(Evaluation("t", []))


def test_cell_scores_match_the_models_predictions(tmp_path):
    """The numbers in a result file, recomputed from the checkpoint's predictions on the
    seeded test sequences."""
    _grid(tmp_path / "r", tasks=["reverse_string"], models="stack", n_steps=60)
    result = _json(tmp_path / "r" / "reverse_string" / "stack" / "seed0.json")
    model = models.load(tmp_path / "r" / "reverse_string" / "stack" / "seed0.ckpt")
    model.set_params(inference_strengths=result["inference"]["strengths"])    # as the cell chose (see below)
    task = model.task_
    per_token, whole = [], []
    for length in range(41, 46):
        batch = task.sample(np.random.default_rng([12345, length]), 2, length)
        right = correct_positions(task.head, model.predict_proba(batch), batch.targets)
        target = batch.mask > 0
        per_token.append((right & target).sum() / target.sum())
        whole.append(np.mean([(right[:, j] | ~target[:, j]).all() for j in range(2)]))
    assert result["by_length"]["per_token"] == pytest.approx(per_token, abs=0)
    assert result["by_length"]["whole_sequence"] == pytest.approx(whole, abs=0)
    assert result["score"] == pytest.approx(np.mean(per_token), rel=1e-12)
    assert result["test"] == {"lengths": [41, 45], "n_per_length": 2, "seed": 12345,
                              "seconds": result["test"]["seconds"]}
    assert check_cell_result(result, "reverse_string", "stack", 0) is None


def test_result_file_records_the_cell(tmp_path):
    outcome = _grid(tmp_path / "r", tasks=["parity_check"], models="lstm")
    assert outcome.total == 1 and len(outcome.results) == 1 and not outcome.failures
    r = _json(tmp_path / "r" / "parity_check" / "lstm" / "seed0.json")
    assert r["format"] == "wordstack-bench-cell" and r["status"] == "done" and r["kind"] == "lstm"
    assert r["train"]["steps"] == 20 and r["train"]["sequences"] == 320 and r["train"]["seconds"] > 0
    assert r["train"]["resumed_from_step"] is None
    hyper = r["recipe"]["hyperparameters"]
    assert hyper["seed"] == 0 and hyper["lengths"] == [1, 40] and hyper["curriculum"] == "uniform"
    assert hyper["memory"] is None and hyper["hidden_size"] == 64 and hyper["learning_rate"] == 3e-3
    assert "beta2" in hyper                                    # every hyperparameter, defaults too
    assert r["in_distribution"]["lengths"] == [1, 40] and 0 <= r["in_distribution"]["score"] <= 1
    assert r["versions"]["numpy"] == np.__version__ and r["checkpoint"] == "seed0.ckpt"
    assert len(r["by_length"]["lengths"]) == 5
    marker = _json(tmp_path / "r" / "bench.json")
    assert marker["protocol"] == {"train_lengths": [1, 40], "test_lengths": [41, 45], "n_per_length": 2,
                                  "test_seed": 12345, "n_steps": 20}
    assert marker["planned"] == {"tasks": ["parity_check"], "models": {"lstm": 1}}


# ----------------------------------------------------------------------------- resumption


def test_an_interrupted_grid_resumes_where_it_stopped(tmp_path):
    """SIGINT in the middle of the second cell: the first stays finished (not rerun), the
    second resumes from its checkpoint and ends as an uninterrupted run does."""
    out = tmp_path / "r"
    kw = {"tasks": ["parity_check", "reverse_string"], "models": "lstm", "n_steps": 300}
    sent = []

    def interrupt(p):
        cell = p.running.get("reverse_string/lstm/seed0")
        if cell is not None and cell.phase == "train" and cell.done >= 100 and not sent:
            sent.append(cell.done)
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        _grid(out, callback=interrupt, **kw)
    first = out / "parity_check" / "lstm" / "seed0.json"
    second = out / "reverse_string" / "lstm" / "seed0"
    assert first.is_file() and not second.with_suffix(".json").exists()
    stopped = models.load(second.with_suffix(".ckpt")).train_state_
    stopped_at, stopped_seconds = stopped.step, stopped.seconds
    assert 100 <= stopped_at < 300
    before = (first.stat().st_mtime_ns, first.read_bytes())

    outcome = _grid(out, **kw)
    assert outcome.skipped == 1 and [r["task"] for r in outcome.results] == ["reverse_string"]
    assert (first.stat().st_mtime_ns, first.read_bytes()) == before
    resumed = _json(second.with_suffix(".json"))
    assert resumed["train"]["resumed_from_step"] == stopped_at and resumed["train"]["steps"] == 300

    straight = _grid(tmp_path / "straight", **kw)
    assert straight.skipped == 0
    reference = _json(tmp_path / "straight" / "reverse_string" / "lstm" / "seed0.json")
    assert resumed["by_length"] == reference["by_length"] and resumed["score"] == reference["score"]
    assert resumed["train"]["seconds"] > stopped_seconds > 0          # both sessions' training time
    assert _grid(out, **kw).results == []                         # a third run: nothing to do


def test_a_damaged_result_is_kept_aside_and_its_cell_tested_again(tmp_path):
    out = tmp_path / "r"
    _grid(out, tasks=["parity_check"], models="lstm")
    path = out / "parity_check" / "lstm" / "seed0.json"
    good = _json(path)
    path.write_text('{"format": "wordstack-bench-cell", "score": ', encoding="utf-8")    # truncated
    messages = []
    outcome = _grid(out, tasks=["parity_check"], models="lstm", callback=lambda p: p.message and messages.append(p.message))
    aside = path.with_name("seed0.json.damaged")
    assert aside.read_text() == '{"format": "wordstack-bench-cell", "score": '         # kept, not deleted
    assert outcome.set_aside == [str(aside)] and any("set aside" in m for m in messages)
    again = _json(path)
    assert again["train"]["resumed_from_step"] == 20 and again["train"]["steps"] == 20     # tested only
    assert again["by_length"] == good["by_length"]


def test_a_checkpoint_of_another_recipe_is_set_aside(tmp_path):
    out = tmp_path / "r"
    _grid(out, tasks=["parity_check"], models="lstm", n_steps=1)
    ckpt = out / "parity_check" / "lstm" / "seed0.ckpt"
    (out / "parity_check" / "lstm" / "seed0.json").unlink()
    hyper, _ = bench_recipe("parity_check", "lstm", n_steps=20)
    models.MemoryRNN(seed=0, **{**hyper, "learning_rate": 0.01}).fit(make_task("parity_check")).save(ckpt)
    _grid(out, tasks=["parity_check"], models="lstm", n_steps=1)
    assert (out / "parity_check" / "lstm" / "seed0.ckpt.damaged").is_file()
    r = _json(out / "parity_check" / "lstm" / "seed0.json")
    assert r["train"]["resumed_from_step"] is None and r["recipe"]["hyperparameters"]["learning_rate"] == 3e-3


def test_a_dask_worker_that_cannot_see_the_folder_sends_the_checkpoint_back(tmp_path):
    hyper, options = bench_recipe("parity_check", "lstm", n_steps=20)
    spec = CellSpec("parity_check", "lstm", 0, hyper, options, (41, 42), 2, 12345)
    payload, data = _dask_cell(spec, str(tmp_path / "there" / "seed0.ckpt"), str(tmp_path / "bench.json"), "id", None)
    assert not (tmp_path / "there").exists() and data[:2] == b"PK"
    local = run_cell(spec, tmp_path / "here.ckpt")
    assert payload["by_length"] == local["by_length"] and (tmp_path / "here.ckpt").read_bytes()[:2] == b"PK"


# ----------------------------------------------------------------------------- recipes and bad input


def test_recipes_cover_every_task_and_model_within_the_budget():
    assert list(CHOMSKY_TASKS) == check_tasks(CHOMSKY_TASKS)
    for task in CHOMSKY_TASKS:
        for model, (controller, memory) in BENCH_MODELS.items():
            hyper, options = bench_recipe(task, model)
            assert hyper["controller"] == controller and hyper["memory"] == memory
            override = {**TASK_OVERRIDES.get((task, "*"), {}), **TASK_OVERRIDES.get((task, model), {})}
            assert hyper["lengths"] == (1, 40)
            assert hyper["curriculum"] == override.get("curriculum", "uniform")
            assert hyper["restart_after"] == override.get("restart_after")
            # the stop-gradient only where a memory holds the input and the answer is a sequence
            assert hyper["stop_gradient"] == override.get(
                "stop_gradient", memory is not None and make_task(task).output_length(40) > 1)
            assert hyper["n_steps"] % 100 == 0 and hyper["n_steps"] >= 100
            a, b = STEP_SECONDS[model]
            t = make_task(task, **options)
            valid = t.valid_lengths(1, 40)
            mean_t = sum(t.sequence_length(int(L)) for L in valid) / len(valid)
            assert 0.8 * 300 <= hyper["n_steps"] * (a + b * mean_t) <= 0.85 * 300     # the planned seconds
    short, long = make_task("parity_check"), make_task("duplicate_string")
    assert budget_steps(short, "lstm") > budget_steps(long, "lstm") > budget_steps(long, "deque")
    assert bench_recipe("reverse_string", "deque", n_steps=7)[0]["n_steps"] == 7


def test_unknown_names_suggest_the_close_ones():
    with pytest.raises(UnknownNameError, match="'revers_string'.*did you mean 'reverse_string'"):
        check_tasks(["revers_string"])
    with pytest.raises(UnknownNameError, match="'stak'.*did you mean 'stack'"):
        check_models(["stak"])
    assert check_tasks(["Even-Pairs", "reverse_string", "even_pairs"]) == ["even_pairs", "reverse_string"]
    for name in ("add", "binary-addition"):                 # Trask's task, as everywhere in wordstack
        with pytest.raises(ValueError, match="the paper's task is binary_addition"):
            check_tasks([name])
    with pytest.raises(ValueError, match="seed count is an integer"):
        models.run_bench("unused", models="rnn:x")


def test_bad_grids_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="drop --jobs, or drop --dask"):
        models.run_bench(tmp_path / "a", jobs=2, scheduler="local")
    with pytest.raises(UnknownNameError):
        models.run_bench(tmp_path / "a", tasks="parity_check,nope")
    assert not (tmp_path / "a").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="not a wordstack bench results folder.*notes.txt"):
        _grid(mine)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="is a file"):
        _grid(tmp_path / "file")
    _grid(tmp_path / "r", tasks=["parity_check"], models="lstm")
    with pytest.raises(ValueError, match="another protocol.*--n-per-length 2 there, 3 asked"):
        _grid(tmp_path / "r", tasks=["parity_check"], models="lstm", n_per_length=3)


# ----------------------------------------------------------------------------- memory strengths


def test_reversal_cells_choose_their_strengths_on_the_training_lengths(tmp_path, monkeypatch):
    """A validated cell scores soft and hard strengths on lengths 1-40 and tests with the
    better (hard on a tie); the record matches evaluations made here."""
    from models.bench import _recipes
    from models.bench._recipes import test_strengths

    monkeypatch.setattr(_recipes, "REDRAWS", {})          # one run a cell (the redraws: their own tests)

    assert test_strengths("reverse_string", "stack") == "validated"
    assert test_strengths("reverse_string", "lstm") == "soft" and test_strengths("parity_check", "rnn") == "soft"
    assert test_strengths("parity_check", "deque") == "validated"
    _grid(tmp_path / "r", tasks=["reverse_string"], models="lstm,stack", n_steps=60)
    r = _json(tmp_path / "r" / "reverse_string" / "stack" / "seed0.json")
    inference = r["inference"]
    assert inference["rule"] == "validated" and set(inference["in_distribution"]) == {"soft", "hard"}
    model = models.load(tmp_path / "r" / "reverse_string" / "stack" / "seed0.ckpt")
    found = {}
    for mode in ("soft", "hard"):
        model.set_params(inference_strengths=mode)
        found[mode] = models.score_evaluation(model.evaluate((1, 40), n_per_length=2, seed=12345))["score"]
    assert inference["in_distribution"] == found
    assert inference["strengths"] == ("hard" if found["hard"] >= found["soft"] else "soft")
    model.set_params(inference_strengths=inference["strengths"])
    test = models.score_evaluation(model.evaluate((41, 45), n_per_length=2, seed=12345))
    assert r["score"] == test["score"] and r["by_length"]["per_token"] == test["by_length"]["per_token"]
    assert "inference" not in _json(tmp_path / "r" / "reverse_string" / "lstm" / "seed0.json")
    from models.bench._report import collect_results, render_markdown

    page = render_markdown(collect_results(tmp_path / "r"))
    row = f"| reverse_string/stack/seed0 | {found['soft'] * 100:.1f} | {found['hard'] * 100:.1f} | {inference['strengths']} |"
    assert "## Memory strengths at test" in page and row in page and "reverse_string/lstm/seed0 |" not in page


def test_a_cell_tested_under_the_old_rule_is_tested_again_not_retrained(tmp_path, monkeypatch):
    from models.bench import _recipes

    monkeypatch.setattr(_recipes, "REDRAWS", {})          # one run a cell (the redraws: their own tests)
    out = tmp_path / "r"
    _grid(out, tasks=["reverse_string"], models="stack", n_steps=40)
    path = out / "reverse_string" / "stack" / "seed0.json"
    new = _json(path)
    old = {k: v for k, v in new.items() if k != "inference"}           # as the grid wrote it before the rule
    path.write_text(json.dumps(old), encoding="utf-8")
    messages = []
    outcome = _grid(out, tasks=["reverse_string"], models="stack", n_steps=40,
                    callback=lambda p: p.message and messages.append(p.message))
    assert len(outcome.results) == 1 and any("testing its checkpoint again" in m for m in messages)
    again = _json(path)
    assert again["inference"] == new["inference"] and again["by_length"] == new["by_length"]
    assert again["train"]["resumed_from_step"] == 40 and again["train"]["steps"] == 40      # tested only
    assert _grid(out, tasks=["reverse_string"], models="stack", n_steps=40).results == []   # now up to date


# ----------------------------------------------------------------------------- redraws


def _redraw_spec(redraws=1, n_steps=30, budget_seconds=float("inf")):
    hyper, task_options = bench_recipe("reverse_string", "stack", n_steps=n_steps)
    return CellSpec("reverse_string", "stack", 0, hyper, task_options, (41, 43), 2, 12345, 30.0, "validated",
                    redraws, budget_seconds)


def _fake_strengths(monkeypatch, by_seed):
    """choose_strengths returning, per training seed, (soft, hard) on the training lengths."""
    from models.bench import _cells

    def fake(model, train_lengths, n_per_length, seed):
        soft, hard = by_seed[model.seed]
        chosen = "hard" if hard >= soft else "soft"
        model.set_params(inference_strengths=chosen)
        return {"rule": "validated", "strengths": chosen, "in_distribution": {"soft": soft, "hard": hard}}

    monkeypatch.setattr(_cells, "choose_strengths", fake)


def test_a_run_failing_the_hard_check_is_redrawn_and_the_passing_draw_tested(tmp_path, monkeypatch):
    from models.bench._cells import DRAW_SEED_STEP, draw_checkpoint, draw_seed

    assert draw_seed(2, 0) == 2 and draw_seed(2, 1) == 2 + DRAW_SEED_STEP
    assert draw_checkpoint(tmp_path / "seed2.ckpt", 1).name == "seed2.draw1.ckpt"
    _fake_strengths(monkeypatch, {0: (1.0, 0.75), DRAW_SEED_STEP: (1.0, 1.0)})
    ckpt = tmp_path / "seed0.ckpt"
    r = run_cell(_redraw_spec(), ckpt)
    assert [d["accepted"] for d in r["draws"]] == [False, True] and [d["tested"] for d in r["draws"]] == [False, True]
    assert [d["seed"] for d in r["draws"]] == [0, DRAW_SEED_STEP] and r["draw"] == 1
    assert r["checkpoint"] == "seed0.draw1.ckpt" and ckpt.is_file() and (tmp_path / "seed0.draw1.ckpt").is_file()
    assert r["recipe"]["hyperparameters"]["seed"] == DRAW_SEED_STEP
    assert r["train"]["steps"] == 60 and r["train"]["sequences"] == 60 * 16          # both runs' cost
    assert r["train"]["seconds"] == pytest.approx(sum(d["seconds"] for d in r["draws"]), abs=2e-3)
    assert r["inference"]["strengths"] == "hard" and check_cell_result(r) is None
    tested = models.load(tmp_path / "seed0.draw1.ckpt")
    tested.set_params(inference_strengths="hard")
    test = models.score_evaluation(tested.evaluate((41, 43), n_per_length=2, seed=12345))
    assert r["by_length"]["per_token"] == test["by_length"]["per_token"]
    from models.bench._cells import write_cell
    from models.bench._report import collect_results, render_markdown

    from models.bench._folder import Protocol, open_results, record_plan

    marker = open_results(tmp_path / "grid", Protocol((1, 40), (41, 43), 2, 12345, 30))
    record_plan(tmp_path / "grid", marker, ["reverse_string"], {"stack": 1})
    write_cell(tmp_path / "grid", r)
    page = render_markdown(collect_results(tmp_path / "grid"))
    assert "## Fresh runs" in page
    assert (f"| reverse_string/stack/seed0 | seed 0: 100.0 / 75.0; seed {DRAW_SEED_STEP}: 100.0 / 100.0 | "
            f"seed {DRAW_SEED_STEP} |") in page
    again = run_cell(_redraw_spec(), ckpt)                 # both runs are on disk: tested, not retrained
    assert again["train"]["resumed_from_step"] == 30 and again["by_length"] == r["by_length"]
    assert [d["steps"] for d in again["draws"]] == [30, 30]


def test_a_passing_first_run_is_not_redrawn_and_without_a_pass_the_best_is_tested(tmp_path, monkeypatch):
    from models.bench._cells import DRAW_SEED_STEP

    _fake_strengths(monkeypatch, {0: (1.0, 1.0)})
    r = run_cell(_redraw_spec(), tmp_path / "a" / "seed0.ckpt")
    assert len(r["draws"]) == 1 and r["draws"][0]["accepted"] and r["checkpoint"] == "seed0.ckpt"
    assert not (tmp_path / "a" / "seed0.draw1.ckpt").exists() and r["train"]["steps"] == 30
    _fake_strengths(monkeypatch, {0: (0.9, 0.5), DRAW_SEED_STEP: (0.8, 0.7)})
    r = run_cell(_redraw_spec(), tmp_path / "b" / "seed0.ckpt")
    assert [d["accepted"] for d in r["draws"]] == [False, False] and r["draw"] == 0
    assert r["checkpoint"] == "seed0.ckpt" and r["inference"]["in_distribution"] == {"soft": 0.9, "hard": 0.5}
    plain = run_cell(_redraw_spec(redraws=0), tmp_path / "c" / "seed0.ckpt")      # the default: one run, as before
    assert "draws" not in plain and "draw" not in plain and plain["train"]["steps"] == 30


def test_fresh_runs_stop_at_the_cell_budget(tmp_path, monkeypatch):
    from models.bench._cells import DRAW_SEED_STEP, room_for_draw

    assert room_for_draw([], 0.0) and room_for_draw([100.0, 50.0], 225.0) and not room_for_draw([100.0, 50.0], 224.9)
    _fake_strengths(monkeypatch, {0: (1.0, 0.5), DRAW_SEED_STEP: (1.0, 0.6), 2 * DRAW_SEED_STEP: (1.0, 1.0)})
    r = run_cell(_redraw_spec(redraws=2, budget_seconds=0.0), tmp_path / "a" / "seed0.ckpt")
    assert len(r["draws"]) == 1 and r["draw"] == 0 and not (tmp_path / "a" / "seed0.draw1.ckpt").exists()
    r = run_cell(_redraw_spec(redraws=2), tmp_path / "b" / "seed0.ckpt")        # no limit: the third run passes
    assert [d["accepted"] for d in r["draws"]] == [False, False, True] and r["draw"] == 2
    assert r["train"]["steps"] == 90 and r["checkpoint"] == "seed0.draw2.ckpt"


def test_a_result_from_before_the_redraw_rule_runs_again(tmp_path, monkeypatch):
    from models.bench import _recipes
    from models.bench._cells import wants_redraw

    soft, hard = {"rule": "validated", "strengths": "soft"}, {"rule": "validated", "strengths": "hard"}
    assert wants_redraw({"status": "done", "inference": soft}, 1)
    assert not wants_redraw({"status": "done", "inference": hard}, 1)
    assert not wants_redraw({"status": "done", "inference": soft}, 0)
    assert not wants_redraw({"status": "done", "inference": soft, "draws": [{"accepted": False}] * 2}, 1)
    assert wants_redraw({"status": "done", "inference": soft, "draws": [{"accepted": False}]}, 2)
    assert not wants_redraw({"status": "diverged"}, 1)
    one = {"status": "done", "inference": soft, "draws": [{"accepted": False, "seconds": 120.0}]}
    assert wants_redraw(one, 2, budget_seconds=240.0) and not wants_redraw(one, 2, budget_seconds=239.0)
    monkeypatch.setattr(_recipes, "REDRAWS", {})
    out = tmp_path / "r"
    _grid(out, tasks=["reverse_string"], models="stack", n_steps=20)
    path = out / "reverse_string" / "stack" / "seed0.json"
    old = _json(path)
    old["inference"]["strengths"] = "soft"                      # a run that failed the check
    path.write_text(json.dumps(old), encoding="utf-8")
    monkeypatch.setattr(_recipes, "REDRAWS", {("reverse_string", "stack"): 1})
    first = out / "reverse_string" / "stack" / "seed0.ckpt"
    first_bytes = (first.stat().st_mtime_ns, first.read_bytes())
    messages = []
    outcome = _grid(out, tasks=["reverse_string"], models="stack", n_steps=20,
                    callback=lambda p: p.message and messages.append(p.message))
    assert len(outcome.results) == 1 and any("draws a fresh run" in m for m in messages)
    again = _json(path)
    assert "draws" in again and again["draws"][0]["steps"] == 20
    assert (first.stat().st_mtime_ns, first.read_bytes()) == first_bytes      # the first run not retrained
    assert again["train"]["resumed_from_step"] in (None, 20)
    assert _grid(out, tasks=["reverse_string"], models="stack", n_steps=20).results == []   # now up to date
