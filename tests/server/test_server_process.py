"""`wordstack serve` as a real uvicorn process on a free loopback port: HTTP/1.1 keep-alive, the
default models, a port in use, and how it stops (SIGTERM: 143, Ctrl-C: 130)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

from server_helpers import ROOT, TINY_WORDS, running_server, server_env, write_tiny

import wordstack._word_models as word_models


def connect(url: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname == "127.0.0.1"          # loopback by default
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def test_a_real_server_answers_over_one_keep_alive_connection_and_stops_on_sigterm(tiny, tiny_b):
    with running_server([tiny, tiny_b]) as server:
        assert server.lines[0].startswith("Serving 2 models at http://127.0.0.1:")
        assert server.lines[1].startswith(f"  tiny: {'tiny (6d, 1 epoch)'}, 16 words")
        conn = connect(server.url)
        answers = []
        for word in ("king", "fig", "kingz"):
            conn.request("GET", f"/api/similar?q={word}&n=3")
            resp = conn.getresponse()
            assert resp.version == 11 and resp.getheader("connection") != "close"
            answers.append((resp.status, json.loads(resp.read())))
        conn.request("GET", "/api/models")
        resp = conn.getresponse()
        assert [m["id"] for m in json.loads(resp.read())["models"]] == ["tiny", "tiny-b"]
        conn.close()
        assert [s for s, _ in answers] == [200, 200, 404]
        assert {n["word"] for n in answers[1][1]["results"][0]["neighbors"]} == {"apple", "pear", "plum"}
        assert answers[2][1]["error"]["suggestions"][0] == "king"
        # a foreign Host header (DNS rebinding) is refused by a loopback server
        conn = connect(server.url)
        conn.request("GET", "/api/models", headers={"Host": "rebound.example"})
        assert conn.getresponse().status == 421
        conn.close()
        status, err = server.stop(signal.SIGTERM)
    assert status == 143 and err.strip().endswith("Stopped.") and "Traceback" not in err


def test_ctrl_c_stops_the_server_with_130(tiny):
    with running_server([tiny]) as server:
        status, err = server.stop(signal.SIGINT)
    assert status == 130 and "Traceback" not in err


def test_a_port_in_use_is_refused_with_a_clear_message(tiny):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "wordstack", "serve", str(tiny), "--port", str(port)],
                              capture_output=True, text=True, timeout=60, env=server_env(), cwd=ROOT)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"Error: port {port} on 127.0.0.1 is in use (another wordstack serve, or "
                                   "another server); choose another with --port, or --port 0 for a free one")


def test_a_missing_model_folder_is_an_error_before_serving(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wordstack", "serve", str(tmp_path / "nope"), "--port", "0"],
                          capture_output=True, text=True, timeout=60, env=server_env(), cwd=ROOT)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and "nope" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_model_dirs_it_serves_the_default_models(tmp_path, monkeypatch):
    home = tmp_path / "home"
    # stand-ins for the two models `wordstack demo` builds (the real ones are trained elsewhere in the tests)
    write_tiny(home / "models" / "shakespeare-64d", TINY_WORDS, seed=1, dim=4)
    write_tiny(home / "models" / "shakespeare-256d", TINY_WORDS, seed=2, dim=8)
    monkeypatch.setenv("WORDSTACK_HOME", str(home))
    assert word_models.default_models() == [str(home / "models" / "shakespeare-64d"),
                                            str(home / "models" / "shakespeare-256d")]
    with running_server([], env=server_env(WORDSTACK_HOME=str(home))) as server:
        conn = connect(server.url)
        conn.request("GET", "/api/models")
        ids = [m["id"] for m in json.loads(conn.getresponse().read())["models"]]
        conn.close()
    assert ids == ["shakespeare-64d", "shakespeare-256d"]


def worker_pids(pid: int) -> set[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return {int(p) for p in fh.read().split()}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def similar_over_new_connection(url: str, word: str) -> tuple[int, dict]:
    conn = connect(url)
    conn.request("GET", f"/api/similar?q={word}&n=3")
    resp = conn.getresponse()
    answer = resp.status, json.loads(resp.read())
    conn.close()
    return answer


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads worker processes from /proc")
def test_workers_share_the_port_a_dead_worker_is_replaced_and_sigterm_stops_them_all(tiny):
    with running_server([tiny, "--workers", "2"]) as server:
        assert server.lines[0].startswith("Serving 1 model at http://127.0.0.1:")
        assert " by 2 worker processes " in server.lines[0]
        workers = wait_for(lambda: (lambda w: w if len(w) == 2 else None)(worker_pids(server.proc.pid)))
        answers = [similar_over_new_connection(server.url, w) for w in ("fig", "king", "fig", "kingz")]
        assert [s for s, _ in answers] == [200, 200, 200, 404]
        assert {n["word"] for n in answers[0][1]["results"][0]["neighbors"]} == {"apple", "pear", "plum"}
        assert answers[0] == answers[2]
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for(lambda: (lambda w: w if len(w) == 2 and victim not in w else None)(
            worker_pids(server.proc.pid)))
        assert len(replaced & workers) == 1
        assert similar_over_new_connection(server.url, "fig") == answers[0]
        status, err = server.stop(signal.SIGTERM)
    assert status == 143 and "Traceback" not in err
    assert f"worker {victim} ended (killed by SIGKILL); starting another" in err
    assert err.strip().endswith("Stopped.")
    assert not any(alive(pid) for pid in replaced)


def test_ctrl_c_stops_every_worker_with_130(tiny):
    with running_server([tiny, "--workers", "2"]) as server:
        assert similar_over_new_connection(server.url, "fig")[0] == 200
        status, err = server.stop(signal.SIGINT)
    assert status == 130 and "Traceback" not in err and err.strip().endswith("Stopped.")


def test_a_worker_count_out_of_range_is_refused(tiny):
    proc = subprocess.run([sys.executable, "-m", "wordstack", "serve", str(tiny), "--port", "0", "--workers", "0"],
                          capture_output=True, text=True, timeout=60, env=server_env(), cwd=ROOT)
    assert proc.returncode == 2 and "Invalid value for '--workers'" in proc.stderr and "1<=x<=64" in proc.stderr
    from wordstack.server import ServeError, serve

    with pytest.raises(ServeError, match="workers must be an integer from 1 to 64, got 0"):
        serve([str(tiny)], port=0, workers=0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="workers need fork")
def test_workers_that_die_at_once_stop_the_server_instead_of_restarting_forever(monkeypatch):
    import wordstack.server._run as run_module

    monkeypatch.setattr(run_module, "_worker_main", lambda *args: 3)   # every worker ends at once with status 3
    messages = []
    with socket.socket() as sock:
        status = run_module.run_workers(object(), sock, 2, log=messages.append)
    assert status == 1
    assert messages[-1] == (f"wordstack serve: {run_module.CRASH_LIMIT} workers in a row ended within "
                            f"{run_module.CRASH_SECONDS:g} s of their start (the last: exit status 3); stopping "
                            "the server")
    assert all("ended (exit status 3); starting another" in m for m in messages[:-1])
