"""Word-vector commands beyond ``similar``: analogy, odd-one-out, similarity, evaluate, map,
clusters, export, import, index.

Each command parses its options, calls one corpus_tools function and formats the
result. Every path here reads model folders with numpy alone (no pickle).
"""
from __future__ import annotations

import click

from .._console import AmountProgress, IndexProgress, configure_logging, warn
from .. import _queries
from .._word_models import exact_option, load_many, load_one, model_dir_argument, models_option, resolve_models
from .._options import PICTURE_HELP, example, picture_path
from .._output import counted, echo_json, finish, json_option, neighbors_table

FORMAT_CHOICES = ("word2vec-bin", "word2vec-txt", "vec")
EXPORT_CHOICES = FORMAT_CHOICES + ("fasttext-bin",)   # fastText's .bin: subword models only, written, not read


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# ----------------------------------------------------------------------------- commands


@click.command()
@click.argument("a")
@click.argument("b")
@click.argument("c")
@models_option()
@click.option("-n", "--topn", type=click.IntRange(min=1), default=10, show_default=True, help="Answers to list.")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=None,
              help="Search answers among the this many most frequent words only.")
@exact_option
@json_option
@example("wordstack analogy man king woman\n"
         "wordstack analogy romeo juliet hamlet -n 5 -m models/small -m models/big --json\n"
         "wordstack analogy man king woman -m models/google --exact")
def analogy(a, b, c, models, topn, restrict_vocab, exact, as_json):
    """A is to B as C is to ?: the words nearest B - A + C (3CosAdd), the three inputs excluded.

    A model folder with a nearest-neighbour index (`wordstack index`) is searched
    through it (with the wider search width tuned for analogies); --exact scores
    every word instead. --restrict-vocab below half the vocabulary is always exact.
    A subword model builds words outside its vocabulary from their n-grams and says so.
    """
    payload = _queries.analogy(load_many(models), a, b, c, topn, restrict_vocab=restrict_vocab, exact=exact)
    results = payload["results"]
    if as_json:
        finish(results, True, payload)
        return
    if _queries.answered(results):
        click.echo(neighbors_table(f"{a} : {b} :: {c} : ?", results, topn))
    finish(results, False, {})


@click.command("odd-one-out")
@click.argument("words", nargs=-1, required=True)
@models_option("Model folder; repeat to compare models (default: the Shakespeare model).")
@click.option("--exact", is_flag=True,
              help="Accepted as for similar and analogy; odd-one-out is always exact: it compares the given words "
                   "with each other and searches no vocabulary, so an index has nothing to speed up.")
@json_option
@example("wordstack odd-one-out romeo juliet tybalt sword\n"
         "wordstack odd-one-out breakfast cereal dinner lunch --json")
def odd_one_out(words, models, exact, as_json):
    """The word of WORDS (at least 3) that fits least with the others.

    Each word is scored by the cosine between its vector and the mean of all
    the words' unit vectors; the lowest is the odd one out. This reads only the
    given words' vectors, so it never uses a nearest-neighbour index. A subword
    model builds words outside its vocabulary from their n-grams and marks them.
    """
    if len(words) < 3:
        raise click.UsageError(f"give at least 3 words, got {len(words)}")

    payload = _queries.odd_one_out(load_many(models), words)
    results = payload["results"]
    if not as_json:
        for r in results:
            if "error" in r:
                if len(results) > 1:
                    click.echo(f"{r['label']}: {r['error']}")
                continue
            mark = " (from subwords)"
            click.echo(f"{r['label']}: odd one out: {r['odd']}{mark if r['odd'] in r['subword_terms'] else ''}")
            for s in r["scores"]:
                word = s["word"] + (mark if s["from_subwords"] else "")
                click.echo(f"  {word:<24} {s['score']:.3f}")
    finish(results, as_json, payload)


@click.command()
@click.argument("a")
@click.argument("b")
@models_option()
@json_option
@example("wordstack similarity romeo juliet\n"
         "wordstack similarity king queen -m models/small -m models/big --json")
