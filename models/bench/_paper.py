"""The published numbers the report sets beside ours: Table 2 of Delétang et al.,
"Neural Networks and the Chomsky Hierarchy" (ICLR 2023; arXiv 2207.02098).

Their score is the per-token accuracy averaged over the test lengths 41-500, in percent,
the maximum over the random seeds of each architecture (with the best of their
hyperparameter choices), after training on lengths 1-40.

Provenance: transcribed from Table 2 as the maintainers recall it (issue 13). The stored
copies of the paper this project can search hold its text but not that table, so the
numbers could not be checked against the PDF here; the report's caption says so
(:data:`PAPER_VERIFIED`). Set it to True once someone has compared every number with
the paper.
"""
from __future__ import annotations

__all__ = ["PAPER", "PAPER_COLUMNS", "PAPER_TABLE2", "PAPER_VERIFIED", "LEVEL_NAMES"]

PAPER = ('Delétang et al., "Neural Networks and the Chomsky Hierarchy", ICLR 2023 '
         '(arXiv 2207.02098), Table 2')

#: Whether every number below was checked against the paper's PDF.
PAPER_VERIFIED = False

#: Columns of Table 2 shown in the report, with their names in the paper.
PAPER_COLUMNS = {"rnn": "RNN", "stack_rnn": "Stack-RNN", "tape_rnn": "Tape-RNN", "lstm": "LSTM"}

_ORDER = ("rnn", "stack_rnn", "tape_rnn", "transformer", "lstm")
_ROWS = {
    "even_pairs": (100.0, 100.0, 100.0, 96.4, 100.0),
    "modular_arithmetic": (100.0, 100.0, 100.0, 24.2, 100.0),
    "parity_check": (100.0, 100.0, 100.0, 52.0, 100.0),
    "cycle_navigation": (100.0, 100.0, 100.0, 61.9, 100.0),
    "stack_manipulation": (56.0, 100.0, 100.0, 57.5, 59.1),
    "reverse_string": (62.0, 100.0, 100.0, 62.3, 60.9),
    "modular_arithmetic_brackets": (41.3, 96.1, 95.4, 32.5, 59.2),
    "solve_equation": (51.0, 56.2, 64.4, 25.7, 67.8),
    "duplicate_string": (50.3, 52.8, 100.0, 52.8, 57.6),
    "missing_duplicate_string": (52.3, 55.2, 100.0, 56.4, 54.3),
    "odds_first": (51.0, 51.9, 100.0, 52.8, 55.6),
    "binary_addition": (50.3, 52.7, 100.0, 54.3, 55.5),
    "binary_multiplication": (50.0, 52.7, 58.5, 52.2, 53.1),
    "compute_sqrt": (54.3, 56.5, 57.8, 52.4, 57.5),
    "bucket_sort": (27.9, 78.1, 70.7, 91.9, 99.3),
}

#: Per task: the paper's score (%) of each architecture (``rnn``, ``stack_rnn``,
#: ``tape_rnn``, ``transformer``, ``lstm``).
PAPER_TABLE2: dict[str, dict[str, float]] = {task: dict(zip(_ORDER, row)) for task, row in _ROWS.items()}

#: Headings of the Chomsky levels, in the paper's order.
LEVEL_NAMES = {"regular": "Regular (R)", "dcf": "Deterministic context-free (DCF)",
               "cs": "Context-sensitive (CS)", "other": "Other tasks"}
