"""The public statistics bundled with the product (``data/published/``), and replacing them with a newer download.

DfE's *Education, health and care plans* release, the older SEN2 MI file, the statistical neighbours list and
NHS England's Community Health Services waiting-list workbooks are Open Government Licence v3.0: the repository
carries a copy so that a fresh checkout shows benchmarks and NHS waits with nothing beside it.

Form (small, and still the files as published, which the ordinary loader reads):

- CSVs gzip-compressed (``timeliness_20_week.csv.gz``): the loader reads them as the plain file, under the plain
  name, so ``load_log`` records the same name and SHA-256 as the original download;
- NHS workbooks re-saved with their cell values only (the formatting, which is most of their size, dropped):
  the same sheets, titles, headers, blank first column, ``*`` and blank cells, so every layout quirk stays;
- ``data-guidance.txt`` as published.

``provenance.json`` is the manifest code reads (``list``, ``update``); ``PROVENANCE.md`` is written from it.
Each entry: the bundled file, the original's name, title, publisher, release, the source address as text,
licence, where the copy was taken from, the date taken, the SHA-256 of the file taken and of the bundled copy,
its layout and the data rows the loader reads from it.

``update`` loads the new files (in their bundled form) into a temporary database first; if any file is
rejected or has a quarantined row, nothing in the bundle changes.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.inputs import sha256_of
from etl.load import expand_paths, is_gzip_name, is_input_file, load_paths
from etl.report import LoadRejected, LoadReport, Problem

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_DIR = ROOT / "data" / "published"
MANIFEST = "provenance.json"
PROVENANCE_MD = "PROVENANCE.md"
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

# Where each layout's files go in the bundle, and what is said about them when a file is new to the bundle.
LAYOUTS = {
    "dfe_ees": ("dfe_ehcp", "Education, health and care plans (explore-education-statistics table)",
                "Department for Education",
                "https://explore-education-statistics.service.gov.uk/find-statistics/education-health-and-care-plans"),
    "dfe_tribunal": ("dfe_ehcp", "SEND Tribunal appeal rate by local authority (supporting file of Education, "
                                 "health and care plans)", "Department for Education / Ministry of Justice",
                     "https://explore-education-statistics.service.gov.uk/find-statistics/"
                     "education-health-and-care-plans"),
    "dfe_sen2_mi": ("", "SEN2 management information, education, health and care plans (single-file release)",
                    "Department for Education",
                    "https://explore-education-statistics.service.gov.uk/find-statistics/"
                    "education-health-and-care-plans"),
    "dfe_stat_neighbours": ("", "Children's services statistical neighbours", "Department for Education",
                            "https://www.gov.uk/government/publications/local-authority-interactive-tool-lait"),
    "nhs_chs": ("nhs_chs", "Community Health Services waiting lists", "NHS England",
                "https://www.england.nhs.uk/statistics/statistical-work-areas/community-health-services-waiting-"
                "lists/"),
}


class PublishedError(Exception):
    """A user mistake or a refused update: one line for the CLI."""


def bundle_dir(given: str | Path | None = None) -> Path:
    """The bundled copy: ``given``, else ``$APP_PUBLISHED_DIR``, else ``data/published`` in the checkout."""
    return Path(given or os.environ.get("APP_PUBLISHED_DIR") or BUNDLE_DIR)


def read_manifest(folder: Path) -> list[dict]:
    path = folder / MANIFEST
    if not path.is_file():
        raise PublishedError(f"no bundled public statistics at {folder} ({MANIFEST} not found)")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishedError(f"{path} is not a readable manifest ({exc})") from None
    return entries


def write_manifest(folder: Path, entries: list[dict]) -> None:
    entries = sorted(entries, key=lambda e: e["file"])
    body = {"licence": LICENCE, "licence_url": LICENCE_URL, "files": entries}
    (folder / MANIFEST).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / PROVENANCE_MD).write_text(render_markdown(entries), encoding="utf-8")


def render_markdown(entries: list[dict]) -> str:
    lines = [
        "# Public statistics bundled with the product",
        "",
        f"All files here are public statistics published under the [{LICENCE}]({LICENCE_URL}): "
        "\"Contains public sector information licensed under the Open Government Licence v3.0.\"",
        "",
        "Written by `python -m etl published update` from `provenance.json` (do not edit by hand). CSVs are "
        "gzip-compressed copies of the files as published (the loader reads them as the plain file); NHS "
        "workbooks are re-saved with their cell values only (formatting dropped; sheets, titles, headers, "
        "blanks and `*` as published). `sha256 (taken)` is the SHA-256 of the file as downloaded, "
        "`sha256 (bundled)` of the file here.",
        "",
    ]
    for e in sorted(entries, key=lambda e: e["file"]):
        lines += [
            f"## `{e['file']}`",
            "",
            f"- title: {e['title']}",
            f"- publisher: {e['publisher']}",
            f"- release: {e['release']}",
            f"- source: {e['source']}",
            f"- licence: {e['licence']}",
            f"- copy taken from: {e['taken_from']}",
            f"- date taken: {e['taken_on']}",
            f"- original file: `{e['original']}`, sha256 (taken) `{e['sha256_taken']}`",
            f"- sha256 (bundled): `{e['sha256']}`",
            f"- layout: `{e['layout']}`, {e['rows']} data rows",
            "",
        ]
    return "\n".join(lines)


def compact_copy(src: Path, dst: Path) -> None:
    """The bundled form of ``src`` at ``dst``: CSV/TXT gzip-compressed (deterministic), a workbook values-only."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix.lower() in (".xlsx", ".xlsm"):
        _values_only_workbook(src, dst)
    elif dst.name.endswith(".gz") and not is_gzip_name(src):
        with open(src, "rb") as fh, open(dst, "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as out:
            shutil.copyfileobj(fh, out, 1 << 20)
    else:
        shutil.copyfile(src, dst)


def bundled_name(src: Path) -> str:
    """``requests.csv`` → ``requests.csv.gz``; a workbook or an already-compressed file keeps its name."""
    if src.suffix.lower() == ".csv":
        return src.name + ".gz"
    return src.name


def _values_only_workbook(src: Path, dst: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(src, read_only=True, data_only=True)
    out = openpyxl.Workbook(write_only=True)
    try:
        for name in book.sheetnames:
            ws = book[name]
            ws.reset_dimensions()  # some releases record a wrong sheet size
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            while rows and all(c is None for c in rows[-1]):
                rows.pop()
            width = max((max((i + 1 for i, c in enumerate(r) if c is not None), default=0) for r in rows),
                        default=0)
            sheet = out.create_sheet(name)
            for r in rows:
                sheet.append(r[:width])
    finally:
        book.close()
    tmp = dst.with_name(dst.name + ".tmp")
    out.save(tmp)
    os.replace(tmp, dst)


@dataclass
class Staged:
    src: Path          # the file given
    staged: Path       # its bundled form, in the staging folder
    rel: str           # its place in the bundle (``dfe_ehcp/requests.csv.gz``)


def _loaded(db: Path) -> dict[str, tuple[str, str]]:
    """load_log of the temporary database: source file → (layout, release read from the data)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for load_id, name, layout in con.execute("SELECT load_id, source_file, layout FROM load_log").fetchall():
            if layout == "nhs_chs":
                (month,) = con.execute("SELECT max(period) FROM nhs_chs_wait WHERE load_id = ?", [load_id]).fetchone()
                release = f"data month {month:%B %Y}" if month else "unknown"
            elif layout == "dfe_stat_neighbours":
                (when,) = con.execute("SELECT max(effective_from) FROM stat_neighbour_set WHERE set_id = ?",
                                      [load_id]).fetchone()
                release = f"effective from {when}" if when else "unknown"
            else:
                lo, hi = con.execute("SELECT min(year), max(year) FROM published_value WHERE load_id = ?",
                                     [load_id]).fetchone()
                release = f"data for {lo}–{hi}" if lo else "unknown"
            out[name] = (layout, release)
        return out
    finally:
        con.close()


def update(paths: list[Path], folder: Path, taken_from: str | None = None, release: str | None = None,
           today: _dt.date | None = None) -> tuple[LoadReport, list[dict]]:
    """Replace (or add) bundled files with newer downloads, after loading them into a temporary database.

    Raises :class:`LoadRejected` when the load is refused or any row is quarantined (the report's problems), and
    :class:`PublishedError` for anything else that is not public statistics; the bundle is then untouched.
    Returns the load report and the entries written.
    """
    entries = read_manifest(folder)
    files, problems = expand_paths(paths)
    if problems:
        raise LoadRejected(problems)
    guidance = [p / "data-guidance.txt" for p in paths if (p / "data-guidance.txt").is_file()]
    with tempfile.TemporaryDirectory(prefix="published-update-") as tmp:
        stage = Path(tmp) / "stage"
        staged: list[Path] = []
        for n, f in enumerate(files):
            target = stage / str(n) / bundled_name(f)
            try:
                compact_copy(f, target)
            except Exception as exc:  # noqa: BLE001 - an unreadable input is reported, never a traceback
                raise LoadRejected([Problem(f.name, None, None, f"cannot be copied into the bundle ({exc})")]) \
                    from None
            staged.append(target)
        db = Path(tmp) / "check.duckdb"
        report = load_paths(staged, db)  # LoadRejected propagates: nothing is written to the bundle
        bad = [f for f in report.files if f.status == "quarantined" or f.rows_quarantined]
        if bad:
            raise LoadRejected([p for f in bad for p in f.problems] or
                               [Problem(f.name, None, None, "rows quarantined") for f in bad])
        loaded = _loaded(db)
        rows = {f.path.name: f.rows_read for f in report.files}
        by_file = {e["file"]: e for e in entries}
        by_original = {e["original"]: e for e in entries}
        moves: list[tuple[Path, str]] = []
        for src_file, target in zip(files, staged, strict=True):
            plain = target.name[:-3] if is_gzip_name(target) else target.name
            if plain not in loaded:
                raise PublishedError(f"{src_file.name} was not loaded (already in the temporary database twice?)")
            layout, found_release = loaded[plain]
            if layout not in LAYOUTS:
                raise PublishedError(f"{src_file.name} is not public statistics (layout {layout}): only DfE's and "
                                     "NHS England's published files are bundled")
            sub, title, publisher, source = LAYOUTS[layout]
            rel = f"{sub}/{target.name}" if sub else target.name
            old = by_file.get(rel) or by_original.get(plain) or {}
            entry = {
                "file": rel, "original": plain,
                "title": old.get("title", title), "publisher": old.get("publisher", publisher),
                "release": release or found_release, "source": old.get("source", source), "licence": LICENCE,
                "taken_from": taken_from or f"download given to `python -m etl published update` ({src_file.name})",
                "taken_on": (today or _dt.date.today()).isoformat(),
                "sha256_taken": sha256_of(src_file), "sha256": sha256_of(target), "layout": layout,
                "rows": rows.get(plain, 0),
            }
            if old and old["file"] != rel:
                by_file.pop(old["file"], None)
            by_file[rel] = entry
            moves.append((target, rel))
        # every check passed: move the new files in, then the manifest
        for target, rel in moves:
            dst = folder / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, dst.with_name(dst.name + ".tmp"))
            os.replace(dst.with_name(dst.name + ".tmp"), dst)
        for g in guidance:  # the release's data guidance (not loaded): kept beside its tables, as published
            rel = f"{LAYOUTS['dfe_ees'][0]}/{g.name}"
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(g, folder / rel)
            old = by_file.get(rel, {})
            by_file[rel] = {
                "file": rel, "original": g.name, "title": old.get("title", "Education, health and care plans: data "
                                                                   "guidance (what each file and column means)"),
                "publisher": "Department for Education", "release": release or old.get("release", "unknown"),
                "source": LAYOUTS["dfe_ees"][3], "licence": LICENCE,
                "taken_from": taken_from or f"download given to `python -m etl published update` ({g.name})",
                "taken_on": (today or _dt.date.today()).isoformat(), "sha256_taken": sha256_of(g),
                "sha256": sha256_of(g), "layout": "documentation (not loaded)", "rows": 0,
            }
            moves.append((g, rel))
        kept = set(by_file)
        for e in entries:  # a file replaced under another name (moved folder): remove the old copy
            if e["file"] not in kept and (folder / e["file"]).is_file():
                (folder / e["file"]).unlink()
        written = [by_file[rel] for _, rel in moves]
        write_manifest(folder, list(by_file.values()))
    return report, written


def bundled_files(folder: Path) -> list[Path]:
    """Every loadable file of the bundle (or of a download laid out like it: files and one level of folders)."""
    if not folder.is_dir():
        raise PublishedError(f"no such folder: {folder}")
    found = sorted(p for p in folder.rglob("*") if p.is_file() and is_input_file(p) and not p.name.startswith("~$"))
    if not found:
        raise PublishedError(f"no .csv, .csv.gz or .xlsx files under {folder}")
    return found


def check(folder: Path) -> list[str]:
    """Differences between the manifest and the files: missing files, unlisted files, changed hashes."""
    entries = read_manifest(folder)
    listed = {e["file"] for e in entries}
    out = []
    for e in entries:
        path = folder / e["file"]
        if not path.is_file():
            out.append(f"{e['file']}: listed in {MANIFEST} but missing")
        elif sha256_of(path) != e["sha256"]:
            out.append(f"{e['file']}: SHA-256 differs from {MANIFEST}")
    for p in bundled_files(folder):
        rel = p.relative_to(folder).as_posix()
        if rel not in listed:
            out.append(f"{rel}: not listed in {MANIFEST}")
    return out
