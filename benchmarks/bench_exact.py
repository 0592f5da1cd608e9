"""Exact `most_similar` with and without the int8 screen (`Vectors.enable_screen`), same run.

The screen (corpus_tools/_screen.py) scores every row in int8 and re-scores in float32
only the rows that can still be among the best, so the answer is the full product's.
Its point is bytes: a query reads V*D bytes instead of 4*V*D. This script times
`Vectors.most_similar(word, 10, exact=True)` on one model loaded twice, one copy
screened, the two timed in alternating blocks of --block queries (the machine is shared;
alternating keeps the comparison fair), in two conditions:

* cold: before each query, 64 MB of other memory is read, as a server's caches are
  between requests (the matrix is no longer in the processor's caches);
* hot: queries back to back, the matrix cached as far as it fits.

One JSON line per model: the medians (ms), their ratio, the share of answers identical
to the unscreened ones (words and order; must be 1.0) and the largest difference of a
score (float32 rounding: the re-scoring multiplies a few rows, not all), the median number of rows
re-scored in float32, the screen's build time and bytes.

    python benchmarks/bench_exact.py [MODEL_DIR] [--synthetic 200000] [--queries 400] [--block 25]

MODEL_DIR defaults to the 256-dim Shakespeare model in $WORDSTACK_HOME (`wordstack
demo`); --synthetic N adds a clustered N x 300 model made here (0 for none).
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import emit, python_info  # noqa: E402


def time_model(path: Path, n_queries: int, block: int, seed: int) -> dict:
    import corpus_tools as ct

    plain = ct.load_vectors(path)
    screened = ct.load_vectors(path)
    t0 = time.perf_counter()
    if not screened.enable_screen():
        raise SystemExit(f"{path}: too big for a screen ({screened.unit.shape})")
    build = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    words = [plain.words[i] for i in rng.integers(0, len(plain), n_queries)]
    junk = np.ones(64 << 17)                                   # 64 MB of float64

    pairs = [(plain.most_similar(w, 10, exact=True), screened.most_similar(w, 10, exact=True)) for w in words]
    identical = float(np.mean([[n.word for n in a] == [n.word for n in b] for a, b in pairs]))
    score_diff = max(abs(x.score - y.score) for a, b in pairs for x, y in zip(a, b))
    rescored = []
    for w in words[:100]:
        q = screened.vector(w).astype(np.float32)
        lower, upper = screened._screen.bounds(q)
        lower[screened.index[w]] = upper[screened.index[w]] = -np.inf
        rescored.append(int((upper >= np.partition(lower, len(lower) - 10)[len(lower) - 10]).sum()))

    out = {}
    for cond in ("cold", "hot"):
        times = {"plain": [], "screened": []}
        for start in range(0, n_queries, block):
            for name, vecs in (("plain", plain), ("screened", screened)):
                for w in words[start:start + block]:
                    if cond == "cold":
                        junk += 1.0
                    t = time.perf_counter()
                    vecs.most_similar(w, 10, exact=True)
                    times[name].append(time.perf_counter() - t)
        p, s = (float(np.median(times[k])) * 1e3 for k in ("plain", "screened"))
        out[cond] = {"plain_ms": round(p, 3), "screened_ms": round(s, 3), "speedup": round(p / s, 2)}
    return {"benchmark": "exact_screen", "model": str(path), "vocab_size": len(plain), "dim": plain.vector_size,
            "matrix_mb": round(plain.unit.nbytes / 1e6, 1), **{f"{c}_{k}": v for c in out for k, v in out[c].items()},
            "identical_answers": identical, "max_score_difference": float(f"{score_diff:.2g}"),
            "median_rows_rescored": int(np.median(rescored)), "screen_build_seconds": round(build, 4),
            "screen_mb": round(screened._screen.nbytes / 1e6, 1), "queries": n_queries,
            "load_average_1min": round(os.getloadavg()[0], 2), **python_info()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", nargs="?", default=None)
    ap.add_argument("--synthetic", type=int, default=200_000, help="Rows of the clustered synthetic model (0: none).")
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--block", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from corpus_tools import wordstack_home

    model = Path(args.model_dir) if args.model_dir else wordstack_home() / "models" / "shakespeare-256d"
    if model.exists():
        emit(time_model(model, args.queries, args.block, args.seed))
    else:
        print(f"{model} does not exist (run `wordstack demo`); skipped", file=sys.stderr)
    if args.synthetic:
        from bench_index import make_model

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / f"synthetic-{args.synthetic}"
            make_model(folder, args.synthetic, 300, args.seed)
            emit(time_model(folder, args.queries, args.block, args.seed))


if __name__ == "__main__":
    main()
