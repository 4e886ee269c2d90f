"""The benchmark suite: load throughput, KPI engine, pandas reference, page render and memory at three sizes.

Why: the project sets performance targets (docs/performance.md); this measures them on the multi-area demo data
(demo.areas: every area's SEN2, local extracts and referrals) generated into a temporary folder. Scales: la (one
area), region (11), england (every current LA), and pair (two small areas, for the tests).
Each stage runs in a fresh child process, so its peak resident memory (``resource.getrusage``) is its own and a
stage cannot warm the next one's caches. Nothing here is a timed test: the tests only check the figures exist
and that the pandas reference gives the engine's numbers.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import shutil
import sys
import tempfile
import time
import types
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from bench.pandas_reference import REFERENCE_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
DEFAULT_MONTHS = (24, 48, 72)
EXPORT_MONTH = (2025, 1)  # every size ends with December 2024, so the plan window (2023-24) is inside it


class ReferenceMismatch(Exception):
    """The pandas reference and the KPI engine gave different numbers."""


@dataclass(frozen=True)
class Size:
    """One data size: a scale and a number of months of history ending December 2024."""

    scale: str
    months: int

    @property
    def start(self) -> str:
        k = EXPORT_MONTH[0] * 12 + EXPORT_MONTH[1] - 1 - self.months
        return f"{k // 12:04d}-{k % 12 + 1:02d}"


def pages_of_app(app: Path = APP) -> list[tuple[str, str]]:
    """(script path, title) of every page in app.py's st.navigation, in order."""
    text = app.read_text()
    return re.findall(r'st\.Page\(\s*"([^"]+)"\s*,\s*title\s*=\s*"([^"]+)"', text)


# --- stages: each runs in its own process ------------------------------------------------------------------

def _peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measured(fn: Callable, args: tuple) -> dict:
    out = fn(*args)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def in_child(fn: Callable, *args) -> dict:
    """Run ``fn(*args)`` in a fresh spawned process and return its result with the child's peak RSS.

    The parent's ``__main__`` is hidden while the child starts: spawn would re-run it, and after an AppTest in the
    same process (the test suite) ``__main__`` is app.py."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            return pool.submit(_measured, fn, args).result()
    finally:
        sys.modules["__main__"] = main


PAIR = (("E06000056", 0.1, 0.0), ("E06000032", 0.1, -20.0))  # the pair scale: (ONS code, size, 20-week shift)


def generate_pair(out: Path, seed: int, start: str, months: int) -> list[tuple[str, Path]]:
    """Two small areas (a tenth of Central Bedfordshire each) sharing record ids: the tests' multi-area size."""
    from demo.areas import AreaProfile, generate_area
    from etl import reference

    return [(code, generate_area(out / code, AreaProfile(code, reference.by_code(code).old_la_code,
                                                         reference.by_code(code).name, factor, shift, seed + i),
                                 start, months))
            for i, (code, factor, shift) in enumerate(PAIR)]


def stage_generate(out: str, size: Size, seed: int) -> dict:
    """Every area's extract folder (demo.areas: SEN2, local extracts, referrals) and the files the loader
    will read from them."""
    from demo.areas import generate_areas
    from etl.load import expand_paths

    t0 = time.perf_counter()
    if size.scale == "pair":
        areas = generate_pair(Path(out), seed, size.start, size.months)
    else:
        areas = generate_areas(Path(out), size.scale, seed=seed, start=size.start, months=size.months, workers=2)
    seconds = time.perf_counter() - t0
    files, problems = expand_paths(folder for _, folder in areas)
    if problems:
        raise RuntimeError("generated folders: " + "; ".join(p.reason for p in problems))
    return {"generate_s": seconds, "areas": [(code, str(folder)) for code, folder in areas],
            "files": [str(f) for f in files], "file_mb": sum(f.stat().st_size for f in files) / 2**20}


def stage_etl(areas: list[tuple[str, str]], db: str) -> dict:
    """Our validated load of every area's folder in one transaction (etl.load.load_areas) into a new database."""
    from etl.load import load_areas

    t0 = time.perf_counter()
    report = load_areas([(code, [Path(folder)]) for code, folder in areas], Path(db))
    seconds = time.perf_counter() - t0
    rows = sum(f.rows_read for f in report.files)
    return {"etl_s": seconds, "rows": rows, "rows_quarantined": report.rows_quarantined}


