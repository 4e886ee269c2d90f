"""Counts in words, singular or plural as the number needs ("1 file", "3 rows", "1,204 record revisions")."""

from __future__ import annotations

IRREGULAR = {"was": "were", "is": "are", "has": "have"}


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """The noun for ``n`` of it: ``noun`` for one, else ``nouns`` (default: the noun with an 's', or its
    irregular form)."""
    if n == 1:
        return noun
    return nouns or IRREGULAR.get(noun, noun + "s")


def counted(n: int, noun: str, nouns: str | None = None) -> str:
    """A count with its noun: '1 file', '0 rows', '5,000 record revisions' (thousands separated)."""
    return f"{n:,} {plural(n, noun, nouns)}"
