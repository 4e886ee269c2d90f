"""The Data quality page's tables as shown: no empty cell reads "None" (it is blank, or a word where the gap means
something), every date in one style ("5 Dec 2026", with ", 14:05" where the time matters) and counts in words with
their proper plural. Dates stay datetimes in the frames, so that their columns sort by date; ``DATE_FORMATS`` says
how the page's table widget writes each. Pure: the page lays these frames out as they are.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from etl.wording import counted
from kpi.engine.data_quality import QualityReport

NOT_RECORDED = "not recorded"  # a load made before the loader kept this field
PUBLISHED_AREA = "All areas (published)"  # published statistics belong to no one area
DAY = "D MMM YYYY"  # a date column's format (momentJS, as Streamlit's column config takes it): 5 Dec 2026
MOMENT = "D MMM YYYY, HH:mm"  # a moment's: 5 Dec 2026, 04:39
DATE_FORMATS = {"Last loaded": DAY, "Data as at": DAY, "Latest record": DAY, "Finished": MOMENT, "Revised": MOMENT}


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def short_date(value) -> str:
    """A date as the page writes every date: '5 Dec 2026'; a 'YYYY-MM' month as 'Dec 2026'; blank when missing."""
    if _missing(value):
        return ""
    if isinstance(value, str) and len(value) == 7:
        return pd.Timestamp(value + "-01").strftime("%b %Y")
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%b %Y')}"


def short_datetime(value) -> str:
    """A moment in the page's date style with the time of day: '5 Dec 2026, 04:39'; blank when missing."""
    if _missing(value):
        return ""
    return f"{short_date(value)}, {pd.Timestamp(value).strftime('%H:%M')}"


def shown(df: pd.DataFrame, dates: tuple[str, ...] = (), words: dict[str, str] | None = None) -> pd.DataFrame:
    """``df`` ready to show: ``dates`` columns as datetimes (a gap stays NaT, which the page shows as its table's
    placeholder), gaps in the ``words`` columns given that word, every other gap blank (a number column with gaps
    written out with thousands separators, so that a gap can be blank)."""
    out = df.copy()
    words = words or {}
    for column in dates:
        out[column] = pd.to_datetime(out[column])
    for column in out.columns:
        gaps = out[column].isna()
        if column in dates or not gaps.any():
            continue
        if pd.api.types.is_numeric_dtype(out[column]):
            out[column] = ["" if _missing(v) else f"{v:,.0f}" if float(v).is_integer() else f"{v:,}"
                           for v in out[column]]
        else:
            out[column] = out[column].astype("object").where(~gaps, words.get(column, ""))
    return out


def date_formats(frame: pd.DataFrame) -> dict[str, str]:
    """The display format of each date column of ``frame``, for the page's column config."""
    return {column: DATE_FORMATS[column] for column in frame.columns if column in DATE_FORMATS}


def freshness_shown(freshness: pd.DataFrame) -> pd.DataFrame:
    """Freshness by source; a source never loaded has blank dates (its status says "Never loaded")."""
    return shown(freshness.drop(columns="status"), dates=("Last loaded", "Data as at", "Latest record"))


def history_shown(history: pd.DataFrame) -> pd.DataFrame:
    """The load history: published statistics' loads under "All areas (published)", fields older loads did not
    keep "not recorded" (a missing "Data as at" through the table's placeholder: the only gaps left are dates)."""
    return shown(history, dates=("Data as at", "Finished"),
                 words={"Date from": NOT_RECORDED, "Loaded by": NOT_RECORDED, "Area": PUBLISHED_AREA})


def quarantine_shown(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined values: an identifier's value (never stored) and a row not kept as read are blank."""
    return shown(quarantine)


def warnings_shown(warnings: pd.DataFrame) -> pd.DataFrame:
    """Load warnings: a warning about the whole file has a blank column."""
    return shown(warnings)


def revisions_shown(revisions: pd.DataFrame) -> pd.DataFrame:
    """Revised records, each with when it was revised in the page's date style."""
    return shown(revisions, dates=("Revised",))


def headline(report: QualityReport) -> str:
    """The page's first line: files loaded, rows quarantined, sources overdue, records revised."""
    loads = report.history["Load"].nunique() if len(report.history) else 0
    bad = int(report.history["Rows quarantined"].sum()) if len(report.history) else 0
    late = int((report.freshness["status"] == "overdue").sum())
    return (f"{counted(loads, 'file or sheet', 'files or sheets')} loaded, {counted(bad, 'row')} quarantined, "
            f"{counted(late, 'source')} overdue, {counted(len(report.revisions), 'record revision')}")


def as_of(moment: date | datetime) -> str:
    """When the page's tables were read, in its date style: 'As of 5 Dec 2026, 04:39'."""
    return f"As of {short_datetime(moment)}"