def similarity(a, b, models, as_json):
    """The cosine similarity of two words (or quoted phrases), in each model."""
    payload = _queries.similarity(load_many(models), a, b)
    results = payload["results"]
    if not as_json:
        for r in results:
            if "error" not in r:
                click.echo(f"{r['label']}: {r['similarity']:.3f}")
            elif len(results) > 1:
                click.echo(f"{r['label']}: {r['error']}")
    finish(results, as_json, payload)


@click.command()
@model_dir_argument
@click.option("--pairs", "pairs", multiple=True, type=click.Path(),
              help="Your own word-pairs file (word1<TAB>word2<TAB>score); repeatable.")
@click.option("--analogies", "analogies", multiple=True, type=click.Path(),
              help="Your own analogy file (questions-words.txt format); repeatable.")
@click.option("--standard/--no-standard", default=None,
              help="Include WordSim-353, SimLex-999 and the Google analogies (default: yes unless "
                   "--pairs/--analogies are given).")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=300_000, show_default=True,
              help="Use only the this many most frequent words (as gensim does).")
@click.option("--sections", is_flag=True, help="Also list each analogy section.")
@click.option("--oov", type=click.Choice(["skip", "subwords"]), default="skip", show_default=True,
              help="Words outside the vocabulary: skip the item, or (subword models) also score every item "
                   "with those words built from subwords, beside the in-vocabulary score.")
@json_option
@example("wordstack evaluate models/big\n"
         "wordstack evaluate imported/ --restrict-vocab 30000 --json\n"
         "wordstack evaluate models/big --analogies my_questions.txt --pairs my_pairs.tsv\n"
         "wordstack evaluate models/sub --oov subwords")
def evaluate(model_dir, pairs, analogies, standard, restrict_vocab, sections, oov, as_json):
    """Score a model on WordSim-353 and SimLex-999 (Spearman) and the Google analogies (accuracy).

    The benchmark files are the copies shipped with the installed gensim
    package; nothing is downloaded. Coverage (items skipped as out of
    vocabulary) is reported next to every score. On a subword model,
    --oov subwords adds a score on every item ("+subwords"), its words outside
    the vocabulary built from their n-grams (answers outside it count as wrong). Malformed lines of your own
    files are reported with their line numbers and the rest is evaluated.
    MODEL_DIR defaults to the Shakespeare model.
    """
    import corpus_tools as ct

    configure_logging()   # the malformed lines are warned about below, not logged a second time
    if standard is None:
        standard = not (pairs or analogies)
    vecs = load_one(model_dir)
    ev = ct.evaluate(vecs, pairs=list(pairs), analogies=list(analogies), standard=standard,
                     restrict_vocab=restrict_vocab, oov=oov)
    for score in [*ev.pairs, *ev.analogies]:
        if score.oov != "skip":
            continue                    # the same file again: its malformed lines are warned about once
        for m in score.malformed:
            warn(f"{score.path} line {m.line}: {m.reason}; skipped: {m.text[:60]!r}")
    if as_json:
        echo_json({"label": vecs.label, **ev.to_dict()})
        return
    click.echo(f"{vecs.label}: {counted(ev.vocab_size, 'word')}, restrict_vocab {restrict_vocab:,}")
    if ev.pairs:
        click.echo(f"\n  {'word pairs':<28}{'Spearman':>9}{'Pearson':>9}   coverage")
        for p in ev.pairs:
            sp = f"{p.spearman:.3f}" if p.spearman is not None else "n/a"
            pe = f"{p.pearson:.3f}" if p.pearson is not None else "n/a"
            name = p.name if p.oov == "skip" else f"{p.name} +subwords"
            rest = (f"{p.skipped} out of vocabulary" if p.oov == "skip" else
                    f"{p.from_subwords} with words from subwords" + (f", {p.skipped} without n-grams" if p.skipped
                                                                     else ""))
            click.echo(f"  {name:<28}{sp:>9}{pe:>9}   {p.evaluated}/{p.pairs} pair{'s' if p.pairs != 1 else ''} "
                       f"({_pct(p.coverage)}), {rest}")
    for a in ev.analogies:
        name = a.name if a.oov == "skip" else f"{a.name} +subwords"
        click.echo(f"\n  {'analogies: ' + name:<28}{'accuracy':>9}   coverage")
        rows = ([a.semantic, a.syntactic] if a.semantic.questions and a.syntactic.questions else []) + [a.total]
        if sections:
            rows = a.sections + rows
        for s in rows:
            acc = _pct(s.accuracy) if s.accuracy is not None else "n/a"
            rest = (f"{s.skipped} out of vocabulary" if a.oov == "skip" else
                    f"{s.from_subwords} with words from subwords" + (f", {s.skipped} without n-grams" if s.skipped
                                                                     else ""))
            click.echo(f"  {s.name:<28}{acc:>9}   {s.correct}/{s.evaluated} correct, {s.evaluated}/"
                       f"{s.questions} question{'s' if s.questions != 1 else ''} ({_pct(s.coverage)}), {rest}")


