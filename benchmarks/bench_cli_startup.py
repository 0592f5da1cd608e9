"""Wall time of `wordstack --help` and of a cold `wordstack similar romeo` on an existing model.

Target (issue 2): each <= 0.3 s. Measured as the median of fresh processes (the
console script, as a user runs it), next to `python -c "import numpy"` in the same
run for scale. Also checks which heavy modules the query path imported.

    python benchmarks/bench_cli_startup.py [--repeats 15] [--model DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus_tools as ct
from _util import emit


def wall(cmd: list[str], repeats: int, env=None) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--model", help="model folder to query (default: train a small one)")
    args = ap.parse_args()

    model = args.model
    if model is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_cli_"))
        ct.ingest([ct.shipped_corpus()], tmp / "corpus")
        ct.train(tmp / "corpus", tmp / "model", ct.Word2VecParams(vector_size=256, epochs=1))
        model = str(tmp / "model")
    exe = shutil.which("wordstack") or str(Path(sys.executable).parent / "wordstack")
    env = {**os.environ, "WORDSTACK_PROGRESS": "0"}
    probe = (
        "import sys, runpy; sys.argv=['wordstack','similar','romeo','-m',%r];\n"
        "try: runpy.run_module('wordstack', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print('HEAVY:' + ','.join(m for m in ('gensim','nltk','sklearn','matplotlib','scipy') if m in sys.modules))"
    ) % model
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env).stdout
    heavy = out.rsplit("HEAVY:", 1)[1].strip()
    baseline = wall([sys.executable, "-c", "import numpy"], args.repeats, env)
    helptime = wall([exe, "--help"], args.repeats, env)
    similar = wall([exe, "similar", "romeo", "-m", model], args.repeats, env)
    emit({
        "benchmark": "cli_startup",
        "python_import_numpy_s": round(baseline, 3),
        "wordstack_help_s": round(helptime, 3),
        "wordstack_similar_cold_s": round(similar, 3),
        "heavy_modules_on_query_path": heavy.split(",") if heavy else [],
        "target": "<= 0.3 s each",
        "pass": helptime <= 0.3 and similar <= 0.3,
    })


if __name__ == "__main__":
    main()
