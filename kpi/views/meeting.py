"""The Overview for a review meeting: the exceptions first, the status tiles' filter, the status each KPI had at the
last meeting, and the "since the last meeting" block in words (from kpi.views.changes.changes).

Pure functions on the board (kpi.views.board.board) and the changes frame, so the pages and the tests share them.
"""

from __future__ import annotations

import pandas as pd

from kpi.definitions import Catalogue
from kpi.views.charts import format_period, format_value, status_text

EXCEPTIONS = "exceptions"
EXCEPTIONS_LABEL = "Exceptions first"  # off track, then special-cause concern, then the rest worst first
NOT_IN_PLAN = "not_in_plan"
# Off track, then a special-cause concern, then the other statuses worst first; KPIs without a plan last.
_EXCEPTION_RANK = {"off_track": 0, "within_tolerance": 2, "no_data": 3, "too_few": 4, "suppressed": 5, "on_track": 6}
_CONCERN = {"concern_high", "concern_low"}
_UNPLANNED_RANK = 9


def exception_rank(status: str | None, variation: str | None, planned: bool) -> int:
    """How early a KPI comes in the exceptions-first order: off track (0), a special-cause concern (1), then
    within tolerance, no data, too few, suppressed, on track, other months with no status; unplanned KPIs last."""
    if not planned:
        return _UNPLANNED_RANK
    if status == "off_track":
        return 0
    if variation in _CONCERN:
        return 1
    return _EXCEPTION_RANK.get(status, 7)


