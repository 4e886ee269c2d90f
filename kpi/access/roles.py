"""Roles: who is a leadership member, a monitor or an analyst; which pages each sees; whose figures are exact.

Configuration, not code: ``access.yaml`` at the repository root (or the file named by ``APP_ACCESS_CONFIG``) holds a
``roles:`` block (claim rules, pages per role, roles with exact figures, the local single-user role) and the
``suppression:`` rule of :mod:`kpi.access.suppress`. Pure functions; the Streamlit sign-in that supplies the claims is
in ``pages/_auth.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from etl.config import ConfigFileError, load_model, yaml_lines
from kpi.access.suppress import SuppressionRule, suppress_series
from kpi.definitions import Catalogue

ROLES = ("leadership", "monitor", "analyst")
Role = Literal["leadership", "monitor", "analyst"]
ENV_VAR = "APP_ACCESS_CONFIG"
ROLE_ENV_VAR = "APP_ROLE"  # local single-user mode only: preview the dashboard as another role
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "access.yaml"
ROLE_LABELS = {"leadership": "leadership", "monitor": "monitor", "analyst": "analyst"}


class ClaimRule(BaseModel):
    """One rule: if the identity's ``claim`` passes the test, its role is ``role``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1)
    equals: str | None = None
    one_of: list[str] | None = None
    ends_with: str | None = None
    role: Role

    @model_validator(mode="after")
    def _one_test(self) -> ClaimRule:
        tests = [t for t in (self.equals, self.one_of, self.ends_with) if t is not None]
        if len(tests) != 1:
            raise ValueError("each rule needs exactly one of equals, one_of, ends_with")
        return self

    def matches(self, claims: Mapping[str, object], trusted_issuers: Iterable[str] = ()) -> bool:
        """Case-insensitive; a list claim matches when any element does. A rule on an email-like claim (``email``,
        ``preferred_username``, ``upn``) matches only a verified address: ``email_verified`` the boolean true (not
        the string "true", not missing), or an identity provider (``iss``) the configuration names as trusted."""
        if self.claim in EMAIL_CLAIMS and not email_verified(claims, trusted_issuers):
            return False
        raw = claims.get(self.claim)
        values = raw if isinstance(raw, list | tuple) else [raw]
        texts = [str(v).strip().lower() for v in values if v is not None and str(v).strip()]
        if self.equals is not None:
            return self.equals.lower() in texts
        if self.one_of is not None:
            return bool({o.lower() for o in self.one_of} & set(texts))
        return any(t.endswith(self.ends_with.lower()) for t in texts)


EMAIL_CLAIMS = frozenset({"email", "preferred_username", "upn", "unique_name"})


def _issuer(value: object) -> str:
    return str(value).strip().rstrip("/").lower()


def email_verified(claims: Mapping[str, object], trusted_issuers: Iterable[str] = ()) -> bool:
    """Whether the identity's email can be believed: ``email_verified is True`` (a JSON boolean), or the token's
    issuer is one the configuration trusts to send only addresses it has verified (Microsoft Entra ID sends no
    ``email_verified``: name your own tenant's issuer, ``https://login.microsoftonline.com/<tenant id>/v2.0``)."""
    if claims.get("email_verified") is True:
        return True
    iss = claims.get("iss")
    return bool(iss) and _issuer(iss) in {_issuer(t) for t in trusted_issuers}


class RolesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    local_role: Role = "analyst"
    rules: list[ClaimRule] = Field(default_factory=list)
    pages: dict[Role, list[str] | Literal["all"]]
    exact_figures: list[Role] = Field(default_factory=lambda: ["analyst"])
    # Roles that write meeting notes (narratives and actions, kpi/notes.py); every role reads them.
    write_notes: list[Role] = Field(default_factory=lambda: ["leadership", "analyst"])
    # Identity providers (the token's ``iss``, exactly) trusted to send only verified email addresses, for
    # providers that send no ``email_verified`` claim (Microsoft Entra ID: your own tenant's issuer only).
    trusted_email_issuers: list[str] = Field(default_factory=list)
    # Local areas (ONS codes) each role may see; a role not named sees every area. ``area_claim`` names a claim
    # listing a signed-in user's own areas (e.g. a monitor's assigned councils), which narrows the role's further.
    areas: dict[Role, list[str] | Literal["all"]] = Field(default_factory=dict)
    area_claim: str | None = None

    @model_validator(mode="after")
    def _every_role_has_pages(self) -> RolesConfig:
        missing = [r for r in ROLES if r not in self.pages]
        if missing:
            raise ValueError(f"pages: no entry for role(s) {', '.join(missing)}")
        return self


class AccessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: RolesConfig
    suppression: SuppressionRule = Field(default_factory=SuppressionRule)


