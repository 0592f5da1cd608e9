"""Word-vector commands: ingest, train, similar, demo.

Each command parses its options, calls one corpus_tools function and formats the
result; the logic lives in the library.
"""
from __future__ import annotations

from pathlib import Path

import click

from .._console import configure_logging, progress_bar, warn
from .._options import example
from .._output import echo_json, json_option

DEFAULT_DEMO_QUERIES = ("romeo", "king", "love", "sword", "night")


# ----------------------------------------------------------------------------- helpers


class _IngestProgress:
    """Maps corpus_tools.ingest's progress(stage, done, total) onto tqdm bars."""

    def __init__(self):
        self.bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "punkt" and done == 0:
            click.echo("Training the Punkt sentence model on a sample of the books...", err=True)
        elif stage == "tokenize":
            if self.bar is None and total > 0:
                self.bar = progress_bar(total, "tokenizing", unit="book")
            if self.bar is not None:
                self.bar.n = done
                self.bar.refresh()
                if done >= total:
                    self.close()
        elif stage == "phrases" and done == 0:
            click.echo("Detecting phrases...", err=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _EpochProgress:
    """One tick per epoch, with words/s and loss."""

    def __init__(self, epochs: int, desc: str = "training"):
        self.bar = progress_bar(epochs, desc, unit="epoch")

    def __call__(self, rep) -> None:
        self.bar.set_postfix_str(f"{rep.words_per_second:,.0f} words/s, loss {rep.loss:,.0f}", refresh=False)
        self.bar.update(1)
        if rep.epoch >= rep.epochs:
            self.bar.close()

    def close(self):
        self.bar.close()


def _report_ingest(corpus, as_json: bool) -> None:
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
        f"Ingested {n_ok} book{'s' if n_ok != 1 else ''} "
        f"({corpus.count('tokenized')} tokenized, {corpus.count('reused')} unchanged, "
        f"{len(corpus.skipped)} skipped): {corpus.sentences:,} sentences, {corpus.tokens:,} tokens"
        + (f", {corpus.phrases:,} phrases" if corpus.phrases is not None else "")
        + f" in {corpus.seconds:.1f} s -> {corpus.path}"
    )


def _resolve_models(models: tuple[str, ...]) -> list[str]:
    """The model folders to query: those given, or the default model (trained on first use)."""
    if models:
        return list(models)
    import corpus_tools as ct

    default = ct.default_model_dir()
    if (default / "meta.json").exists():
        return [str(default)]
    configure_logging()
    click.echo(f"No default model yet: training one on the shipped Shakespeare corpus into {default} "
               "(once; about a minute).", err=True)
    return [str(_ensure_default("shakespeare-256d"))]


def _ensure_default(name: str, retrain: bool = False) -> Path:
    import corpus_tools as ct

    ingest_bar = _IngestProgress()
    epoch_bar: list[_EpochProgress] = []

    def on_epoch(rep):
        if not epoch_bar:
            epoch_bar.append(_EpochProgress(rep.epochs, f"training {name}"))
        epoch_bar[0](rep)

    try:
        return ct.ensure_default_model(
            name=name, retrain=retrain, on_stage=lambda msg: click.echo(msg[0].upper() + msg[1:] + "...", err=True),
            on_ingest_progress=ingest_bar, on_epoch=on_epoch,
        )
    finally:
        ingest_bar.close()
        if epoch_bar:
            epoch_bar[0].close()


def _neighbors_table(query: str, columns: list[tuple[str, list | str]], n: int) -> str:
    """Side-by-side columns: (header, neighbours or an error message)."""
    width = max(28, *(len(h) + 2 for h, _ in columns))
    lines = [f"{query}", "  " + "".join(h.ljust(width) for h, _ in columns).rstrip()]
    for rank in range(n):
        cells = []
        for _, col in columns:
            if isinstance(col, str):
                cells.append((col if rank == 0 else "").ljust(width))
            elif rank < len(col):
                nb = col[rank]
                cells.append(f"{rank + 1:>2}. {nb.word:<{width - 12}} {nb.score:.3f}".ljust(width))
            else:
                cells.append("".ljust(width))
        row = "  " + "".join(cells).rstrip()
        if row.strip():
            lines.append(row)
    return "\n".join(lines)


def _query_models(vectors_list, words: list[str], n: int) -> list[dict]:
    """Run one most_similar query on each model; unknown words become an error entry."""
    import corpus_tools as ct

    from .vectors import _per_model

    return _per_model(vectors_list, lambda v: {"neighbors": v.most_similar(ct.query_terms(v, words), topn=n)})


def _print_results(query: str, results: list[dict], n: int, as_json: bool) -> bool:
    """Print one query's results; True when at least one model answered."""
    answered = any("neighbors" in r for r in results)
    if as_json:
        payload = []
        for r in results:
            r = dict(r)
            if "neighbors" in r:
                r["neighbors"] = [{"word": nb.word, "score": round(nb.score, 6)} for nb in r["neighbors"]]
            payload.append(r)
        echo_json({"query": query, "results": payload})
        return answered
    if len(results) == 1 and not answered:
        return False
    # a model that lacks a word says so in its column; the full message (with suggestions) follows the table
    cols = [(r["label"], r["neighbors"] if "neighbors" in r else f"unknown word {r['unknown']!r}") for r in results]
    click.echo(_neighbors_table(query, cols, n))
    for r in results:
        if "error" in r:
            click.echo(f"  {r['error']}")
    return answered


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
    bar = _IngestProgress()
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
@json_option
@example("wordstack train corpus/ --out models/big --dim 256 --epochs 10\n"
         "wordstack train corpus/ --out models/small --dim 64 --epochs 1 --cbow")