def exceptions_first(rows: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The board with the exceptions first (:func:`exception_rank`); ties keep the plan's order."""
    planned = {k.id for k in catalogue.kpis if k.plan is not None}
    order = {k.id: i for i, k in enumerate(catalogue.kpis)}
    ranks = [exception_rank(s if isinstance(s, str) else None, v if isinstance(v, str) else None, k in planned)
             for s, v, k in zip(rows["status"], rows["variation"], rows["kpi_id"], strict=True)]
    return rows.assign(_rank=ranks, _plan=rows["kpi_id"].map(order)).sort_values(
        ["_rank", "_plan"], kind="stable").drop(columns=["_rank", "_plan"])


def tile_codes(rows: pd.DataFrame) -> pd.Series:
    """Each board row's status tile: its status, why it is not judged (baseline, partial), or not_in_plan. A KPI
    without a plan (no target) is not in plan even when its figure is suppressed: the Overview lists KPIs without
    a plan only on request, so counting them as suppressed gave a tile more KPIs than its cards."""
    shown = rows["status"].where(rows["status"].notna(), rows["unjudged"])
    codes = shown.map(lambda s: s if isinstance(s, str) and s else NOT_IN_PLAN)
    return codes.where(rows["target"].notna(), NOT_IN_PLAN)


def with_tile(rows: pd.DataFrame, code: str | None) -> pd.DataFrame:
    """The board rows under one status tile (every row when no tile is chosen)."""
    return rows if not code else rows[tile_codes(rows) == code]


def previous_statuses(changed: pd.DataFrame | None) -> dict[str, str | None]:
    """KPI id -> its status at the last meeting (the month as presented then), from the changes frame; a KPI
    whose figures then are not known (no extract dated by then) is left out, so nothing is claimed for it."""
    if changed is None or changed.empty:
        return {}
    known = changed[changed["then_known"].astype(bool)]
    return {k: (s if isinstance(s, str) else None) for k, s in zip(known["kpi_id"], known["status_then"],
                                                                     strict=True)}


def previous_status_text(status: str | None, since: str) -> str:
    """'At the last meeting (Feb 2024): ✖ Off track'; 'no status' when that month was not judged."""
    said = status_text(status) if status else "no status"
    return f"At the last meeting ({format_period(since)}): {said}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


NAMED_AT_MOST = 4  # KPIs named in a line of the "since the last meeting" block; more are counted


def since_summary(changed: pd.DataFrame) -> list[str]:
    """The "since the last meeting" block as a few lines a chair reads aloud: status moves, revised figures, new
    signals, actions due and overdue. Empty frame: one line saying there is nothing to compare."""
    if changed.empty:
        return ["No plan KPI to compare."]
    due, overdue = int(changed["actions_due"].sum()), int(changed["actions_overdue"].sum())
    actions = f"Actions due: {due}, of which {overdue} overdue."
    if not changed["then_known"].astype(bool).any():  # never "no KPI moved" when there is nothing to move from
        since = format_period(changed["since"].iloc[0])
        return [f"Nothing to compare with: no extract dated by the end of {since} covers that month, so what "
                "that meeting was shown is not known (load the extract it used to compare).", actions]
    moves = changed["status_change"].value_counts()
    names = lambda mask: ", ".join(changed.loc[mask, "name"])  # noqa: E731 - a short local helper

    def which(mask) -> str:  # a few are named; a long list is left to the KPI-by-KPI table
        return f" ({names(mask)})" if mask.sum() <= NAMED_AT_MOST else " (the table below names them)"

    unknown = ~changed["then_known"].astype(bool)
    # some KPIs' extracts (SEN2 or waiting lists) did not cover that month: the counts are of the others only
    of = f" (of the {_plural(int((~unknown).sum()), 'KPI')} known then)" if unknown.any() else ""
    lines = []
    worse, better = int(moves.get("worsened", 0)), int(moves.get("improved", 0))
    if worse or better:
        parts = [f"{_plural(worse, 'KPI')} worsened ({names(changed['status_change'] == 'worsened')})" if worse
                 else "", f"{_plural(better, 'KPI')} improved ({names(changed['status_change'] == 'improved')})"
                 if better else ""]
        lines.append(f"Status{of}: " + "; ".join(p for p in parts if p) + ".")
    else:
        lines.append(f"Status{of}: no KPI moved between on track, within tolerance and off track.")
    if unknown.any():
        lines.append(f"Not known then: {_plural(int(unknown.sum()), 'KPI')}{which(unknown)}, whose extracts dated "
                     "by then did not cover that month.")
    revised = changed["revised"].astype(bool)
    lines.append(f"Revised since presented{of}: {_plural(int(revised.sum()), 'figure')}"
                 + (f"{which(revised)}." if revised.any() else "."))
    signals = changed["new_signals"].fillna("") != ""
    lines.append(f"New special-cause signals: {_plural(int(signals.sum()), 'KPI')}"
                 + (f"{which(signals)}." if signals.any() else "."))
    lines.append(actions)
    return lines


def changes_table(changed: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The changes frame as displayed: one row per plan KPI, values formatted at the KPI's decimals, the rows
    that moved, were revised, signal or have actions due first."""
    out = []
    for r in changed.itertuples():
        kpi = catalogue.get(r.kpi_id)
        unit, d = kpi.unit, kpi.decimals
        out.append({
            "KPI": r.name,
            "Status then": status_text(r.status_then) if isinstance(r.status_then, str) else "–",
            "Status now": status_text(r.status_now) if isinstance(r.status_now, str) else "–",
            "Change": r.status_change or "–",
            "Presented then": format_value(r.value_then, unit, d),
            "Same month now": format_value(r.since_value_now, unit, d),
            "Revised": "Yes" if r.revised else "",
            "New signals": r.new_signals or "",
            "Actions due": r.actions or "",
            "_notable": bool(r.status_change in ("worsened", "improved", "changed") or r.revised or r.new_signals
                             or r.actions_due),
        })
    table = pd.DataFrame(out, columns=["KPI", "Status then", "Status now", "Change", "Presented then",
                                       "Same month now", "Revised", "New signals", "Actions due", "_notable"])
    return table.sort_values("_notable", ascending=False, kind="stable").drop(columns="_notable").reset_index(
        drop=True)
