"""Overblik: does the unit keep its promises? The last 12 months against the targets."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from fokus import charts, clock, db, fmt, metrics, ui

actor = ui.page_actor("overblik")
end = clock.today()
start = end - timedelta(days=364)
previous_start, previous_end = metrics.previous_period(start, end)
first_month = date(start.year, start.month, 1)

with db.read_session() as session:
    figures = metrics.compute_kpis(session, actor, start, end)
    previous = metrics.compute_kpis(session, actor, previous_start, previous_end)
    targets = metrics.targets_for(session, actor.unit_ids, end)
    months = pd.DataFrame(
        metrics.monthly_starts(session, actor, first_month, end), columns=["month", "starts", "group_starts"]
    )

st.title("Overblik")
st.caption(
    f"Seneste 12 måneder: {fmt.period(start, end)} · "
    f"sammenlignet med {fmt.period(previous_start, previous_end)}"
)

if figures["referrals"] == 0 and figures["courses_started"] == 0 and figures["active_at_end"] == 0:
    st.info("Der er endnu ingen henvisninger eller forløb i perioden.")


row = st.columns(3)
with row[0]:
    ui.tile("Tilgang, 12 måneder", fmt.integer(figures["intake_12m"]),
            f"Mål: {targets.intake_min}–{targets.intake_max} forløbsstarter om året",
            fmt.change(figures["intake_12m"], previous["intake_12m"]))
with row[1]:
    ui.tile("Aktive forløb i dag", fmt.integer(figures["active_at_end"]),
            f"Kapacitet: {fmt.integer(figures['capacity'])} samtidige forløb",
            fmt.change(figures["active_at_end"], previous["active_at_end"]))
with row[2]:
    ui.tile("Venteliste i dag", fmt.integer(figures["waiting_at_end"]),
            f"Median ventetid: {fmt.number(figures['median_wait_days'])} dage",
            fmt.change(figures["waiting_at_end"], previous["waiting_at_end"]))
row = st.columns(3)
with row[0]:
    ui.tile("Startet i gruppe", fmt.percent(figures["group_share"]),
            f"Mål: omkring {fmt.percent(targets.group_share)}",
            fmt.change(figures["group_share"], previous["group_share"], share=True))
with row[1]:
    ui.tile("ORS-fremgang, start → slut", fmt.signed_percent(figures["ors_progress_pct"]),
            f"{fmt.integer(figures['ors_pairs'])} afsluttede forløb med mindst to målinger · Slagelse: +35,2 %",
            fmt.change(figures["ors_progress_pct"], previous["ors_progress_pct"], decimals=1))
with row[2]:
    ui.tile("Median varighed", f"{fmt.number(figures['median_weeks'], 1)} uger",
            f"Mål: {fmt.integer(targets.weeks_min)}–{fmt.integer(targets.weeks_max)} uger · "
            f"{fmt.percent(figures['share_12_16_weeks'])} lå inden for",
            fmt.change(figures["median_weeks"], previous["median_weeks"], decimals=1))

table = months.assign(
    måned=[fmt.month_label(m) for m in months["month"]],
    gruppe=months["group_starts"],
    individuelt=months["starts"] - months["group_starts"],
    i_alt=months["starts"],
)[["måned", "gruppe", "individuelt", "i_alt"]]
ui.chart(
    charts.monthly_starts(months, targets.intake_min, targets.intake_max, fmt.period(first_month, end)),
    table,
    key="overblik-starter",
    alt=f"Søjlediagram over forløbsstarter pr. måned {fmt.period(first_month, end)}, i alt "
        f"{fmt.integer(int(months['starts'].sum()))}, mod målet {targets.intake_min}–{targets.intake_max} om året.",
)
