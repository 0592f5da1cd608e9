"""Import of a 100k x 300 word2vec text file: wordstack against gensim's load_word2vec_format.

Target (issue 3): ``read_word2vec`` at >= 50% of gensim's speed on the same file in the
same run (speed_ratio = gensim seconds / wordstack seconds >= 0.5). The binary format is
timed too. Files are synthetic (seeded), written once with ``export_vectors`` (6
significant digits, as the word2vec tool and fastText write); one JSON line is printed.

    python benchmarks/bench_import.py [--words 100000] [--dim 300]
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
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from gensim.models import KeyedVectors

    import corpus_tools as ct

    rng = np.random.default_rng(args.seed)
    words = [f"w{i}" if i % 10 else f"wörd{i}" for i in range(args.words)]
    vectors = rng.standard_normal((args.words, args.dim)).astype(np.float32)
    result = {"benchmark": "import", "words": args.words, "dim": args.dim}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = ct.Vectors.from_vectors(words, vectors)
        for fmt, binary in (("word2vec-txt", False), ("word2vec-bin", True)):
            path = tmp / f"v.{fmt}"
            ct.export_vectors(src, path, format=fmt)
            t = time.perf_counter()
            res = ct.import_vectors(path, tmp / f"model-{fmt}")
            ours = time.perf_counter() - t
            t = time.perf_counter()
            kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
            theirs = time.perf_counter() - t
            back = ct.load_vectors(tmp / f"model-{fmt}")
            assert back.words == kv.index_to_key and res.vocab_size == args.words
            np.testing.assert_allclose(np.asarray(back.unit[:100]) * back.norms[:100, None], kv.vectors[:100],
                                       rtol=1e-5, atol=1e-6)
            key = fmt.replace("word2vec-", "")
            result[f"{key}_file_mb"] = round(path.stat().st_size / 2**20, 1)
            result[f"{key}_wordstack_s"] = round(ours, 3)
            result[f"{key}_gensim_s"] = round(theirs, 3)
            result[f"{key}_speed_ratio"] = round(theirs / ours, 3)
    result["target_txt_speed_ratio"] = 0.5
    print(json.dumps(result))


if __name__ == "__main__":
    main()
