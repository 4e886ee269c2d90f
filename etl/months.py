"""Calendar months, in one place: 'YYYY-MM' periods, month indexes and the dates they start and end on.

Why: the loader, the engine, the views and the demo generators all step through months (a plan's month 6, the
same months a year earlier, the first day after a demo's window). Counting months as one integer,
``year * 12 + month - 1`` (the month index), makes a year boundary just another step; every function here is pure.
"""

from __future__ import annotations

import datetime as _dt
import re

NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
         "November", "December")
PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(period: str) -> tuple[int, int]:
    """'2023-07' → (2023, 7) (spaces around it ignored); ValueError for anything that is not a 'YYYY-MM' period."""
    m = PERIOD_RE.match(period.strip()) if isinstance(period, str) else None
    if not m:
        raise ValueError(f"period must be 'YYYY-MM', got {period!r}")
    return int(m.group(1)), int(m.group(2))


def index(month: str | _dt.date) -> int:
    """The month index of a 'YYYY-MM' period or of the month a date is in: year * 12 + month - 1."""
    if isinstance(month, _dt.date):
        return month.year * 12 + month.month - 1
    year, number = parse(month)
    return year * 12 + number - 1


def period_at(month_index: int) -> str:
    """The 'YYYY-MM' period of a month index (the inverse of :func:`index`)."""
    return f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"


def period_of(day: _dt.date) -> str:
    """The 'YYYY-MM' period a date is in."""
    return f"{day.year:04d}-{day.month:02d}"


def add(period: str, months: int) -> str:
    """A period moved by a number of months (negative: back): add('2023-11', 3) == '2024-02'."""
    return period_at(index(period) + months)


def count(first: str, last: str) -> int:
    """Months from ``first`` to ``last``, both included (0 or less when ``last`` comes before ``first``)."""
    return index(last) - index(first) + 1


def first_day(month: str | int) -> _dt.date:
    """The first day of a period ('YYYY-MM') or of a month index."""
    i = index(month) if isinstance(month, str) else int(month)
    return _dt.date(i // 12, i % 12 + 1, 1)


def last_day(month: str | int) -> _dt.date:
    """The last day of a period ('YYYY-MM') or of a month index."""
    i = index(month) if isinstance(month, str) else int(month)
    return first_day(i + 1) - _dt.timedelta(days=1)


def month_start(day: _dt.date, months: int = 0) -> _dt.date:
    """The first day of the month ``months`` after the one ``day`` is in (0: its own month's first day)."""
    return first_day(index(day) + months)


def label(period: str) -> str:
    """'2023-07' → 'July 2023'."""
    year, number = parse(period)
    return f"{NAMES[number - 1]} {year}"


def number(name: str) -> int:
    """A month's number from its English name, any case: 'february' → 2; ValueError for anything else."""
    try:
        return [n.lower() for n in NAMES].index(name.strip().lower()) + 1
    except ValueError:
        raise ValueError(f"not a month name: {name!r}") from None
