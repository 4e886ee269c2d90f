"""Each field's raw text, typed value and field-level checks as SQL expressions over one row.

Why in SQL: a load stays one vectorised pass in DuckDB; these are the expressions the loader's statements
(:mod:`etl.loader`, :mod:`etl.checks`) are built from. Person ids are pseudonymised here (HMAC under the load's key),
so a child's id never leaves the expression as written.
"""

from __future__ import annotations

from etl import identifiers as ids
from etl import sources as src
from etl.detect import DERIVED, DERIVED_KEYS
from etl.formats.sen2_blade import MODULES, Field, Module, date_sql
from etl.pseudonymise import hmac_sql
from etl.sql_text import in_list, literal


def ident(name: str) -> str:
    """A SQL identifier (a column name as written in the file)."""
    return '"' + name.replace('"', '""') + '"'


def raw_text(f: Field, mapping: dict[str, str]) -> str:
    """The trimmed raw text of a field, NULL when blank or when the column is absent (a derived key: its text)."""
    if f.source not in mapping:
        return "CAST(NULL AS VARCHAR)"
    if f.source in DERIVED_KEYS and mapping[f.source].endswith(DERIVED):
        parent, when = (next(g for m in MODULES for g in m.all_fields if g.source == s) for s in DERIVED_KEYS[f.source])
        parent_raw, when_raw = raw_text(parent, mapping), raw_text(when, mapping)
        return (rf"CASE WHEN {parent_raw} IS NOT NULL THEN {whole_number_text(parent_raw)} || "
                f"coalesce('|' || CAST({date_sql(when_raw)} AS VARCHAR), '') END")
    return f"NULLIF(trim({ident(mapping[f.source])}), '')"


def whole_number_text(raw: str, signed: bool = False) -> str:
    """SQL: ``raw`` with an Excel-style ``.0`` tail dropped ('1234.0' → '1234'). Text without a point cannot match,
    so the regular expression runs only on the rare cells that hold one."""
    sign = "-?" if signed else ""
    return rf"CASE WHEN contains({raw}, '.') THEN regexp_replace({raw}, '^({sign}\d+)\.0+$', '\1') ELSE {raw} END"


def is_free_text(f: Field, mapping: dict[str, str]) -> bool:
    return f.kind == "text" and f.source in ids.FREE_TEXT and f.source in mapping


def person_level(module: Module) -> bool:
    """A module whose rows are about one child (a person id or identifier columns)."""
    return any(f.kind in ("person_id", "identifier") for f in module.all_fields)


def first_sensitive(module: Module, mapping: dict[str, str], columns: list[str]) -> int | None:
    """The file position of the first identifier or free-text column: in a misaligned row (more cells than
    headings) every cell from there on may have come from it, so none is shown."""
    places = [columns.index(mapping[f.source]) for f in module.all_fields
              if f.source in mapping and mapping[f.source] in columns
              and (f.kind == "identifier" or is_free_text(f, mapping))]
    return min(places) if places else None


def typed_expr(f: Field, raw: str, key: bytes) -> str:
    """SQL turning a raw text column into its clean typed value (NULL when it does not parse)."""
    id_text = whole_number_text(raw)
    if f.kind == "id":
        return id_text
    if f.kind == "person_id":
        return f"CASE WHEN {raw} IS NULL THEN NULL ELSE {hmac_sql(id_text, key)} END"
    if f.kind == "date" or (f.kind == "identifier" and f.source == "personbirthdate"):
        return date_sql(raw)
    if f.kind == "int":
        return f"TRY_CAST({whole_number_text(raw, signed=True)} AS INTEGER)"
    if f.kind == "flag":
        return (
            f"CASE WHEN lower({raw}) IN ('1', '1.0', 'true', 'y', 'yes') THEN TRUE "
            f"WHEN lower({raw}) IN ('0', '0.0', 'false', 'n', 'no') THEN FALSE END"
        )
    if f.kind == "code":  # 'Requires Improvement' → REQUIRES_IMPROVEMENT; 'social care' → SOCIAL_CARE
        normalised = rf"upper(regexp_replace({raw}, '[\s_-]+', '_', 'g'))"
        # A code as written (nearly every cell) is its own normal form: the regular expression is spared it.
        return f"CASE WHEN {raw} IN ({in_list(f.codes)}) THEN {raw} ELSE {normalised} END" if f.codes else normalised
    if f.kind == "number":
        return rf"TRY_CAST(replace({raw}, ',', '') AS DOUBLE)"
    if f.kind == "period":
        return rf"CAST(try_strptime(regexp_extract({raw}, '^(\d{{4}}-\d{{1,2}})$', 1) || '-01', '%Y-%m-%d') AS DATE)"
    return raw


TOO_LONG = f"value is too long (over {src.MAX_CELL_CHARS:,} characters, more than an Excel cell holds): not shown"


def field_checks(f: Field, raw: str, typed: str) -> list[tuple[str, str, str]]:
    """(condition, reason, flag) triples: what makes a row's value in this field unacceptable, why, and a condition
    that holds whenever the first does but costs less to plan (it finds the rows worth checking in full)."""
    checks: list[tuple[str, str, str]] = []
    if f.required:
        checks.append((f"{raw} IS NULL", "required value is missing", f"{raw} IS NULL"))
    # Bytes are never fewer than characters: the byte count (no UTF-8 decoding) flags every cell too long.
    checks.append((f"length({raw}) > {src.MAX_CELL_CHARS}", TOO_LONG, f"strlen({raw}) > {src.MAX_CELL_CHARS}"))
    errors = ", ".join(literal(e) for e in src.EXCEL_ERRORS)
    # Every Excel error starts with '#': the prefix test spares upper-casing the other cells (LIKE with a literal
    # prefix is DuckDB's cheapest form of it, half the cost of starts_with).
    checks.append((f"({raw} LIKE '#%' AND upper({raw}) IN ({errors}))",
                   "an Excel error cell (the formula behind it failed)", f"{raw} LIKE '#%'"))
    if f.kind in ("date", "int", "flag", "number", "period") or f.source == "personbirthdate":
        what = {"date": "not a valid date", "int": "not a whole number", "flag": "not a 0/1 flag",
                "number": "not a number", "period": "not a month written YYYY-MM"}
        reason = what.get(f.kind, "not a valid date")
        checks.append((f"{raw} IS NOT NULL AND {typed} IS NULL AND upper({raw}) NOT IN ({errors})", reason,
                       f"{raw} IS NOT NULL AND {typed} IS NULL"))
    if f.kind == "date" or f.source == "personbirthdate":
        checks.append((f"{typed} > current_date", "date is in the future", f"{typed} > current_date"))
    if f.kind == "period":
        checks.append((f"{typed} > current_date", "period is in the future", f"{typed} > current_date"))
    if f.kind == "code" and f.codes:
        codes = in_list(f.codes)
        checks.append((f"{raw} IS NOT NULL AND {typed} NOT IN ({codes})",
                       f"not a valid code (expected one of {', '.join(f.codes)})",
                       f"{raw} IS NOT NULL AND {typed} NOT IN ({codes})"))
    return checks


def derived_columns(module: Module, mapping: dict[str, str]) -> dict[str, str]:
    """Clean columns computed from fields before they are dropped (the person's postcode → its district)."""
    fields = {f.source: f for f in module.all_fields}
    return {target: sql(raw_text(fields[source], mapping)) for target, source, sql in module.derived}
