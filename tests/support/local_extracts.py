"""Hand-built local CSV extracts for tests: their headers and a writer."""

from __future__ import annotations

import csv

ADVICE = ["request_id", "person_id", "advice_type", "requested_date", "received_date"]
AUDITS = ["audit_id", "person_id", "audit_date", "auditor", "grade", "score", "plan_type"]
PLACEMENT = ["person_id", "need_date", "placed_date", "setting_needed"]
REDUCED = ["person_id", "start_date", "end_date", "hours_per_week"]
RETURNS = ["kpi_id", "period", "numerator", "denominator", "value", "note"]


def write(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path
