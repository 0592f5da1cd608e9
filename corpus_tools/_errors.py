"""Exceptions raised by corpus_tools.

Every error carries a message that names the problem and the fix; the command line
prints it as ``Error: <message>`` and exits with status 1.
"""
from __future__ import annotations


class CorpusToolsError(Exception):
    """Base class of every error corpus_tools raises on bad input."""


class NoBooksError(CorpusToolsError):
    """The given paths name no readable book."""


class CorpusError(CorpusToolsError):
    """A corpus directory is missing, incomplete or inconsistent."""


class ModelError(CorpusToolsError):
    """A model directory is missing, truncated or corrupt."""


class OverwriteRefusedError(CorpusToolsError, FileExistsError):
    """A file is where a command would write, and wordstack cannot tell that it wrote it.

    wordstack replaces a file only when it recognises the file as its own (a picture
    carrying its mark); anything else at the path belongs to the user and is left
    alone. The message names the file and the fix: another name, or delete it first.
    """

    @classmethod
    def for_file(cls, path, reason: str) -> "OverwriteRefusedError":
        return cls(f"{path} already exists and {reason}; write to another name, or delete {path} "
                   "yourself first if you no longer need it")


class OutputFolderError(CorpusToolsError, ValueError):
    """An output folder may not be replaced: it holds files wordstack did not write,
    it is the current folder, or it is (or holds) the input. Nothing was written.

    Raised by :func:`corpus_tools.atomic.check_folder_replaceable` for every command that
    writes a folder (ingest, train, import, and the ``models`` commands).
    """


class CorpusOutputError(OutputFolderError, CorpusError):
    """The output folder of an ingest may not be replaced (also a :class:`CorpusError`, as
    ingest's refusals always were)."""


class UnknownWordError(CorpusToolsError, KeyError):
    """A query word is not in the model's vocabulary.

    Attributes
    ----------
    word : str
        The word that was not found.
    suggestions : list of str
        Vocabulary words closest to ``word`` by edit distance (most frequent first
        among equally close ones); may be empty.
    """

    def __init__(self, word: str, suggestions: list[str], model: str | None = None):
        self.word = word
        self.suggestions = list(suggestions)
        self.model = model
        where = f" of model {model}" if model else ""
        if self.suggestions:
            hint = "did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            hint = "no close match either; check the spelling or train on books that use it"
        super().__init__(f"{word!r} is not in the vocabulary{where}; {hint}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]
