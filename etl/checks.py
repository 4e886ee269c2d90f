"""The validation rules of one module's table as SQL: each rule a query giving (file, row, column, value, reason).

Why each rule its own small builder: the loader unions the queries a table needs (field checks, duplicate keys,
the module's row rules, its parent) into one statement, and skips the field checks' query, the costliest to plan,
when no row is flagged. Every query reads the loader's temp relations: ``_chk`` (each field's raw text ``_rN`` and
typed value ``_tN`` per row, with ``_row``, ``_area``, ``_fidx``), ``_typed`` (the clean columns by target name)
and the module's context (``_ctx``, see :attr:`etl.formats.sen2_blade.Module.context`).

What a problem shows is never a child's identifier: identifier columns show nothing, person ids show their
pseudonym or nothing, and a cell of identifier shape (or of a misaligned row) is replaced.
"""

from __future__ import annotations

from etl import identifiers as ids
from etl import sources as src
from etl.formats.sen2_blade import MODULE_BY_NAME, Module
from etl.sql_text import literal
from etl.typed import field_checks, first_sensitive, is_free_text, person_level

OVERFLOW = ("_extra IS NOT NULL", "(beyond the last heading)", "row has more cells than the header has columns")


def row_flag_sql(module: Module) -> str:
    """SQL over ``_chk_t``: true when a field check may fail on the row (or it has cells beyond the last heading).
    Each check's cheaper flag stands in for it: a row flagged that fails no check yields no problem."""
    flags = [f"({flag})" for i, f in enumerate(module.all_fields) for *_, flag in field_checks(f, f"_r{i}", f"_t{i}")]
    return " OR ".join(dict.fromkeys([*flags, OVERFLOW[0]]))


def field_problems_sql(module: Module, mapping: dict[str, str], columns: list[str]) -> str:
    """Every failed field check of the flagged rows, one problem each, with the value as it may be shown."""
    problems = []
    for i, f in enumerate(module.all_fields):
        shown = shown_sql(module, mapping, columns, i, "")
        shown = f"CASE WHEN length(_r{i}) <= {src.MAX_CELL_CHARS} THEN {shown} END"  # a huge cell: not shown
        for cond, reason, _ in field_checks(f, f"_r{i}", f"_t{i}"):
            problems.append(_problem_struct(cond, mapping.get(f.source, f.source), shown, reason))
    problems.append(_problem_struct(OVERFLOW[0], OVERFLOW[1], "NULL", OVERFLOW[2]))
    return ("SELECT _fidx, _row, p.column_name, p.value, p.reason FROM (SELECT _fidx, _row, "
            f"unnest([{', '.join(problems)}]) AS p FROM _chk WHERE _flag) WHERE p IS NOT NULL")


def duplicate_key_sql(module: Module, mapping: dict[str, str]) -> str:
    """Every row whose key appears on another row of the same file."""
    key_col = module.key_column
    key_header = ", ".join(mapping.get(_source_of(module, p), p) for p in module.key_parts) \
        if module.key_parts else mapping[module.key.source]
    key_shown = "NULL" if module.key.kind == "person_id" or module.key_parts else key_col
    return (f"SELECT _fidx, _row, {literal(key_header)}, {key_shown}, "
            "'duplicate key: the same id appears on more than one row' "
            f"FROM _typed t WHERE EXISTS (SELECT 1 FROM (SELECT _fidx, {key_col} FROM _typed "
            f"WHERE {key_col} IS NOT NULL GROUP BY ALL HAVING count(*) > 1) d "
            f"WHERE d._fidx = t._fidx AND d.{key_col} = t.{key_col})")


def row_rules_sql(module: Module, mapping: dict[str, str], ctx: str) -> list[str]:
    """The module's rules comparing fields of one row (over ``ctx``: the typed rows, with its context)."""
    return [f"SELECT _fidx, _row, {literal(mapping.get(_source_of(module, column), column))}, NULL, "
            f"{literal(reason)} FROM {ctx} WHERE {cond}" for cond, column, reason in module.rules]


