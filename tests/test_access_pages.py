"""Roles, suppression, the SQL console and the audit log in the running app (AppTest, local single-user mode).

Uses the small database of tests/support/app.py: in July 2023, 1 of 2 plans within 20 weeks (50.0%)."""

from __future__ import annotations

import pytest

from kpi.access import audit
from tests.support.app import run_app, text_of

pytestmark = pytest.mark.slow  # every page under each role (AppTest, ~2 s each): make test

SQL_PAGE, AUDIT_PAGE = "pages/sql_console.py", "pages/audit_log.py"




def sidebar_text(at) -> str:
    return "\n".join(str(m.value) for m in at.sidebar.markdown) + "\n".join(str(c.value) for c in at.sidebar.caption)


def nav(at) -> set[str]:
    return set(at.session_state["_page_ids"].values())


def test_local_mode_is_labelled_and_analysts_see_every_page_and_exact_figures(app_db):
    at = run_app({"period": "2023-07"})
    assert "Local single-user mode — analyst" in sidebar_text(at)
    assert "shown as “c”" not in sidebar_text(at)
    assert nav(at) == {"overview", "portfolio", "kpi_trajectory", "benchmarks", "waiting_lists", "data_quality",
                       "explore", "explain", "sql_console", "audit_log"}
    assert "50.0%" in text_of(at) and "1 of 2" in text_of(at)


@pytest.mark.parametrize("role", ["monitor", "leadership"])
def test_preview_as_monitor_or_leadership_suppresses_and_hides_analyst_pages(app_db, monkeypatch, role):
    monkeypatch.setenv("APP_ROLE", role)
    at = run_app({"period": "2023-07"})
    side = sidebar_text(at)
    assert f"Local single-user mode — previewing as {role} (APP_ROLE)" in side
    assert "Small numbers (1–4) are shown as “c”" in side
    # leadership also has the waiting lists and data quality (access.yaml; quarantined rows for analysts only)
    assert nav(at) == {"overview", "kpi_trajectory", "benchmarks"} | (
        {"waiting_lists", "data_quality"} if role == "leadership" else {"portfolio"})
    text = text_of(at)
    assert "1 of 2" not in text and "50.0%" not in text
    assert "⊘ Suppressed" in text
    assert "21.4 weeks" not in text  # mean of 2 plans: suppressed too


def test_bad_app_role_is_a_clear_message(app_db, monkeypatch):
    monkeypatch.setenv("APP_ROLE", "boss")
    at = run_app()
    assert any("APP_ROLE='boss' is not a role" in e.value for e in at.error)
    assert not at.markdown or "Overview" not in text_of(at)


def test_a_monitor_cannot_reach_the_sql_console_or_the_audit_log(app_db, monkeypatch):
    monkeypatch.setenv("APP_ROLE", "monitor")
    at = run_app({"period": "2023-07"})
    for page in (SQL_PAGE, AUDIT_PAGE):  # not registered with st.navigation at all for this role
        with pytest.raises(ValueError, match="Could not find a navigation page.*Known pages: .*overview.py'"
                                             ", '.*kpi_trajectory.py', '.*benchmarks.py'\\]"):
            at.switch_page(page)


def test_sql_console_runs_a_select_offers_csv_and_audits_it(app_db):
    at = run_app(page=SQL_PAGE)
    assert "SQL console" in text_of(at)
    at.text_area(key="sql_text").set_value("SELECT count(*) AS plans FROM assessment WHERE assessment_outcome = 'Y'")
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert at.dataframe[-1].value["plans"].tolist() == [43]  # 21 months: 20 timely, 21 late, 2 extra late
    assert "1 row" in text_of(at)
    download = at.get("download_button")
    assert download and "Download the result (CSV)" in str(download[0].proto.label)
    log = audit.read_log(audit.audit_path(app_db), event="sql_query")
    assert log["outcome"].tolist() == ["ok", "started"] and "count(*) AS plans" in log.loc[0, "detail"]
    assert log.loc[0, "who"].startswith("local:") and log.loc[0, "role"] == "analyst"


