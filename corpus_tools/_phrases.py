"""Phrases: gensim ``Phrases`` over the shards, then joined on the workers ("expecto_patronum").

The phrase model (Mikolov et al. 2013, "Distributed Representations of Words and
Phrases and their Compositionality", section 4: a bigram is kept when
``(count(a b) - min_count) * N / (count(a) * count(b))`` exceeds ``threshold``) is
trained once, here, over every shard (:func:`train_phrases`), frozen, and shipped
to the workers, which join the detected phrases block by block
(:func:`phrase_block`); the blocks come back in book order
(:func:`apply_phrases`) to be written to ``sentences.txt``.
"""
from __future__ import annotations

import hashlib
import pickle
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ._executor import Executor

#: Bytes of tokenized text per phrase-application task.
PHRASE_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class PhraseSettings:
    """Phrase detection with gensim ``Phrases`` ("expecto patronum" -> "expecto_patronum").

    Parameters
    ----------
    min_count : int, default 5
        Ignore word pairs seen fewer times.
    threshold : float, default 10.0
        Score a pair must exceed (gensim's default scoring); higher means fewer phrases.
    connector_words : bool, default True
        Let common English connectors sit inside phrases ("duke_of_york"), using
        gensim's ``ENGLISH_CONNECTOR_WORDS``.
    """

    min_count: int = 5
    threshold: float = 10.0
    connector_words: bool = True

    def __post_init__(self):
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ValueError(f"phrase min_count must be an integer >= 1, got {self.min_count!r}")
        if not self.threshold > 0:
            raise ValueError(f"phrase threshold must be > 0, got {self.threshold!r}")


def train_phrases(shards: list[Path], ps: PhraseSettings):
    """The frozen gensim phrase model of the shards' sentences (``FrozenPhrases``)."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    class _Lines:
        def __iter__(self):
            for shard in shards:
                with open(shard, encoding="utf-8") as fh:
                    for line in fh:
                        yield line.split()

    model = Phrases(
        _Lines(),
        min_count=ps.min_count,
        threshold=ps.threshold,
        delimiter="_",
        connector_words=ENGLISH_CONNECTOR_WORDS if ps.connector_words else frozenset(),
    )
    return model.freeze()


def phrases_record(frozen, ps: PhraseSettings) -> dict:
    """What the manifest says of the phrases: the settings and how many were found."""
    return {**asdict(ps), "count": len(frozen.phrasegrams)}


def phrases_file(frozen, ps: PhraseSettings) -> dict:
    """The content of ``phrases.json``: the settings and each phrase's score."""
    return {"settings": asdict(ps), "phrases": {k: float(v) for k, v in sorted(frozen.phrasegrams.items())}}


# ----------------------------------------------------------------------------- on the workers


def _load_phrases(payload: bytes):
    return pickle.loads(payload)


def phrase_block(item: tuple[bytes, bool], frozen) -> bytes:
    """Join the detected phrases in a block of tokenized lines (runs on a worker)."""
    data, compressed = item
    if compressed:
        data = zlib.decompress(data)
    lines = data.decode("utf-8").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    out = "".join(" ".join(frozen[line.split()]) + "\n" for line in lines).encode("utf-8")
    return zlib.compress(out, 1) if compressed else out


def line_blocks(shards: list[Path], compress: bool) -> Iterator[tuple[bytes, bool]]:
    """The shards' text in blocks of about PHRASE_BLOCK_BYTES that end at line ends."""
    for shard in shards:
        with open(shard, "rb") as fh:
            while block := fh.read(PHRASE_BLOCK_BYTES):
                if not block.endswith(b"\n"):
                    block += fh.readline()
                yield (zlib.compress(block, 1) if compress else block), compress


def apply_phrases(shards: list[Path], frozen, executor: Executor) -> Iterable[bytes]:
    """The shards' text with the phrases joined, in blocks of whole lines, in book order."""
    # The phrase model is trained once, here, and shipped to the workers that apply it.
    payload = pickle.dumps(frozen, protocol=pickle.HIGHEST_PROTOCOL)
    phrased = executor.map(phrase_block, line_blocks(shards, executor.compress),
                           (_load_phrases, hashlib.sha256(payload).hexdigest(), payload),
                           n_items=len(shards), ordered=True)
    return (zlib.decompress(b) if executor.compress else b for _, b in phrased)


__all__ = ["PHRASE_BLOCK_BYTES", "PhraseSettings", "apply_phrases", "line_blocks", "phrase_block",
           "phrases_file", "phrases_record", "train_phrases"]
