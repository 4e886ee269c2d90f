"""What changed since the last meeting: per plan KPI, its status then and now, the figure presented then against
today's figure for the same month, new SPC signals, and the actions due or overdue.

"Then" is the series as it stood at the earlier meeting: computed with only the extracts dated on or before its
as-of day (``kpi_series(..., as_of=…)``; by default the last day of the earlier month). "Now" is today's series.
:func:`changes` works on series already computed (a page's, or a role's suppressed series) and is pure;
:func:`since_last_meeting` computes both series and reads the actions from the notes file.
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from kpi import notes as meeting_notes
from kpi.area_plans import NO_PLAN, PlanBook
from kpi.definitions import Catalogue, KpiDefinition
from kpi.engine.series import kpi_series
from kpi.engine.trajectory import OFF_TRACK, ON_TRACK, WITHIN_TOLERANCE
from kpi.views.board import spc_for

COLUMNS = ["area_code", "kpi_id", "name", "since", "period", "plan", "then_known", "status_then", "status_now",
           "status_change", "value_then", "value_now", "since_value_now", "revision", "revised", "variation_then",
           "variation_now", "new_signals", "actions_due", "actions_overdue", "actions"]
_RANK = {OFF_TRACK: 0, WITHIN_TOLERANCE: 1, ON_TRACK: 2}
NOT_KNOWN = "not known"  # the status change where no extract dated by the last meeting covered its month


def meeting_as_of(since: str) -> date:
    """The day the earlier meeting's figures stood at by default: the last day of its month."""
    year, month = (int(x) for x in since.split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def status_change(then: str | None, now: str | None) -> str:
    """improved, worsened or unchanged between two judged statuses; changed (e.g. to too few to judge), or '' when
    neither month was judged."""
    if then == now:
        return "unchanged" if then else ""
    if then in _RANK and now in _RANK:
        return "improved" if _RANK[now] > _RANK[then] else "worsened"
    return "changed"


def _at(rows: pd.DataFrame, period: str) -> pd.Series | None:
    found = rows[rows["period"] == period]
    return found.iloc[0] if len(found) else None


def _value(row: pd.Series | None, column: str) -> float | None:
    return None if row is None or pd.isna(row[column]) else float(row[column])


def _status(row: pd.Series | None) -> str | None:
    return None if row is None or not isinstance(row["status"], str) else row["status"]


def _unjudged(row: pd.Series | None) -> pd.Series | None:
    """The row without its status: an area without a plan shows figures only, whatever series it was given."""
    if row is None:
        return None
    row = row.copy()
    row["status"] = None
    return row


def _new_signals(rows: pd.DataFrame, kpi: KpiDefinition, since: str, period: str) -> tuple[str | None, str]:
    """The variation icon at ``period`` and the months after ``since`` up to it that are special cause."""
    periods, result = spc_for(rows, kpi, period)
    if result is None:
        return None, ""
    points = result.points.reset_index(drop=True)
    signals = [f"{p} {points.loc[i, 'point_type']} ({points.loc[i, 'signal_side']})"
               for i, p in enumerate(periods) if p > since and points.loc[i, "point_type"] != "common_cause"]
    return result.variation_icon, "; ".join(signals)


def _revised(before: float | None, after: float | None, decimals: int) -> bool:
    """Whether a figure presented as ``before`` now reads differently at the decimals it is shown with."""
    return before is not None and after is not None and round(before, decimals) != round(after, decimals)


def _action_text(row: pd.Series) -> str:
    late = ", overdue" if row["overdue"] else ""
    return f"{row['text']} ({row['owner']}, due {row['due'].isoformat()}{late})"


def area_kpis(catalogue: Catalogue, plans: PlanBook | None, area: str, period: str) -> tuple[str, list[KpiDefinition]]:
    """(plan name, KPIs shown) for ``area`` in ``period``: with ``plans``, the area's own plan in force and its KPIs,
    or, for an area without a plan, every KPI under :data:`NO_PLAN`; without, the catalogue's plan and its KPIs."""
    if plans is None:
        return catalogue.plan_window.name, [k for k in catalogue.kpis if k.plan is not None]
    planned = plans.has_plan(area)
    own = plans.catalogue_for(area, period)
    return plans.plan_name(area, period), [k for k in own.kpis if k.plan is not None or not planned]


def changes(now: pd.DataFrame, then: pd.DataFrame, catalogue: Catalogue, period: str, since: str,
            actions: pd.DataFrame | None = None, on: date | None = None,
            plans: PlanBook | None = None) -> pd.DataFrame:
    """One row per area and plan KPI: the status of ``since`` as it stood then (``then``) against the status of
    ``period`` now (``now``; ``then_known`` is False where ``then`` has no row for ``since``: no extract dated by
    then covered it, so what the meeting was shown is not known); the judged figure of ``since`` as presented
    against today's figure for that month (``revised`` when it reads differently at the KPI's decimals); the
    variation icon then and now and the months after ``since`` that are special cause; and the notes' open actions
    (``actions``: :func:`kpi.notes.current`) due on or before ``on`` (default today), overdue ones counted apart.
    With ``plans`` (kpi/area_plans.py) each area's KPIs are those of its own plan in force in ``period``; an area
    without a plan has a row for every KPI, its figures without status (``plan`` says so)."""
    due = meeting_notes.due_actions(actions, on or date.today()) if actions is not None and len(actions) else None
    rows = []
    now_by = dict(tuple(now.groupby(["area_code", "kpi_id"], sort=False)))
    then_by = dict(tuple(then.groupby(["area_code", "kpi_id"], sort=False)))
    for area in sorted(set(now["area_code"]) | set(then["area_code"])):
        plan_name, kpis = area_kpis(catalogue, plans, area, period)
        judged = plan_name != NO_PLAN
        for kpi in kpis:
            rows_now = now_by.get((area, kpi.id), now.iloc[:0]).sort_values("period")
            rows_then = then_by.get((area, kpi.id), then.iloc[:0]).sort_values("period")
            was, is_, since_now = _at(rows_then, since), _at(rows_now, period), _at(rows_now, since)
            known = was is not None
            if not judged:
                was, is_ = _unjudged(was), _unjudged(is_)
            value_then, since_value_now = _value(was, kpi.basis_column), _value(since_now, kpi.basis_column)
            variation_then, _ = _new_signals(rows_then, kpi, since, since)
            variation_now, signals = _new_signals(rows_now, kpi, since, period)
            mine = due[(due["area_code"] == area) & (due["kpi_id"] == kpi.id)] if due is not None else None
            rows.append({
                "area_code": area, "kpi_id": kpi.id, "name": kpi.short_name, "since": since, "period": period,
                "plan": plan_name, "then_known": known,
                "status_then": _status(was), "status_now": _status(is_),
                "status_change": status_change(_status(was), _status(is_)) if known else NOT_KNOWN,
                "value_then": value_then, "value_now": _value(is_, kpi.basis_column),
                "since_value_now": since_value_now,
                "revision": None if value_then is None or since_value_now is None else since_value_now - value_then,
                "revised": _revised(value_then, since_value_now, kpi.decimals),
                "variation_then": variation_then, "variation_now": variation_now, "new_signals": signals,
                "actions_due": 0 if mine is None else len(mine),
                "actions_overdue": 0 if mine is None else int(mine["overdue"].sum()),
                "actions": "" if mine is None else "; ".join(_action_text(r) for _, r in mine.iterrows()),
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def since_last_meeting(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, db_path: Path | str, period: str,
                       since: str, areas: list[str] | None = None, since_as_of: date | None = None,
                       on: date | None = None, plans: PlanBook | None = None) -> pd.DataFrame:
    """:func:`changes` for ``period`` against the meeting of ``since`` (as it stood at ``since_as_of``, by default
    the last day of that month), with the actions of the notes file beside ``db_path``. With ``plans`` each area is
    judged against its own plan in force each month (kpi/area_plans.py)."""
    ids = _kpi_ids(catalogue, plans, areas, period)
    now = kpi_series(con, catalogue, ids, areas, plans=plans)
    then = kpi_series(con, catalogue, ids, areas, since_as_of or meeting_as_of(since), plans=plans)
    actions = meeting_notes.list_notes(db_path, area_code=areas[0] if areas and len(areas) == 1 else None)
    return changes(now, then, catalogue, period, since, actions, on, plans)


def _kpi_ids(catalogue: Catalogue, plans: PlanBook | None, areas: list[str] | None, period: str) -> list[str] | None:
    """The KPIs to compute: those of each area's plan; every KPI (None) when an area may have no plan."""
    if plans is not None and (areas is None or not all(plans.has_plan(a) for a in areas)):
        return None
    wanted = {k.id for a in (areas or [None]) for k in area_kpis(catalogue, plans, a, period)[1]}
    return [k.id for k in catalogue.kpis if k.id in wanted]