class AccessConfigError(ValueError):
    """access.yaml is missing or wrong; the message names the file and the problem."""


def config_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(path: Path | str | None = None, catalogue: Catalogue | None = None) -> AccessConfig:
    """Read and check the access configuration (and, given the catalogue, that the KPI ids it names exist)."""
    path = Path(path) if path else config_path()
    try:
        config = load_model(path, AccessConfig, "the access configuration")
    except ConfigFileError as exc:
        raise AccessConfigError(str(exc)) from exc
    if catalogue is not None:
        unknown = sorted(config.suppression.kpi_ids() - set(catalogue.ids))
        if unknown:
            raise AccessConfigError(f"{path}: suppression names unknown KPI id(s) {', '.join(unknown)}")
    strangers = _unknown_areas(path, config.roles)
    if strangers:
        raise AccessConfigError("; ".join(strangers))
    return config


def _unknown_areas(path: Path, config: RolesConfig) -> list[str]:
    """The area codes of ``roles.areas`` that are not English local authorities (etl/reference), each with the
    file and its line."""
    from etl import reference

    line = yaml_lines(path)
    return [f"{path} line {line(('roles', 'areas', role, i))}: roles.areas.{role}: {code} is not an English local "
            "authority's ONS code (etl/reference)"
            for role, codes in config.areas.items() if codes != "all"
            for i, code in enumerate(codes) if reference.by_code(code) is None]


def role_for(claims: Mapping[str, object], config: RolesConfig) -> str | None:
    """The role of a signed-in identity: the first matching rule's, or None (no access)."""
    return next((rule.role for rule in config.rules if rule.matches(claims, config.trusted_email_issuers)), None)


def local_role(config: RolesConfig, environ: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """(role, previewing) in local single-user mode: ``APP_ROLE`` if set, else the configured local role."""
    env = os.environ if environ is None else environ
    wanted = (env.get(ROLE_ENV_VAR) or "").strip().lower()
    if not wanted:
        return config.local_role, False
    if wanted not in ROLES:
        raise AccessConfigError(f"{ROLE_ENV_VAR}={wanted!r} is not a role; use one of {', '.join(ROLES)}")
    return wanted, wanted != config.local_role


def can_see(role: str, page_id: str, config: RolesConfig) -> bool:
    pages = config.pages.get(role, [])  # an unknown role sees nothing
    return pages == "all" or page_id in pages


def visible(role: str, page_ids: Iterable[str], config: RolesConfig) -> list[str]:
    """The page ids of ``page_ids`` the role may open, in the given order."""
    return [p for p in page_ids if can_see(role, p, config)]


def allowed_areas(role: str, config: RolesConfig, claims: Mapping[str, object] | None = None
                  ) -> frozenset[str] | None:
    """The ONS codes of the areas the role (and, with ``area_claim`` configured and present in ``claims``, this
    identity) may see; None for every area. An unknown role sees none."""
    if role not in ROLES:
        return frozenset()
    rule = config.areas.get(role, "all")
    allowed = None if rule == "all" else frozenset(c.strip().upper() for c in rule)
    raw = claims.get(config.area_claim) if claims is not None and config.area_claim else None
    if raw is not None:
        values = raw if isinstance(raw, list | tuple) else str(raw).replace(",", " ").split()
        own = frozenset(str(v).strip().upper() for v in values if str(v).strip())
        allowed = own if allowed is None else allowed & own
    return allowed


def may_see_area(area: str, allowed: frozenset[str] | None) -> bool:
    return allowed is None or area in allowed


def exact_figures(role: str, config: RolesConfig) -> bool:
    """Whether the role sees unsuppressed figures (everyone else, and their exports, is suppressed)."""
    return role in config.exact_figures


def can_write_notes(role: str, config: RolesConfig) -> bool:
    """Whether the role writes meeting notes (leadership and analysts by default); the others read them."""
    return role in config.write_notes


def series_for_role(series: pd.DataFrame, catalogue: Catalogue, role: str, config: AccessConfig) -> pd.DataFrame:
    """The KPI series as ``role`` may see it: unchanged for exact-figure roles, suppressed for everyone else."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if exact_figures(role, config.roles):
        return series
    return suppress_series(series, {k.id: k.unit for k in catalogue.kpis}, config.suppression)


def describe_mode(role: str, signed_in_as: str | None, previewing: bool) -> str:
    """The sidebar line saying who this is and with which role."""
    if signed_in_as:
        return f"Signed in as {signed_in_as} — {ROLE_LABELS[role]}"
    if previewing:
        return f"Local single-user mode — previewing as {ROLE_LABELS[role]} ({ROLE_ENV_VAR})"
    return f"Local single-user mode — {ROLE_LABELS[role]}"
