"""Privacy and security round 2 (issue 19) on the pages, run with AppTest: URL values quoted inert, the database
path and record-level revisions for analysts only, audit gaps closed."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from tests.support.app import plan_extract, run_app

pytestmark = pytest.mark.slow  # pages under streamlit's AppTest (~2 s each): make test

EVIL = "[Urgent: sign in again](https://evil.example/login) ![t](https://evil.example/p.png)"
PAGES = ["pages/kpi_trajectory.py", "pages/explain.py", "pages/benchmarks.py", "pages/waiting_lists.py",
         "pages/explore.py"]




def _shown_markdown(at) -> list[str]:
    elements = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.sidebar.markdown,
                *at.sidebar.caption]
    return [str(e.value) for e in elements]


def _assert_inert(at, quoted_somewhere: bool = True) -> None:
    """No shown text renders a link or an image to the attacker's host, and the host appears only in code."""
    parser = MarkdownIt("commonmark")
    quoted = [s for s in _shown_markdown(at) if "evil.example" in s]
    assert quoted or not quoted_somewhere, "the notice quoting the URL value is shown"
    for text in quoted:
        rendered = parser.render(text)
        assert "<a " not in rendered and "<img" not in rendered, text
        outside_code = rendered
        for chunk in rendered.split("<code>")[1:]:
            outside_code = outside_code.replace(chunk.split("</code>")[0], "")
        assert "evil.example" not in outside_code, text  # no bare URL either (GFM would autolink it)


def test_a_month_in_the_url_cannot_inject_a_link_or_an_image(app_db):
    at = run_app({"period": EVIL})
    _assert_inert(at)


@pytest.mark.parametrize("page", PAGES)
def test_url_values_on_each_page_are_quoted_inert(app_db, page):
    query = {"period": "2023-07", "kpi": EVIL, "service": EVIL, "start": EVIL, "f_locality": EVIL}
    at = run_app(query, page=page)
    _assert_inert(at, quoted_somewhere=page != "pages/benchmarks.py")  # no published data here: no KPI chooser


def test_md_quotes_any_value_inert_and_cut():
    from pages._html import md

    assert md("E06000056") == "E06000056" and md("2023-07") == "2023-07"
    assert md("a.monitor@education.gov.uk") == "a.monitor@education.gov.uk"
    for value in [EVIL, "``` ![x](https://evil.example/a) `", "<img src=https://evil.example/a>", "www.evil.example",
                  ":red[https://evil.example]", "line\n\n[x](https://evil.example)"]:
        rendered = MarkdownIt("commonmark").render(f"The link asks for “{md(value)}”.")
        assert "<a " not in rendered and "<img" not in rendered and rendered.count("<code>") == 1, rendered
    assert len(md("x" * 5000)) < 100


def _all_text(at) -> str:
    return "\n".join(_shown_markdown(at))


@pytest.mark.parametrize("role", ["monitor", "leadership"])
def test_the_database_path_is_shown_to_analysts_only(app_db, monkeypatch, role):
    at = run_app({"period": "2023-07"})
    assert str(app_db) in _all_text(at)
    monkeypatch.setenv("APP_ROLE", role)
    at = run_app({"period": "2023-07"})
    assert str(app_db) not in _all_text(at) and str(app_db.parent) not in _all_text(at)
    assert "updated" in "\n".join(str(c.value) for c in at.sidebar.caption)
    if role == "leadership":
        at.switch_page("pages/data_quality.py").run()
        assert not at.exception and str(app_db.parent) not in _all_text(at)


