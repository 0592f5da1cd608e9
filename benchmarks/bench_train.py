"""`wordstack train` words/s against raw gensim Word2Vec(corpus_file=...), same corpus, same run.

Target (issue 2): wordstack >= 0.9x raw gensim. Both train the default configuration
(256 dims, skip-gram, negative 5, window 5, min_count 5, all cores) on the shipped
corpus; runs alternate between the two so machine noise hits both alike, and the
median over repeats is compared.

    python benchmarks/bench_train.py [--repeats 3] [--epochs 3]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import corpus_tools as ct
from _util import emit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()

    from gensim.models import Word2Vec

    tmp = Path(tempfile.mkdtemp(prefix="bench_train_"))
    corpus = ct.ingest([ct.shipped_corpus()], tmp / "corpus")
    params = ct.Word2VecParams(epochs=args.epochs).resolved()
    sentences = str(corpus.sentences_file)

    def raw_gensim() -> float:
        model = Word2Vec(**params.gensim_kwargs())
        model.build_vocab(corpus_file=sentences)
        t0 = time.perf_counter()
        model.train(corpus_file=sentences, total_examples=model.corpus_count,
                    total_words=model.corpus_total_words, epochs=params.epochs)
        return model.corpus_total_words * params.epochs / (time.perf_counter() - t0)

    def wordstack() -> float:
        result = ct.train(corpus.path, tmp / "model", params)
        return result.words_per_second

    raw, ours = [], []
    for _ in range(args.repeats):
        raw.append(raw_gensim())
        ours.append(wordstack())
    r, o = statistics.median(raw), statistics.median(ours)
    emit({
        "benchmark": "train_words_per_second",
        "corpus_tokens": corpus.tokens,
        "params": {"vector_size": params.vector_size, "sg": params.sg, "epochs": params.epochs,
                   "workers": params.workers},
        "raw_gensim_words_per_s": round(r),
        "wordstack_words_per_s": round(o),
        "ratio": round(o / r, 3),
        "target": ">= 0.9",
        "pass": o / r >= 0.9,
    })


if __name__ == "__main__":
    main()
