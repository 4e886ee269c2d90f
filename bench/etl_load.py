"""ETL benchmark: validated load throughput against DuckDB's own read_csv of the same files (docs/performance.md).

    .venv/bin/python bench/etl_load.py [--scale la|region|england ...] [--repeat N] [--keep DIR]
    .venv/bin/python bench/etl_load.py --folder PATH [--area CODE] [--repeat N]

For each scale given (``--scale la england`` measures both), generates the multi-area demo (demo.areas: each
area's SEN2 Blade files, local extracts and referrals), then measures, each run in a fresh process as
``python -m bench`` does (bench.suite's stages): (1) DuckDB reading every file with ``read_csv`` into a table of a
new database file, and (2) the product's full load (sniffing, typing, every validation rule, pseudonymisation,
quarantine, revisions, one transaction) into a new database. Each is the best of ``--repeat`` runs (the machine
may be shared and noisy). Prints rows, seconds and rows per second for both and the ratio per scale, the scales
side by side (target: at least 0.5). ``--folder`` measures one area's own extract folder instead (a council's
real export, say: every CSV in it is read by both sides), loaded for ``--area`` (default: the home area).
A benchmark, not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.suite import Size, best_of, in_child, stage_etl, stage_generate, stage_raw_duckdb  # noqa: E402

MONTHS = 72  # the bench's largest default size


def measure(scale: str, work: Path, repeat: int) -> dict:
    """Rows, seconds and the ratio of one scale (best of ``repeat`` for each side)."""
    folder = work / scale
    t = time.perf_counter()
    gen = in_child(stage_generate, str(folder / "extract"), Size(scale, MONTHS), 20230131)
    print(f"scale {scale}: {len(gen['files'])} files, {gen['file_mb']:,.0f} MB, generated in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    return compare(scale, gen["files"], gen["areas"], folder, repeat)


def compare(label: str, files: list[str], areas: list[tuple[str, str]], work: Path, repeat: int) -> dict:
    """DuckDB's read_csv of ``files`` against our load of ``areas`` (best of ``repeat`` each, in turns), databases
    in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    # The two sides take turns (read, load, read, load, ...) so that a machine growing busier or quieter during the
    # runs moves both alike; each side's best run counts.
    raws, etls = [], []
    for _ in range(repeat):
        raws.append(best_of(1, "raw_duckdb_s", stage_raw_duckdb, files, work / "raw.duckdb"))
        etls.append(best_of(1, "etl_s", stage_etl, areas, work / "bench.duckdb"))
    raw, etl = min(raws, key=lambda r: r["raw_duckdb_s"]), min(etls, key=lambda r: r["etl_s"])
    assert etl["rows"] == raw["rows"], (etl["rows"], raw["rows"])
    return {"scale": label, "rows": etl["rows"], "raw_s": raw["raw_duckdb_s"], "etl_s": etl["etl_s"],
            "ratio": raw["raw_duckdb_s"] / etl["etl_s"]}


def measure_folder(folder: Path, area: str | None, work: Path, repeat: int) -> dict:
    """The same comparison on one area's own extract folder (every CSV in it)."""
    from etl.area import default_area_code

    files = sorted(str(p) for p in folder.glob("*.csv"))
    if not files:
        raise SystemExit(f"{folder}: no CSV files to measure")
    print(f"{folder}: {len(files)} files, {sum(Path(f).stat().st_size for f in files) / 1e6:,.0f} MB", flush=True)
    return compare(folder.name, files, [(area or default_area_code(), str(folder))], work / "folder", repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", nargs="+", choices=["la", "region", "england"], default=["la"])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (best kept)")
    parser.add_argument("--keep", help="folder to keep the generated extracts and databases in")
    parser.add_argument("--folder", type=Path, help="measure this extract folder (one area's CSVs) instead")
    parser.add_argument("--area", help="with --folder: the area it is for (ONS code; default the home area)")
    args = parser.parse_args(argv)
    os.environ.setdefault("APP_PSEUDONYM_KEY", "0123456789abcdef" * 4)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-etl-"))
    if args.folder:
        results = [measure_folder(args.folder, args.area, work, max(1, args.repeat))]
    else:
        results = [measure(scale, work, max(1, args.repeat)) for scale in args.scale]
    print(f"\n{'':28}" + "".join(f"{r['scale']:>14}" for r in results))
    for label, key, fmt in (("rows", "rows", "{:,}"), ("DuckDB read_csv (s)", "raw_s", "{:.2f}"),
                            ("validated load (s)", "etl_s", "{:.2f}")):
        print(f"{label:28}" + "".join(f"{fmt.format(r[key]):>14}" for r in results))
    for label, key in (("DuckDB read_csv (rows/s)", "raw_s"), ("validated load (rows/s)", "etl_s")):
        print(f"{label:28}" + "".join(f"{r['rows'] / r[key]:>14,.0f}" for r in results))
    print(f"{'ratio (load ÷ read_csv)':28}" + "".join(f"{r['ratio']:>14.2f}" for r in results) + "  (target ≥ 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