def stage_raw_duckdb(files: list[str], db: str) -> dict:
    """DuckDB's own ``read_csv`` of the same files into tables of a new database file: the yardstick."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    rows = 0
    for i, path in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, header = true)", [path])
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    con.close()
    return {"raw_duckdb_s": time.perf_counter() - t0, "rows": rows}


def stage_engine(db: str, repeat: int) -> dict:
    """Every KPI of the catalogue, every area's full monthly series (kpi.engine.series.kpi_series) on a read-only
    connection, best of ``repeat``."""
    from kpi import definitions
    from kpi.engine.series import kpi_series, open_readonly

    cat = definitions.load()
    best, series = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        con = open_readonly(db)
        series = kpi_series(con, cat)
        con.close()
        best = min(best, time.perf_counter() - t0)
    con = open_readonly(db)
    requests = con.execute("SELECT count(*) FROM request").fetchone()[0]
    con.close()
    return {"kpi_engine_s": best, "requests": requests, "kpis": series["kpi_id"].nunique(),
            "series": series[REFERENCE_COLUMNS].to_dict("list")}


def stage_pandas(db: str, repeat: int) -> dict:
    """The pandas reference for every KPI and area on the same clean tables (read into DataFrames first, timed
    separately)."""
    from bench.pandas_reference import fetch_tables, reference_all
    from kpi import definitions
    from kpi.engine.series import open_readonly

    cat = definitions.load()
    t0 = time.perf_counter()
    con = open_readonly(db)
    tables = fetch_tables(con)
    con.close()
    fetch_s = time.perf_counter() - t0
    best, ref = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ref = reference_all(tables, cat)
        best = min(best, time.perf_counter() - t0)
    return {"pandas_reference_s": best, "pandas_fetch_s": fetch_s, "series": ref.to_dict("list")}


PLANNED_AREAS = 40  # areas given a demo plan for the page stage: a monitors' portfolio at england scale (issue 18)


def write_demo_plans(db: str, folder: Path, count: int = PLANNED_AREAS) -> list[str]:
    """Plan files (plans/<ONS code>.yaml) for up to ``count`` loaded areas other than the home area, each a copy of
    one of the shipped demo plans (plans/*.yaml) under the area's own code, so that the Portfolio page is measured
    with many areas' plans; the areas given a plan, in code order."""
    import yaml

    from kpi import area_plans
    from kpi.engine import area as area_config
    from kpi.engine.compute import case_areas
    from kpi.engine.series import open_readonly

    con = open_readonly(db)
    try:
        loaded = case_areas(con)
    finally:
        con.close()
    home = area_config.load().area_code
    templates = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in area_plans.plan_files(area_plans.DEFAULT_DIR)]
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [a for a in loaded if a != home][:count]
    for i, area in enumerate(chosen):
        plan = {**templates[i % len(templates)], "area": area, "demo": True}
        plan["plans"] = [{**p, "name": f"{area} plan {n + 1} (bench demo)"} for n, p in enumerate(plan["plans"])]
        (folder / f"{area}.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return chosen


def stage_pages(db: str, repeat: int, timeout: float) -> dict:
    """Server-side render of each page (AppTest of app.py, st.navigation), with demo plans for up to
    :data:`PLANNED_AREAS` areas (:func:`write_demo_plans`): run once to warm the caches, then time the next
    ``repeat`` runs and keep the best."""
    from kpi import area_plans

    os.environ["APP_DB"] = db
    plans = Path(db).with_name("plans")
    os.environ[area_plans.ENV_VAR] = str(plans)
    planned = write_demo_plans(db, plans)
    from streamlit import logger
    from streamlit.testing.v1 import AppTest

    logger.set_log_level("error")  # AppTest's "missing ScriptRunContext" noise

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    render: dict[str, float] = {}
    errors: list[str] = []
    for script, title in pages_of_app():
        at.switch_page(script).run()  # warm: this page's own cached queries
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            at.run()
            best = min(best, time.perf_counter() - t0)
        errors += [f"{title}: {e.value}" for e in at.exception]
        render[title] = best
    return {"page_render_s": render, "first_run_s": cold, "page_errors": errors, "areas_with_plans": len(planned)}


def check_agreement(engine, reference, where: str) -> None:
    """Raise ReferenceMismatch naming the first differences when the pandas reference and the engine disagree."""
    from bench.pandas_reference import disagreements

    problems = disagreements(engine, reference)
    if problems:
        raise ReferenceMismatch(f"{where}: the pandas reference disagrees with the KPI engine: " + "; ".join(problems))


def best_of(repeat: int, seconds: str, stage: Callable, inputs, db: Path) -> dict:
    """The fastest of ``repeat`` runs of a loading stage, each into a new database file at ``db`` (a shared machine
    is noisy: the best run is the one least disturbed); its peak RSS is the largest of the runs. The last run's
    database is kept."""
    runs = []
    for _ in range(repeat):
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)
        runs.append(in_child(stage, inputs, str(db)))
    best = min(runs, key=lambda r: r[seconds])
    return {**best, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


# --- one size, all stages ------------------------------------------------------------------------------------

def measure_size(size: Size, work: Path, seed: int, repeat: int, page_timeout: float,
                 log: Callable[[str], None] = print) -> dict:
    """Every figure for one size; raises ReferenceMismatch when the pandas reference disagrees with the engine."""
    import pandas as pd

    folder = work / f"{size.scale}_{size.months}m"
    extract, db, raw_db = folder / "extract", folder / "app.duckdb", folder / "raw.duckdb"
    log(f"{size.scale}, {size.months} months from {size.start}: generating")
    gen = in_child(stage_generate, str(extract), size, seed)
    log(f"  {len(gen['areas'])} areas, {len(gen['files'])} files, {gen['file_mb']:,.0f} MB; loading (ours)")
    etl = best_of(repeat, "etl_s", stage_etl, gen["areas"], db)
    log("  loading (DuckDB read_csv)")
    raw = best_of(repeat, "raw_duckdb_s", stage_raw_duckdb, gen["files"], raw_db)
    raw_db.unlink()
    shutil.rmtree(extract)  # the database holds what the later stages read; free the disk
    log("  KPI engine")
    engine = in_child(stage_engine, str(db), repeat)
    log("  pandas reference")
    ref = in_child(stage_pandas, str(db), repeat)
    check_agreement(pd.DataFrame(engine.pop("series")), pd.DataFrame(ref.pop("series")),
                    f"at {size.scale} scale, {size.months} months")
    log("  pages")
    pages = in_child(stage_pages, str(db), repeat, page_timeout)
    if pages["page_errors"]:
        raise RuntimeError("a page raised an exception: " + "; ".join(pages["page_errors"]))
    rows = etl["rows"]
    etl_rate, raw_rate = rows / etl["etl_s"], raw["rows"] / raw["raw_duckdb_s"]
    stage_rss = {"generate": gen["peak_rss_mb"], "etl": etl["peak_rss_mb"], "raw_duckdb": raw["peak_rss_mb"],
                 "kpi_engine": engine["peak_rss_mb"], "pandas_reference": ref["peak_rss_mb"],
                 "pages": pages["peak_rss_mb"]}
    return {
        "scale": size.scale, "months": size.months, "start": size.start, "areas": len(gen["areas"]),
        "files": len(gen["files"]), "kpis": engine["kpis"], "generate_s": gen["generate_s"],
        "rows": rows, "raw_duckdb_rows": raw["rows"], "requests": engine["requests"],
        "file_mb": round(gen["file_mb"], 1),
        "rows_quarantined": etl["rows_quarantined"], "db_mb": round(db.stat().st_size / 2**20, 1),
        "etl_s": etl["etl_s"], "raw_duckdb_s": raw["raw_duckdb_s"],
        "etl_rows_per_s": etl_rate, "raw_duckdb_rows_per_s": raw_rate, "etl_ratio": etl_rate / raw_rate,
        "kpi_engine_s": engine["kpi_engine_s"],
        "pandas_reference_s": ref["pandas_reference_s"], "pandas_fetch_s": ref["pandas_fetch_s"],
        "kpi_speedup": ref["pandas_reference_s"] / engine["kpi_engine_s"],
        "reference_agrees": True,
        "page_render_s": pages["page_render_s"], "app_first_run_s": pages["first_run_s"],
        "areas_with_plans": pages["areas_with_plans"],
        # The product's own processes (load, engine, pages); the reference and yardstick are reported apart.
        "peak_rss_mb": max(stage_rss["etl"], stage_rss["kpi_engine"], stage_rss["pages"]),
        "peak_rss_mb_by_stage": stage_rss,
    }


def machine() -> dict:
    """What the figures were measured on, including how busy it was."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    mem = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    return {"nproc": os.cpu_count(), "cpu_model": model, "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "load_average_at_start": list(os.getloadavg())}


def run(scale: str = "la", months: tuple[int, ...] = DEFAULT_MONTHS, seed: int = 20230131, repeat: int = 3,
        page_timeout: float = 600, work: Path | None = None, log: Callable[[str], None] = print) -> dict:
    """The whole suite at three (or more) sizes of one scale; the top-level figures are the largest size's."""
    import duckdb
    import streamlit

    started = datetime.now(UTC)
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bench-", dir=work) as tmp:
        sizes = [measure_size(Size(scale, m), Path(tmp), seed, repeat, page_timeout, log) for m in sorted(months)]
    info["load_average_at_end"] = list(os.getloadavg())
    result = {"scale": scale, "started_at": started.isoformat(timespec="seconds"),
              "elapsed_s": (datetime.now(UTC) - started).total_seconds(),
              "repeat": repeat, "duckdb": duckdb.__version__, "streamlit": streamlit.__version__,
              "machine": info, "sizes": sizes}
    largest = sizes[-1]
    for key in ("months", "areas", "rows", "requests", "etl_rows_per_s", "raw_duckdb_rows_per_s", "etl_ratio",
                "kpi_engine_s", "pandas_reference_s", "kpi_speedup", "page_render_s", "peak_rss_mb",
                "reference_agrees"):
        result[key] = largest[key]
    return result
