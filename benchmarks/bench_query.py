"""most_similar on a 100k-word, 300-dim vocabulary: wordstack's Vectors against gensim's KeyedVectors.

Target (issue 3): a query in <= 10 ms, i.e. one BLAS matrix-vector product over the
normalised matrix (kept once, memory-mapped from the model folder) and a partial sort.
Both libraries answer the same queries in the same run on the same synthetic vectors,
beside the floor of one bare BLAS matrix-vector product over the same matrix; the line
printed is JSON: median / p90 milliseconds, the speed ratio against gensim and our
overhead over the bare product. The product reads the whole 100k x 300 float32 matrix
(120 MB), so it is bound by memory bandwidth and slows when other processes share it.

    python benchmarks/bench_query.py [--words 100000] [--dim 300] [--queries 200]
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from gensim.models import KeyedVectors
    from threadpoolctl import threadpool_info

    import corpus_tools as ct
    from corpus_tools._model_dir import write_model_dir

    rng = np.random.default_rng(args.seed)
    words = [f"w{i}" for i in range(args.words)]
    vectors = rng.standard_normal((args.words, args.dim)).astype(np.float32)
    queries = [words[i] for i in rng.integers(0, args.words, args.queries)]

    with tempfile.TemporaryDirectory() as tmp:
        write_model_dir(Path(tmp) / "m", words, vectors, np.zeros(args.words), {"format": "wordstack-word2vec/1"})
        ours = ct.load_vectors(Path(tmp) / "m")          # memory-mapped, as the CLI loads it
        kv = KeyedVectors(args.dim)
        kv.add_vectors(words, vectors)
        kv.fill_norms()
        for q in queries[:5]:                              # warm up: page in the mmap, fill caches
            ours.most_similar(q, topn=10)
            kv.most_similar(q, topn=10)
        assert [n.word for n in ours.most_similar(queries[0], topn=10)] == \
            [w for w, _ in kv.most_similar(queries[0], topn=10)], "the two libraries disagree"
        unit = np.ascontiguousarray(ours.unit)
        # Round robin, query by query, so that load from other processes hits all three alike.
        fns = {
            "ours": lambda q: ours.most_similar(q, topn=10),
            "gensim": lambda q: kv.most_similar(q, topn=10),
            "blas": lambda q: unit @ unit[ours.index[q]],   # the floor: one bare sgemv
        }
        times = {k: [] for k in fns}
        for _ in range(2):
            for q in queries:
                for k, fn in fns.items():
                    t = time.perf_counter()
                    fn(q)
                    times[k].append((time.perf_counter() - t) * 1e3)
        t_ours, t_gensim, t_blas = (np.array(times[k]) for k in ("ours", "gensim", "blas"))
    blas = [{k: i.get(k) for k in ("internal_api", "num_threads", "architecture")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    print(json.dumps({
        "benchmark": "most_similar",
        "words": args.words, "dim": args.dim, "queries": args.queries,
        "wordstack_median_ms": round(float(np.median(t_ours)), 3),
        "wordstack_p90_ms": round(float(np.percentile(t_ours, 90)), 3),
        "wordstack_min_ms": round(float(t_ours.min()), 3),
        "bare_blas_matvec_median_ms": round(float(np.median(t_blas)), 3),
        "bare_blas_matvec_min_ms": round(float(t_blas.min()), 3),
        "overhead_vs_bare_matvec": round(float(np.median(t_ours) / np.median(t_blas)), 3),
        "gensim_median_ms": round(float(np.median(t_gensim)), 3),
        "gensim_p90_ms": round(float(np.percentile(t_gensim, 90)), 3),
        "speed_ratio_vs_gensim": round(float(np.median(t_gensim) / np.median(t_ours)), 3),
        "target_ms": 10.0,
        "blas": blas,
    }))


if __name__ == "__main__":
    main()
