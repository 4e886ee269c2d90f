"""Deterministic synthetic SEN2 COLLECT "Blade" CSVs for demos and tests: the one entry point, ``generate``.

Why: the dashboard, the loader and the KPI engine need realistic person-level SEN2 data that is safe to share.
``generate(out_dir, seed, start, months, scale) -> list[Path]`` writes the nine module files of a
simulated local area; the same arguments always give byte-identical files. The parts, one concern each:

- demo/sen2_simulation.py: the statutory EHCP process simulated month by month, censored at the export date;
- demo/sen2_calibration.py: the published figures it is calibrated to and the modelling assumptions;
- demo/sen2_modules.py, demo/sen2_people.py: the modules built from the simulation (people: names, postcodes,
  UPNs and ULNs);
- demo/sen2_files.py: the modules' fields, file names, Blade date text and the CSV writer;
- demo/history.py: the earlier extracts that carry the review history one extract cannot hold;
- demo/day_numbers.py, demo/sampling.py: dates as day numbers, seeded sampling helpers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from demo import history as sh
from demo.day_numbers import NA, date_of
from demo.sen2_calibration import DEFAULT_SEED, LEA, SCALES
from demo.sen2_files import FIELDS, MODULES, columns, export_date, file_name, write_module
from demo.sen2_simulation import Simulation

__all__ = ["MODULES", "FIELDS", "SCALES", "DEFAULT_SEED", "LEA", "columns", "export_date", "file_name", "generate"]


def _as_extracts(out: Path, sim, tables: dict, history: bool) -> dict:
    """The final extract holds each plan's latest review only, as SEN2 does; with ``history``, the earlier
    extracts that carry the rest are written under ``out/history/`` (demo/history.py)."""
    raw = dict(sim.history_raw)
    ap = tables["activeplans"]
    apid = np.asarray(ap["activeplanstableid"])
    meet = np.where(raw["meet"] == NA, -1, raw["meet"])
    latest = sh.latest_rows(raw["plan"], meet)
    final_id = np.zeros(int(raw["plan"].max()) + 1 if len(raw["plan"]) else 1, dtype=np.int64)
    final_id[raw["plan"][latest]] = apid[latest]
    raw["final_id"] = final_id[raw["plan"]]
    if history:
        days = sh.snapshot_days(sim.S, sim.E)  # the window's census days and the plan window's month ends
        sh.write_history(out, tables, raw, days)
    kept = apid[latest]
    need = np.flatnonzero(np.isin(tables["senneed"]["activeplanstableid"], kept))
    return {**tables, "activeplans": sh.take(ap, latest), "senneed": sh.take(tables["senneed"], need)}


def generate(out_dir: Path, seed: int = DEFAULT_SEED, start: str = "2019-01", months: int = 72,
             scale: str = "la", factor: float | None = None, lea: str = LEA, pct_shift: float = 0.0,
             history: bool = False) -> list[Path]:
    """Write the nine SEN2 Blade CSVs for the window [start, start + months) into out_dir.

    seed: same seed and arguments give byte-identical files. start: 'YYYY-MM'. months: window length.
    scale: 'la' (one area, Central Bedfordshire-sized), 'region' (~10x) or 'england' (~150x).
    factor, lea, pct_shift: one area of a multi-area demo (demo/areas.py): its size relative to Central
    Bedfordshire, its DfE LA number, and points added to the published 20-week rates (its own history).
    The export date is the first day after the window; events on or after it are left blank (pending).
    The extract holds each plan's latest review only (as SEN2 does); ``history`` also writes the earlier extracts
    that carry the rest into ``history/<YYYY-MM-DD>/`` (demo/history.py), to be loaded oldest first.
    Returns the paths in MODULES order. Raises ValueError for a bad scale, months or start.
    """
    sim = Simulation(seed, start, months, scale, factor, lea, pct_shift)
    tables = sim.build()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    export = date_of(sim.E)
    tables = _as_extracts(out, sim, tables, history)
    paths = []
    for module in MODULES:
        path = out / file_name(module, export)
        write_module(path, module, tables[module])
        paths.append(path)
    return paths
