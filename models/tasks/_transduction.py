"""The transduction tasks of Grefenstette et al. 2015: copy, reversal, bigram flip."""
from __future__ import annotations

from ._base import SymbolTask

__all__ = ["Copy", "Reverse", "BigramFlip"]


class Copy(SymbolTask):
    """Write the source again after the separator."""

    name = "copy"

    def transform(self, source):
        return source.copy()


class Reverse(SymbolTask):
    """Write the source backwards after the separator."""

    name = "reverse"

    def transform(self, source):
        return source[:, ::-1].copy()


class BigramFlip(SymbolTask):
    """Swap each adjacent pair: ``a b c d -> b a d c`` (even lengths only)."""

    name = "bigram-flip"
    min_length = 2

    def _length_ok(self, length):
        return length >= 2 and length % 2 == 0

    def _length_rule(self):
        return "bigram flip needs even lengths >= 2"

    def check_length(self, length):
        length = super().check_length(length)
        if length % 2:
            raise ValueError(f"bigram flip swaps adjacent pairs and needs an even length, got {length}")
        return length

    def transform(self, source):
        N, L = source.shape
        return source.reshape(N, L // 2, 2)[:, :, ::-1].reshape(N, L).copy()
