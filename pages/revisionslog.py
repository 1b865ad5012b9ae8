"""Revisionslog: who used which citizen's data, a citizen's own extract, and the purge of old entries."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fokus import auditlog, clock, codes, db, fmt, tables, ui
from fokus.errors import FokusError

actor = ui.page_actor("revisionslog")
SEARCHED_KEY = "fokus_auditlog_searched"
EXTRACT_KEY = "fokus_auditlog_extract"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    left, right = st.columns(2)
    left.download_button("Hent som CSV", tables.to_csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv",
                         key=f"{key}-csv", on_click="ignore")
    right.download_button("Hent som Excel", tables.to_xlsx_bytes(frame, name), file_name=f"{name}.xlsx", mime=XLSX,
                          key=f"{key}-xlsx", on_click="ignore")


st.title("Revisionslog")
st.caption(
    "Hver brug af en borgers data (set, søgt, oprettet, ændret, slettet, udtrukket) og hvert login, "
    "også de mislykkede. En søgning på en borgerreference skrives selv i loggen."
)

with st.form("revisionslog-filter"):
    row = st.columns(5)
    user_login = row[0].text_input("Bruger", key="revisionslog-user")
    citizen_ref = row[1].text_input("Borgerreference", key="revisionslog-ref",
                                    help="Hele referencen, aldrig et CPR-nummer")
    action = row[2].selectbox("Handling", [None, *codes.AUDIT_ACTIONS], key="revisionslog-action",
                              format_func=lambda code: "Alle" if code is None else codes.AUDIT_ACTIONS[code])
    start = row[3].date_input("Fra", value=None, format="DD.MM.YYYY", key="revisionslog-from")
    end = row[4].date_input("Til", value=None, format="DD.MM.YYYY", key="revisionslog-to")
    st.form_submit_button("Søg")

# A copy, merged back only once the search's own log entry is committed.
searched = st.session_state.setdefault(SEARCHED_KEY, set())
pending = set(searched)
rows: list[auditlog.AuditRow] = []
try:
    with db.write_session() as session:
        rows = auditlog.search(session, actor, user_login=user_login, citizen_ref=citizen_ref, action=action,
                               start=start, end=end, already_logged=pending)
    searched.update(pending)
except FokusError as error:
    ui.refuse(error)

if rows:
    more = " Der kan være flere: gør søgningen snævrere." if len(rows) >= auditlog.SEARCH_LIMIT else ""
    st.caption(f"{fmt.integer(len(rows))} poster, nyeste først.{more}")
    results = auditlog.frame(rows)
    st.dataframe(results, hide_index=True, key="revisionslog-table")
    downloads(results, "revisionslog", "revisionslog")
else:
    st.info("Ingen poster passer til søgningen.")

st.subheader("Borgerens udtræk")
st.caption(
    "Borgeren har ret til indsigt i, hvem der har brugt vedkommendes data. Udtrækket viser alle poster om "
    "borgeren; at det er lavet, skrives selv i loggen."
)
with db.read_session() as session:
    units = auditlog.extract_units(session, actor)
if not units:
    st.info("Der er endnu ingen enheder.")
else:
    with st.form("revisionslog-extract"):
        row = st.columns(2)
        extract_unit = row[0].selectbox("Enhed", list(units), format_func=lambda unit_id: units[unit_id],
                                        key="revisionslog-extract-unit")
        extract_ref = row[1].text_input("Borgerreference", key="revisionslog-extract-ref")
        make_extract = st.form_submit_button("Lav udtræk")
    if make_extract:
        st.session_state.pop(EXTRACT_KEY, None)
        try:
            with db.write_session() as session:
                extract = auditlog.citizen_extract(session, actor, extract_unit, extract_ref)
            st.session_state[EXTRACT_KEY] = (extract_ref.strip(), extract)
        except FokusError as error:
            ui.refuse(error)
if EXTRACT_KEY in st.session_state:
    ref, extract = st.session_state[EXTRACT_KEY]
    st.write(f"Udtræk for borger {fmt.literal(ref)}: {fmt.integer(len(extract))} poster, ældste først.")
    st.dataframe(extract, hide_index=True, key="revisionslog-extract-table")
    downloads(extract, "borgerens-udtraek", "revisionslog-extract")

st.subheader("Sletning af gamle poster")
retention_text = st.empty()
if st.button("Slet poster ud over opbevaringstiden", key="revisionslog-purge"):
    try:
        with db.write_session() as session:
            purged = auditlog.purge(session, actor, clock.now_utc())
        st.success(f"{fmt.integer(purged)} poster er slettet.")
    except FokusError as error:
        ui.refuse(error)
with db.read_session() as session:
    policy = auditlog.retention(session, actor, clock.now_utc())
retention_text.write(
    f"Loggen gemmes i {policy.months} måneder (ændres under Indstillinger). "
    f"{fmt.integer(policy.due)} poster er fra før {fmt.moment(policy.cutoff)} og kan slettes."
)
