"""Loopback load test of `wordstack serve`: `similar` requests per second and their latency.

Target (issue 14): at least 1,000 `similar` requests/s with two client connections on a
2-core machine, on the Shakespeare model (256 dims), with p50 and p99 latency. It
starts a real `wordstack serve MODEL_DIR --port 0 --workers W` (uvicorn, loopback; W=2
by default: one worker process per core), waits for the URL it prints, and sends a
fixed number of `GET /api/similar?q=WORD&n=10` requests over CONNECTIONS keep-alive
HTTP/1.1 connections (one client process each, the requests split evenly), the words drawn
(seeded) from the model's vocabulary; a warm-up of a few hundred requests is not
counted. It stops by itself: after the requests are sent, or after --max-seconds. Then
the server is stopped with SIGTERM. One JSON line: requests/s, latency percentiles in
milliseconds, errors (any answer but 200), the model's size, the CPU time per request of
the server and of this client (which the machine's other load does not inflate much, so
they tell what a quiet machine would reach), the load average. Only 127.0.0.1 is used.

    python benchmarks/bench_serve.py [MODEL_DIR] [--requests 20000] [--connections 2] [--workers 2] [--n 10]

MODEL_DIR defaults to the 256-dim Shakespeare model in $WORDSTACK_HOME (`wordstack demo`
builds it). Any model folder works, e.g. a million-word imported model with its index.
"""
import argparse
import http.client
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import emit, python_info  # noqa: E402


def start_server(model_dir: str, timeout: float, workers: int) -> tuple[subprocess.Popen, str]:
    """`wordstack serve MODEL_DIR --port 0 --workers N` in a subprocess, and the URL it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "wordstack", "serve", model_dir, "--port", "0",
                             "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("Serving"):
            url = line.split(" at ", 1)[1].split()[0]
            return proc, url
    proc.kill()
    raise SystemExit(f"the server did not start: {line.strip()} {proc.stderr.read().strip()}")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The server's worker processes (with --workers; Linux /proc), none otherwise."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def server_cpu(pid: int) -> float | None:
    """CPU seconds of the server: its process and, with --workers, its worker processes."""
    times = [cpu_seconds(p) for p in [pid, *worker_pids(pid)]]
    return None if times[0] is None else sum(t for t in times if t is not None)


def vocabulary(model_dir: str, limit: int) -> list[str]:
    words = []
    with open(Path(model_dir) / "vocab.txt", encoding="utf-8") as fh:
        for line in fh:
            words.append(line.split("\t", 1)[0])
            if len(words) >= limit:
                break
    return words


def _client(host: str, port: int, paths: list[str], deadline: float, out) -> None:
    """One client connection (a process of its own): send ``paths`` in order; latencies (s) and
    error statuses to ``out``, with this process's CPU time."""
    latencies = []
    errors = []
    conn = http.client.HTTPConnection(host, port, timeout=30)
    cpu0 = time.process_time()
    for path in paths:
        if time.time() >= deadline:
            break
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        latencies.append(time.perf_counter() - t0)
        if resp.status != 200:
            errors.append(resp.status)
    conn.close()
    out.send((latencies, errors, time.process_time() - cpu0))
    out.close()


def load(host: str, port: int, paths: list[str], connections: int, max_seconds: float):
    """Send every path once over ``connections`` keep-alive connections, each from a process of its
    own (client threads would share one GIL, and the client, not the server, would be measured);
    latencies (s), errors, wall seconds and the clients' CPU seconds."""
    ctx = multiprocessing.get_context("fork")
    deadline = time.time() + max_seconds
    pipes, procs = [], []
    for c in range(connections):
        recv, send = ctx.Pipe(duplex=False)
        procs.append(ctx.Process(target=_client, args=(host, port, paths[c::connections], deadline, send)))
        pipes.append(recv)
    t0 = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [pipe.recv() for pipe in pipes]
    seconds = time.perf_counter() - t0
    for proc in procs:
        proc.join()
    latencies = np.array([x for r in results for x in r[0]])
    errors = [e for r in results for e in r[1]]
    return latencies, errors, seconds, sum(r[2] for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", nargs="?", default=None)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--n", type=int, default=10, help="Neighbours per request.")
    ap.add_argument("--workers", type=int, default=2, help="The server's worker processes (--workers).")
    ap.add_argument("--words", type=int, default=100_000, help="Draw query words from the this many most frequent.")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="Stop sending after this long.")
    ap.add_argument("--start-timeout", type=float, default=600.0, help="Seconds to wait for the server to load.")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import corpus_tools as ct

    model_dir = args.model_dir or str(ct.default_model_dir())
    if not (Path(model_dir) / "meta.json").is_file():
        raise SystemExit(f"{model_dir} is not a model folder; run `wordstack demo` first, or give a MODEL_DIR")
    words = vocabulary(model_dir, args.words)
    rng = np.random.default_rng(args.seed)
    picks = rng.integers(0, len(words), args.warmup + args.requests)
    paths = [f"/api/similar?q={urllib.parse.quote(words[i])}&n={args.n}" for i in picks]

    t_start = time.perf_counter()
    proc, url = start_server(model_dir, args.start_timeout, args.workers)
    start_seconds = time.perf_counter() - t_start
    parsed = urllib.parse.urlsplit(url)
    try:
        load(parsed.hostname, parsed.port, paths[: args.warmup], args.connections, args.max_seconds)
        server_cpu0 = server_cpu(proc.pid)
        workers = worker_pids(proc.pid)
        worker_cpu0 = [cpu_seconds(w) for w in workers]
        latencies, errors, seconds, client_cpu = load(parsed.hostname, parsed.port, paths[args.warmup:],
                                                      args.connections, args.max_seconds)
        server_cpu1 = server_cpu(proc.pid)
        # how the connections spread over the workers: each worker's share of the CPU spent
        spent = [(cpu_seconds(w) or 0.0) - (c or 0.0) for w, c in zip(workers, worker_cpu0)]
        worker_shares = [round(x / sum(spent), 3) for x in spent] if spent and sum(spent) > 0 else None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = None
    ms = latencies * 1000
    rps = len(latencies) / seconds if seconds else 0.0
    cpu_per_request = (server_cpu1 - server_cpu0) / len(latencies) if server_cpu0 is not None and len(latencies) else None
    emit({
        "benchmark": "serve_similar",
        "model": model_dir,
        "vocab_size": sum(1 for _ in open(Path(model_dir) / "vocab.txt", encoding="utf-8")),
        "endpoint": f"/api/similar?q=WORD&n={args.n}",
        "connections": args.connections,
        "workers": args.workers,
        "requests": int(len(latencies)),
        "errors": len(errors),
        "seconds": round(seconds, 3),
        "requests_per_second": round(rps, 1),
        "target_requests_per_second": 1000,
        "meets_target": bool(rps >= 1000 and not errors),
        "p50_ms": round(float(np.percentile(ms, 50)), 3) if len(ms) else None,
        "p90_ms": round(float(np.percentile(ms, 90)), 3) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 3) if len(ms) else None,
        "max_ms": round(float(ms.max()), 3) if len(ms) else None,
        # CPU per request: what the server and this client cost, whatever else the machine runs
        "server_cpu_ms_per_request": round(cpu_per_request * 1000, 3) if cpu_per_request else None,
        "client_cpu_ms_per_request": round(client_cpu / max(len(latencies), 1) * 1000, 3),
        "worker_cpu_shares": worker_shares,
        "server_start_seconds": round(start_seconds, 3),
        "server_exit_status": status,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        **python_info(),
    })


if __name__ == "__main__":
    main()
