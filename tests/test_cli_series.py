"""`python -m kpi series`: the contract columns, formats and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb

from kpi.__main__ import main as kpi_main
from tests.support.blade import Blade

ROOT = Path(__file__).resolve().parent.parent


def _db(build_db):
    b = Blade()
    b.issued_plan("2022-11-01", "2023-01-31")  # 91 days
    b.issued_plan("2022-08-01", "2023-01-20")  # 172 days
    b.issued_plan("2023-01-02", "2023-07-03", week20=1)
    return build_db(b)


def test_series_csv_has_contract_columns_and_plan_values(build_db, capsys):
    db = _db(build_db)
    assert kpi_main(["series", "--db", str(db), "--kpi", "ehcp_20wk_excl"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"kpi_id", "period", "numerator", "denominator", "value", "rolling_12m", "basis", "complete", "target",
            "trajectory", "status"} <= set(rows[0])
    jan = next(r for r in rows if r["period"] == "2023-01")
    assert (jan["numerator"], jan["denominator"], float(jan["value"])) == ("1", "2", 50.0)
    assert float(jan["trajectory"]) == 12.0 and float(jan["target"]) == 49.2
    assert jan["basis"] == "rolling_12m" and jan["complete"] == "True"
    assert jan["status"] == ""  # the baseline month is the plan's starting point: no status
    assert {r["kpi_id"] for r in rows} == {"ehcp_20wk_excl"}
    assert [r["period"] for r in rows] == sorted(r["period"] for r in rows)


def test_series_has_no_target_or_status_before_the_plan_baseline(build_db, capsys):
    """The plan starts in January 2023: the months before it have no trajectory, so no target and no status (they
    were 'no data' or 'off track' against a plan not yet started)."""
    db = _db(build_db)
    assert kpi_main(["series", "--db", str(db), "--kpi", "ehcp_20wk_excl"]) == 0
    rows = {r["period"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["2022-12"]["value"] == ""  # no plan issued that month, and nothing planned either
    before = [r for p, r in rows.items() if p < "2023-01"]
    assert before and all((r["trajectory"], r["target"], r["status"]) == ("", "", "") for r in before)
    assert rows["2023-01"]["status"] == "" and rows["2023-07"]["status"] != ""


def test_series_json_all_kpis(build_db, capsys, catalogue):
    db = _db(build_db)
    assert kpi_main(["series", "--db", str(db), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["kpi_id"] for r in data} == set(catalogue.ids)
    jul = next(r for r in data if r["kpi_id"] == "ehcp_20wk_incl" and r["period"] == "2023-07")
    assert (jul["numerator"], jul["denominator"], jul["value"]) == (0, 1, 0.0)


def test_series_user_mistakes_exit_2_with_one_line(build_db, tmp_path, capsys):
    db = _db(build_db)
    assert kpi_main(["series", "--db", str(db), "--kpi", "nonsense"]) == 2
    assert "unknown KPI id(s): nonsense" in capsys.readouterr().err
    assert kpi_main(["series", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "no database at" in capsys.readouterr().err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert kpi_main(["series", "--db", str(empty)]) == 2
    assert "load data" in capsys.readouterr().err


def test_module_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kpi", "series", "--db", str(tmp_path / "none.duckdb")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")
    proc = subprocess.run([sys.executable, "-m", "etl", "load", str(tmp_path / "none.csv"), "--db",
                           str(tmp_path / "x.duckdb")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
