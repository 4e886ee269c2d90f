"""The demo's local extracts: deterministic, the same people as its SEN2 extract, nothing after the export date,
every file loads cleanly, and the KPIs they feed move the way the plan's story says."""

from __future__ import annotations

import csv
import filecmp

import duckdb
import pytest

from demo.local_extracts import HEADERS, generate_local
from demo.sen2 import generate
from etl.load import load_paths
from kpi import definitions
from kpi.engine.series import kpi_series, open_readonly


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    generate(out, start="2021-01", months=48)
    return out, generate_local(out)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_files_and_headers_are_the_documented_layouts(demo):
    _, paths = demo
    assert [p.name for p in paths] == [f"Local-Export_01-01-2025_{n}.csv" for n in HEADERS]
    for p, header in zip(paths, HEADERS.values(), strict=True):
        with open(p) as fh:
            assert next(csv.reader(fh)) == header
        assert len(_rows(p)) > 10


def test_same_seed_same_bytes(demo, tmp_path):
    _, paths = demo
    generate(tmp_path, start="2021-01", months=48)
    again = generate_local(tmp_path)
    assert all(filecmp.cmp(a, b, shallow=False) for a, b in zip(paths, again, strict=True))


def test_every_local_person_is_a_sen2_person_and_nothing_happens_after_export(demo):
    out, paths = demo
    people = {r["persontableid"] for r in _rows(next(out.glob("Blade-Export_*_person.csv")))}
    for p in paths:
        for r in _rows(p):
            if "person_id" in r:
                assert r["person_id"] in people
            for col, v in r.items():
                if col.endswith("_date") and v:
                    assert v < "2025-01-01", (p.name, col, v)


def test_the_demo_extracts_load_without_a_problem_and_feed_the_kpis(demo, tmp_path, monkeypatch):
    out, _ = demo
    db = tmp_path / "app.duckdb"
    report = load_paths([out], db)
    assert report.exit_code == 0 and not report.all_warnings
    con = open_readonly(db)
    try:
        s = kpi_series(con, definitions.load()).set_index(["kpi_id", "period"])["value"]
        linked = con.execute("SELECT count(*) FROM advice_request a JOIN person p USING (person_key)").fetchone()[0]
        advice = con.execute("SELECT count(*) FROM advice_request").fetchone()[0]
    finally:
        con.close()
    assert linked == advice  # pseudonymised with the same key: the same children
    # Before the APP the quality of plans was poor; by the end of 2024 most audited plans are Good or better.
    before = s["ehcp_audit_good"].loc["2021-01":"2022-12"].mean()
    after = s["ehcp_audit_good"].loc["2024-01":"2024-12"].mean()
    assert before < 45 < 60 < after
    assert s["awaiting_placement"].loc["2024-12"] < s["awaiting_placement"].loc["2023-01"]
    assert s["advice_6wk_ep"].loc["2024-01":"2024-12"].mean() > s["advice_6wk_ep"].loc["2022-01":"2022-12"].mean() + 20
    assert s["ehcp_pupil_attendance"].loc["2023-08":"2023-08"].isna().all()  # no return in August: no value


def test_audit_grades_before_the_app_match_the_2021_audit(demo):
    _, paths = demo
    audits = [r for r in _rows(paths[1]) if r["audit_date"] < "2023-01-01"]
    share = {g: sum(r["grade"] == g for r in audits) / len(audits) for g in
             ("Outstanding", "Good", "Requires Improvement", "Inadequate")}
    assert 0.25 < share["Good"] < 0.45 and 0.48 < share["Requires Improvement"] < 0.7
    assert share["Outstanding"] < 0.05 and share["Inadequate"] < 0.1


def test_generating_local_extracts_needs_the_sen2_files_first(tmp_path):
    with pytest.raises(ValueError, match="no Blade requests file"):
        generate_local(tmp_path)


def test_loading_the_demo_twice_is_a_no_op(demo, tmp_path):
    out, _ = demo
    db = tmp_path / "app.duckdb"
    load_paths([out], db)
    again = load_paths([out], db)
    assert {f.status for f in again.files} == {"unchanged"}
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM record_revision").fetchone() == (0,)
    con.close()
