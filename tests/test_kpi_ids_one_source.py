"""KPI ids have one source, kpi_definitions.yaml: the DfE map and the waiting-list KPIs come from it, no code builds
an id by string formatting, and renaming a KPI either keeps working or fails `python -m kpi validate` clearly."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import jsonschema
import pytest
import yaml

from etl.formats.dfe_kpi_map import map_rows, read_entries, seed_kpi_map
from kpi import definitions
from kpi.__main__ import main as kpi_main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
HOME = "E06000056"  # Central Bedfordshire, the demo's home area


def _defs(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped definitions with ``old`` replaced by ``new`` (which must occur)."""
    text = definitions.DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "kpi_definitions.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# --- the waiting-list block ---------------------------------------------------------------------------------------

def test_the_waiting_list_block_expands_to_the_entries_it_replaced():
    """Captured from the catalogue before the 30 entries became one services × measures block: same ids in the same
    order, same names, texts, computations, owners and plans."""
    before = json.loads((FIXTURES / "kpi_catalogue_before_block.json").read_text(encoding="utf-8"))
    cat = definitions.load()
    assert cat.ids == before["ids_in_order"]
    for old in before["waiting_list_kpis"]:
        kpi = cat.get(old["id"])
        assert kpi.model_dump(mode="json", exclude={"published"}) == old
        assert kpi.published is None
    assert cat.get("wait_over_18wk_salt").plan.target.value == 45.0
    assert cat.get("wait_over_18wk_ot").plan is None


def test_a_broken_block_is_refused_with_the_block_and_the_problem_named(tmp_path):
    bad = _defs(tmp_path, 'name: "Children waiting for {service}"', 'name: "Children waiting for {servce}"')
    with pytest.raises(definitions.DefinitionError) as err:
        definitions.load(bad)
    assert err.value.stage == "shape"
    assert "waiting-list block" in err.value.problems[0] and "{servce}" in err.value.problems[0]

    bad = _defs(tmp_path, "            wait_over_52wk_salt:\n", "            wait_over_52wk_slat:\n")
    with pytest.raises(definitions.DefinitionError, match="plans for wait_over_52wk_slat, which is none of its KPIs"):
        definitions.load(bad)

    bad = _defs(tmp_path, "        - {service: OT, id: ot,", "        - {service: OTT, id: ot,")
    with pytest.raises(definitions.DefinitionError, match=r"services\.1\.service"):
        definitions.load(bad)


# --- the DfE map --------------------------------------------------------------------------------------------------

def test_the_dfe_map_is_the_one_that_was_in_the_code():
    """The published blocks give exactly the rows the code's KPI_MEASURES list gave (the name is now the KPI's)."""
    before = json.loads((FIXTURES / "published_kpi_map_before.json").read_text(encoding="utf-8"))
    expected = sorted((m["kpi_id"], m["dataset"], m["priority"], m["numerator"], m["denominator"], m["rate"],
                       m["polarity"], m["note"]) for m in before)
    etl_rows = map_rows(read_entries())
    assert sorted((r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[8]) for r in etl_rows) == expected
    # The ETL's narrow reading and the validated catalogue give the same map.
    assert map_rows(definitions.load().published_entries) == etl_rows


def test_a_broken_published_block_fails_validation_naming_the_kpi(tmp_path, capsys):
    bad = _defs(tmp_path, "          numerator: plans_issued_20_weeks_ex\n", "")
    assert kpi_main(["--definitions", str(bad), "validate"]) == 1
    assert "kpi ehcp_20wk_excl: published.sources.0.numerator: Field required" in capsys.readouterr().err


def test_no_kpi_id_is_built_by_string_formatting():
    """No f-string in kpi/, pages/, etl/ (or app.py, demo/, bench/) starts like a KPI id and fills in the rest."""
    cat = definitions.load()
    ids = cat.ids + [m.id for m in cat.published_measures]
    prefixes = {i[:n + 1] for i in ids for n, ch in enumerate(i) if ch == "_" and i[:n].count("_") >= 1}
    f_string = re.compile(r"""\bf(["'])(.*?)\1""")
    found = []
    for root in ("kpi", "pages", "etl", "demo", "bench", "app.py"):
        base = ROOT / root
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for m in f_string.finditer(line):
                    found += [f"{path.relative_to(ROOT)}:{n}: {m.group(0)}" for p in prefixes if p + "{" in m.group(2)]
    assert found == []


# --- renaming a KPI -----------------------------------------------------------------------------------------------

