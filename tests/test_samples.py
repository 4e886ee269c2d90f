"""The sample files under data/samples/ and docs/extracts.md stay true: the committed files are what
demo/samples.py writes, each loads with no problem, and the documentation names every column of every layout."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from openpyxl import load_workbook

from demo.samples import write_samples
from etl.formats import sen2_human
from etl.formats.local_extracts import LOCAL_MODULES
from etl.load import load_paths

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
DOC = ROOT / "docs" / "extracts.md"


def _cells(path):
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_committed_samples_are_what_the_sample_writer_writes(tmp_path):
    for fresh in write_samples(tmp_path):
        committed = SAMPLES / fresh.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing: run python -m demo.samples"
        if fresh.suffix == ".xlsx":
            assert _cells(fresh) == _cells(committed)
        else:
            assert filecmp.cmp(fresh, committed, shallow=False), f"{committed} is out of date"


@pytest.mark.parametrize("paths", [["blade"], ["sen2_template.xlsx"], ["modules_csv"], ["blade", "local"]])
def test_each_sample_loads_cleanly(tmp_path, paths):
    report = load_paths([SAMPLES / p for p in paths], tmp_path / "a.duckdb")
    assert report.exit_code == 0 and not report.all_warnings
    assert all(f.rows_loaded == f.rows_read > 0 for f in report.files)


def test_the_documentation_names_every_layout_and_column():
    text = DOC.read_text()
    for module in LOCAL_MODULES:
        for f in module.all_fields:
            assert f"`{f.source}`" in text, f"docs/extracts.md does not describe {module.name}.{f.source}"
        assert f"data/samples/local/{module.name}.csv" in text
    for module, fields in sen2_human.HEADINGS.items():
        for blade_name in fields:
            assert sen2_human.heading(module, blade_name) in text, (module, blade_name)
    for sample in ("data/samples/blade/", "data/samples/sen2_template.xlsx", "data/samples/modules_csv/"):
        assert sample in text
