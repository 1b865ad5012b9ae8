"""Udvalgsnotat: the committee's background note for a period and a unit, as Word and PDF.

The note leaves the unit, so every small count in it is hidden (DESIGN §7); the figures are the
dashboard's own (`fokus.report` builds on `fokus.dashboard`).
"""

from __future__ import annotations

import streamlit as st

from fokus import clock, codes, dashboard, db, fmt, periods, report, ui, units
from fokus.errors import FokusError

actor = ui.page_actor("udvalgsnotat")
today = clock.today()

with db.read_session() as session:
    unit_names = units.visible_units(session, actor)
    first_day = dashboard.first_data_day(session, actor) or today

st.title("Udvalgsnotat")
st.write("Et baggrundsnotat til udvalget: periodens tal mod målene og mod den foregående periode, de vigtigste "
         "grafer og en kort metodebeskrivelse. Antal under 5 vises som «<5», så ingen borger kan genkendes.")

if not unit_names:  # a selectbox without choices is drawn disabled, its label too faint to read (WCAG 1.4.3)
    st.info("Du ser ingen enheder endnu, så der er intet at lave et notat om. Kontakt en administrator.")
    st.stop()

KINDS = {kind: codes.PERIOD_KINDS[kind] for kind in ("year", "quarter", "rolling12", "custom")}
left, right = st.columns([1, 2])
kind = left.selectbox("Periode", list(KINDS), format_func=KINDS.__getitem__, key="udvalgsnotat-periode")
period: periods.Period | None = None
try:
    if kind == "year":
        period = periods.year(right.selectbox("År", periods.years(first_day, today), key="udvalgsnotat-aar"), today)
    elif kind == "quarter":
        chosen = right.selectbox("Kvartal", periods.quarters(first_day, today), key="udvalgsnotat-kvartal",
                                 format_func=lambda yq: f"{yq[1]}. kvartal {yq[0]}")
        period = periods.quarter(*chosen, today)
    elif kind == "custom":
        default = periods.rolling_12_months(today)
        picked = right.date_input("Fra og med – til og med", value=(default.start, default.end), max_value=today,
                                  format="DD.MM.YYYY", key="udvalgsnotat-selvvalgt")
        days = list(picked) if isinstance(picked, tuple | list) else [picked]
        period = periods.custom(days[0] if days else None, days[1] if len(days) > 1 else None, today)
    else:
        period = periods.rolling_12_months(today)
except FokusError as error:
    right.warning(fmt.plain(error.message))

choices: list[int | None] = [*unit_names] + ([None] if len(unit_names) > 1 else [])
unit_id = st.selectbox("Enhed", choices, key="udvalgsnotat-enhed",
                       format_func=lambda u: unit_names[u] if u is not None else "Alle mine enheder")

if st.button("Lav udvalgsnotat", type="primary", disabled=period is None or not unit_names,
             key="udvalgsnotat-lav") and period is not None:
    try:
        with st.spinner("Notatet og graferne laves …"), db.write_session() as session:
            note = report.note(session, actor, period, unit_id)
        with st.spinner("Notatet og graferne laves …"):
            st.session_state["udvalgsnotat"] = (note.file_stem, *report.documents(note))
    except FokusError as error:
        ui.refuse(error)

made = st.session_state.get("udvalgsnotat")
if made:
    stem, docx, pdf = made
    st.success(f"Udvalgsnotatet er klar ({fmt.day(today)}).")
    a, b = st.columns(2)
    a.download_button("Hent som Word (.docx)", docx, file_name=f"{stem}.docx", key="udvalgsnotat-docx",
                      mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    b.download_button("Hent som PDF", pdf, file_name=f"{stem}.pdf", mime="application/pdf", key="udvalgsnotat-pdf")
