"""APP KPI dashboard: the Streamlit entry point.

Sets up the page, the navigation (Overview, KPI trajectory, Benchmarks, Waiting lists, Explore, Explain this
number), the plan header, the sidebar's local-area selector (when the database holds more than one area) and month
selector, then runs the chosen page. The area, month and KPI live in the URL
(``?area=E06000056&period=2023-07&kpi=ehcp_20wk_excl``), so a link reopens the same view. Run with ``make run`` or
``streamlit run app.py`` (database from ``APP_DB``).
"""

from __future__ import annotations

from datetime import date, datetime

import streamlit as st

from kpi.engine.area import data_as_at
from kpi.views.charts import format_date, format_period, format_window, plan_length, plan_month, stocktakes
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _session as session
from pages import _states as states
from pages import _style as style
from pages import _url as url
from pages._refresh import refresh_notice

st.set_page_config(page_title="APP KPI dashboard", page_icon=":material/monitoring:", layout="wide")
st.html(style.CSS + style.PRINT_FIT, unsafe_allow_javascript=True)  # the script fits charts to the paper in print

user = auth.current_user()  # OIDC sign-in, or local single-user mode; None: sign-in prompt or no access shown
pages = {  # ids as in access.yaml: a role's pages, no others, are in the navigation
    "overview": st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    "portfolio": st.Page("pages/portfolio.py", title="Portfolio", icon=":material/grid_view:"),
    "kpi_trajectory": st.Page("pages/kpi_trajectory.py", title="KPI trajectory", icon=":material/show_chart:"),
    "benchmarks": st.Page("pages/benchmarks.py", title="Benchmarks", icon=":material/leaderboard:"),
    "waiting_lists": st.Page("pages/waiting_lists.py", title="Waiting lists", icon=":material/hourglass_top:"),
    "data_quality": st.Page("pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
    "explore": st.Page("pages/explore.py", title="Explore", icon=":material/bar_chart:"),
    "explain": st.Page("pages/explain.py", title="Explain this number", icon=":material/manage_search:"),
    "sql_console": st.Page("pages/sql_console.py", title="SQL console", icon=":material/terminal:"),
    "audit_log": st.Page("pages/audit_log.py", title="Audit log", icon=":material/policy:"),
}
page = st.navigation(auth.pages_for(user, pages))
if user is None:
    st.stop()
style.page_title(page.title)  # the tab names the page even if it stops early; pages name their month or KPI too
refused = audit.requested_path(page, pages)  # a link to a page this role may not open: audited as such

catalogue = data.catalogue()
window = catalogue.plan_window
approved = f" · approved {format_date(window.approved)}" if window.approved else ""

st.markdown('<p class="app-eyebrow">APP KPI dashboard</p>', unsafe_allow_html=True)
title = st.empty()
title.title(window.name, anchor=False)
subtitle = st.empty()
subtitle.markdown(f"Monitoring window **{format_window(window)}**{approved}")

db_path = data.db_path()
data.pin_run(db_path)  # the database version this run shows (a page reading it twice checks it held)
refresh_notice(db_path)  # "Data refreshed at 10:42" once after a load; just before the series reads the same file
with st.sidebar:
    auth.sidebar_identity(user)
areas = states.areas_or_explain(db_path)
if areas is None:
    st.stop()
areas = url.assigned_areas(areas, user)  # a monitor's own areas only; a link to another is refused and audited
if not areas:
    st.error("No local area with case records is assigned to you (access.yaml roles.areas). Ask the dashboard's "
             "analysts for access.", icon=":material/lock:")
    st.stop()
area, area_note = url.choose_area(areas)  # a selector in the sidebar when more than one area is loaded
area_name = dict(areas)[area]
as_of, as_of_note = url.as_of_from_url()
with st.sidebar:
    with st.expander("As it stood on a past day", expanded=as_of is not None):
        picked = st.date_input("Figures as they stood on", value=date.fromisoformat(as_of) if as_of else None,
                               format="DD/MM/YYYY", key="as_of_day",
                               help="Only the extracts dated on or before this day: what a past meeting was "
                                    "shown. Leave empty for the latest figures.")
if (picked.isoformat() if picked else None) != as_of:  # a day chosen or cleared: into the link, then redraw
    if picked:
        url.write_to_url("as_of", picked.isoformat())
    else:
        url.forget_url("as_of")
    st.rerun()
series = states.load_series_or_explain(db_path, area, as_of)
if data.swapped_during_run(db_path):  # a load swapped the file in after the notice was decided: draw the run again,
    st.rerun()                        # the notice and the figures both on the new data
if series is None:
    st.stop()
book = data.plan_book()
has_plan = bool(book.plans(area))

periods = data.periods_with_data(series)
latest = data.latest_with_data(series)
as_at, as_at_source = data.db_call(data_as_at, area, as_of)
partial = set(series.loc[~series["complete"].astype(bool), "period"]) if "complete" in series.columns else set()


def _period_label(period: str) -> str:
    plan = book.in_force(area, period)
    n = plan.month_of(period) if plan else None
    # short enough to show whole in the sidebar's box: "September 2023 (month 9 of 12)"
    label = format_period(period) + (f" (month {n} of {plan.length})" if n else "")
    return label + (" · partial" if period in partial else "")


def _jump(period: str) -> None:
    st.session_state["period"] = period
    url.write_to_url("period", period)


note = url.choose_from_url("period", periods, latest, format_period, "the month")
with st.sidebar:
    period = st.selectbox(
        "Reporting month", periods, key="period", format_func=_period_label,
        help="See the dashboard as it stood at the end of any month with data.")
    st.caption(f"Latest complete month: {format_period(latest)}")
    jumps = [("Latest month", latest), *(stocktakes(book.in_force(area, latest or window.start))
                                         if has_plan else [])]
    for label, p in jumps:
        if p in periods:
            st.button(f"{label}: {format_period(p)}", key=f"jump_{label}", on_click=_jump, args=(p,),
                      disabled=p == period, width="stretch")
    updated = datetime.fromtimestamp(db_path.stat().st_mtime)
    where = f"`{db_path}`, " if session.sees_exact_figures() else ""  # the server's file system: analysts only
    st.caption(f"Data: {where}updated {updated:%d %B %Y at %H:%M}. "
               "Management information from SEN2 case records; not official statistics.")
url.write_to_url("period", period)

catalogue = data.area_catalogue(area, period)  # the area's own plan in force this month (none: no plan)
window = catalogue.plan_window
approved = f" · approved {format_date(window.approved)}" if window.approved else ""
title.title(window.name if has_plan else f"{area_name}: no plan", anchor=False)
n = plan_month(period, window)
where = f"month {n} of {plan_length(window)} of the plan" if n else (
    "before the plan began" if period < window.start else
    f"after the plan ended in {format_period(window.end)}: figures are set against its final targets")
dated = f" · data as at **{format_date(as_at)}**" if as_at else ""
if as_of:
    dated += f" · **as it stood on {format_date(as_of)}** (extracts dated on or before it)"
if as_at_source == "load time":
    dated += " (the day the extract was loaded: it carries no date of its own)"
if has_plan:
    subtitle.markdown(f"**{area_name}** · monitoring window **{format_window(window)}**{approved}{dated} · showing "
                      f"**{format_period(period)}** ({where})")
else:
    subtitle.markdown(f"**{area_name}**{dated} · showing **{format_period(period)}**")
if period in partial:
    st.warning(f"{format_period(period)} is a partial month: the data are as at {format_date(as_at)}, so its "
               "figures are incomplete, month-end counts are not shown and no status is given. The latest complete "
               f"month is {format_period(latest)}.", icon=":material/hourglass_top:")
if not has_plan:
    st.caption(f"{area_name} has no plan (plans/{area}.yaml): its figures are shown without trajectory, target "
               "or status.")
elif book.in_force(area, period).demo:
    st.caption("A demo plan (plans/*.yaml), shipped with the synthetic region data: not a real area's plan.")
for message in (area_note, note, as_of_note):
    if message:
        st.info(message, icon=":material/link_off:")

session.set_context(session.Context(catalogue=catalogue, series=series, period=period, user=user, area=area,
                          area_name=area_name, areas=tuple(areas)))
view = audit.prepare_page_view(page, refused)  # read before the page runs: a page ending in st.stop() is recorded too
try:
    page.run()
except BaseException:  # st.stop(), st.rerun() or a failure: Streamlit state is no longer readable in this run
    audit.record_page_view(view)
    raise
audit.record_page_view(audit.prepare_page_view(page, refused))  # with the parameters the page has put in the URL
