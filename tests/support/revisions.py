"""Two extracts a month apart for the tests of what a later load changes: ``second_extract`` revises a record of
``first_extract`` and adds many new ones in every module (a load of it takes long enough to be stopped midway)."""

from __future__ import annotations

from tests.support.blade import Blade


def first_extract() -> Blade:
    b = Blade()
    r = b.issued_plan("2023-01-02", "2023-05-22")
    b.review(r, "2024-05-01", "2024-05-20", "M")
    return b


def second_extract() -> Blade:
    """Next month's extract: the same first records, one revised, and many new ones in every module."""
    b = first_extract()
    b.rows["sen2"][0]["year"] = 2026
    b.rows["assessment"][0]["week20"] = 1
    for i in range(300):
        r = b.issued_plan(f"2023-{1 + i % 12:02d}-03", f"2023-{1 + i % 12:02d}-20")
        b.review(r, "2024-06-01", "2024-06-15", "A")
    return b
