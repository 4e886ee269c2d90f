"""How the Data quality page shows its tables (issue 20): gaps blank or a word, one date style (dates kept as
datetimes, so that they sort, with a display format for each), plural wording."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from etl.wording import counted, plural
from kpi.views.quality_view import (
    DAY,
    MOMENT,
    PUBLISHED_AREA,
    date_formats,
    history_shown,
    revisions_shown,
    short_date,
    short_datetime,
    shown,
)


def test_counts_are_singular_for_one_and_plural_otherwise():
    assert counted(1, "file") == "1 file"
    assert counted(3, "row") == "3 rows"
    assert counted(0, "source") == "0 sources"
    assert counted(5000, "record revision") == "5,000 record revisions"
    assert counted(1, "file or sheet", "files or sheets") == "1 file or sheet"
    assert counted(2, "file or sheet", "files or sheets") == "2 files or sheets"
    assert plural(2, "was") == "were" and plural(1, "was") == "was"


def test_one_date_style_for_dates_moments_and_months():
    assert short_date(date(2026, 12, 5)) == "5 Dec 2026"
    assert short_date("2024-03-04") == "4 Mar 2024"
    assert short_date(pd.Timestamp("2024-03-04 10:00")) == "4 Mar 2024"
    assert short_date("2024-12") == "Dec 2024"
    assert short_datetime(datetime(2026, 12, 5, 4, 39, 11)) == "5 Dec 2026, 04:39"
    assert short_date(None) == short_date(pd.NaT) == short_datetime(None) == ""


def test_the_display_formats_write_the_same_style_as_short_date():
    """momentJS formats (Streamlit's column config): 'D MMM YYYY' is short_date's '5 Dec 2026'."""
    assert (DAY, MOMENT) == ("D MMM YYYY", "D MMM YYYY, HH:mm")


def test_gaps_become_blank_or_their_word_dates_stay_datetimes_and_numbers_keep_their_separators():
    df = pd.DataFrame({"When": [date(2025, 1, 2), None], "Who": pd.Series(["ana", None], dtype="string"),
                       "Days": [1234.0, None], "Rows": [3, 4]})
    out = shown(df, dates=("When",), words={"Who": "not recorded"})
    assert pd.api.types.is_datetime64_any_dtype(out["When"])
    assert out["When"].iloc[0] == pd.Timestamp("2025-01-02") and pd.isna(out["When"].iloc[1])
    assert out.drop(columns="When").to_dict("list") == {"Who": ["ana", "not recorded"], "Days": ["1,234", ""],
                                                        "Rows": [3, 4]}
    assert out["Rows"].dtype.kind == "i"  # a column with no gap stays a number


def test_date_columns_sort_by_date_not_alphabetically():
    """'10 Jan' sorts after '9 Feb' as text; as datetimes the table's sort puts January first."""
    revisions = pd.DataFrame({"Load": [1, 2], "Revised": pd.to_datetime(["2025-02-09 08:00", "2025-01-10 09:00"]),
                              "Module": ["plans", "plans"]})
    out = revisions_shown(revisions)
    assert out.sort_values("Revised")["Load"].tolist() == [2, 1]
    assert date_formats(out) == {"Revised": MOMENT}


def test_published_loads_name_their_area_and_missing_fields_say_not_recorded():
    history = pd.DataFrame({
        "Load": [2, 1], "Finished": pd.to_datetime(["2025-02-01 09:05", "2025-01-01 10:00"]),
        "Data as at": [pd.Timestamp("2025-01-31"), pd.NaT], "Date from": ["sen2 header", None],
        "Loaded by": ["ana", None], "Area": ["E06000056", None]})
    out = history_shown(history)
    assert out.loc[1, ["Date from", "Loaded by", "Area"]].tolist() == ["not recorded", "not recorded", PUBLISHED_AREA]
    assert pd.isna(out.loc[1, "Data as at"])  # the page's placeholder for this table says "not recorded"
    assert out.loc[0, ["Finished", "Data as at"]].tolist() == [pd.Timestamp("2025-02-01 09:05"),
                                                               pd.Timestamp("2025-01-31")]
    assert date_formats(out) == {"Finished": MOMENT, "Data as at": DAY}
