"""Roles (kpi/access/roles.py): claims to role, pages per role, exact or suppressed figures, local mode, the config
file."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.access import roles
from kpi.access.roles import AccessConfigError, ClaimRule, RolesConfig, role_for


@pytest.fixture
def config():
    return roles.load()  # the shipped access.yaml


def test_shipped_config_names_real_kpis(catalogue):
    cfg = roles.load(catalogue=catalogue)
    assert cfg.suppression.min_count == 1 and cfg.suppression.max_count == 4
    assert cfg.roles.local_role == "analyst"


@pytest.mark.parametrize("claims,role", [
    ({"email": "a.monitor@education.gov.uk", "email_verified": True}, "monitor"),
    ({"email": "A.Monitor@EDUCATION.gov.uk", "email_verified": True}, "monitor"),  # case-insensitive
    ({"email": "n.e@england.nhs.uk", "email_verified": True}, "monitor"),
    ({"email": "x@education.gov.uk", "roles": ["app-analyst"]}, "analyst"),      # first matching rule wins
    ({"roles": ["staff", "app-leadership"]}, "leadership"),                      # any element of a list claim
    ({"roles": "app-monitor"}, "monitor"),
    ({"email": "someone@gmail.com"}, None),                                      # no rule: no access
    ({"email": "spoof@education.gov.uk", "email_verified": False}, None),        # unverified email never matches
    ({"email": "x@education.gov.uk.evil.com"}, None),
    ({}, None),
])
def test_role_for_claims(config, claims, role):
    assert role_for(claims, config.roles) == role


def test_one_of_rule():
    cfg = RolesConfig(rules=[ClaimRule(claim="groups", one_of=["send-bi", "send-data"], role="analyst")],
                      pages={"monitor": [], "leadership": [], "analyst": "all"})
    assert role_for({"groups": ["Send-Data"]}, cfg) == "analyst"
    assert role_for({"groups": ["other"]}, cfg) is None


def test_a_rule_needs_exactly_one_test():
    with pytest.raises(ValueError, match="exactly one"):
        ClaimRule(claim="email", role="analyst")
    with pytest.raises(ValueError, match="exactly one"):
        ClaimRule(claim="email", equals="a", ends_with="b", role="analyst")


def test_pages_per_role(config):
    pages = ["overview", "kpi_trajectory", "benchmarks", "waiting_lists", "data_quality", "explore",
             "sql_console", "audit_log"]
    assert roles.visible("monitor", pages, config.roles) == ["overview", "kpi_trajectory", "benchmarks"]
    assert roles.visible("leadership", pages, config.roles) == pages[:5]
    assert roles.visible("analyst", pages, config.roles) == pages
    assert not roles.can_see("monitor", "sql_console", config.roles)
    assert not roles.can_see("intruder", "overview", config.roles)


def test_only_analysts_see_exact_figures(config, catalogue):
    assert roles.exact_figures("analyst", config.roles)
    assert not roles.exact_figures("monitor", config.roles) and not roles.exact_figures("leadership", config.roles)
    series = pd.DataFrame({"kpi_id": ["ehcp_20wk_excl"], "period": ["2023-07"], "numerator": [3.0],
                           "denominator": pd.array([40], dtype="Int64"), "value": [7.5], "rolling_12m": [None],
                           "median": [None], "target": [49.2], "trajectory": [30.0], "status": ["off_track"]})
    assert roles.series_for_role(series, catalogue, "analyst", config) is series
    monitor = roles.series_for_role(series, catalogue, "monitor", config)
    assert monitor.loc[0, "status"] == "suppressed" and pd.isna(monitor.loc[0, "value"])
    with pytest.raises(ValueError, match="unknown role"):
        roles.series_for_role(series, catalogue, "admin", config)


def test_local_mode_and_app_role_preview(config):
    assert roles.local_role(config.roles, {}) == ("analyst", False)
    assert roles.local_role(config.roles, {"APP_ROLE": "Monitor"}) == ("monitor", True)
    assert roles.local_role(config.roles, {"APP_ROLE": "analyst"}) == ("analyst", False)
    with pytest.raises(AccessConfigError, match="APP_ROLE='boss' is not a role"):
        roles.local_role(config.roles, {"APP_ROLE": "boss"})


def test_sidebar_wording():
    assert roles.describe_mode("analyst", None, False) == "Local single-user mode — analyst"
    assert roles.describe_mode("monitor", None, True) == "Local single-user mode — previewing as monitor (APP_ROLE)"
    assert roles.describe_mode("monitor", "a@education.gov.uk", False) == "Signed in as a@education.gov.uk — monitor"


@pytest.mark.parametrize("text,problem", [
    ("roles: {pages: {monitor: [overview], leadership: [overview]}}", "no entry for role(s) analyst"),
    ("roles: {pages: {monitor: [], leadership: [], analyst: all}, local_role: boss}", "roles.local_role"),
    ("roles: {pages: {monitor: [], leadership: [], analyst: all}}\nsuppression: {max_count: 0}", "max_count"),
    ("roles: {pages: {monitor: [], leadership: [], analyst: all}, rules: [{claim: email, role: analyst}]}",
     "exactly one"),
    ("roles: [unclosed", "not valid YAML"),
])
def test_bad_config_is_one_line_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "access.yaml"
    path.write_text(text)
    with pytest.raises(AccessConfigError) as exc:
        roles.load(path)
    assert str(path) in str(exc.value) and problem in str(exc.value) and "\n" not in str(exc.value)


def test_suppression_must_name_known_kpis(tmp_path, catalogue):
    path = tmp_path / "access.yaml"
    path.write_text("roles: {pages: {monitor: [], leadership: [], analyst: all}}\n"
                    "suppression: {nested: [{child: ehcp_20wk_excl, parent: no_such_kpi}]}\n")
    with pytest.raises(AccessConfigError, match="unknown KPI id.*no_such_kpi"):
        roles.load(path, catalogue)


def test_missing_config_file(tmp_path):
    with pytest.raises(AccessConfigError, match="cannot read the access configuration"):
        roles.load(tmp_path / "nope.yaml")
