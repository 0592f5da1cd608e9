"""Ingest of the shipped corpus against one training epoch on it, same run.

Target (issue 2): ingest (fresh corpus folder, default jobs = all cores) takes no
longer than one epoch of `wordstack train` with the default parameters (256 dims,
skip-gram, all cores). Also reports re-ingest (nothing changed) and one process.

    python benchmarks/bench_ingest.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import corpus_tools as ct
from _util import emit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    books = [ct.shipped_corpus()]

    def fresh_ingest(jobs=None) -> float:
        shutil.rmtree(tmp / "corpus", ignore_errors=True)
        t0 = time.perf_counter()
        ct.ingest(books, tmp / "corpus", jobs=jobs)
        return time.perf_counter() - t0

    def reingest() -> float:
        t0 = time.perf_counter()
        ct.ingest(books, tmp / "corpus")
        return time.perf_counter() - t0

    def one_epoch() -> float:
        result = ct.train(tmp / "corpus", tmp / "model", ct.Word2VecParams(epochs=1))
        return result.epochs[0].seconds

    fresh_ingest()  # warm the page cache and imports
    ingest_s, epoch_s, re_s = [], [], []
    for _ in range(args.repeats):
        ingest_s.append(fresh_ingest())
        re_s.append(reingest())
        epoch_s.append(one_epoch())
    single = fresh_ingest(jobs=1)
    i, e = statistics.median(ingest_s), statistics.median(epoch_s)
    corpus = ct.load_corpus(tmp / "corpus")
    emit({
        "benchmark": "ingest_vs_epoch",
        "books": len(corpus.sources),
        "tokens": corpus.tokens,
        "jobs": ct._ingest.default_jobs(),
        "ingest_s": round(i, 3),
        "ingest_one_process_s": round(single, 3),
        "reingest_unchanged_s": round(statistics.median(re_s), 3),
        "epoch_s": round(e, 3),
        "ratio_ingest_over_epoch": round(i / e, 3),
        "target": "<= 1.0",
        "pass": i <= e,
    })


if __name__ == "__main__":
    main()
