"""Ingest on a Dask LocalCluster vs local processes vs one process, same run, same books.

Target (issue 6): on this machine, ingest of 10 copies of the shipped corpus (420
books under distinct names) with ``scheduler="local"`` (a LocalCluster, one worker
per core) runs at >= 0.8x the speed of the local multi-process ingest (``jobs`` =
all cores); the one-process ingest is reported beside them. Each run is a fresh
corpus folder in a fresh Python process (so the LocalCluster's start and stop are
counted, as a user would pay them); the script samples the run's whole process
tree (client, pool or cluster workers, Dask scheduler) every 0.1 s and reports
its peak resident memory, summed over the processes (shared pages counted once per
process: an upper bound), the client's own peak, and the tree's CPU time (which,
unlike seconds, the other users of a shared machine do not inflate).
All three runs must write the same sentences.txt (checked).

Copy k of the corpus has its lowercase letters rotated by k places (copy 0 is the
original): every copy is the same amount of work, but no copy repeats another's
words, as in a real library (the sentence splitter caches its decisions, so exact
copies 2-10 would be nearly free and measure only overheads). ``--plain-copies``
uses byte-distinct but otherwise identical copies instead.

    python benchmarks/bench_dask.py [--repeats 3] [--copies 10] [--plain-copies]

Needs the dask extra (``pip install -e '.[dask]'``).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import emit

MODES = ("dask", "processes", "one")


def make_books(root: Path, copies: int, plain: bool) -> int:
    import corpus_tools as ct

    n = 0
    for k in range(copies):
        shift = 0 if plain else k % 26
        table = str.maketrans(string.ascii_lowercase,
                              string.ascii_lowercase[shift:] + string.ascii_lowercase[:shift])
        folder = root / f"copy{k:02d}"
        folder.mkdir(parents=True)
        for src in sorted(ct.shipped_corpus().glob("*.txt.gz")):
            text = gzip.decompress(src.read_bytes()).decode("utf-8")
            text = f"Copy {k}.\n\n" + (text if shift == 0 else text.translate(table))
            (folder / f"c{k:02d}_{src.name}").write_bytes(gzip.compress(text.encode("utf-8"), 6))
            n += 1
    return n


def run_one(mode: str, books: str, out: str) -> None:
    """Child process: one fresh ingest; prints {"seconds", "sha", "tokens"} as JSON."""
    import corpus_tools as ct

    kwargs = {"dask": {"scheduler": "local"}, "processes": {}, "one": {"jobs": 1}}[mode]
    t0 = time.perf_counter()
    corpus = ct.ingest([books], out, **kwargs)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "sha": corpus.sentences_sha256, "tokens": corpus.tokens,
                      "books": len(corpus.sources)}), flush=True)


def measure(mode: str, books: Path, out: Path) -> dict:
    import psutil

    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen([sys.executable, __file__, "--run", mode, "--books", str(books), "--out", str(out)],
                            stdout=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak_tree = peak_client = 0
    cpu: dict[int, float] = {}  # last CPU time seen per process of the tree
    procs: list = []
    listed = 0.0
    while proc.poll() is None:
        try:
            if time.monotonic() - listed > 0.5:  # listing the tree scans /proc: not every sample
                procs = [root] + root.children(recursive=True)
                listed = time.monotonic()
            rss = 0
            for p in procs:
                try:
                    with p.oneshot():
                        r = p.memory_info().rss
                        t = p.cpu_times()
                except psutil.Error:
                    continue
                cpu[p.pid] = t.user + t.system
                rss += r
                if p.pid == root.pid:
                    peak_client = max(peak_client, r)
            peak_tree = max(peak_tree, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    stdout = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed with exit status {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_tree_mb"] = peak_tree / 2**20
    result["peak_client_mb"] = peak_client / 2**20
    result["cpu_s"] = sum(cpu.values())  # whole tree, sampled: a lower bound by < 0.1 s per process
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--plain-copies", action="store_true")
    ap.add_argument("--run", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--books", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        run_one(args.run, args.books, args.out)
        return

    from corpus_tools._executor import default_jobs

    tmp = Path(tempfile.mkdtemp(prefix="bench_dask_"))
    try:
        n_books = make_books(tmp / "books", args.copies, args.plain_copies)
        measure("processes", tmp / "books", tmp / "warm")  # page cache and imports
        runs: dict[str, list[dict]] = {m: [] for m in MODES}
        for _ in range(args.repeats):
            for mode in MODES:  # interleaved: the machine is shared, noise hits every mode alike
                runs[mode].append(measure(mode, tmp / "books", tmp / f"corpus-{mode}"))
        shas = {r["sha"] for rs in runs.values() for r in rs}
        med = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
        speed_ratio = med["processes"] / med["dask"]  # dask speed relative to local processes
        emit({
            "benchmark": "ingest_dask_vs_local",
            "books": n_books,
            "copies": args.copies,
            "copies_rotated": not args.plain_copies,
            "tokens": runs["one"][0]["tokens"],
            "cores": default_jobs(),
            "repeats": args.repeats,
            "dask_localcluster_s": round(med["dask"], 2),
            "local_processes_s": round(med["processes"], 2),
            "one_process_s": round(med["one"], 2),
            "cpu_s": {m: round(statistics.median(r["cpu_s"] for r in rs), 1) for m, rs in runs.items()},
            "peak_tree_mb": {m: round(max(r["peak_tree_mb"] for r in rs)) for m, rs in runs.items()},
            "peak_client_mb": {m: round(max(r["peak_client_mb"] for r in rs)) for m, rs in runs.items()},
            "all_runs_s": {m: [round(r["seconds"], 2) for r in rs] for m, rs in runs.items()},
            "identical_output": len(shas) == 1,
            "ratio_dask_speed_over_processes": round(speed_ratio, 3),
            "ratio_dask_speed_over_one_process": round(med["one"] / med["dask"], 3),
            # CPU seconds are what other users of a shared machine do not inflate: the share
            # of its CPU the local pool needs for the same work (1.0 = no Dask overhead)
            "ratio_cpu_processes_over_dask": round(
                statistics.median(r["cpu_s"] for r in runs["processes"])
                / statistics.median(r["cpu_s"] for r in runs["dask"]), 3),
            "target": ">= 0.8",
            "pass": speed_ratio >= 0.8 and len(shas) == 1,
        })
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("WORDSTACK_PROGRESS", "0")
    main()
