"""Local extracts every APP needs that SEN2 does not hold (docs/extracts.md), declared like the Blade modules.

Why declared as :class:`etl.formats.sen2_blade.Module`: the loader's one validation (required values, types,
code lists, unique keys, impossible dates, quarantine, pseudonymisation, revisions) applies unchanged; only
the columns and a few row rules are new here. Each is a CSV or an Excel sheet with one header row and exactly
these columns (extra columns are ignored with a warning). ``person_id`` is the case system's person id, the same
id SEN2 carries as ``persontableid``: it is pseudonymised with the same key, so the same child links up.

Layouts (docs/extracts.md has a sample of each):

- advice requests ``request_id, person_id, advice_type, requested_date, received_date``;
- EHCP quality audits ``audit_id, person_id, audit_date, auditor, grade, score, plan_type``;
- placement sufficiency ``person_id, need_date, placed_date, setting_needed`` (key: person and need date);
- reduced timetables ``person_id, start_date, end_date, hours_per_week`` (key: person and start date);
- KPI returns from other teams ``kpi_id, period, numerator, denominator, value, note`` (key: KPI and period).
"""

from __future__ import annotations

from etl.formats.sen2_blade import Field, Module

ADVICE_TYPES = ("EP", "HEALTH", "SOCIAL_CARE", "OTHER")
AUDITORS = ("EDUCATION", "HEALTH", "SOCIAL_CARE", "MULTI_AGENCY", "PARENT")
GRADES = ("OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE")  # as written: "Requires Improvement"
PLAN_TYPES = ("NEW", "AMENDED")
MAX_HOURS_PER_WEEK = 40  # a full school week is about 32.5 hours; more than 40 is a typing error
MAX_SCORE = 10


def _person() -> Field:
    return Field("person_id", "person_key", "person_id", True)


LOCAL_MODULES: tuple[Module, ...] = (
    Module(
        "advice_requests", "advice_request", Field("request_id", "advice_request_id", "id", True), None, (
            _person(),
            Field("advice_type", "advice_type", "code", True, ADVICE_TYPES),
            Field("requested_date", "requested_date", "date", True),
            Field("received_date", "received_date", "date"),
        ),
        layout="local_advice_requests", exact_columns=True,
        rules=(("received_date < requested_date", "received_date", "advice is dated before it was requested"),),
        description="advice requests (request_id, person_id, advice_type, requested_date, received_date)",
    ),
    Module(
        "ehcp_audits", "ehcp_audit", Field("audit_id", "audit_id", "id", True), None, (
            _person(),
            Field("audit_date", "audit_date", "date", True),
            Field("auditor", "auditor", "code", True, AUDITORS),
            Field("grade", "grade", "code", True, GRADES),
            Field("score", "score", "number"),
            Field("plan_type", "plan_type", "code", True, PLAN_TYPES),
        ),
        layout="local_ehcp_audits", exact_columns=True,
        rules=((f"score < 0 OR score > {MAX_SCORE}", "score", f"score must be between 0 and {MAX_SCORE}"),),
        description="EHCP quality audits (audit_id, person_id, audit_date, auditor, grade, score, plan_type)",
    ),
    Module(
        "placement_sufficiency", "placement_need", _person(), None, (
            Field("need_date", "need_date", "date", True),
            Field("placed_date", "placed_date", "date"),
            Field("setting_needed", "setting_needed", "text"),
        ),
        layout="local_placement_sufficiency", key_parts=("person_key", "need_date"), exact_columns=True,
        rules=(("placed_date < need_date", "placed_date", "placed before the place was needed"),),
        description="placement sufficiency (person_id, need_date, placed_date, setting_needed)",
    ),
    Module(
        "reduced_timetables", "reduced_timetable", _person(), None, (
            Field("start_date", "start_date", "date", True),
            Field("end_date", "end_date", "date"),
            Field("hours_per_week", "hours_per_week", "number"),
        ),
        layout="local_reduced_timetables", key_parts=("person_key", "start_date"), exact_columns=True,
        rules=(
            ("end_date < start_date", "end_date", "reduced timetable ends before it starts"),
            (f"hours_per_week < 0 OR hours_per_week > {MAX_HOURS_PER_WEEK}", "hours_per_week",
             f"hours per week must be between 0 and {MAX_HOURS_PER_WEEK}"),
        ),
        description="reduced timetables (person_id, start_date, end_date, hours_per_week)",
    ),
    Module(
        "kpi_returns", "kpi_return", Field("kpi_id", "kpi_id", "text", True), None, (
            Field("period", "period", "period", True),
            Field("numerator", "numerator", "number"),
            Field("denominator", "denominator", "number"),
            Field("value", "value", "number"),
            Field("note", "note", "text"),
        ),
        layout="local_kpi_returns", key_parts=("kpi_id", "period"), exact_columns=True,
        rules=(
            ("value IS NULL AND numerator IS NULL", "value", "a return needs a value or a numerator"),
            ("denominator < 0 OR numerator < 0", "numerator", "counts cannot be negative"),
            ("denominator = 0 AND numerator > 0", "denominator", "a numerator over a zero denominator"),
            ("NOT regexp_matches(kpi_id, '^[a-z][a-z0-9_]*$')", "kpi_id",
             "not a KPI id (lower case letters, digits and _)"),
        ),
        description="KPI returns (kpi_id, period YYYY-MM, numerator, denominator, value, note)",
    ),
)

LOCAL_BY_NAME = {m.name: m for m in LOCAL_MODULES}
