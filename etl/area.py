"""The home area (which local area this installation serves, as configuration rather than code) and resolving
any area named by code, number or name.

Read from ``area.yaml`` at the repository root, or from the file named by the environment variable
``APP_AREA_CONFIG``. Checked in two stages: shape (pydantic: code formats) and reference (the codes, name and
region agree with ``etl/reference/local_authorities.csv``, so a typo cannot silently benchmark the wrong area).
Any English local area in the reference works; nothing in the engine names Central Bedfordshire.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from etl import reference
from etl.config import ConfigFileError, load_model

ENV_VAR = "APP_AREA_CONFIG"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "area.yaml"


class HomeArea(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    new_la_code: str = Field(pattern=r"^E(0[6-9]|10)\d{6}$", description="ONS code, e.g. E06000056")
    old_la_code: str = Field(pattern=r"^\d{3}$", description="DfE LA number, e.g. 823")
    region_code: str = Field(pattern=r"^E12\d{6}$", description="ONS region code, e.g. E12000006")
    region_name: str = Field(min_length=1)

    @field_validator("old_la_code", mode="before")
    @classmethod
    def _as_text(cls, v):
        return reference.normalise_code(v) if isinstance(v, int | float) else v

    @property
    def area_code(self) -> str:
        """The canonical code (the current ONS code of the area the codes belong to)."""
        la = reference.by_code(self.new_la_code) or reference.by_code(self.old_la_code)
        return la.new_la_code if la else self.new_la_code


class AreaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    home_area: HomeArea


class AreaConfigError(ValueError):
    """The area configuration is missing or wrong; the message says which file and why."""


def config_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def check_reference(area: HomeArea) -> list[str]:
    """Problems with the configured codes against the reference list (empty when consistent)."""
    problems = []
    by_new, by_old = reference.by_code(area.new_la_code), reference.by_code(area.old_la_code)
    if by_new is None:
        problems.append(f"new_la_code {area.new_la_code} is not an English local authority code")
    if by_old is None:
        problems.append(f"old_la_code {area.old_la_code} is not a DfE LA number")
    if by_new and by_old and by_new != by_old:
        problems.append(f"new_la_code {area.new_la_code} is {by_new.name} but old_la_code {area.old_la_code} "
                        f"is {by_old.name}")
    la = by_new or by_old
    if la:
        if reference.normalise_name(area.name) not in {reference.normalise_name(n) for n in (la.name, *la.other_names)}:
            problems.append(f"name {area.name!r} does not match {la.name} ({la.new_la_code})")
        if area.region_code != la.region_code:
            problems.append(f"region_code {area.region_code} is not {la.name}'s region ({la.region_code}, "
                            f"{la.region_name})")
    return problems


def load(path: Path | str | None = None) -> HomeArea:
    """Read and check the home area. Raises AreaConfigError with a one-line reason."""
    path = Path(path) if path else config_path()
    try:
        area = load_model(path, AreaConfig, "the area configuration").home_area
    except ConfigFileError as exc:
        raise AreaConfigError(str(exc)) from exc
    problems = check_reference(area)
    if problems:
        raise AreaConfigError(f"{path}: " + "; ".join(problems))
    return area


class UnknownArea(ValueError):
    """A local area named on the command line (or by a folder) is not an English local authority."""


def resolve(text: str) -> str:
    """The ONS code of the English local authority given by its ONS code, DfE LA number or name.

    Raises UnknownArea with a one-line reason (naming what was given) when it matches none."""
    given = str(text).strip()
    la = reference.by_code(given) or reference.resolve_name(given)
    if la is None:
        raise UnknownArea(f"{given!r} is not an English local authority (give its ONS code such as E06000056, "
                          "its DfE LA number such as 823, or its name)")
    return la.new_la_code


def default_area_code() -> str:
    """The home area's ONS code: the area a load is for when none is named. Raises AreaConfigError."""
    return load().area_code
