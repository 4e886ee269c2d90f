"""Overview, the board summary: every KPI for the chosen month with its trajectory status, Making Data Count
variation and assurance, a forecast verdict for the target month and a sentence a chair can read aloud.
Shown as cards (grouped by APP area, or in a chosen order) or as one sortable table with a CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.engine.trajectory import month_index, period_of
from kpi.views.board import board_table
from kpi.views.charts import (
    NOT_JUDGED,
    STATUS_ORDER,
    chart_alt,
    format_basis,
    format_change,
    format_period,
    format_value,
    recent_periods,
    sparkline,
    status_counts,
    status_summary,
    status_text,
    table_csv,
    telling_decimals,
)
from kpi.views.exports import board_export
from kpi.views.icons import assurance_svg, variation_svg
from kpi.views.meeting import previous_status_text, previous_statuses, tile_codes
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _html as html
from pages import _meeting as meeting
from pages import _notes as notes_ui
from pages import _session as session
from pages import _style as style
from pages import _widgets as widgets

ctx = session.context()
cat, period = ctx.catalogue, ctx.period
card = data.board_summary(ctx.series, ctx.period)
medians = ctx.series[ctx.series["period"] == period].set_index("kpi_id")["median"]
previous = format_period(period_of(month_index(period) - 1))

style.page_title(f"Overview: {format_period(period)}")
st.header(f"Overview: {format_period(period)}", anchor=False)
shown = tile_codes(card)  # baseline/partial: said, not hidden; a KPI without a plan is not in plan
st.markdown(f"**{status_summary(shown, period)}**. Each KPI is judged on the figure its plan's "
            "baseline and target are on: the 12 months to the month for rates planned on 12-month figures (a "
            "calendar year's, or a local plan's), the month itself for month-end counts, against the plan's "
            "trajectory for that month.")

# --- for the meeting: what changed since the last one (pages/_meeting.py) ---
since, changed = meeting.since_last_meeting_block()
was = previous_statuses(changed)
meeting_notes = data.meeting_notes(ctx.area)

counts = status_counts(shown)
tiles = [s for s in [*STATUS_ORDER, *NOT_JUDGED] if s not in ("no_data", "too_few", *NOT_JUDGED) or counts[s]]
tiles += ["suppressed"] if counts["suppressed"] else []
tiles += ["not_in_plan"] if counts["not_in_plan"] else []
for col, code in zip(st.columns(len(tiles)), tiles, strict=True):
    label = status_text(None if code == "not_in_plan" else code)
    col.markdown(f'<div class="kpi-tile {code}"><div class="count">{counts[code]}</div>'
                 f'<div class="what">{html.esc(label)}</div></div>', unsafe_allow_html=True)
only = meeting.tile_filter(tiles, counts)

st.write("")
controls = st.columns([0.9, 1.4, 1.8, 1.9], vertical_alignment="bottom")
view = controls[0].segmented_control("Show as", ["Cards", "Table"], default="Cards", key="board_view",
                                     required=True)
sort_key = controls[1].selectbox("Order", list(meeting.ORDERS), format_func=meeting.ORDERS.get, key="board_sort",
                                 help="Put what the meeting should discuss first at the top. Exceptions first: "
                                      "off track, then a special-cause concern, then the rest worst first.")
unplanned = [k.id for k in cat.kpis if k.plan is None]
show_all = controls[2].toggle(f"Add {len(unplanned)} KPIs without a plan", key="board_all",
                              disabled=not unplanned, help="KPIs tracked for context, with no trajectory or target "
                              "in the APP (for example waiting lists by service).")
everything = show_all or only == "not_in_plan"  # the "Not in plan" tile shows the KPIs without a plan too
ordered = meeting.filtered(meeting.order_board(card if everything else card[~card["kpi_id"].isin(unplanned)],
                                               sort_key), only)
table = board_table(ordered, cat)
if since:  # the status each row had at the last meeting, beside today's
    table.insert(table.columns.get_loc("Status") + 1, "Status at last meeting",
                 [status_text(was.get(k)) if was.get(k) else "–" for k in ordered["kpi_id"]])
controls[3].download_button("Download the board summary (CSV)",
                            table_csv(board_export(ordered, table, period, cat, data.access_config().suppression)),
                            file_name=f"board_summary_{period}.csv", mime="text/csv", icon=":material/download:",
                            key="board_download", on_click=audit.download,
                            args=("overview", f"board_summary_{period}.csv", len(table)))

# The board pack (kpi/views/pack.py): an A4 PDF for the meeting, made when the button is pressed.
pack_file, no_printer = f"board_pack_{period}.pdf", data.pdf_printer_missing()
st.download_button("Download board pack (PDF)",
                   lambda: data.board_pack(ctx.area, session.current_role(), period, since), file_name=pack_file,
                   mime="application/pdf", icon=":material/picture_as_pdf:", key="board_pack",
                   on_click=audit.download, args=("overview", pack_file), disabled=no_printer is not None,
                   help=no_printer or "Cover, what is for discussion, a summary of every plan KPI, a page per KPI "
                   "with its trajectory, commentary and actions, and the definitions: the figures you see here.")

COLUMNS = [2.9, 1.3, 1.25, 1.75, 1.6, 1.6]


def kpi_card(r, show_area: bool) -> None:
    kpi = cat.get(r.kpi_id)
    unit, d = r.unit, r.decimals
    target = (f"Target {format_value(r.target, unit, d)} by {format_period(r.target_period)}"
              f" ({r.target_source})" if isinstance(r.target_period, str) else "No plan target")
    if show_area:
        target = f"{cat.area_name(kpi.app_area)} · {target}"
    with st.container(border=True, key=f"kpi_{r.kpi_id}"):
        c = st.columns(COLUMNS, vertical_alignment="center")
        # The KPI's name is a heading under the page's h2 and the APP area's h3; each link names its KPI
        c[0].markdown(f'<h4 class="kpi-name">{html.esc(kpi.name)}</h4><p class="kpi-note">{html.esc(target)}</p>',
                      unsafe_allow_html=True)
        c[0].page_link("pages/kpi_trajectory.py", label=f"Trajectory, SPC and definition: {kpi.short_name}",
                       icon=":material/show_chart:", query_params={"kpi": r.kpi_id, "period": period})
        if auth.can_open("explain") and r.kpi_id in cat.event_ids:  # Explain reads SEN2 events, not referrals
            c[0].page_link("pages/explain.py", label=f"Explain this number: {kpi.short_name}",
                           icon=":material/manage_search:", query_params={"kpi": r.kpi_id, "period": period})
        hidden = r.status == "suppressed"
        told = telling_decimals(r.value, r.trajectory, d)  # never '60.0%' against '60.0%' when they differ
        if r.basis == "rolling_12m":  # the figure judged is the 12 months' one; the month's own sits beside it
            month_alone = (f"{format_period(period)} alone: "
                           f"{format_value(r.monthly_value, unit, d, suppressed=hidden)} ("
                           f"{format_basis(r.monthly_numerator, r.monthly_denominator, unit, suppressed=hidden)})")
            c[1].markdown(html.cell(f"12 months to {format_period(period)}",
                                  format_value(r.value, unit, told, suppressed=hidden),
                                  format_basis(r.numerator, r.denominator, unit, suppressed=hidden)
                                  + " · " + month_alone), unsafe_allow_html=True)
        else:
            c[1].markdown(html.cell(format_period(period), format_value(r.value, unit, told, suppressed=hidden),
                                  format_basis(r.numerator, r.denominator, unit, medians.get(r.kpi_id),
                                               suppressed=hidden)), unsafe_allow_html=True)
        c[2].markdown(html.cell("Trajectory", format_value(r.trajectory, unit, told),
                              "planned for the month" if pd.notna(r.trajectory) else "no plan this month",
                              size="mid"), unsafe_allow_html=True)
        judged = r.status if isinstance(r.status, str) else r.unjudged
        c[3].markdown('<p class="kpi-label">Status</p>' + html.status_badge(judged, status_text(judged))
                      + previous_status_html(r.kpi_id), unsafe_allow_html=True)
        c[4].markdown(html.cell("Since last month", format_change(r.change, unit, d, r.polarity),
                              f"from {format_value(r.value - r.change, unit, d)} in {previous}"
                              if pd.notna(r.change) else None, size="small"), unsafe_allow_html=True)
        with c[5]:
            months = recent_periods(period, len(r.recent))
            st.markdown('<p class="kpi-label">Last 13 months</p>', unsafe_allow_html=True)
            if any(pd.notna(v) for v in r.recent):
                st.plotly_chart(sparkline(r.recent, months, unit, d, r.recent_trajectory, r.target),
                                config={"displayModeBar": False}, key=f"spark_{r.kpi_id}", alt=chart_alt(
                                    kpi.short_name, unit, d, r.basis, period, r.recent, r.trajectory, r.target,
                                    r.target_period, r.status, r.polarity, recent_trajectory=r.recent_trajectory))
            else:
                st.markdown('<p class="kpi-note">No values in these months</p>', unsafe_allow_html=True)
        s = st.columns([1.45, 1.45, 1.5, 3.6], vertical_alignment="center")
        s[0].markdown(html.icon_cell("Variation", variation_svg(r.variation, 34), r.variation_label),
                      unsafe_allow_html=True)
        s[1].markdown(html.icon_cell("Assurance", assurance_svg(r.assurance, 34), r.assurance_label),
                      unsafe_allow_html=True)
        s[2].markdown(html.cell("Forecast for the target month", r.forecast_label, r.forecast_note, size="small"),
                      unsafe_allow_html=True)
        s[3].markdown(f'<p class="kpi-sentence">{html.esc(r.sentence)}</p>', unsafe_allow_html=True)
        card_notes(r.kpi_id)


# --- for the meeting: the status at the last meeting and the commentary on each card ---

def previous_status_html(kpi_id: str) -> str:
    """The KPI's status at the last meeting, under today's (nothing without a last meeting or a plan)."""
    if not since or kpi_id not in was:
        return ""
    return f'<p class="kpi-note">{html.esc(previous_status_text(was[kpi_id], since))}</p>'


def card_notes(kpi_id: str) -> None:
    """The month's commentary and the KPI's actions, collapsed under the card (forms for the writers)."""
    with st.expander(notes_ui.notes_label(meeting_notes, kpi_id, period), icon=":material/edit_note:"):
        notes_ui.notes_panel(meeting_notes, kpi_id, period, ctx.area, "overview", key=f"notes_{kpi_id}")


def played_down_last(rows) -> None:
    """The cards in order; the KPIs without a plan (shown only when asked for) after the rest, under their own
    heading (each card's notes are an expander already, and expanders do not nest)."""
    for r in rows[~rows["kpi_id"].isin(unplanned)].itertuples():
        kpi_card(r, show_area=True)
    context_only = rows[rows["kpi_id"].isin(unplanned)]
    if len(context_only):
        st.subheader(f"Tracked for context, without a plan ({len(context_only)})", anchor=False, divider="gray")
        for r in context_only.itertuples():
            kpi_card(r, show_area=True)


if view == "Table":
    st.dataframe(table, hide_index=True, width="stretch", height=min(35 * (len(table) + 1) + 3, 640),
                 column_config=widgets.fitted_columns(table, pinned="KPI"))
    st.caption("Click a column heading to sort. Variation and assurance follow NHS England's Making Data Count "
               "rules over every month with a value; the forecast is a straight line through the last 12 months "
               "with an 80% prediction interval.")
elif sort_key == "plan":
    for area in cat.app_areas:
        rows = ordered[ordered["app_area"] == area.name]
        if rows.empty and only:  # the status tile chosen has no KPI in this APP area
            continue
        st.subheader(area.name, anchor=False, divider="gray")
        hidden = int(card.loc[card["app_area"] == area.name, "kpi_id"].isin(unplanned).sum()) if not show_all else 0
        if rows.empty:
            st.caption(f"{hidden} KPIs in this area are tracked without a plan: turn on “Add {len(unplanned)} "
                       "KPIs without a plan” above to see them." if hidden
                       else "No KPI for this APP area is in the dashboard yet.")
            continue
        for r in rows.itertuples():
            kpi_card(r, show_area=False)
else:
    st.subheader(f"All KPIs: {meeting.ORDERS[sort_key][0].lower()}{meeting.ORDERS[sort_key][1:]}", anchor=False,
                 divider="gray")
    played_down_last(ordered)

st.caption("Status compares the month's value with the plan's trajectory for that month: ✔ On track (as good as "
           "planned or better), ◐ Within tolerance (worse than planned by no more than the KPI's tolerance), "
           "✖ Off track (worse than that), – No data (the plan expects a value but none was recorded), ⊘ Suppressed "
           "(figures of 1 to 4 children are shown as c outside the analysts' team), ≈ Too few to judge (the figure "
           "rests on fewer events than the plan's minimum). The baseline month and a partial month have no status. "
           "Rates are percentages of the events completed in the month, or in the 12 months to it where the plan "
           "is on that basis. Variation (Making Data Count): whether the "
           "latest month is ordinary or a special cause (improvement or concern) against the XmR chart's limits. "
           "Assurance: whether the process limits show the target will be met consistently, missed consistently, "
           "or hit and miss. The forecast is from the last 12 months, with an 80% prediction interval.")