def train(corpus, out, vector_size, epochs, window, min_count, sg, negative, hs, sample, alpha, min_alpha,
          workers, seed, as_json):
    """Train word2vec (gensim, corpus_file mode) on a CORPUS folder into a model folder.

    The model folder is replaced only when training finishes: Ctrl-C leaves the
    previous model intact.
    """
    import corpus_tools as ct

    configure_logging()
    params = ct.Word2VecParams(vector_size=vector_size, epochs=epochs, window=window, min_count=min_count,
                               sg=int(sg), negative=negative, hs=int(hs), sample=sample, alpha=alpha,
                               min_alpha=min_alpha, workers=workers, seed=seed)
    bar = _EpochProgress(epochs)
    try:
        result = ct.train(corpus, out, params, on_epoch=bar)
    finally:
        bar.close()
    if as_json:
        echo_json({
            "model": str(result.path),
            "vocab_size": result.vocab_size,
            "vector_size": params.vector_size,
            "epochs": [{"epoch": e.epoch, "seconds": round(e.seconds, 3), "words_per_second": round(e.words_per_second),
                        "loss": e.loss} for e in result.epochs],
            "words_per_second": round(result.words_per_second),
            "seconds": round(result.seconds, 3),
        })
    else:
        click.echo(f"Trained {result.vocab_size:,} words x {params.vector_size} dims, {params.epochs} epochs, "
                   f"{result.words_per_second:,.0f} words/s in {result.seconds:.1f} s -> {result.path}")


@click.command()
@click.argument("words", nargs=-1)
@click.option("--model", "-m", "models", multiple=True, type=click.Path(),
              help="Model folder; repeat to compare models side by side (default: the Shakespeare model).")
@click.option("-n", "--topn", type=click.IntRange(min=1), default=10, show_default=True, help="Neighbours to list.")
@json_option
@example("wordstack similar romeo\n"
         "wordstack similar king queen -n 5\n"
         "wordstack similar \"expecto patronum\"      (a phrase model)\n"
         "wordstack similar hermione -m models/small -m models/big --json\n"
         "wordstack similar -m models/small -m models/big    (interactive)")
def similar(words, models, topn, as_json):
    """Nearest words to WORDS by cosine similarity (several words: their normalised sum).

    With several --model options the lists are printed side by side, headed by
    each model's dimensions and epochs. A quoted phrase ("expecto patronum")
    finds the model's phrase token (expecto_patronum) when it has one.

    Without WORDS, queries are read line by line from the terminal or stdin
    (like the word2vec tool's `distance`) until EXIT, an empty line or end of
    input; with --json each answer is one JSON line.
    """
    import corpus_tools as ct

    vectors_list = [ct.load_vectors(m) for m in _resolve_models(models)]
    if not words:
        from .vectors import interactive_similar

        interactive_similar(vectors_list, topn, as_json)
        return
    query = " ".join(words)
    results = _query_models(vectors_list, list(words), topn)
    if not _print_results(query, results, topn, as_json):
        errors = [r["error"] for r in results if "error" in r]
        if as_json:
            raise SystemExit(1)
        raise click.ClickException(errors[0] if len(errors) == 1 else "; ".join(errors))


@click.command()
@click.option("--query", "-q", "queries", multiple=True, help="Words to query (default: romeo, king, love, ...).")
@click.option("-n", "--topn", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--retrain", is_flag=True, help="Train both models again even if they are current.")
@example("wordstack demo\nwordstack demo -q hamlet -q ghost")
def demo(queries, topn, retrain):
    """The main job end to end on the shipped Shakespeare corpus.

    Ingests the 42 shipped works, trains a small fast model (64 dims, 1 epoch)
    and a large well-trained one (256 dims, 10 epochs), then prints side-by-side
    neighbour lists. Models land in $WORDSTACK_HOME (default
    ~/.local/share/wordstack) and are reused by later runs and by
    `wordstack similar`.
    """
    import corpus_tools as ct

    configure_logging()
    dirs = [_ensure_default(name, retrain=retrain) for name in ct.DEFAULT_CONFIGS]
    vectors_list = [ct.load_vectors(d) for d in dirs]
    click.echo("")
    for q in queries or DEFAULT_DEMO_QUERIES:
        results = _query_models(vectors_list, [q], topn)
        _print_results(q, results, topn, as_json=False)
        click.echo("")
    click.echo(f"Models: {', '.join(str(d) for d in dirs)}\n"
               "Next: `wordstack similar WORD`, or ingest your own books with `wordstack ingest`.")


COMMANDS = [ingest, train, similar, demo]
__all__ = ["COMMANDS"]
