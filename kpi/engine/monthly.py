"""The shapes every KPI method counts into months, and the finish steps that turn the counts into values.

SQL shapes (one row per area and month of the scope's grid, every month present): a monthly rate or mean over event
rows (the month of the completing event; none after the area's as-at date) and a count at each month end over
intervals. Finish steps (pandas, per KPI): the month's value and the rolling 12-month value from numerators and
denominators, or the month-end figure alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.definitions import KpiDefinition
from kpi.engine.window import Scope

RATE_MEASURES = "count(*) FILTER (WHERE met) AS numerator, count(*) AS denominator, NULL::DOUBLE AS median"
MEAN_MEASURES = "sum(weeks) AS numerator, count(*) AS denominator, median(weeks) AS median"


def event_month_sql(events: str, scope: Scope, measures: str = RATE_MEASURES) -> str:
    """Per area and month of the completing event, ``measures`` (numerator, denominator, median) over an ``events``
    query yielding area_code and event_date (and ``met`` for a rate, ``weeks`` for a mean); 0 events: 0 / 0."""
    return f"""
    WITH {scope.grid_cte()},
    ev AS (SELECT area_code, CAST(date_trunc('month', event_date) AS DATE) AS period, {measures}
           FROM ({events}) e JOIN aw USING (area_code)
           WHERE event_date IS NOT NULL AND event_date <= coalesce(aw.as_at, event_date)
             AND {scope.where("e.area_code")}
           GROUP BY 1, 2)
    SELECT g.area_code, g.period, coalesce(ev.numerator, 0) AS numerator, coalesce(ev.denominator, 0) AS denominator,
           ev.median
    FROM grid g LEFT JOIN ev USING (area_code, period)
    ORDER BY g.area_code, g.period
    """


def interval_count_sql(intervals: str, scope: Scope) -> str:
    """Count at each month end of intervals (start_date inclusive, end_date exclusive; NULL end = open), per area.

    An interval is counted at the month ends from its start's month to the month before its end's month (a month
    end E counts it when start_date <= E < end_date). So each interval adds one from its first counted month (or
    the area's first month) and takes it away at its end's month, and the count is the running sum of those
    changes: one pass over the intervals, not intervals x months."""
    return f"""
    WITH {scope.grid_cte()},
    iv AS (SELECT area_code, CAST(date_trunc('month', start_date) AS DATE) AS first_month,
                  CAST(date_trunc('month', end_date) AS DATE) AS stop_month
           FROM ({intervals})
           WHERE start_date IS NOT NULL AND (end_date IS NULL OR end_date > start_date) AND {scope.where()}),
    kept AS (SELECT iv.area_code, greatest(iv.first_month, aw.first_month) AS first_month, iv.stop_month,
                    aw.last_month
             FROM iv JOIN aw USING (area_code)
             WHERE iv.first_month <= aw.last_month AND (iv.stop_month IS NULL OR iv.stop_month > aw.first_month)),
    delta AS (SELECT area_code, first_month AS period, count(*) AS d FROM kept GROUP BY 1, 2
              UNION ALL
              SELECT area_code, stop_month, -count(*) FROM kept WHERE stop_month <= last_month GROUP BY 1, 2),
    net AS (SELECT area_code, period, sum(d) AS d FROM delta GROUP BY 1, 2)
    SELECT g.area_code, g.period,
           CAST(sum(coalesce(net.d, 0)) OVER (PARTITION BY g.area_code ORDER BY g.period) AS BIGINT) AS numerator,
           NULL::BIGINT AS denominator, NULL::DOUBLE AS median
    FROM grid g LEFT JOIN net USING (area_code, period)
    ORDER BY g.area_code, g.period
    """


def rolling_12(values: pd.Series, areas: pd.Series) -> pd.Series:
    """Sum of the 12 months ending at each row, within each area (rows sorted by area, then month, every month
    present); empty until an area has 12 months, and wherever one of the 12 is empty. Vectorised: a running sum
    minus the running sum 12 rows earlier, never across an area boundary."""
    v = values.to_numpy(dtype="float64")
    n = len(v)
    if n == 0:
        return values.astype("float64")
    codes = pd.factorize(areas.to_numpy())[0]
    starts = np.r_[True, codes[1:] != codes[:-1]]
    position = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    total = np.concatenate(([0.0], np.cumsum(np.nan_to_num(v, nan=0.0))))
    gaps = np.concatenate(([0], np.cumsum(np.isnan(v))))
    ends = np.arange(1, n + 1)
    begins = np.maximum(ends - 12, 0)
    window = total[ends] - total[begins]
    complete = (position >= 11) & (gaps[ends] - gaps[begins] == 0)
    return pd.Series(np.where(complete, window, np.nan), index=values.index)


def finish_flow(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """A flow (events in the month): value = numerator / denominator (× 100 for a rate), and the same over the 12
    months to the period."""
    df = df.copy()
    num = df["numerator"].astype("float64")
    den = df["denominator"].astype("float64")
    scale = 100.0 if kpi.is_rate else 1.0
    df["value"] = (scale * num / den).where(den > 0)
    roll_num = rolling_12(num, df["area_code"])
    roll_den = rolling_12(den, df["area_code"])
    df["rolling_12m"] = (scale * roll_num / roll_den).where(roll_den > 0)
    return df


def finish_month_end(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """A month-end figure: the count, or for a rate 100 × numerator / denominator; no rolling 12-month value."""
    df = df.copy()
    num = df["numerator"].astype("float64")
    den = df["denominator"].astype("float64")
    df["value"] = (100.0 * num / den).where(den > 0) if kpi.is_rate else num
    df["rolling_12m"] = float("nan")
    return df


def finish_median(df: pd.DataFrame, kpi: KpiDefinition) -> pd.DataFrame:
    """The month-end median itself (none when nobody waits); no rolling 12-month value."""
    df = df.copy()
    df["value"] = df["median"].astype("float64")
    df["rolling_12m"] = float("nan")
    return df