@click.command("map")
@model_dir_argument
@click.option("--words", "-w", "words", multiple=True,
              help="Words to place (repeat, or separate with commas); phrases may use spaces.")
@click.option("--top", type=click.IntRange(min=3), default=None,
              help="Place the N most frequent words instead (default 100).")
@click.option("--skip", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --top: leave out the K most frequent words first.")
@click.option("--method", type=click.Choice(["pca", "tsne"]), default="pca", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="t-SNE seed.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None, callback=picture_path, help=PICTURE_HELP)
@click.option("--title", default=None, help="Title of the picture.")
@json_option
@example("wordstack map --top 100 --skip 100 --method tsne --out map.png\n"
         "wordstack map models/big -w romeo,juliet,tybalt,hamlet,ophelia,king,queen --out people.png\n"
         "wordstack map --top 50 --json > coords.json")
def map_(model_dir, words, top, skip, method, seed, out, title, as_json):
    """A 2-D map (PCA or t-SNE) of chosen words, drawn as a labelled picture or printed as JSON coordinates.

    Labels are moved apart so that ~100 words stay readable. Unknown --words are
    skipped with a warning (and suggestions); at least 3 must be known. A subword
    model places unknown words from their n-grams instead (italic labels, marked
    "from subwords").
    MODEL_DIR defaults to the Shakespeare model.
    """
    import corpus_tools as ct

    if not out and not as_json:
        raise click.UsageError("give --out FILE.png (or .svg, .pdf) for the picture, or --json for the coordinates")
    if words and top is not None:
        raise click.UsageError("give either --words or --top, not both")
    word_list = [w.strip() for item in words for w in item.split(",") if w.strip()] or None
    vecs = load_one(model_dir)
    wm = ct.map_words(vecs, word_list, top=top, skip=skip, method=method, seed=seed)
    for s in wm.skipped:
        warn(f"{s['word']!r} is not in the vocabulary; skipped"
             + (f" (did you mean: {', '.join(s['suggestions'])}?)" if s["suggestions"] else ""))
    if out:
        ct.plot_map(wm, out, title=title)
    if as_json:
        echo_json({"model": str(vecs.path), "label": vecs.label, "out": out, **wm.to_dict()})
    else:
        built = "".join(f"; {w} (from subwords)" for w in wm.from_subwords)
        click.echo(f"Mapped {counted(len(wm.words), 'word')} ({method}{built}) -> {out}")


@click.command()
@model_dir_argument
@click.option("-k", "k", type=int, default=20, show_default=True, help="Number of clusters.")
@click.option("--top", type=click.IntRange(min=2), default=1000, show_default=True,
              help="Cluster the N most frequent words.")
@click.option("--skip", type=click.IntRange(min=0), default=0, show_default=True,
              help="Leave out the K most frequent words first (function words).")
@click.option("--show", type=click.IntRange(min=1), default=10, show_default=True,
              help="Words listed per cluster, nearest the centroid first.")
@click.option("--seed", type=int, default=0, show_default=True, help="KMeans (and t-SNE) seed.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None, callback=picture_path,
              help="Also draw the clusters (t-SNE map) into this picture: .png, .svg or .pdf.")
@json_option
@example("wordstack clusters -k 20 --top 1000\n"
         "wordstack clusters models/big -k 12 --top 500 --skip 50 --out clusters.png --json")
def clusters(model_dir, k, top, skip, show, seed, out, as_json):
    """KMeans clusters of the most frequent words, each listed by its words nearest the centroid.

    MODEL_DIR defaults to the Shakespeare model.
    """
    import corpus_tools as ct

    vecs = load_one(model_dir)
    result = ct.cluster_words(vecs, k, top=top, skip=skip, show=show, seed=seed)
    if out:
        ct.plot_clusters(vecs, result, out)
    if as_json:
        echo_json({"model": str(vecs.path), "label": vecs.label, "out": out, **result.to_dict()})
        return
    click.echo(f"{vecs.label}: {k} clusters of the {counted(len(result.words), 'most frequent word')}"
               + (f" after the first {skip}" if skip else ""))
    for c in result.clusters:
        click.echo(f"  {c.id:>3} ({c.size:>4} word{'s' if c.size != 1 else ' '}): {', '.join(c.words)}")
    if out:
        click.echo(f"Drawn -> {out}")


@click.command()
@model_dir_argument
@click.option("--format", "fmt", type=click.Choice(EXPORT_CHOICES), default="word2vec-bin", show_default=True,
              help="fasttext-bin (subword models): fastText's .bin with the n-grams, for fasttext.load_model.")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="File to write; it must not exist (wordstack never replaces a vectors file).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in the text formats.")
@json_option
@example("wordstack export models/big --format word2vec-bin --out big.bin\n"
         "wordstack export --format vec --out shakespeare.vec\n"
         "wordstack export models/sub --format fasttext-bin --out sub.bin")
def export(model_dir, fmt, out, precision, as_json):
    """Write a model's vectors as word2vec binary/text, fastText .vec, or (subword models) fastText .bin.

    The model is read block by block (a few hundred MB of memory for any size),
    with a progress bar. The .bin holds the character n-grams too, so the fastText
    tool builds words outside the vocabulary from it; it is written from the model
    folder's pickle-free files (its output matrix, unused by word vectors, is zero).
    MODEL_DIR defaults to the Shakespeare model.
    """
    import corpus_tools as ct

    if fmt == "fasttext-bin":
        res = ct.export_fasttext_bin(load_one(model_dir), out)
    else:
        bar = AmountProgress("exporting", unit="word")
        try:
            res = ct.export_vectors(resolve_models((model_dir,) if model_dir else ())[0], out, format=fmt,
                                    precision=precision, progress=bar)
        finally:
            bar.close()
    if as_json:
        echo_json({"out": str(res.path), "format": res.format, "vocab_size": res.vocab_size,
                   "vector_size": res.vector_size, "bytes": res.bytes})
    else:
        click.echo(f"Exported {counted(res.vocab_size, 'word')} x {counted(res.vector_size, 'dim')} ({res.format}, "
                   f"{counted(res.bytes, 'byte')}) -> {res.path}")


@click.command("import")
@click.argument("file", type=click.Path())
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Model folder to write.")
@click.option("--format", "fmt", type=click.Choice(("auto",) + FORMAT_CHOICES), default="auto", show_default=True,
              help="auto tells binary from text by the file's content.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Read only the first N vectors.")
@click.option("--unicode-errors", type=click.Choice(["strict", "replace", "ignore"]), default="strict",
              show_default=True, help="What to do with words that are not valid UTF-8.")
@json_option
@example("wordstack import GoogleNews-vectors-negative300.bin.gz --out models/google --limit 200000\n"
         "wordstack import cc.en.300.vec --out models/fasttext && wordstack similar king -m models/fasttext")
def import_(file, out, fmt, limit, unicode_errors, as_json):
    """Turn a word2vec (.bin/.txt), fastText .vec or GloVe file into a model folder (no pickle).

    The folder can then be used with similar, analogy, odd-one-out, evaluate,
    map, clusters, export and index. The file is streamed (gzip, bzip2 and xz
    too) through a fixed buffer into the folder, with a progress bar: memory
    stays at a few hundred MB whatever its size.
    """
    import corpus_tools as ct

    configure_logging()   # the duplicates are warned about below, not logged a second time
    bar = AmountProgress("importing")
    try:
        res = ct.import_vectors(file, out, format=fmt, limit=limit, unicode_errors=unicode_errors, progress=bar)
    finally:
        bar.close()
    if res.duplicates:
        warn(f"{counted(len(res.duplicates), 'duplicated word')}; kept the first vector of each "
             f"(e.g. {res.duplicates[0]!r})")
    if as_json:
        echo_json({"model": str(res.path), "source": str(res.source), "format": res.format, "header": res.header,
                   "vocab_size": res.vocab_size, "vector_size": res.vector_size,
                   "duplicates": len(res.duplicates), "seconds": round(res.seconds, 3)})
    else:
        click.echo(f"Imported {counted(res.vocab_size, 'word')} x {counted(res.vector_size, 'dim')} ({res.format}) in "
                   f"{res.seconds:.1f} s -> {res.path}")


@click.command("index")
@model_dir_argument
@click.option("-M", "--m", "m", type=click.IntRange(2, 512), default=32, show_default=True,
              help="Links per word in the HNSW graph: more is better recall and more memory (about 8*M bytes a word).")
@click.option("--ef-construction", type=click.IntRange(min=1), default=200, show_default=True,
              help="Search width while building: more is a better graph, built more slowly.")
@click.option("--ef-search", type=click.IntRange(min=1), default=None,
              help="Search width of queries (default: the smallest that reaches --target-recall on tuning words).")
@click.option("--target-recall", type=click.FloatRange(0, 1, min_open=True), default=0.98, show_default=True,
              help="Recall@10 against exact search the search widths are tuned for.")
@click.option("--queries", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Held-out words (and word triples) recall@10 is measured on; as many more tune the search widths.")
@click.option("--seed", type=int, default=0, show_default=True, help="Draws the query words.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Build threads (default: all cores).")
@json_option
@example("wordstack index models/google\n"
         "wordstack index models/google -M 32 --ef-construction 400 --target-recall 0.99 --json\n"
         "wordstack similar king -m models/google          (searched through the index)")
def index(model_dir, m, ef_construction, ef_search, target_recall, queries, seed, threads, as_json):
    """Build an approximate nearest-neighbour index (faiss HNSW) in a model folder, for fast queries.

    similar and analogy then search the index instead of every word (--exact
    skips it); the answers are scored as exactly. The index is stored beside the
    vectors (faiss's binary format, no pickle) and recorded in meta.json with its
    parameters and its measured recall@10 against exact search on held-out words.
    Rebuilding replaces it; a killed build leaves the folder as it was. An index
    that no longer matches the vectors is refused with an error saying to rebuild.
    MODEL_DIR defaults to the Shakespeare model.
    """
    import corpus_tools as ct

    configure_logging()
    folder = resolve_models((model_dir,) if model_dir else ())[0]
    bar = IndexProgress()
    try:
        res = ct.build_index(folder, m=m, ef_construction=ef_construction, ef_search=ef_search,
                             target_recall=target_recall, queries=queries, seed=seed, threads=threads, progress=bar)
    finally:
        bar.close()
    info = res.info
    for kind in res.missed:
        suffix = "" if kind == "word" else "_analogy"
        what = "single-word queries" if kind == "word" else "analogies (b - a + c)"
        met = (f" (single-word queries reached it at search width {info['ef_search']}: "
               f"{info['recall_at_10']:.3f})" if "word" not in res.missed else "")
        warn(f"{what} did not reach recall@10 {target_recall} even at the widest search tried "
             f"({info['ef_search' + suffix]}): {info['recall_at_10' + suffix]:.3f} on held-out queries{met}; build "
             "with a larger -M or --ef-construction for more, or query them with --exact")
    if as_json:
        echo_json({"model": str(folder), "index": str(res.path), "vocab_size": res.vocab_size,
                   "vector_size": res.vector_size, "target_met": res.target_met, **info})
        return
    click.echo(f"Indexed {counted(res.vocab_size, 'word')} x {counted(res.vector_size, 'dim')} "
               f"(faiss {info['library_version']} HNSW, M={info['M']}, efConstruction={info['ef_construction']}, "
               f"efSearch={info['ef_search']}, {info['ef_search_analogy']} for analogies) in "
               f"{info['build_seconds']:.1f} s: recall@10 {info['recall_at_10']:.3f} "
               f"({info['recall_at_10_analogy']:.3f} for analogies) against exact search on "
               f"{info['recall_queries']:,} held-out words and as many triples, "
               f"{info['query_ms']:.2f} ms a query -> {res.path}")


COMMANDS = [analogy, odd_one_out, similarity, evaluate, map_, clusters, export, import_, index]
__all__ = ["COMMANDS"]
