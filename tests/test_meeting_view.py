"""The Overview for a meeting in words and order (kpi/views/meeting.py): exceptions first, the status tiles'
filter, the status at the last meeting and the "since the last meeting" lines."""

from __future__ import annotations

import pandas as pd

from kpi.views.meeting import (
    exception_rank,
    exceptions_first,
    previous_status_text,
    previous_statuses,
    since_summary,
    tile_codes,
    with_tile,
)


def _board(catalogue, statuses: dict[str, tuple[str | None, str | None]]) -> pd.DataFrame:
    """A board with the given (status, variation) per KPI id, every other KPI on track and common cause."""
    rows = []
    for k in catalogue.kpis:
        status, variation = statuses.get(k.id, ("on_track" if k.plan else None, "common_cause"))
        rows.append({"kpi_id": k.id, "status": status, "variation": variation, "unjudged": None})
    return pd.DataFrame(rows)


def test_off_track_then_concern_then_the_rest_and_unplanned_last(catalogue):
    planned = [k.id for k in catalogue.kpis if k.plan is not None]
    unplanned = [k.id for k in catalogue.kpis if k.plan is None]
    a, b, c, d = planned[-1], planned[-2], planned[-3], planned[0]
    board = _board(catalogue, {a: ("off_track", "common_cause"), b: ("on_track", "concern_low"),
                               c: ("within_tolerance", "common_cause"), d: ("off_track", "concern_high")})
    ordered = list(exceptions_first(board, catalogue)["kpi_id"])
    assert ordered[:4] == [d, a, b, c]  # off track (plan order among them), then the concern, then within tolerance
    assert set(ordered[-len(unplanned):]) == set(unplanned)  # not in plan: after every planned KPI
    assert exception_rank(None, "concern_high", planned=False) == exception_rank("on_track", None, planned=False)


def test_tiles_filter_by_status_with_not_in_plan_and_unjudged_months(catalogue):
    board = pd.DataFrame({"kpi_id": ["a", "b", "c", "d", "e"],
                          "status": ["off_track", None, None, "on_track", "suppressed"],
                          "unjudged": [None, "baseline", None, None, None], "target": [60, 60, 60, 60, None]})
    # e: a KPI without a plan whose figure is suppressed is counted and filtered as not in plan, never suppressed
    assert list(tile_codes(board)) == ["off_track", "baseline", "not_in_plan", "on_track", "not_in_plan"]
    assert list(with_tile(board, "not_in_plan")["kpi_id"]) == ["c", "e"]
    assert with_tile(board, "suppressed").empty
    assert list(with_tile(board, None)["kpi_id"]) == ["a", "b", "c", "d", "e"]


def _changes(**over) -> pd.DataFrame:
    base = {"kpi_id": ["x", "y", "z"], "name": ["Reviews", "Plans", "Backlog"], "since": "2024-02",
            "then_known": [True, True, True],
            "status_then": ["off_track", "on_track", None], "status_now": ["on_track", "off_track", None],
            "status_change": ["improved", "worsened", ""], "revised": [True, False, False],
            "new_signals": ["2024-03 concern (high)", "", ""], "actions_due": [2, 0, 1],
            "actions_overdue": [1, 0, 0]}
    return pd.DataFrame({**base, **over})


def test_since_the_last_meeting_in_a_few_lines():
    lines = since_summary(_changes())
    assert lines == ["Status: 1 KPI worsened (Plans); 1 KPI improved (Reviews).",
                     "Revised since presented: 1 figure (Reviews).",
                     "New special-cause signals: 1 KPI (Reviews).",
                     "Actions due: 3, of which 1 overdue."]
    quiet = since_summary(_changes(status_change=["unchanged", "unchanged", ""], revised=[False] * 3,
                                   new_signals=[""] * 3, actions_due=[0] * 3, actions_overdue=[0] * 3))
    assert quiet[0] == "Status: no KPI moved between on track, within tolerance and off track."
    assert quiet[1:] == ["Revised since presented: 0 figures.", "New special-cause signals: 0 KPIs.",
                         "Actions due: 0, of which 0 overdue."]


def test_with_no_extract_dated_by_the_last_meeting_nothing_is_said_to_have_moved():
    """Extracts as at 30 September 2024 and 1 January 2025, and a last meeting in November 2024: no extract dated by
    then covers November, so what that meeting saw is not known and the block says so (never 'no KPI moved',
    '0 figures revised') and no card claims a status then; the actions, which do not depend on extracts, are still
    counted."""
    unknown = _changes(then_known=[False] * 3, status_then=[None] * 3, status_change=["changed"] * 3,
                       revised=[False] * 3, new_signals=[""] * 3)
    lines = since_summary(unknown)
    assert lines == ["Nothing to compare with: no extract dated by the end of February 2024 covers that month, so "
                     "what that meeting was shown is not known (load the extract it used to compare).",
                     "Actions due: 3, of which 1 overdue."]
    assert previous_statuses(unknown) == {}
    partly = _changes(then_known=[True, False, True], status_change=["improved", "not known", ""])
    assert previous_statuses(partly) == {"x": "off_track", "z": None}  # y's then is unknown: no claim at all
    lines = since_summary(partly)
    assert lines[0] == "Status (of the 2 KPIs known then): 1 KPI improved (Reviews)."  # y is not counted as a move
    assert lines[1] == "Not known then: 1 KPI (Plans), whose extracts dated by then did not cover that month."
    assert lines[2].startswith("Revised since presented (of the 2 KPIs known then): ")
    many = pd.concat([partly] + [partly.iloc[[1]].assign(kpi_id=f"k{i}", name=f"KPI {i}") for i in range(4)],
                     ignore_index=True)  # five unknown: counted, and left to the table to name
    assert since_summary(many)[1] == ("Not known then: 5 KPIs (the table below names them), whose extracts dated "
                                      "by then did not cover that month.")
    signalling = since_summary(many.assign(new_signals="2024-03 concern (high)"))
    assert "New special-cause signals: 7 KPIs (the table below names them)." in signalling


def test_the_status_at_the_last_meeting_per_kpi():
    was = previous_statuses(_changes())
    assert was == {"x": "off_track", "y": "on_track", "z": None}
    assert previous_status_text(was["x"], "2024-02") == "At the last meeting (February 2024): ✖ Off track"
    assert previous_status_text(was["z"], "2024-02") == "At the last meeting (February 2024): no status"
    assert previous_statuses(None) == {}
