"""Recognising what a file holds: which module (SEN2 Blade, the DfE template's headings, a local extract) or other
registered layout each of its tables is, and how each field's column is headed in it.

Why apart from loading: a load is planned whole before anything is written, so that a file no layout fits, or
a table lacking required columns, rejects the load with a message naming the closest layout and what it lacks.
"""

from __future__ import annotations

import functools
from pathlib import Path

from etl import sources as src
from etl.formats import OTHER_LAYOUTS
from etl.formats import sen2_human as human
from etl.formats.local_extracts import LOCAL_MODULES
from etl.formats.sen2_blade import MODULES, Field, Module
from etl.report import Problem
from etl.wording import plural

LAYOUT = "sen2_blade"
ALL_MODULES: tuple[Module, ...] = MODULES + LOCAL_MODULES
ALL_BY_NAME = {m.name: m for m in ALL_MODULES}


def normalise_header(name: str) -> str:
    """Header matching ignores case, spaces and punctuation (and a UTF-8 BOM)."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def field_names(module: Module, f: Field) -> list[str]:
    """Every normalised header a field is recognised by: its name, aliases and human headings."""
    return list(_field_names(module.name, f.source, tuple(f.aliases)))


@functools.cache
def _field_names(module: str, source: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    """field_names, once per field (detecting a file's module asks it for every field of every module)."""
    names = [source, *aliases, *human.headings(module, source)]
    return tuple(dict.fromkeys(normalise_header(n) for n in names))


# Human-heading templates may key active plans by person and request with no record id of their own: the key is
# then derived as ``<request id>|<review meeting date, ISO>`` (the request id alone when no meeting date is given),
# so one request's reviews stay apart and a later extract's row for the same meeting replaces the earlier one.
# Child rows (placement detail, SEN need) cannot refer to such a key: they need the record id.
DERIVED_KEYS: dict[str, tuple[str, str]] = {"activeplanstableid": ("requeststableid", "reviewmeeting")}
DERIVED = " (derived key)"


def _map_module(module: Module, present: dict[str, str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for f in module.all_fields:
        for name in field_names(module, f):
            if name in present:
                mapping[f.source] = present[name]
                break
    parts = DERIVED_KEYS.get(module.key.source)
    if parts and module.key.source not in mapping and parts[0] in mapping:
        mapping[module.key.source] = " + ".join(mapping[p] for p in parts if p in mapping) + DERIVED
    return mapping


def detect_module(headers: list[str]) -> tuple[Module | None, dict[str, str]]:
    """Pick the module whose own key is present and which matches the largest share of its columns.

    SEN2 modules (Blade names or human headings) and the local extracts compete; ties go to the first declared.
    Returns the module and a map from each field's source name to the header as written in the file.
    """
    present = _present(headers)
    sen2_known = {n for n in present if n in _sen2_names()}
    best: tuple[float, Module | None, dict[str, str]] = (0.0, None, {})
    for module in ALL_MODULES:
        mapping = _map_module(module, present)
        if module.key.source not in mapping:
            continue
        if any(c not in mapping for c in module.required_columns) and \
                sen2_known - {normalise_header(h) for h in mapping.values()}:
            continue  # columns it lacks and SEN2 headings it does not know: another module's file, never this one
        score = len(mapping) / len(module.all_fields)
        if score > best[0]:
            best = (score, module, mapping)
    return best[1], best[2]


def _present(headers: list[str]) -> dict[str, str]:
    """Normalised heading → the heading as written (the first of repeats)."""
    present: dict[str, str] = {}
    for h in headers:
        present.setdefault(normalise_header(h), h)
    return present


@functools.cache
def _sen2_names() -> frozenset[str]:
    """Every normalised heading a SEN2 module field is known by (Blade names, aliases, human headings)."""
    return frozenset(n for m in MODULES for f in m.all_fields for n in field_names(m, f))


def closest_layout(headers: list[str]) -> str | None:
    """For a table no layout fits: the layout matching most of its headings, the columns it lacks (the key and
    required ones, with their template headings) and the headings it does not recognise; None when none match."""
    present = _present(headers)
    best: tuple[int, float, Module | None, dict[str, str]] = (0, 0.0, None, {})
    for module in ALL_MODULES:
        mapping = _map_module(module, present)
        score = (len(mapping), len(mapping) / len(module.all_fields))
        if score > best[:2]:
            best = (*score, module, mapping)
    _, _, module, mapping = best
    if module is None:
        return None
    missing = [f"{c} ({human.heading(module.name, c)})" if human.heading(module.name, c) != c else c
               for c in dict.fromkeys([module.key.source, *module.required_columns]) if c not in mapping]
    used = set(mapping.values())
    unknown = [h for h in headers if h and h not in used]
    kind = "SEN2 module" if module.layout == LAYOUT else "local extract"
    return (f"closest is the {module.name} {kind}, which lacks {', '.join(missing) or 'nothing required'}"
            f"; headings not recognised: {', '.join(unknown) or 'none'}")


def looks_like_header(cells: list[str]) -> bool:
    """A row is a header when a module's key and at least one more of its columns are in it."""
    module, mapping = detect_module(cells)
    return module is not None and len(mapping) >= 2


def layout_of(module: Module, source: src.Source, mapping: dict[str, str]) -> str:
    """The layout name for load_log: Blade, the Excel template, module CSVs with human headings, or local."""
    if module.layout != LAYOUT:
        return module.layout
    if source.is_excel:
        return human.LAYOUT_TEMPLATE
    blade_names = {normalise_header(n) for f in module.all_fields for n in (f.source, *f.aliases)}
    if any(normalise_header(h) not in blade_names for h in mapping.values()):
        return human.LAYOUT_MODULE_CSV
    return LAYOUT


def expected_layouts() -> str:
    blade = "; ".join(f"{m.name} ({', '.join(m.required_columns)})" for m in MODULES)
    return (f"a SEN2 Blade module: {blade}; or the same modules with the DfE template's headings (Excel "
            "workbook with a sheet per module, or one CSV per module: Person ID, Requests Record ID, Date Request "
            "Was Received, …); or a local extract: " + "; ".join(m.description for m in LOCAL_MODULES))


PlanItem = tuple[src.Source | Path, object, dict[str, str]]  # (table, Module or other Layout, header map)


def plan_file(path: Path) -> tuple[list[PlanItem], list[Problem], list[Problem]]:
    """What to load from one file: its tables with their modules, or a registered layout; else problems.

    Returns (plan items, file-level problems, warnings).
    """
    try:
        sources = src.open_sources(path, looks_like_header)
        source_error = None
    except src.SourceError as exc:
        sources, source_error = [], str(exc)
    items: list[PlanItem] = []
    problems: list[Problem] = []
    unmatched: list[src.Source] = []
    for source in sources:
        module, mapping = detect_module(source.headers)
        if module is None:
            unmatched.append(source)
            continue
        missing = [c for c in module.required_columns if c not in mapping]
        if missing:
            problems.append(Problem(source.name, None, ", ".join(missing),
                                    f"required {plural(len(missing), 'column')} missing for the {module.name} module"))
            continue
        items.append((source, module, mapping))
    if items or problems:
        warnings = [Problem(s.name, None, None, "sheet ignored: its headings match no known layout")
                    for s in unmatched]
        return items, problems, warnings
    other = _other_layout(path, sources[0].headers if sources and not src.is_excel(path) else None)
    if other is not None:
        return [(path, other, {})], [], []
    if source_error is not None:
        if src.is_excel(path):
            source_error = f"unknown layout: the workbook matches no known layout ({source_error})"
        return [], [Problem(path.name, None, None, source_error)], []
    what = "the workbook matches" if src.is_excel(path) else "the headers match"
    closest = [c for c in (closest_layout(s.headers) for s in unmatched) if c]
    return [], [Problem(path.name, None, None, f"unknown layout: {what} no known layout; "
                        + "".join(f"{c}; " for c in closest[:1]) + "expected "
                        + expected_layouts() + "".join(f"; or {lay.description}" for lay in OTHER_LAYOUTS))], []


def _other_layout(path: Path, headers: list[str] | None):
    """The first registered non-SEN2 layout (published data, …) that recognises the file. ``headers``: a CSV's
    heading row as already sniffed (None for a workbook, or a file not readable as a table): the file is not read
    again here."""
    for lay in OTHER_LAYOUTS:
        try:
            if lay.matches(path, headers):
                return lay
        except Exception:  # a layout's sniffing must not turn an unreadable file into a traceback
            continue
    return None
