"""ETL benchmark: validated load throughput against DuckDB's own read_csv of the same files (docs/performance.md).

    .venv/bin/python bench/etl_load.py [--scale la|region|england] [--keep DIR]

Generates the multi-area demo at the scale (demo.areas: each area's SEN2 Blade files, local extracts and
referrals), then, side by side in one run:
(1) DuckDB reading every file with ``read_csv`` into a table (all columns as text), and (2) the product's full
load (sniffing, typing, every validation rule, pseudonymisation, quarantine, revisions, one transaction) into a
fresh database. Prints rows, seconds and rows per second for both and the ratio (target: at least 0.5).
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

import duckdb  # noqa: E402

from demo.areas import generate_areas  # noqa: E402
from etl.load import expand_paths, load_areas  # noqa: E402


def raw_read(files: list[Path]) -> tuple[int, float]:
    con = duckdb.connect()
    start = time.perf_counter()
    rows = 0
    for i, f in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, all_varchar=true, header=true)", [str(f)])
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    elapsed = time.perf_counter() - start
    con.close()
    return rows, elapsed


def validated_load(areas: list[tuple[str, Path]], db: Path) -> tuple[int, float]:
    start = time.perf_counter()
    report = load_areas([(code, [folder]) for code, folder in areas], db)
    elapsed = time.perf_counter() - start
    return sum(f.rows_read for f in report.files), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["la", "region", "england"], default="la")
    parser.add_argument("--keep", help="folder to keep the generated extract and database in")
    args = parser.parse_args(argv)
    os.environ.setdefault("APP_PSEUDONYM_KEY", "0123456789abcdef" * 4)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-etl-"))
    folder = work / "extract"
    t = time.perf_counter()
    areas = generate_areas(folder, args.scale, workers=2)
    files, _ = expand_paths(f for _, f in areas)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"scale {args.scale}: {len(files)} files, {size:,.0f} MB, generated in {time.perf_counter() - t:.1f} s")
    raw_rows, raw_s = raw_read(files)
    db = work / "bench.duckdb"
    if db.exists():
        db.unlink()
    rows, load_s = validated_load(areas, db)
    assert rows == raw_rows, (rows, raw_rows)
    print(f"DuckDB read_csv : {raw_rows:>10,} rows in {raw_s:6.2f} s = {raw_rows / raw_s:>12,.0f} rows/s")
    print(f"validated load  : {rows:>10,} rows in {load_s:6.2f} s = {rows / load_s:>12,.0f} rows/s")
    print(f"ratio (validated / read_csv throughput): {raw_s / load_s:.2f}  (target ≥ 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