@pytest.mark.parametrize("sql,why", [
    ("COPY assessment TO 'stolen.csv'", "COPY (reading or writing files) is refused"),
    ("SELECT * FROM read_csv('/etc/passwd')", "cannot read or write files"),
    ("SELECT 1; SELECT 2", "one statement at a time"),
    ("DELETE FROM request", "DELETE (a write) is refused"),
])
def test_sql_console_refusals_are_clear_and_audited(app_db, sql, why):
    at = run_app(page=SQL_PAGE)
    at.text_area(key="sql_text").set_value(sql)
    at.get("form_submit_button")[0].click()
    at.run()
    assert any(why in e.value and e.value.startswith("Not run:") for e in at.error), [e.value for e in at.error]
    log = audit.read_log(audit.audit_path(app_db), event="sql_query")
    assert log.loc[0, "outcome"].startswith("refused") and why in log.loc[0, "outcome"]


def test_audit_log_records_sign_in_and_page_views_with_parameters_and_shows_them(app_db):
    at = run_app({"period": "2023-07"})
    at.sidebar.selectbox(key="period").set_value("2023-08").run()
    at.run()  # a rerun with nothing changed is not a new view
    log = audit.read_log(audit.audit_path(app_db))
    assert log["event"].value_counts().to_dict() == {"page_view": 2, "sign_in": 1}
    views = log[log["event"] == "page_view"]
    assert views["page"].tolist() == ["overview", "overview"]
    assert '"period": "2023-08"' in views["detail"].iloc[0] and '"period": "2023-07"' in views["detail"].iloc[1]
    at.switch_page(AUDIT_PAGE).run()
    assert "Audit log" in text_of(at)
    shown = at.dataframe[-1].value
    assert {"sign_in", "page_view"} <= set(shown["event"])


# --- OIDC sign-in (st.login / st.user), simulated by AppTest ---------------------------------------------------

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-only",
                 "client_id": "test", "client_secret": "test",
                 "server_metadata_url": "https://login.example.com/.well-known/openid-configuration"}}


def run_signed(user: dict, query: dict | None = None, page: str | None = None):
    from streamlit.testing.v1 import AppTest

    from tests.support.app import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(AUTH)
    at.user = user
    at.query_params.update(query or {})
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_signed_out_sees_only_a_sign_in_button(app_db):
    at = run_signed({"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Overview" not in text_of(at) and not at.sidebar.selectbox
    assert audit.read_log(audit.audit_path(app_db)).empty


def test_signed_in_monitor_by_email_domain(app_db):
    at = run_signed({"is_logged_in": True, "email": "a.monitor@education.gov.uk", "email_verified": True},
                    {"period": "2023-07"})
    assert "Signed in as a.monitor@education.gov.uk — monitor" in sidebar_text(at)
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert nav(at) == {"overview", "portfolio", "kpi_trajectory", "benchmarks"}
    assert "1 of 2" not in text_of(at) and "⊘ Suppressed" in text_of(at)
    log = audit.read_log(audit.audit_path(app_db), event="sign_in")
    assert log[["who", "role"]].values.tolist() == [["a.monitor@education.gov.uk", "monitor"]]


def test_signed_in_analyst_by_roles_claim_gets_exact_figures_and_the_console(app_db):
    at = run_signed({"is_logged_in": True, "email": "data@centralbedfordshire.gov.uk", "roles": ["app-analyst"]},
                    {"period": "2023-07"})
    assert "Signed in as data@centralbedfordshire.gov.uk — analyst" in sidebar_text(at)
    assert "1 of 2" in text_of(at)
    at.switch_page(SQL_PAGE).run()
    assert at.text_area(key="sql_text") is not None


def test_signed_in_without_a_role_is_refused_and_audited(app_db):
    at = run_signed({"is_logged_in": True, "email": "someone@gmail.com"})
    assert any("someone@gmail.com has no role in this dashboard" in e.value for e in at.error)
    assert [b.label for b in at.button] == ["Sign out"]
    assert "Overview" not in text_of(at)
    log = audit.read_log(audit.audit_path(app_db))
    assert log[["event", "who", "role"]].values.tolist() == [["access_denied", "someone@gmail.com", "none"]]
