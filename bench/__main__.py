"""Command line: ``python -m bench [--scale la|region|england|pair] [--months 24,48,72] [--json PATH]``.

Prints one table (a column per size, so growth with rows is visible) and writes the figures as JSON. Exits 1 with a
one-line message when the pandas reference disagrees with the KPI engine or a page fails, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.suite import DEFAULT_MONTHS, ReferenceMismatch, run

ROWS: list[tuple[str, str, str]] = [  # (key, label, format)
    ("months", "Months of history", "{:d}"),
    ("areas", "Local areas", "{:d}"),
    ("kpis", "KPIs computed", "{:d}"),
    ("rows", "Rows in the extract files", "{:,}"),
    ("requests", "Requests", "{:,}"),
    ("file_mb", "Extract size (MB)", "{:,.1f}"),
    ("etl_rows_per_s", "Our load (rows/s)", "{:,.0f}"),
    ("raw_duckdb_rows_per_s", "DuckDB read_csv (rows/s)", "{:,.0f}"),
    ("etl_ratio", "Load ratio (ours ÷ DuckDB)", "{:.2f}"),
    ("kpi_engine_s", "KPI engine, every KPI and area (s)", "{:.3f}"),
    ("pandas_reference_s", "pandas reference (s)", "{:.3f}"),
    ("kpi_speedup", "Engine speed-up over pandas", "{:.2f}×"),
    ("app_first_run_s", "App first run, cold (s)", "{:.2f}"),
    ("areas_with_plans", "Areas given a demo plan (pages)", "{:d}"),
]


def _fmt(fmt: str, value) -> str:
    return "–" if value is None else fmt.format(value)


def table(result: dict):
    """A rich table of the figures: one row per measure, one column per size."""
    from rich.table import Table

    sizes = result["sizes"]
    t = Table(title=f"Benchmark at {result['scale']} scale ({result['machine']['nproc']} cores, "
                    f"{result['machine']['cpu_model']})")
    t.add_column("Measure")
    for s in sizes:
        t.add_column(f"{s['months']} months", justify="right")
    for key, label, fmt in ROWS:
        t.add_row(label, *[_fmt(fmt, s.get(key)) for s in sizes])
    for page in sizes[0]["page_render_s"]:
        t.add_row(f"Page: {page} (s, warm)", *[_fmt("{:.3f}", s["page_render_s"].get(page)) for s in sizes])
    for stage in sizes[0]["peak_rss_mb_by_stage"]:
        t.add_row(f"Peak RSS: {stage} (MB)", *[_fmt("{:,.0f}", s["peak_rss_mb_by_stage"][stage]) for s in sizes])
    t.add_row("Peak RSS of the product (MB)", *[_fmt("{:,.0f}", s["peak_rss_mb"]) for s in sizes])
    t.add_row("pandas agrees with the engine", *["yes" if s["reference_agrees"] else "NO" for s in sizes])
    return t


def _months(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None
    if not values or any(v < 1 or v > 300 for v in values):
        raise argparse.ArgumentTypeError(f"each number of months must be between 1 and 300, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="Benchmark the loader, KPI engine and pages.")
    p.add_argument("--scale", choices=["la", "region", "england", "pair"], default="la",
                   help="la: one area; region: its 11; england: every current LA; pair: two small areas (tests)")
    p.add_argument("--months", type=_months, default=DEFAULT_MONTHS,
                   help="sizes: months of history ending December 2024, comma-separated (default 24,48,72)")
    p.add_argument("--json", help="write the figures to this file as JSON")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of the engine, reference and pages (best kept)")
    p.add_argument("--seed", type=int, default=20230131)
    p.add_argument("--workdir", help="folder for the temporary data (default: the system's temp folder)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 2
    from rich.console import Console

    console = Console(stderr=True)
    try:
        result = run(args.scale, args.months, args.seed, args.repeat,
                     work=Path(args.workdir) if args.workdir else None, log=lambda m: console.log(m))
    except ReferenceMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    Console().print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"Wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
