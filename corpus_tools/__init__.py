"""corpus_tools: books -> tokenized corpus -> gensim word2vec -> similar-word queries.

The public API, imported lazily so that the query path (:func:`load_vectors`)
pulls in numpy only, not gensim or NLTK:

Corpus
    :func:`find_books`, :func:`read_book`, :func:`read_text`, :func:`ingest`,
    :func:`load_corpus`, :class:`TokenizerSettings`, :class:`PhraseSettings`,
    :class:`Corpus`, :func:`shipped_corpus`.
Word vectors
    :func:`train`, :class:`Word2VecParams`, :func:`load_vectors`,
    :class:`Vectors`, :class:`Neighbor`, :func:`query_terms`, :func:`load_gensim_model`;
    subword (fastText) models: :class:`SubwordParams` (``train(..., subwords=...)``),
    :func:`ngram_hashes`, :func:`subword_vector`.
Evaluation, exploration, interop
    :func:`evaluate` (WordSim-353, SimLex-999, Google analogies),
    :func:`map_words`, :func:`plot_map`, :func:`cluster_words`, :func:`plot_clusters`,
    :func:`import_vectors`, :func:`export_vectors`, :func:`read_word2vec` (import and
    export stream: big files in bounded memory), :func:`export_fasttext_bin` (a subword
    model as fastText's ``.bin``).
Large models
    :func:`build_index` (a faiss HNSW index in the model folder, which
    ``Vectors.most_similar`` and ``analogy`` use unless ``exact=True``),
    :class:`IndexResult`, :class:`IndexMismatchError`.
Defaults
    :func:`wordstack_home`, :func:`default_model_dir`, :func:`default_corpus_dir`,
    :func:`ensure_default_model`.
Errors
    :class:`CorpusToolsError` and its subclasses.
Atomic writes, owned outputs and pictures
    The public modules :mod:`corpus_tools.atomic` (``atomic_path``, ``atomic_dir``,
    ``check_file_replaceable``, ``check_folder_replaceable``, ``exclusive_lock``,
    ``write_json``, ``recover_dir``) and :mod:`corpus_tools.pictures` (``save_figure``,
    ``is_wordstack_picture``), shared with ``models``; :class:`OutputFolderError` when a
    folder may not be replaced, :class:`OverwriteRefusedError` when a file may not.

Each name lives in the private module that ``_EXPORTS`` below names (the
``TYPE_CHECKING`` block spells the same imports out for editors).

Examples
--------
>>> import corpus_tools as ct                                    # doctest: +SKIP
>>> corpus = ct.ingest([ct.shipped_corpus()], "corpus/")         # doctest: +SKIP
>>> ct.train("corpus/", "model/", ct.Word2VecParams(epochs=10))   # doctest: +SKIP
>>> ct.load_vectors("model/").most_similar("romeo", topn=5)      # doctest: +SKIP
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    # errors
    "CorpusToolsError": "_errors",
    "NoBooksError": "_errors",
    "CorpusError": "_errors",
    "ModelError": "_errors",
    "OutputFolderError": "_errors",
    "CorpusOutputError": "_errors",
    "UnknownWordError": "_errors",
    "OverwriteRefusedError": "_errors",
    "MissingDependencyError": "_remote",
    # paths
    "wordstack_home": "_paths",
    "shipped_corpus": "_paths",
    "default_corpus_dir": "_paths",
    "default_model_dir": "_paths",
    # sources
    "find_books": "_sources",
    "read_book": "_sources",
    "read_text": "_sources",
    "BookInfo": "_sources",
    "UnreadableBookError": "_sources",
    # tokenize
    "TokenizerSettings": "_tokenize",
    "tokenize_text": "_tokenize",
    "train_punkt": "_punkt",
    "SentenceSplitter": "_punkt",
    # corpus folder
    "load_corpus": "_corpus_dir",
    "Corpus": "_corpus_dir",
    "SourceRecord": "_corpus_dir",
    # ingest
    "ingest": "_ingest",
    "PhraseSettings": "_phrases",
    # word2vec
    "train": "_word2vec",
    "Word2VecParams": "_word2vec",
    "EpochReport": "_word2vec",
    "TrainResult": "_word2vec",
    "load_gensim_model": "_word2vec",
    # subwords (fastText n-grams, numpy only)
    "SubwordParams": "_subwords",
    "ngram_hashes": "_subwords",
    "subword_vector": "_subwords",
    # vectors
    "Vectors": "_vectors",
    "Neighbor": "_vectors",
    "load_vectors": "_vectors",
    "query_terms": "_vectors",
    # evaluation
    "evaluate": "_evaluate",
    "evaluate_pairs": "_evaluate",
    "evaluate_analogies": "_evaluate",
    "gensim_test_data": "_evaluate",
    "Evaluation": "_evaluate",
    "PairsScore": "_evaluate",
    "AnalogyScore": "_evaluate",
    "AnalogySection": "_evaluate",
    "MalformedLine": "_evaluate",
    # exploration
    "map_words": "_explore",
    "plot_map": "_explore",
    "WordMap": "_explore",
    "cluster_words": "_explore",
    "plot_clusters": "_explore",
    "Clustering": "_explore",
    "Cluster": "_explore",
    # interop
    "import_vectors": "_interop",
    "export_vectors": "_interop",
    "read_word2vec": "_interop",
    "ImportResult": "_interop",
    "ExportResult": "_interop",
    "VectorsFileError": "_interop",
    "VECTOR_FORMATS": "_interop",
    # nearest-neighbour index
    "build_index": "_index",
    "IndexResult": "_index",
    "IndexMismatchError": "_index",
    "export_fasttext_bin": "_fasttext_export",
    # parallel work
    "default_jobs": "_executor",
    # defaults
    "ensure_default_model": "_defaults",
    "DEFAULT_CONFIGS": "_defaults",
    "DEFAULT_SUBWORDS": "_defaults",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for editors and type checkers; at run time names load lazily (__getattr__)
    from ._corpus_dir import Corpus, SourceRecord, load_corpus
    from ._defaults import DEFAULT_CONFIGS, DEFAULT_SUBWORDS, ensure_default_model
    from ._errors import (
        CorpusError,
        CorpusError,
        CorpusOutputError,
        CorpusToolsError,
        ModelError,
        NoBooksError,
        OutputFolderError,
        OverwriteRefusedError,
        UnknownWordError,
    )
    from ._evaluate import (
        AnalogyScore,
        AnalogySection,
        Evaluation,
        MalformedLine,
        PairsScore,
        evaluate,
        evaluate_analogies,
        evaluate_pairs,
        gensim_test_data,
    )
    from ._fasttext_export import export_fasttext_bin
    from ._explore import Cluster, Clustering, WordMap, cluster_words, map_words, plot_clusters, plot_map
    from ._executor import default_jobs
    from ._index import IndexMismatchError, IndexResult, build_index
    from ._ingest import ingest
    from ._interop import (
        VECTOR_FORMATS,
        ExportResult,
        ImportResult,
        VectorsFileError,
        export_vectors,
        import_vectors,
        read_word2vec,
    )
    from ._paths import default_corpus_dir, default_model_dir, shipped_corpus, wordstack_home
    from ._phrases import PhraseSettings
    from ._punkt import SentenceSplitter, train_punkt
    from ._remote import MissingDependencyError
    from ._sources import BookInfo, UnreadableBookError, find_books, read_book, read_text
    from ._subwords import SubwordParams, ngram_hashes, subword_vector
    from ._tokenize import TokenizerSettings, tokenize_text
    from ._vectors import Neighbor, Vectors, load_vectors, query_terms
    from ._word2vec import EpochReport, TrainResult, Word2VecParams, load_gensim_model, train


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corpus_tools' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
