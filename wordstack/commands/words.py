"""Word-vector commands: ingest, train, similar (and its interactive mode), demo.

Each command parses its options, calls one corpus_tools function and formats the
result; the logic lives in the library.
"""
from __future__ import annotations

import sys

import click

from .._console import EpochProgress, IngestProgress, configure_logging, warn
from .. import _queries
from .._word_models import ensure_default, exact_option, load_many, models_option
from .._options import example
from .._output import counted, echo_json, echo_json_line, echo_neighbors, finish, json_option

#: The demo's queries; the last is outside the vocabulary: only the subword model answers it.
DEFAULT_DEMO_QUERIES = ("romeo", "king", "love", "sword", "night", "swordsmen")


# ----------------------------------------------------------------------------- helpers


def _report_ingest(corpus, as_json: bool) -> None:
    for note in corpus.notes:
        warn(note)
    for s in corpus.sources:
        for w in s.warnings:
            warn(w)
        if s.status != "ok":
            warn(s.reason or f"{s.path}: skipped")
    if as_json:
        echo_json({
            "corpus": str(corpus.path),
            "books": len(corpus.sources) - len(corpus.skipped),
            "tokenized": corpus.count("tokenized"),
            "reused": corpus.count("reused"),
            "skipped": [{"path": s.path, "reason": s.reason} for s in corpus.skipped],
            "sentences": corpus.sentences,
            "tokens": corpus.tokens,
            "phrases": corpus.phrases,
            "sentences_sha256": corpus.sentences_sha256,
            "seconds": round(corpus.seconds, 3),
        })
        return
    n_ok = len(corpus.sources) - len(corpus.skipped)
    click.echo(
        f"Ingested {counted(n_ok, 'book')} "
        f"({corpus.count('tokenized')} tokenized, {corpus.count('reused')} unchanged, "
        f"{len(corpus.skipped)} skipped): {counted(corpus.sentences, 'sentence')}, {counted(corpus.tokens, 'token')}"
        + (f", {counted(corpus.phrases, 'phrase')}" if corpus.phrases is not None else "")
        + f" in {corpus.seconds:.1f} s -> {corpus.path}"
    )


def _interactive_similar(vectors_list, topn: int, as_json: bool, exact: bool = False) -> None:
    """The ``similar`` loop of the C tool's ``distance``: one query per line until EXIT, empty line or EOF.

    A line of several words queries their normalised sum; known phrases
    ("expecto patronum") are joined first. Text output prints side-by-side
    tables; ``--json`` prints one JSON object per line (JSON Lines).
    """
    stdin = sys.stdin
    tty = stdin.isatty()
    if tty:
        try:
            import readline  # noqa: F401  - line editing and history for input()
        except ImportError:  # pragma: no cover - not on every platform
            pass
    while True:
        if tty:
            try:
                line = input("Enter word or sentence (EXIT to break): ")
            except EOFError:
                click.echo("", err=True)
                break
        else:
            line = stdin.readline()
            if not line:
                break
        text = line.strip()
        if not text or text == "EXIT":
            break
        payload = _queries.similar(vectors_list, text, topn, with_terms=True, exact=exact)
        results = payload["results"]
        if as_json:
            echo_json_line(payload)
            continue
        if not echo_neighbors(text, results, topn):
            click.echo(f"Error: {results[0]['error']}", err=True)
            continue
        click.echo("")


# ----------------------------------------------------------------------------- commands