def parent_sql(module: Module, mapping: dict[str, str]) -> list[str]:
    """Rows referring to a parent record (of the same area) that is neither stored nor loaded; none without one."""
    if not module.parent or module.parent[0] not in mapping:
        return []
    fk_source, parent_name = module.parent
    parent = MODULE_BY_NAME[parent_name]
    fk_field = next(f for f in module.all_fields if f.source == fk_source)
    shown = "NULL" if fk_field.kind == "person_id" else fk_field.target
    article = "an" if parent.name[0] in "aeiou" else "a"
    return [f"SELECT _fidx, _row, {literal(mapping[fk_source])}, {shown}, "
            f"'refers to {article} {parent.name} record that is not loaded' FROM _typed t "
            f"WHERE {fk_field.target} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent.table} p WHERE p.area_code = t._area "
            f"AND p.{parent.key.target} = t.{fk_field.target})"]


def shown_sql(module: Module, mapping: dict[str, str], columns: list[str], i: int, alias: str) -> str:
    """Field ``i``'s raw text as the quarantine and the load report may show it: never an identifier column's
    (NULL; person ids are pseudonymised in the row as read), never a cell of identifier shape (in a person-level
    module, any full date outside a date column too), and nothing from the first identifier or free-text column
    on when the row is misaligned (``_extra``: more cells than headings)."""
    f = module.all_fields[i]
    if f.kind in ("identifier", "person_id") or f.source not in mapping:
        return "CAST(NULL AS VARCHAR)"
    if is_free_text(f, mapping):
        shown = f"{alias}_t{i}"  # already whole or replaced
    elif f.kind == "id":
        shown = f"{alias}_r{i}"
    else:
        shown = ids.safe_sql(f"{alias}_r{i}", dates=person_level(module) and f.kind != "date")
    first = first_sensitive(module, mapping, columns)
    if first is not None and mapping[f.source] in columns and columns.index(mapping[f.source]) >= first:
        shown = f"CASE WHEN NOT ({_misaligned_sql(module, mapping, columns, first, alias)}) THEN {shown} END"
    return shown


def _misaligned_sql(module: Module, mapping: dict[str, str], columns: list[str], first: int, alias: str) -> str:
    """SQL: the row looks shifted by an unquoted comma: cells beyond the last heading, or a cell of identifier
    shape in a column after the first identifier or free-text one that holds no identifier (a trailing blank
    cell shifted out leaves no overflow)."""
    tests = [f"{alias}_extra IS NOT NULL"]
    for j, g in enumerate(module.all_fields):
        if g.kind in ("identifier", "person_id", "id") or is_free_text(g, mapping) or g.source not in mapping:
            continue
        if mapping[g.source] in columns and columns.index(mapping[g.source]) > first:
            pattern = ids.SHAPES_WITH_DATES if person_level(module) and g.kind != "date" else ids.SHAPES
            tests.append(f"coalesce({ids.looks_like_identifier_sql(f'{alias}_r{j}', pattern)}, false)")
    return " OR ".join(tests)


def row_json_sql(module: Module, mapping: dict[str, str], columns: list[str]) -> str:
    """A quarantined row as read (from ``_chk c``), as JSON: person ids pseudonymised, other identifiers and cells
    of identifier shape left out; cells beyond the last heading only counted."""
    parts = []
    for i, f in enumerate(module.all_fields):
        if f.source not in mapping or f.kind == "identifier":
            continue
        value = f"c._t{i}" if f.kind == "person_id" else shown_sql(module, mapping, columns, i, "c.")
        value = f"CASE WHEN length(c._r{i}) > {src.MAX_CELL_CHARS} THEN '(too long: not kept)' ELSE {value} END"
        parts.append(f"{literal(mapping[f.source])}, {value}")
    parts.append("'(beyond the last heading)', c._extra")
    return f"json_object({', '.join(parts)})"


def _problem_struct(cond: str, column: str, shown: str, reason: str) -> str:
    """One rule as a list element: the problem when the condition holds, else NULL."""
    return (f"CASE WHEN {cond} THEN struct_pack(column_name := {literal(column)}, "
            f"value := CAST({shown} AS VARCHAR), reason := {literal(reason)}) END")


def _source_of(module: Module, target: str) -> str:
    """The source column of a target (for naming the column a rule blames), else the name as given."""
    return next((f.source for f in module.all_fields if f.target == target), target)
