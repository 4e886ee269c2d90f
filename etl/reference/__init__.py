"""Reference data about English local authorities: codes, names, regions and reorganisations.

``local_authorities.csv`` lists every local authority that has reported SEN2 since 2014, one row per
*area* (an authority with unchanged boundaries): its DfE LA number (``old_la_code``, three digits), its
current ONS code (``new_la_code``), the name DfE publishes, its region, the first and last calendar years it
reported (blank = before 2014 / still reporting), other codes it has been published under and other names it
goes by (``|``-separated). The list was built from DfE's own releases (2014–2024) and the ONS codes.

Choices, documented here because everything downstream relies on them:

- **One area, one canonical code.** The canonical ``area_code`` of a local authority is its current ONS code.
  An authority whose code changed with no change of boundary keeps one canonical code and lists the old one
  under ``other_codes``: Buckinghamshire (E10000002 → E06000060, 2020), North Yorkshire (E10000023 →
  E06000065, 2023) and Somerset (E10000027 → E06000066, 2023). DfE's 2025 release still publishes the old
  codes for these three (and mixes both for Buckinghamshire), so a series keyed on the canonical code joins
  across the change instead of breaking silently.
- **Real reorganisations are separate areas, linked in ``area_lineage.csv``.** Splits (Northamptonshire →
  North/West Northamptonshire 2021; Cumbria → Cumberland, Westmorland and Furness 2023), merges (Bournemouth,
  Poole and Christchurch → BCP 2019) and boundary changes (Dorset 2019) produce new areas whose figures are
  not comparable with their predecessors'. They are never joined; code that meets one says so.
- **The LA number identifies the area in DfE's files.** DfE's three-digit numbers stay the same across a
  recode (825, 815, 933) and change with a reorganisation, so published rows are matched on it first.
- **Names are matched loosely but exactly**: case, punctuation, ``&``/``and`` and ``St.``/``St`` are ignored,
  and the aliases in ``other_names`` are accepted (``Bedford Borough``, ``Durham``, ``Herefordshire``,
  ``Kingston Upon Hull, City of``). A name shared by two areas (Dorset county and Dorset Council) is
  resolved by the year.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb

from etl.insert import insert_rows

REF_DIR = Path(__file__).resolve().parent
ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
LA_OLD_CODE_RE = re.compile(r"^\d{3}$")
LA_NEW_CODE_RE = re.compile(r"^E(0[6-9]|10)\d{6}$")
REGION_CODE_RE = re.compile(r"^E1[23]\d{6}$")


@dataclass(frozen=True)
class LocalAuthority:
    """One reporting area (see the module docstring for what counts as one)."""

    old_la_code: str
    new_la_code: str
    name: str
    region_code: str
    region_name: str
    first_year: int | None
    last_year: int | None
    other_codes: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return (self.new_la_code, self.old_la_code, *self.other_codes)

    def exists_in(self, year: int) -> bool:
        started = self.first_year is None or year >= self.first_year
        return started and (self.last_year is None or year <= self.last_year)

    def span(self) -> str:
        if self.first_year and self.last_year:
            return f"{self.first_year}–{self.last_year}"
        if self.first_year:
            return f"from {self.first_year}"
        if self.last_year:
            return f"until {self.last_year}"
        return "throughout"


@dataclass(frozen=True)
class Lineage:
    """A reorganisation: one predecessor, one successor (a split has one row per successor)."""

    predecessor_code: str
    predecessor_name: str
    successor_code: str
    successor_name: str
    effective_year: int
    kind: str  # recode | split | merge | boundary_change
    note: str

    @property
    def joins(self) -> bool:
        """True when the successor is the same area under a new code (its series continues)."""
        return self.kind == "recode"


def normalise_name(name: str) -> str:
    """A name reduced for matching: lower case, ``&`` as ``and``, punctuation and extra spaces dropped."""
    text = name.replace("\ufeff", "").lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def normalise_code(code: str | int | None) -> str | None:
    """A code as text, trimmed and upper-cased; LA numbers given as numbers (823, 823.0) become '823'."""
    if code is None:
        return None
    text = str(code).strip().strip("'\"").strip().upper()
    if re.fullmatch(r"\d{1,3}(\.0+)?", text):
        text = text.split(".")[0].zfill(3)
    return text or None


def _year(text: str) -> int | None:
    return int(text) if text.strip() else None


@lru_cache(maxsize=1)
def local_authorities() -> tuple[LocalAuthority, ...]:
    with open(REF_DIR / "local_authorities.csv", newline="", encoding="utf-8") as fh:
        return tuple(
            LocalAuthority(
                old_la_code=r["old_la_code"], new_la_code=r["new_la_code"], name=r["la_name"],
                region_code=r["region_code"], region_name=r["region_name"],
                first_year=_year(r["first_year"]), last_year=_year(r["last_year"]),
                other_codes=tuple(c for c in r["other_codes"].split("|") if c),
                other_names=tuple(n for n in r["other_names"].split("|") if n),
            )
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def lineage() -> tuple[Lineage, ...]:
    with open(REF_DIR / "area_lineage.csv", newline="", encoding="utf-8") as fh:
        return tuple(
            Lineage(r["predecessor_code"], r["predecessor_name"], r["successor_code"], r["successor_name"],
                    int(r["effective_year"]), r["kind"], r["note"])
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def _by_code() -> dict[str, LocalAuthority]:
    out: dict[str, LocalAuthority] = {}
    for la in local_authorities():
        for code in la.codes:
            if code in out and out[code] != la:
                raise ValueError(f"reference: code {code} is given to both {out[code].name} and {la.name}")
            out[code] = la
    return out


@lru_cache(maxsize=1)
def _by_name() -> dict[str, tuple[LocalAuthority, ...]]:
    out: dict[str, list[LocalAuthority]] = {}
    for la in local_authorities():
        for name in {normalise_name(n) for n in (la.name, *la.other_names)}:
            out.setdefault(name, []).append(la)
    return {k: tuple(v) for k, v in out.items()}


def by_code(code: str | int | None) -> LocalAuthority | None:
    """The area a code (old or new, current or former) belongs to, or None."""
    key = normalise_code(code)
    return _by_code().get(key) if key else None


def by_name(name: str, year: int | None = None) -> list[LocalAuthority]:
    """Areas a name may mean. With a year, those reporting in that year come first (others follow)."""
    found = list(_by_name().get(normalise_name(name), ()))
    if year is not None:
        found.sort(key=lambda la: not la.exists_in(year))
    return found


def resolve_name(name: str, year: int | None = None, code_hint: str | None = None) -> LocalAuthority | None:
    """The one area a name means in a year (a code written beside it breaks a tie); None when unknown or ambiguous."""
    found = by_name(name, year)
    if year is not None and any(la.exists_in(year) for la in found):
        found = [la for la in found if la.exists_in(year)]
    if len(found) > 1 and code_hint:
        hinted = [la for la in found if normalise_code(code_hint) in la.codes]
        found = hinted or found
    return found[0] if len(found) == 1 else None


def regions() -> dict[str, str]:
    """Region code → name (the nine English regions)."""
    return {la.region_code: la.region_name for la in local_authorities()}


def lineage_for(area_code: str) -> list[Lineage]:
    """Reorganisations that created or ended an area (by canonical code)."""
    return [ln for ln in lineage() if area_code in (ln.predecessor_code, ln.successor_code)]


def seed(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh the reference tables inside the caller's transaction (called by every published-data load)."""
    las = local_authorities()

    con.execute("DELETE FROM area_reference")
    insert_rows(con, "area_reference", [
        [la.new_la_code, la.old_la_code, la.name, la.region_code, la.region_name, la.first_year, la.last_year,
         "|".join(la.other_codes) or None, "|".join(la.other_names) or None] for la in las])
    con.execute("DELETE FROM area_code_alias")
    insert_rows(con, "area_code_alias", [[code, la.new_la_code] for code, la in _by_code().items()])
    con.execute("DELETE FROM area_lineage")
    insert_rows(con, "area_lineage", [
        [ln.predecessor_code, ln.predecessor_name, ln.successor_code, ln.successor_name, ln.effective_year,
         ln.kind, ln.note] for ln in lineage()])