@click.command()
@click.argument("books", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Corpus folder to write.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for tokenizing (default: all cores); with --dask alone, the LocalCluster's.")
@click.option("--dask", "scheduler", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Tokenize on Dask (needs `pip install 'wordstack[dask]'`). Alone: a LocalCluster on this "
                   "machine. With a scheduler address (tcp://host:8786): that cluster, whose workers must see "
                   "the books. Put it after the books. Same corpus, byte for byte.")
@click.option("--numbers", type=click.Choice(["keep", "drop", "token"]), default="keep", show_default=True,
              help="All-digit words: keep, drop, or replace by <num>.")
@click.option("--keep-case", is_flag=True, help="Do not lowercase.")
@click.option("--split-apostrophes", is_flag=True, help="o'clock -> o clock (default joins: oclock).")
@click.option("--split-hyphens", is_flag=True, help="well-earned -> well earned (default joins: wellearned).")
@click.option("--keep-gutenberg", is_flag=True, help="Keep Project Gutenberg headers and licences.")
@click.option("--phrases", is_flag=True, help="Detect phrases with gensim Phrases (expecto patronum -> expecto_patronum).")
@click.option("--phrase-min-count", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--phrase-threshold", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True)
@click.option("--retrain-punkt", is_flag=True, help="Retrain the sentence model even if the corpus has one.")
@json_option
@example("wordstack ingest ~/books/*.txt data/extra/ --out corpus/\n"
         "wordstack ingest ~/books --out corpus/ --phrases --jobs 4\n"
         "wordstack ingest /shared/gutenberg --out corpus/ --dask tcp://scheduler:8786\n"
         "wordstack ingest s3://bucket/books/ --out corpus/ --dask")
def ingest(books, out, jobs, scheduler, numbers, keep_case, split_apostrophes, split_hyphens, keep_gutenberg,
           phrases, phrase_min_count, phrase_threshold, retrain_punkt, as_json):
    """Read BOOKS (files, folders, globs, file:// or fsspec URLs; .txt .gz .bz2 .xz .epub) into a corpus folder.

    Sentences are found with a Punkt model trained on the books themselves, words
    are lowercased with inner apostrophes and hyphens joined. Re-running on the
    same folder re-tokenizes only new or changed books. Unreadable books are
    reported and skipped. With --dask the tokenizing runs on a Dask cluster.
    """
    import corpus_tools as ct

    configure_logging()
    settings = ct.TokenizerSettings(
        lowercase=not keep_case,
        join_apostrophes=not split_apostrophes,
        join_hyphens=not split_hyphens,
        numbers=numbers,
        strip_gutenberg=not keep_gutenberg,
    )
    phrase_settings = ct.PhraseSettings(min_count=phrase_min_count, threshold=phrase_threshold) if phrases else None
    bar = IngestProgress()
    try:
        corpus = ct.ingest(books, out, settings=settings, phrases=phrase_settings, jobs=jobs, scheduler=scheduler,
                           retrain_punkt=retrain_punkt, progress=bar)
    finally:
        bar.close()
    _report_ingest(corpus, as_json)


@click.command()
@click.argument("corpus", type=click.Path())
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Model folder to write.")
@click.option("--dim", "vector_size", type=click.IntRange(min=1), default=256, show_default=True,
              help="Vector dimensions.")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--window", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True, help="Ignore rarer words.")
@click.option("--sg/--cbow", default=True, show_default=True, help="Skip-gram or CBOW.")
@click.option("--negative", type=click.IntRange(min=0), default=5, show_default=True,
              help="Negative samples (0: off).")
@click.option("--hs", is_flag=True, help="Hierarchical softmax.")
@click.option("--sample", type=float, default=1e-3, show_default=True, help="Down-sampling of frequent words.")
@click.option("--alpha", type=float, default=0.025, show_default=True, help="Initial learning rate.")
@click.option("--min-alpha", type=float, default=0.0001, show_default=True, help="Final learning rate.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Training threads (default: all cores).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--subwords", is_flag=True,
              help="Train fastText (gensim FastText): words are also built from character n-grams, so rare "
                   "inflections get better vectors and unknown words get one.")
@click.option("--min-n", type=click.IntRange(min=1), default=3, show_default=True,
              help="With --subwords: shortest n-gram, in characters (the word is wrapped in < >).")
@click.option("--max-n", type=click.IntRange(min=1), default=6, show_default=True,
              help="With --subwords: longest n-gram.")
@click.option("--buckets", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="With --subwords: rows the n-grams are hashed into (the n-gram matrix is buckets x dim floats).")
@json_option
@example("wordstack train corpus/ --out models/big --dim 256 --epochs 10\n"
         "wordstack train corpus/ --out models/small --dim 64 --epochs 1 --cbow\n"
         "wordstack train corpus/ --out models/sub --subwords --dim 128 --epochs 5 && "
         "wordstack similar romeoo -m models/sub")
def train(corpus, out, vector_size, epochs, window, min_count, sg, negative, hs, sample, alpha, min_alpha,
          workers, seed, subwords, min_n, max_n, buckets, as_json):
    """Train word2vec (gensim, corpus_file mode) on a CORPUS folder into a model folder.

    With --subwords it trains fastText instead (Bojanowski et al. 2017): the same
    options, plus character n-grams hashed into --buckets rows, from which
    `similar`, `analogy`, `odd-one-out`, `map` and `evaluate --oov subwords` build
    words outside the vocabulary (numpy only, no gensim at query time).

    The model folder is replaced only when training finishes: Ctrl-C leaves the
    previous model intact.
    """
    import corpus_tools as ct

    configure_logging()
    params = ct.Word2VecParams(vector_size=vector_size, epochs=epochs, window=window, min_count=min_count,
                               sg=int(sg), negative=negative, hs=int(hs), sample=sample, alpha=alpha,
                               min_alpha=min_alpha, workers=workers, seed=seed)
    given = [f"--{name}" for name, default, value in (("min-n", 3, min_n), ("max-n", 6, max_n),
                                                      ("buckets", 200_000, buckets)) if value != default]
    if given and not subwords:
        raise click.UsageError(f"{', '.join(given)} only apply with --subwords; add --subwords or drop them")
    sub = ct.SubwordParams(min_n=min_n, max_n=max_n, buckets=buckets) if subwords else None
    bar = EpochProgress(epochs)
    try:
        result = ct.train(corpus, out, params, on_epoch=bar, **({"subwords": sub} if sub else {}))
    finally:
        bar.close()
    for w in result.warnings:
        warn(w)
    if as_json:
        echo_json({
            "model": str(result.path),
            "vocab_size": result.vocab_size,
            "vector_size": params.vector_size,
            "epochs": [{"epoch": e.epoch, "seconds": round(e.seconds, 3), "words_per_second": round(e.words_per_second),
                        "loss": e.loss} for e in result.epochs],
            "words_per_second": round(result.words_per_second),
            "seconds": round(result.seconds, 3),
            "subwords": None if sub is None else {"min_n": sub.min_n, "max_n": sub.max_n, "buckets": sub.buckets},
        })
    else:
        kind = "" if sub is None else f" + {sub.min_n}-{sub.max_n}-character n-grams in {counted(sub.buckets, 'bucket')}"
        click.echo(f"Trained {counted(result.vocab_size, 'word')} x {counted(params.vector_size, 'dim')}{kind}, "
                   f"{counted(params.epochs, 'epoch')}, "
                   f"{result.words_per_second:,.0f} words/s in {result.seconds:.1f} s -> {result.path}")


@click.command()
@click.argument("words", nargs=-1)
@models_option()
@click.option("-n", "--topn", type=click.IntRange(min=1), default=10, show_default=True, help="Neighbours to list.")
@exact_option
@json_option
@example("wordstack similar romeo\n"
         "wordstack similar king queen -n 5\n"
         "wordstack similar \"expecto patronum\"      (a phrase model)\n"
         "wordstack similar hermione -m models/small -m models/big --json\n"
         "wordstack similar -m models/small -m models/big    (interactive)\n"
         "wordstack similar king -m models/google --exact    (skip the model's index)")
def similar(words, models, topn, exact, as_json):
    """Nearest words to WORDS by cosine similarity (several words: their normalised sum).

    With several --model options the lists are printed side by side, headed by
    each model's dimensions and epochs. A quoted phrase ("expecto patronum")
    finds the model's phrase token (expecto_patronum) when it has one.

    Without WORDS, queries are read line by line from the terminal or stdin
    (like the word2vec tool's `distance`) until EXIT, an empty line or end of
    input; with --json each answer is one JSON line.

    A model folder with a nearest-neighbour index (`wordstack index`) is searched
    through it; --exact scores every word instead.
    """
    vectors_list = load_many(models)
    if not words:
        _interactive_similar(vectors_list, topn, as_json, exact)
        return
    payload = _queries.similar(vectors_list, list(words), topn, exact=exact)
    results = payload["results"]
    if as_json:
        finish(results, True, payload)
        return
    echo_neighbors(payload["query"], results, topn)
    finish(results, False, {})


@click.command()
@click.option("--query", "-q", "queries", multiple=True, help="Words to query (default: romeo, king, love, ...).")
@click.option("-n", "--topn", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--retrain", is_flag=True, help="Train both models again even if they are current.")
@example("wordstack demo\nwordstack demo -q hamlet -q ghost")
def demo(queries, topn, retrain):
    """The main job end to end on the shipped Shakespeare corpus.

    Ingests the 42 shipped works, trains a small fast model (64 dims, 1 epoch),
    a large well-trained one (256 dims, 10 epochs) and a fastText model with
    subwords (100 dims, 5 epochs), then prints side-by-side neighbour lists; the
    last query is a word none of them saw, which only the subword model answers.
    Models land in $WORDSTACK_HOME (default ~/.local/share/wordstack) and are
    reused by later runs and by `wordstack similar`.
    """
    import corpus_tools as ct

    configure_logging()
    dirs = [ensure_default(name, retrain=retrain) for name in ct.DEFAULT_CONFIGS]
    vectors_list = [ct.load_vectors(d) for d in dirs]
    click.echo("")
    for q in queries or DEFAULT_DEMO_QUERIES:
        echo_neighbors(q, _queries.similar(vectors_list, [q], topn)["results"], topn)
        click.echo("")
    click.echo(f"Models: {', '.join(str(d) for d in dirs)}\n"
               "Next: `wordstack similar WORD`, or ingest your own books with `wordstack ingest`.")


COMMANDS = [ingest, train, similar, demo]
__all__ = ["COMMANDS"]
