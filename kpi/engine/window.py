"""Which areas and months a KPI series covers: data windows, the as-at date that ends them, area conditions and the
area × month grid every method's SQL counts into.

The bottom of the engine: every computation module (kpi/engine/compute*.py) builds on these and nothing here imports
them back, so imports run one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from etl import months
from etl.sql_text import in_list, literal


@dataclass(frozen=True)
class DataWindow:
    """First and last month the loaded records cover, and the as-at date of the newest extract (None when the
    database does not know it): the last month runs to it, and is complete only if it ends on or before it."""

    first: date
    last: date
    as_at: date | None = None

    @property
    def months(self) -> int:
        return months.index(self.last) - months.index(self.first) + 1


def to_as_at(window: DataWindow, as_at: date | None) -> DataWindow:
    """The window ending in the as-at date's month (never past it; never before the window's first month)."""
    if as_at is None:
        return window
    return DataWindow(window.first, max(window.first, as_at.replace(day=1)), as_at)


def span_of(windows: Mapping[str, DataWindow]) -> DataWindow | None:
    """The months any of the windows cover (None when there are none)."""
    if not windows:
        return None
    dates = [w.as_at for w in windows.values() if w.as_at is not None]
    return DataWindow(min(w.first for w in windows.values()), max(w.last for w in windows.values()),
                      max(dates) if dates else None)


def areas_condition(areas, column: str = "area_code") -> str:
    """A condition keeping the rows of ``areas`` (TRUE for None: every area; none for an empty list)."""
    if areas is None:
        return "TRUE"
    return f"{column} IN ({in_list(areas)})" if areas else "FALSE"


def area_condition(area: str | None, column: str = "area_code") -> str:
    """A condition keeping one area's rows (TRUE for every area): for the per-event views (Explore, Explain)."""
    return areas_condition(None if area is None else [area], column)


@dataclass(frozen=True)
class Scope:
    """Which areas and months a series covers: the areas holding rows in ``table`` (the KPI's source), each over
    its own window (``windows``: area → months), or every such area over one window."""

    table: str
    windows: Mapping[str, DataWindow] | DataWindow

    @property
    def areas(self) -> list[str] | None:
        return None if isinstance(self.windows, DataWindow) else sorted(self.windows)

    def where(self, column: str = "area_code") -> str:
        """A condition keeping rows of the chosen areas (TRUE when every area is wanted)."""
        return areas_condition(self.areas, column)

    def grid_cte(self) -> str:
        """``aw`` (area, first_month, last_month, as_at) and ``grid``: every (area, month, month_end) with a row."""
        def at(w: DataWindow) -> str:
            return f"DATE '{w.as_at}'" if w.as_at else "NULL::DATE"

        if isinstance(self.windows, DataWindow):
            w = self.windows
            aw = (f"SELECT DISTINCT area_code, DATE '{w.first}' AS first_month, DATE '{w.last}' AS last_month, "
                  f"{at(w)} AS as_at FROM {self.table}")
        elif self.windows:
            rows = ", ".join(f"({literal(a)}, DATE '{w.first}', DATE '{w.last}', {at(w)})"
                             for a, w in sorted(self.windows.items()))
            aw = f"SELECT * FROM (VALUES {rows}) v(area_code, first_month, last_month, as_at)"
        else:
            aw = ("SELECT NULL::VARCHAR AS area_code, NULL::DATE AS first_month, NULL::DATE AS last_month, "
                  "NULL::DATE AS as_at WHERE FALSE")
        return (f"aw AS ({aw}), "
                "grid AS (SELECT area_code, CAST(m AS DATE) AS period, "
                "CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end "
                "FROM (SELECT area_code, unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS m "
                "FROM aw))")
