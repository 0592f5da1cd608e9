"""Evaluate word vectors on word-similarity and analogy benchmarks.

Word pairs (WordSim-353, Finkelstein et al. 2002; SimLex-999, Hill et al. 2015):
the Spearman rank correlation between human similarity ratings and the model's
cosine similarities. Analogies (the Google set of Mikolov et al. 2013,
``questions-words.txt``): the share of questions ``a b c d`` where ``d`` is the
vocabulary word nearest to ``b - a + c`` (3CosAdd, the three question words
excluded). The rules follow gensim's ``KeyedVectors.evaluate_word_pairs`` and
``evaluate_word_analogies`` (case-insensitive matching, ``restrict_vocab``,
sections whose name starts with ``gram`` are syntactic, the others semantic), so
the numbers can be compared with gensim's; the tests check that they agree.

With ``oov="subwords"`` a subword (fastText) model is also scored on every pair and
question (coverage 1.0, as in Bojanowski et al. 2017): a word outside the vocabulary
gets its vector from its character n-grams, and a question whose answer is outside
the (restricted) vocabulary counts as wrong, since answers are searched among the
vocabulary. These scores come beside the in-vocabulary ones, not instead of them.

The standard files are the copies shipped inside the installed gensim package
(``gensim/test/test_data/``), found through the package itself: nothing is
downloaded. Everything runs on :class:`corpus_tools.Vectors` (numpy), so no
pickle is loaded.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ._errors import UnknownWordError
from ._vectors import Vectors

logger = logging.getLogger(__name__)

#: The standard benchmarks: name -> file name in gensim's test data.
STANDARD_PAIRS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
STANDARD_ANALOGIES = {"google": "questions-words.txt"}

_BATCH = 512  # analogy questions scored per matrix product
#: What to do with words outside the vocabulary: skip the item (gensim's rule), or build
#: them from subwords (fastText models) and score every item.
OOV_CHOICES = ("skip", "subwords")


def gensim_test_data(name: str) -> Path:
    """Path of a file in the installed gensim package's ``test/test_data`` folder.

    Raises
    ------
    FileNotFoundError
        gensim is not installed, or this version does not ship the file.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("gensim is not installed; `pip install gensim>=4.3` (it ships the benchmark files)")
    path = Path(spec.origin).parent / "test" / "test_data" / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing from the installed gensim; reinstall it (`pip install --force-reinstall gensim`) "
            "or pass your own file"
        )
    return path


@dataclass(frozen=True)
class MalformedLine:
    """A line of a benchmark file that could not be read (it is skipped)."""

    line: int
    text: str
    reason: str


@dataclass
class PairsScore:
    """Correlation with human similarity ratings on one word-pairs file.

    Attributes
    ----------
    name, path : str
    spearman, pearson : float or None
        None when fewer than 2 pairs could be scored (or all scores are equal).
    spearman_pvalue : float or None
    pairs : int
        Well-formed pairs in the file.
    evaluated : int
        Pairs whose two words are both in the (restricted) vocabulary.
    skipped : int
        Pairs skipped as out of vocabulary (``pairs - evaluated``).
    malformed : list of MalformedLine
    oov : {"skip", "subwords"}
        How words outside the vocabulary were treated.
    from_subwords : int
        Pairs scored with at least one word built from subwords (``oov="subwords"``).
    """

    name: str
    path: str
    spearman: float | None
    spearman_pvalue: float | None
    pearson: float | None
    pairs: int
    evaluated: int
    skipped: int
    malformed: list[MalformedLine] = field(default_factory=list)
    oov: str = "skip"
    from_subwords: int = 0

    @property
    def coverage(self) -> float:
        """Share of the pairs that were scored."""
        return self.evaluated / self.pairs if self.pairs else 0.0


@dataclass
class AnalogySection:
    """Accuracy on one section of an analogy file (or on a group of sections)."""

    name: str
    correct: int
    evaluated: int
    skipped: int
    from_subwords: int = 0  # questions scored with a word built from subwords (oov="subwords")

    @property
    def questions(self) -> int:
        return self.evaluated + self.skipped

    @property
    def accuracy(self) -> float | None:
        """correct / evaluated, or None when no question could be evaluated."""
        return self.correct / self.evaluated if self.evaluated else None

    @property
    def coverage(self) -> float:
        return self.evaluated / self.questions if self.questions else 0.0


