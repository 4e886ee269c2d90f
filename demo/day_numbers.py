"""Dates as day numbers (days since 1970-01-01), vectorised with numpy: how the demo generators count time.

Why: the generators draw hundreds of thousands of dates at once; whole-array integer arithmetic keeps england
scale fast and every result exact. ``NA`` stands for "no date" (an event that has not happened).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

NA = -(10**8)  # "no date" sentinel for day numbers
EPOCH = _dt.date(1970, 1, 1)


def day_of(date: _dt.date) -> int:
    """The day number of a date."""
    return (date - EPOCH).days


def date_of(day: int) -> _dt.date:
    """The date of a day number."""
    return EPOCH + _dt.timedelta(days=int(day))


def day_number(y: int, m: int, d: int = 1) -> int:
    """The day number of year y, month m, day d."""
    return day_of(_dt.date(y, m, d))


def year_of_month(mi: np.ndarray | int) -> np.ndarray | int:
    """Calendar year of each month index (months since 1970-01)."""
    return 1970 + mi // 12


def month_in_year(mi: np.ndarray | int) -> np.ndarray | int:
    """Position in its year of each month index: 0 for January to 11 for December."""
    return mi % 12


def january_of(years: np.ndarray | int) -> np.ndarray | int:
    """Month index (months since 1970-01) of each year's January."""
    return (years - 1970) * 12


def month_first_day(mi: np.ndarray | int) -> np.ndarray:
    """Day number of the first day of month index mi (months since 1970-01)."""
    return np.asarray(mi, dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_of_day(days: np.ndarray) -> np.ndarray:
    """Month index (months since 1970-01) of each day number."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def year_of_day(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def weekday_in_month(days: np.ndarray) -> np.ndarray:
    """Move Saturday to Friday and Sunday to Monday without leaving the month (office events)."""
    wd = (days + 3) % 7  # 0 = Monday
    out = days + np.where(wd == 5, -1, np.where(wd == 6, 1, 0))
    alt = days + np.where(wd == 5, 2, np.where(wd == 6, -2, 0))
    return np.where(month_of_day(out) != month_of_day(days), alt, out)


def weekday_back(days: np.ndarray) -> np.ndarray:
    """Move weekend days back to the Friday before (decisions are dated on working days)."""
    wd = (days + 3) % 7
    return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))
