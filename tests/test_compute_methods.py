"""The engine's method registry (kpi/engine/methods.py) and its one-way imports: every computation method the
definitions allow is registered once, with a finish step matching what the KPI is (month-end figure or flow), and
the family modules never import the dispatcher back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kpi import definitions
from kpi.definitions import LOCAL_METHODS, MEDIAN_METHODS, TABLES_FOR_METHOD, WAIT_METHODS
from kpi.engine import compute, compute_local, compute_sen2, compute_waits
from kpi.engine.monthly import finish_flow, finish_median, finish_month_end


def test_every_method_is_registered_by_exactly_one_family():
    families = [compute_sen2.METHODS, compute_local.METHODS, compute_waits.METHODS]
    names = [m for family in families for m in family]
    assert len(names) == len(set(names))
    assert set(names) == set(TABLES_FOR_METHOD) == set(compute.METHODS)


def test_finish_step_matches_what_each_catalogue_kpi_is():
    for kpi in definitions.load().kpis:
        finish = compute.method_of(kpi).finish
        if kpi.computation.method == "kpi_return":
            assert finish is compute_local.finish_return
        elif kpi.computation.method in MEDIAN_METHODS:
            assert finish is finish_median, kpi.id
        elif kpi.is_snapshot:
            assert finish is finish_month_end, kpi.id
        else:
            assert finish is finish_flow, kpi.id


def test_only_sen2_methods_expose_event_rows():
    for kpi in definitions.load().kpis:
        method = kpi.computation.method
        if method in WAIT_METHODS:
            with pytest.raises(ValueError, match="waiting-list KPI"):
                compute.events_sql(kpi)
        elif method in LOCAL_METHODS:
            with pytest.raises(ValueError, match="local extract"):
                compute.events_sql(kpi)
        else:
            assert "clock_start" in compute.events_sql(kpi), kpi.id


@pytest.mark.parametrize("module", ["kpi.engine.compute_waits", "kpi.engine.compute_local", "kpi.engine.compute_sen2",
                                    "kpi.engine.window", "kpi.engine.monthly", "kpi.engine.methods"])
def test_lower_modules_do_not_import_the_dispatcher(module):
    code = f"import sys, {module}; print('kpi.engine.compute' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