@dataclass
class AnalogyScore:
    """Accuracy on one analogy file: per section, semantic, syntactic and total."""

    name: str
    path: str
    sections: list[AnalogySection]
    semantic: AnalogySection
    syntactic: AnalogySection
    total: AnalogySection
    malformed: list[MalformedLine] = field(default_factory=list)
    oov: str = "skip"


@dataclass
class Evaluation:
    """Everything :func:`evaluate` measured on one model."""

    model: str | None
    vocab_size: int
    restrict_vocab: int
    pairs: list[PairsScore]
    analogies: list[AnalogyScore]
    oov: str = "skip"

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, with ``coverage`` and ``accuracy`` filled in."""

        def section(s: AnalogySection) -> dict:
            return {**asdict(s), "questions": s.questions, "accuracy": s.accuracy, "coverage": s.coverage}

        return {
            "model": self.model,
            "vocab_size": self.vocab_size,
            "restrict_vocab": self.restrict_vocab,
            "oov": self.oov,
            "pairs": [{**asdict(p), "coverage": p.coverage} for p in self.pairs],
            "analogies": [
                {
                    "name": a.name,
                    "path": a.path,
                    "oov": a.oov,
                    "semantic": section(a.semantic),
                    "syntactic": section(a.syntactic),
                    "total": section(a.total),
                    "sections": [section(s) for s in a.sections],
                    "malformed": [asdict(m) for m in a.malformed],
                }
                for a in self.analogies
            ],
        }


# ----------------------------------------------------------------------------- vocabulary


def _ok_vocab(vectors: Vectors, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """Query key -> row among the ``restrict_vocab`` most frequent words.

    Case-insensitively the key is the upper-cased word and the most frequent of
    several case variants wins (gensim's rule).
    """
    words = vectors.words[:restrict_vocab]
    if not case_insensitive:
        return {w: i for i, w in enumerate(words)}
    return {w.upper(): i for i, w in reversed(list(enumerate(words)))}


def _check_oov(vectors: Vectors, oov: str) -> bool:
    """True when words outside the vocabulary are to be built from subwords."""
    if oov not in OOV_CHOICES:
        raise ValueError(f"oov must be one of {', '.join(OOV_CHOICES)}, got {oov!r}")
    if oov == "subwords" and not vectors.has_subwords:
        raise ValueError(f"model {vectors.label} has no subword vectors, so --oov subwords cannot build the words "
                         "outside its vocabulary; train one with `wordstack train CORPUS --out DIR --subwords`")
    return oov == "subwords"


def _outside_vector(vectors: Vectors, word: str) -> np.ndarray | None:
    """Unit vector of a word outside the restricted vocabulary: its own (beyond the restriction) or built
    from subwords; None when it has neither (no n-gram)."""
    try:
        return vectors.vector(word)
    except UnknownWordError:
        return None


def _read_lines(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            yield from enumerate(fh, 1)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc}); save it as UTF-8") from None


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"benchmark file {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise IsADirectoryError(f"benchmark file {str(path)!r} is a folder; pass a file")
    return path


# ----------------------------------------------------------------------------- word pairs


def evaluate_pairs(vectors: Vectors, path: str | os.PathLike, *, name: str | None = None,
                   restrict_vocab: int = 300_000, case_insensitive: bool = True,
                   delimiter: str = "\t", oov: str = "skip") -> PairsScore:
    """Spearman (and Pearson) correlation of cosine similarities with human ratings.

    Parameters
    ----------
    vectors : Vectors
    path : str or path
        Lines ``word1<TAB>word2<TAB>score``; lines starting with ``#`` and blank
        lines are ignored; malformed lines are reported and skipped.
    name : str, optional
        Label for reports (default: the file name without extension).
    restrict_vocab : int, default 300000
        Only the this many most frequent words count as known.
    case_insensitive : bool, default True
    delimiter : str, default tab
    oov : {"skip", "subwords"}, default "skip"
        ``"subwords"`` (subword models only): score the pairs with a word outside the
        vocabulary too, building it from its n-grams.

    Returns
    -------
    PairsScore
    """
    from scipy import stats

    path = _check_file(path)
    build = _check_oov(vectors, oov)
    ok = _ok_vocab(vectors, restrict_vocab, case_insensitive)
    gold: list[float] = []
    rows_a: list[int] = []
    rows_b: list[int] = []
    outside: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # pair number -> unit vectors, oov="subwords"
    built = 0
    skipped = 0
    malformed: list[MalformedLine] = []
    for lineno, line in _read_lines(path):
        text = line.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        parts = text.split(delimiter)
        if len(parts) != 3:
            malformed.append(MalformedLine(lineno, text, f"expected 3 fields separated by {delimiter!r}, "
                                                         f"got {len(parts)}"))
            continue
        a, b, score = (p.strip() for p in parts)
        try:
            value = float(score)
        except ValueError:
            malformed.append(MalformedLine(lineno, text, f"score {score!r} is not a number"))
            continue
        key_a, key_b = (a.upper(), b.upper()) if case_insensitive else (a, b)
        if key_a not in ok or key_b not in ok:
            pair = [np.asarray(vectors.unit[ok[k]]) if k in ok else _outside_vector(vectors, w)
                    for k, w in ((key_a, a), (key_b, b))] if build else [None]
            if any(v is None for v in pair):
                skipped += 1
                continue
            outside[len(gold)] = (pair[0], pair[1])
            built += vectors.from_subwords(a) or vectors.from_subwords(b)
            key_a = key_b = next(iter(ok))           # a placeholder row, replaced below
        gold.append(value)
        rows_a.append(ok[key_a])
        rows_b.append(ok[key_b])
    if malformed:
        logger.warning("%s: %d malformed lines skipped (first: line %d)", path, len(malformed), malformed[0].line)
    spearman = pvalue = pearson = None
    if len(gold) >= 2:
        ua = np.asarray(vectors.unit[rows_a], dtype=np.float64)   # (P, D)
        ub = np.asarray(vectors.unit[rows_b], dtype=np.float64)   # (P, D)
        for i, (va, vb) in outside.items():
            ua[i], ub[i] = va, vb
        model_sims = np.einsum("pd,pd->p", ua, ub)
        gold_arr = np.asarray(gold)
        if np.ptp(gold_arr) > 0 and np.ptp(model_sims) > 0:
            res = stats.spearmanr(gold_arr, model_sims)
            spearman, pvalue = float(res.statistic), float(res.pvalue)
            pearson = float(stats.pearsonr(gold_arr, model_sims).statistic)
    return PairsScore(name=name or path.name.split(".")[0], path=str(path), spearman=spearman,
                      spearman_pvalue=pvalue, pearson=pearson, pairs=len(gold) + skipped, evaluated=len(gold),
                      skipped=skipped, malformed=malformed, oov=oov, from_subwords=int(built))


# ----------------------------------------------------------------------------- analogies


def _predict(vectors: Vectors, questions: np.ndarray, restrict: int, words_key: list[str],
             question_keys: list[tuple[str, str, str]], outside: np.ndarray) -> np.ndarray:
    """Predicted key (index into ``words_key``) for each question ``(a, b, c)``.

    ``questions`` holds a row per word: ``r >= 0`` is row ``r`` of the vectors, ``r < 0``
    is row ``-r - 1`` of ``outside`` (unit vectors of words outside the restricted
    vocabulary, built from subwords). For each question the candidates are the 5 rows
    nearest to the unit vector of ``b - a + c`` among the first ``restrict`` rows, the
    question's own rows excluded; the first whose key is none of the three question
    keys wins (gensim's ``evaluate_word_analogies`` rule). Returns -1 where no
    candidate qualifies.
    """
    unit = vectors.unit[:restrict]                                  # (R, D)
    if len(outside) == 0:
        outside = np.zeros((1, unit.shape[1]), np.float32)          # never read: no negative ids
    out = np.full(len(questions), -1, dtype=np.int64)
    topn = min(5, restrict)
    for s in range(0, len(questions), _BATCH):
        q = questions[s:s + _BATCH]                                 # (B, 3) rows a, b, c
        inside = q >= 0
        terms = np.where(inside[..., None], np.asarray(unit[np.where(inside, q, 0)], np.float32),
                         outside[np.where(inside, 0, -q - 1)])      # (B, 3, D)
        query = terms[:, 1] - terms[:, 0] + terms[:, 2]             # (B, D)
        norms = np.linalg.norm(query, axis=1, keepdims=True)
        query /= np.where(norms > 0, norms, 1.0)
        scores = query @ np.asarray(unit).T                         # (B, R)
        batch_rows = np.arange(len(q))[:, None]
        hit_rows, hit_cols = np.nonzero(inside)
        scores[hit_rows, q[hit_rows, hit_cols]] = -np.inf
        if topn < restrict:
            cand = np.argpartition(-scores, topn - 1, axis=1)[:, :topn]   # (B, topn)
        else:
            cand = np.tile(np.arange(restrict), (len(q), 1))
        order = np.argsort(-scores[batch_rows, cand], axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, axis=1)
        for i, row in enumerate(cand):
            ignore = set(question_keys[s + i])
            for r in row:
                if np.isfinite(scores[i, r]) and words_key[r] not in ignore:
                    out[s + i] = r
                    break
    return out


def evaluate_analogies(vectors: Vectors, path: str | os.PathLike, *, name: str | None = None,
                       restrict_vocab: int = 300_000, case_insensitive: bool = True,
                       oov: str = "skip") -> AnalogyScore:
    """Accuracy on an analogy file in the format of word2vec's ``questions-words.txt``.

    Parameters
    ----------
    vectors : Vectors
    path : str or path
        ``: section name`` lines start sections; every other non-blank line is a
        question ``a b c d`` (``a`` is to ``b`` as ``c`` is to ``d``). Lines
        with another number of words are reported with their line numbers and
        skipped; the rest are evaluated. Sections named ``gram...`` count as
        syntactic, all others as semantic.
    name : str, optional
    restrict_vocab : int, default 300000
        Questions with a word outside the this many most frequent words are
        skipped, and answers are searched among them only.
    case_insensitive : bool, default True
    oov : {"skip", "subwords"}, default "skip"
        ``"subwords"`` (subword models only): score every question; question words
        outside the vocabulary are built from their n-grams, and a question whose
        answer is outside the (restricted) vocabulary counts as wrong.

    Returns
    -------
    AnalogyScore
    """
    path = _check_file(path)
    build = _check_oov(vectors, oov)
    restrict = min(restrict_vocab, len(vectors))
    ok = _ok_vocab(vectors, restrict, case_insensitive)
    key_of = [w.upper() if case_insensitive else w for w in vectors.words[:restrict]]
    malformed: list[MalformedLine] = []
    section_names: list[str] = []
    section_skipped: list[int] = []
    questions: list[tuple[int, int, int]] = []
    question_keys: list[tuple[str, str, str]] = []
    expected: list[str] = []
    section_of: list[int] = []
    outside: list[np.ndarray] = []           # unit vectors of question words outside the vocabulary
    outside_id: dict[str, int] = {}          # key -> id (-1 - row of outside), or 0 when it has none
    built_of: list[bool] = []
    for lineno, line in _read_lines(path):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        if text.startswith(":"):
            section_names.append(text[1:].strip() or f"section at line {lineno}")
            section_skipped.append(0)
            continue
        parts = text.split()
        if len(parts) != 4:
            malformed.append(MalformedLine(lineno, text, f"expected 4 words, got {len(parts)}"))
            continue
        if not section_names:
            section_names.append("questions")
            section_skipped.append(0)
        keys = [p.upper() if case_insensitive else p for p in parts]
        if build:
            for k, w in zip(keys[:3], parts[:3]):
                if k not in ok and k not in outside_id:
                    vec = _outside_vector(vectors, w)
                    outside_id[k] = 0 if vec is None else -1 - len(outside)
                    if vec is not None:
                        outside.append(vec)
            ids = [ok[k] if k in ok else outside_id[k] for k in keys[:3]]
            if 0 in [outside_id.get(k) for k in keys[:3] if k not in ok]:   # a word without any n-gram
                section_skipped[-1] += 1
                continue
        elif any(k not in ok for k in keys):
            section_skipped[-1] += 1
            continue
        else:
            ids = [ok[k] for k in keys[:3]]
        questions.append((ids[0], ids[1], ids[2]))
        question_keys.append((keys[0], keys[1], keys[2]))
        built_of.append(any(vectors.from_subwords(w) for w in parts) if build else False)
        expected.append(keys[3])
        section_of.append(len(section_names) - 1)
    if malformed:
        logger.warning("%s: %d malformed lines skipped (first: line %d)", path, len(malformed), malformed[0].line)
    correct_by_section = np.zeros(len(section_names), dtype=np.int64)
    evaluated_by_section = np.zeros(len(section_names), dtype=np.int64)
    built_by_section = np.zeros(len(section_names), dtype=np.int64)
    if questions:
        outside_mat = np.array(outside, dtype=np.float32).reshape(len(outside), vectors.vector_size)
        predicted = _predict(vectors, np.asarray(questions, dtype=np.int64), restrict, key_of, question_keys,
                             outside_mat)
        sec = np.asarray(section_of)
        hits = np.array([p >= 0 and key_of[p] == e for p, e in zip(predicted, expected)], dtype=bool)
        np.add.at(correct_by_section, sec, hits.astype(np.int64))
        np.add.at(evaluated_by_section, sec, 1)
        np.add.at(built_by_section, sec, np.asarray(built_of, dtype=np.int64))
    sections = [AnalogySection(n, int(c), int(e), int(k), int(b)) for n, c, e, k, b in
                zip(section_names, correct_by_section, evaluated_by_section, section_skipped, built_by_section)]

    def group(label: str, members: list[AnalogySection]) -> AnalogySection:
        return AnalogySection(label, sum(m.correct for m in members), sum(m.evaluated for m in members),
                              sum(m.skipped for m in members), sum(m.from_subwords for m in members))

    syntactic = [s for s in sections if s.name.startswith("gram")]
    semantic = [s for s in sections if not s.name.startswith("gram")]
    return AnalogyScore(name=name or path.name.split(".")[0], path=str(path), sections=sections,
                        semantic=group("semantic", semantic), syntactic=group("syntactic", syntactic),
                        total=group("total", sections), malformed=malformed, oov=oov)


# ----------------------------------------------------------------------------- all together


def _standard(files: dict[str, str]) -> list[tuple[str, Path]]:
    return [(name, gensim_test_data(fname)) for name, fname in files.items()]


def _user(files: Sequence[str | os.PathLike] | None) -> list[tuple[str, Path]]:
    return [(Path(f).name.split(".")[0], Path(f)) for f in files or ()]


def evaluate(vectors: Vectors | str | os.PathLike, *, pairs: Sequence[str | os.PathLike] | None = None,
             analogies: Sequence[str | os.PathLike] | None = None, standard: bool | None = None,
             restrict_vocab: int = 300_000, case_insensitive: bool = True, oov: str = "skip") -> Evaluation:
    """Score word vectors on word-similarity and analogy benchmarks.

    Parameters
    ----------
    vectors : Vectors, str or path
        Loaded vectors or a model directory (loaded without pickle).
    pairs : sequence of paths, optional
        Your own word-pairs files (``word1<TAB>word2<TAB>score``).
    analogies : sequence of paths, optional
        Your own analogy files (``questions-words.txt`` format).
    standard : bool, optional
        Also score the standard benchmarks shipped with the installed gensim:
        WordSim-353, SimLex-999 and the Google analogies. Default: True when
        neither ``pairs`` nor ``analogies`` is given, else False.
    restrict_vocab : int, default 300000
        As in gensim: only the this many most frequent words are used.
    case_insensitive : bool, default True
    oov : {"skip", "subwords"}, default "skip"
        ``"subwords"`` (subword models only): each file is scored twice, in the
        vocabulary as usual and then on every item with the words outside the
        vocabulary built from subwords (``oov="subwords"`` in that score).

    Returns
    -------
    Evaluation
        Every score comes with its coverage (items scored / skipped as out of
        vocabulary) and the malformed lines that were skipped.

    Examples
    --------
    >>> ev = evaluate(load_vectors("model/"))                 # doctest: +SKIP
    >>> ev.pairs[0].name, round(ev.pairs[0].spearman, 2)     # doctest: +SKIP
    ('wordsim353', 0.21)
    """
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, int) or restrict_vocab < 1:
        raise ValueError(f"restrict_vocab must be an integer >= 1, got {restrict_vocab!r}")
    if not isinstance(vectors, Vectors):
        vectors = Vectors.load(vectors)
    modes = ("skip", "subwords") if _check_oov(vectors, oov) else ("skip",)
    if standard is None:
        standard = pairs is None and analogies is None
    pair_files = (_standard(STANDARD_PAIRS) if standard else []) + _user(pairs)
    analogy_files = (_standard(STANDARD_ANALOGIES) if standard else []) + _user(analogies)
    pair_scores = [evaluate_pairs(vectors, p, name=n, restrict_vocab=restrict_vocab,
                                  case_insensitive=case_insensitive, oov=mode)
                   for n, p in pair_files for mode in modes]
    analogy_scores = [evaluate_analogies(vectors, p, name=n, restrict_vocab=restrict_vocab,
                                         case_insensitive=case_insensitive, oov=mode)
                      for n, p in analogy_files for mode in modes]
    return Evaluation(model=str(vectors.path) if vectors.path else None, vocab_size=len(vectors),
                      restrict_vocab=restrict_vocab, pairs=pair_scores, analogies=analogy_scores, oov=oov)


__all__ = ["AnalogyScore", "AnalogySection", "Evaluation", "MalformedLine", "OOV_CHOICES", "PairsScore",
           "STANDARD_ANALOGIES",
           "STANDARD_PAIRS", "evaluate", "evaluate_analogies", "evaluate_pairs", "gensim_test_data"]
