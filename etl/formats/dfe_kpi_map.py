"""Which of DfE's published columns give each KPI: the ``published`` block of a KPI in ``kpi_definitions.yaml``,
seeded into ``published_kpi_map`` at each published-data load (the ``published_kpi`` view reads it).

The map has one source, the KPI definitions file: a KPI (or a published-only measure) that DfE publishes says so
with its ``published`` block, and its id there is the id the map carries, so renaming a KPI renames its map. The
block's model is here, at the bottom layer, because the ETL seeds the map; ``kpi.definitions`` validates the same
model as part of the catalogue. The ETL reads only the blocks (by id, name and polarity), never the rest of the
catalogue: ``python -m kpi validate`` checks the whole file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Protocol

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from etl.config import ConfigFileError, read_yaml, validate
from etl.report import LoadRejected, Problem

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "kpi_definitions.yaml"


class DfeSource(BaseModel):
    """One DfE dataset publishing the measure: the numerator column, the denominator column(s) (summed) and DfE's
    own rate column (reported as the value when present)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(min_length=1, description="The dataset loaded into published_value, e.g. timeliness_20_week")
    numerator: str = Field(min_length=1)
    denominator: list[str] = Field(min_length=1, description="Columns summed to make the denominator")
    rate: str | None = Field(default=None, description="DfE's published percentage column, if any")
    note: str | None = None


class DfePublished(BaseModel):
    """The DfE published measure a KPI corresponds to: its sources in order of preference (where two cover a year,
    the first with a value wins) and, optionally, how DfE's counting differs (shown beside a reconciliation flag)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[DfeSource] = Field(min_length=1)
    difference_note: str | None = Field(
        default=None, description="Where DfE's counting rule differs from the KPI's, so a reconciliation flag is "
                                  "read in context")


class PublishedEntry(Protocol):
    """What the map needs of a KPI or published measure (``kpi.definitions`` objects and the ETL's own reading)."""

    id: str
    name: str
    polarity: str
    published: DfePublished | None


class _Entry(BaseModel):
    """A catalogue entry as the ETL reads it: only what the map needs (the rest is kpi.definitions' to check)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    polarity: Literal["up", "down"]
    published: DfePublished


def map_rows(entries: Iterable[PublishedEntry]) -> list[list]:
    """``published_kpi_map`` rows (kpi_id, dataset, priority, numerator, denominator, rate, polarity, name, note)."""
    return [[e.id, s.dataset, priority, s.numerator, list(s.denominator), s.rate, e.polarity, e.name, s.note]
            for e in entries if e.published is not None
            for priority, s in enumerate(e.published.sources, start=1)]


def read_entries(path: Path | str = CATALOGUE_PATH) -> list[_Entry]:
    """The catalogue's KPIs and published-only measures that have a ``published`` block. Raises ConfigFileError."""
    raw = read_yaml(path, "the KPI definitions")
    if not isinstance(raw, dict):
        raise ConfigFileError(Path(path), [f"{path} must hold a mapping with kpis and published_measures"])
    entries = [*(raw.get("kpis") or []), *(raw.get("published_measures") or [])]
    return [validate(e, _Entry, path) for e in entries if isinstance(e, dict) and "published" in e]


def seed_kpi_map(con: duckdb.DuckDBPyConnection, path: Path | str = CATALOGUE_PATH) -> None:
    """Replace ``published_kpi_map`` with the catalogue's map. Raises LoadRejected when the catalogue is unreadable."""
    try:
        rows = map_rows(read_entries(path))
    except ConfigFileError as exc:
        raise LoadRejected([Problem(Path(path).name, None, None, f"the KPI map cannot be read: {exc}")]) from exc
    con.execute("DELETE FROM published_kpi_map")
    if rows:
        con.executemany("INSERT INTO published_kpi_map VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