def test_renaming_a_dfe_measure_kpi_fails_validate_or_keeps_benchmarks_working(tmp_path, published_db, capsys,
                                                                                monkeypatch):
    from kpi.engine.benchmark import benchmark, published_map_problems
    from kpi.views.comparison import comparable_kpis

    renamed = _defs(tmp_path, "  - id: ehcp_20wk_excl\n", "  - id: plans_on_time_excl\n")
    # access.yaml's suppression rule names the old id: validate says so.
    assert kpi_main(["--definitions", str(renamed), "validate"]) == 1
    err = capsys.readouterr().err
    assert "access configuration check failed" in err and "unknown KPI id(s) ehcp_20wk_excl" in err
    # Renamed there too, the definitions validate.
    access = tmp_path / "access.yaml"
    text = (ROOT / "access.yaml").read_text(encoding="utf-8")
    access.write_text(text.replace("ehcp_20wk_excl", "plans_on_time_excl"), encoding="utf-8")
    monkeypatch.setenv("APP_ACCESS_CONFIG", str(access))
    # The areas' own plans (plans/*.yaml) name it too: validate says which file and plan.
    assert kpi_main(["--definitions", str(renamed), "validate"]) == 1
    err = capsys.readouterr().err
    assert "area plans check failed" in err and "kpis.ehcp_20wk_excl: unknown KPI id" in err
    plans = tmp_path / "plans"
    plans.mkdir()
    for plan in (ROOT / "plans").glob("*.yaml"):
        (plans / plan.name).write_text(plan.read_text(encoding="utf-8").replace("ehcp_20wk_excl", "plans_on_time_excl"),
                                       encoding="utf-8")
    monkeypatch.setenv("APP_PLANS_DIR", str(plans))
    assert kpi_main(["--definitions", str(renamed), "validate"]) == 0
    cat = definitions.load(renamed)

    # A database loaded before the rename: validate --db says the map is stale, naming both ids.
    con = duckdb.connect(str(published_db), read_only=True)
    try:
        assert published_map_problems(con, definitions.load()) == []
        stale = published_map_problems(con, cat)
    finally:
        con.close()
    assert len(stale) == 1 and "ehcp_20wk_excl, plans_on_time_excl" in stale[0] and "new database" in stale[0]
    kpi_main(["--definitions", str(renamed), "validate", "--db", str(published_db)])
    assert "does not match the KPI definitions for ehcp_20wk_excl, plans_on_time_excl" in capsys.readouterr().err

    # The map a published load seeds carries the new id, and benchmarks find it.
    db = tmp_path / "reseeded.duckdb"
    shutil.copy(published_db, db)
    con = duckdb.connect(str(db))
    try:
        seed_kpi_map(con, renamed)
        assert published_map_problems(con, cat) == []
        assert "plans_on_time_excl" in comparable_kpis(con, cat)
        table = benchmark(con, "plans_on_time_excl", HOME, 2024)
        before = con.execute("SELECT value FROM published_kpi WHERE kpi_id = 'plans_on_time_excl' AND year = 2024 "
                             "AND area_code = ?", [HOME]).fetchone()[0]
    finally:
        con.close()
    assert table.loc[table["role"] == "area", "value"].iloc[0] == pytest.approx(before)


def test_renaming_waiting_list_kpis_keeps_the_page_or_fails_validate(tmp_path, capsys):
    from kpi.views.waits_view import kpi_ids

    # Not named anywhere but the definitions: everything keeps working.
    renamed = _defs(tmp_path, 'id: "waiting_list_size_{service_id}"', 'id: "list_size_{service_id}"')
    assert kpi_main(["--definitions", str(renamed), "validate"]) == 0
    cat = definitions.load(renamed)
    assert {kpi_ids(s, cat)["size"] for s in ("SALT", "AUDIOLOGY")} == {"list_size_salt", "list_size_audiology"}

    # Named by access.yaml's suppression rule: validate fails and says where.
    renamed = _defs(tmp_path, "wait_over_52wk_", "long_waits_")  # the id template and SALT's plan
    assert kpi_main(["--definitions", str(renamed), "validate"]) == 1
    err = capsys.readouterr().err
    assert "access configuration check failed" in err and "unknown KPI id(s)" in err
    assert "wait_over_52wk_salt" in err


# --- the JSON schema ----------------------------------------------------------------------------------------------

def test_schema_command_prints_a_schema_the_shipped_file_meets(capsys):
    assert kpi_main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    raw = yaml.safe_load(definitions.DEFAULT_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(raw, schema)  # the file as written, the waiting-list block unexpanded

    bad = yaml.safe_load(definitions.DEFAULT_PATH.read_text(encoding="utf-8"))
    bad["kpis"][0]["polarity"] = "sideways"
    with pytest.raises(jsonschema.ValidationError, match="sideways"):
        jsonschema.validate(bad, schema)
    block = next(k for k in bad["kpis"] if "waiting_lists" in k)
    bad["kpis"][0]["polarity"] = "up"
    block["waiting_lists"]["services"][0]["service"] = "DENTISTRY"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_schema_is_in_the_cli_help():
    from kpi.__main__ import build_parser

    assert "schema print the JSON schema of kpi_definitions.yaml" in " ".join(build_parser().format_help().split())