def test_a_missing_database_does_not_show_its_path_to_a_monitor(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_DB", str(tmp_path / "secret" / "app.duckdb"))
    monkeypatch.setenv("APP_ROLE", "monitor")
    at = run_app()
    assert "secret" not in _all_text(at) and "No data yet." in _all_text(at)


# --- audit gaps (item 8) ---------------------------------------------------------------------------------------

def _log(db, event=None):
    from kpi.access import audit

    return audit.read_log(audit.audit_path(db), event=event)


@pytest.mark.parametrize("page,keys", [
    ("pages/explain.py", ["records_csv", "records_xlsx"]),
    ("pages/explore.py", ["chart_csv", "chart_xlsx", "table_csv", "table_xlsx"]),
])
def test_record_and_breakdown_downloads_are_audited(app_db, page, keys):
    at = run_app({"period": "2023-07", "kpi": "ehcp_20wk_incl"}, page=page)
    for key in keys:
        at.download_button(key=key).click().run()
    downloads = _log(app_db, "download")
    assert len(downloads) == len(keys)
    assert set(downloads["page"]) == {page.removeprefix("pages/").removesuffix(".py")}
    assert all('"rows": ' in d and '"figures": "exact"' in d for d in downloads["detail"])


def test_the_quarantine_download_is_audited(build_db, monkeypatch):
    b = plan_extract()
    b.request(b.person(), "2023-13-01", "A", None)  # quarantined
    db = build_db(b)
    monkeypatch.setenv("APP_DB", str(db))
    at = run_app({"period": "2023-07"}, page="pages/data_quality.py")
    at.download_button(key="quarantine_download").click().run()
    downloads = _log(db, "download")
    assert downloads["page"].tolist() == ["data_quality"] and '"file": "quarantine.csv"' in downloads.loc[0, "detail"]


def test_a_page_that_ends_in_st_stop_is_still_logged(app_db):
    run_app({"period": "2023-07"}, page="pages/benchmarks.py")  # no published data loaded: the page stops early
    assert "benchmarks" in set(_log(app_db, "page_view")["page"])


def test_a_sql_query_is_logged_before_it_runs(app_db, monkeypatch):
    from kpi.access import sql_sandbox

    seen = []

    real = sql_sandbox.run_query

    def crash(db, sql, **kwargs):
        if sql != "SELECT 42":
            return real(db, sql, **kwargs)  # the table list
        seen.append(_log(app_db, "sql_query"))  # what the log holds while the query runs
        raise sql_sandbox.SqlRefused("lost")

    monkeypatch.setattr(sql_sandbox, "run_query", crash)
    at = run_app(page="pages/sql_console.py")
    at.text_area(key="sql_text").set_value("SELECT 42")
    at.get("form_submit_button")[0].click()
    at.run()
    assert seen[0]["outcome"].tolist() == ["started"] and "SELECT 42" in seen[0].loc[0, "detail"]
    assert _log(app_db, "sql_query")["outcome"].tolist() == ["refused: lost", "started"]


@pytest.mark.parametrize("path,logged", [("sql_console", "sql_console"), ("no_such_page", "(an unknown page)")])
def test_a_link_to_a_restricted_page_is_logged_as_refused_not_as_an_overview_view(app_db, monkeypatch, path,
                                                                                   logged):
    from streamlit.util import calc_hash

    monkeypatch.setenv("APP_ROLE", "monitor")
    at = run_app({"period": "2023-07"})
    views = _log(app_db, "page_view")
    at._page_hash = calc_hash(path)  # as a browser opening /sql_console asks for it
    at.query_params["period"] = "2023-06"
    at.run()
    denied = _log(app_db, "access_denied")
    assert denied["page"].tolist() == [logged]
    assert denied.loc[0, "outcome"] == "refused: the page is not available to the role"
    assert _log(app_db, "page_view").equals(views)  # not recorded as a view of Overview
    at.run()
    assert len(_log(app_db, "access_denied")) == 1  # once, not on every rerun


def test_an_over_long_url_value_is_cut_in_the_audit(app_db):
    run_app({"period": "2023-07", "area": "E" * 60_000})
    views = _log(app_db, "page_view")
    assert len(views.loc[0, "detail"]) < 1000 and "60,000 characters" in views.loc[0, "detail"]


def test_the_audit_file_is_owner_only(tmp_path):
    import os
    import stat

    from kpi.access import audit

    old = os.umask(0o022)
    try:
        path = tmp_path / "app.audit.duckdb"
        audit.record(path, who="a@x", role="analyst", event="sign_in")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        con = __import__("duckdb").connect(str(path))  # held by "another process": the event is kept aside
        try:
            audit._RETRY_S, saved = 0.0, audit._RETRY_S
            audit.record(path, who="a@x", role="analyst", event="sign_in")
        finally:
            audit._RETRY_S = saved
            con.close()
    finally:
        os.umask(old)
