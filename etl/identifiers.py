"""Identifier shapes: what a child's identifier looks like, as DuckDB regular expressions (RE2).

Identifier columns are never stored, but identifiers also arrive where no column says so: a free-text cell
("Sam O'Neil DOB 05/01/2010 UPN A123456789012"), or a cell of a misaligned row (an unquoted comma in a surname
shifts the birth date into ``sex`` and the ULN into ``upnunknown``). The loader checks such cells in SQL, where it
works, so loads stay one vectorised pass:

* a free-text cell (``FREE_TEXT``) holding any identifier shape is replaced whole by ``REMOVED`` (a name beside
  the identifier cannot be told by its shape, so nothing of the cell is kept) and the load warns;
* a quarantined value or row holds no cell of identifier shape (UPN, ULN, NHS number, full postcode; and in
  person-level modules any full date, which may be a birth date).
"""

from __future__ import annotations

import re

from etl.sql_text import literal
from etl.wording import counted, plural

REMOVED = "(removed: looked like a child's identifier)"


def removed_warning(n: int) -> str:
    """The load's warning for a column in which ``n`` free-text values were replaced by :data:`REMOVED`."""
    return (f"{counted(n, 'free-text value')} looked like a child's identifier (a UPN, ULN, NHS number, full "
            f"postcode, date or name label) and {plural(n, 'was')} removed")


# Column names (the layouts' sources) that hold free text: checked on every row that is loaded.
FREE_TEXT = frozenset({"removal_reason", "locality", "setting_needed", "note", "sensettingother"})

UPN = r"[A-Z][0-9]{11}[0-9A-Z]"  # 13 characters: a letter, 11 digits, a digit or a letter
TEN_DIGITS = r"[0-9]{10}|[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}"  # ULN, NHS number (also written 3-3-4)
POSTCODE = r"[A-Z]{1,2}[0-9][0-9A-Z]?[ ]*[0-9][A-Z]{2}"  # a full UK postcode (the district alone is not one)
MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
DATE = (r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}|[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2}"
        rf"|[0-9]{{4}}-({MONTHS})-[0-9]{{1,2}}|[0-9]{{1,2}}[ -]?({MONTHS})[a-z]*[ -]?[0-9]{{2,4}}"
        rf"|[0-9]{{1,2}}(st|nd|rd|th) ({MONTHS})[a-z]* [0-9]{{4}}|[0-9]{{8}}")  # also Blade's 2014-Mar-05
LABELS = r"dob|d\.o\.b|date of birth|born|upn|uln|nhs ?(no|number)|surname|forename|first name"


def _any(*alternatives: str) -> str:
    return "(?i)(^|[^0-9A-Za-z])(" + "|".join(alternatives) + ")($|[^0-9A-Za-z])"


SHAPES = _any(UPN, TEN_DIGITS, POSTCODE)
SHAPES_WITH_DATES = _any(UPN, TEN_DIGITS, POSTCODE, DATE)
FREE_TEXT_SHAPES = _any(UPN, TEN_DIGITS, POSTCODE, DATE, LABELS)
# Text people write (meeting notes, kpi/notes.py), refused when it matches one of these, named in the message.
# Dates are allowed: a narrative names meeting and due dates, and a birth date alone cannot be told from them
# (its label, "DOB 05/01/2010", can).
WRITTEN_TEXT_SHAPES = {"a UPN": _any(UPN), "a ULN or NHS number": _any(TEN_DIGITS), "a full postcode": _any(POSTCODE),
                       "an identifier's label (DOB, UPN, ULN, NHS number, name)": _any(LABELS)}


def looks_like_identifier_sql(expr: str, pattern: str = FREE_TEXT_SHAPES) -> str:
    """True when the text ``expr`` holds an identifier shape (NULL stays NULL)."""
    return f"regexp_matches({expr}, {literal(pattern)})"


def safe_sql(expr: str, dates: bool = False, pattern: str | None = None) -> str:
    """``expr``, or ``REMOVED`` when it holds an identifier shape (any full date too, with ``dates``): for values
    shown in the quarantine and the load report."""
    pattern = pattern or (SHAPES_WITH_DATES if dates else SHAPES)
    return f"CASE WHEN {looks_like_identifier_sql(expr, pattern)} THEN {literal(REMOVED)} ELSE {expr} END"


def free_text_sql(expr: str) -> str:
    """A free-text cell as stored: whole, or ``REMOVED`` when it holds an identifier shape or label."""
    return f"CASE WHEN {looks_like_identifier_sql(expr)} THEN {literal(REMOVED)} ELSE {expr} END"


def looks_like_identifier(text: str | None, pattern: str = SHAPES) -> bool:
    """The same test in Python (RE2 and Python agree on these patterns): for text that did not come through SQL."""
    return text is not None and re.search(pattern, text) is not None
