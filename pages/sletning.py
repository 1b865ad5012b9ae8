"""Sletning af borgerdata: who is due for deletion, and deleting them for good (administrators only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from fokus import clock, db, fmt, retention, ui
from fokus.actor import Actor
from fokus.errors import FokusError

DONE_KEY = "sletning_done"
CONFIRM_KEY = "sletning_confirm"

actor = ui.page_actor("sletning")
today = clock.today()


def _delete(actor: Actor, today: date, citizen_ids: Sequence[int]) -> None:
    """The button's callback: exactly the citizens of the list the administrator confirmed."""
    st.session_state[CONFIRM_KEY] = False
    try:
        with db.write_session() as session:
            st.session_state[DONE_KEY] = retention.delete_due(session, actor, today, citizen_ids)
    except FokusError as error:
        st.session_state[DONE_KEY] = error


st.title("Sletning af borgerdata")

try:
    with db.write_session() as session:
        years = retention.retention_years(session)
        due = retention.due_citizens(session, actor, today)
except FokusError as error:
    ui.refuse(error)
    st.stop()

years_text = retention.years_text(years)
st.write(
    f"Borgernes data slettes {years_text} år efter deres sidste aktivitet: det seneste forløbs afslutning, "
    "en afvist eller trukket henvisning eller et netværksmøde. Ingen slettes, mens en henvisning venter, "
    "eller et forløb er åbent. Sletningen er endelig: henvisninger, forløb, fremmøde, målinger og "
    "netværksmøder fjernes, og i revisionsloggen erstattes borgerens reference af »slettet«."
)
st.caption(f"Opbevaringstid: {years_text} år (indstillingen »Borgerdata slettes efter«) · i dag {fmt.day(today)}")

outcome = st.session_state.pop(DONE_KEY, None)
if isinstance(outcome, FokusError):
    ui.refuse(outcome)
elif isinstance(outcome, int):
    st.success(f"{fmt.integer(outcome)} borgere er slettet permanent.")

if not due:
    st.info("Ingen borgere skal slettes i dag.")
    st.stop()

st.subheader(f"{fmt.integer(len(due))} borgere skal slettes")
st.dataframe(retention.preview_frame(due), hide_index=True)
confirmed = st.checkbox(
    f"Jeg har gennemgået listen, og de {fmt.integer(len(due))} borgeres data skal slettes permanent. "
    "Det kan ikke fortrydes.",
    key=CONFIRM_KEY,
)
st.button(
    f"Slet {fmt.integer(len(due))} borgere permanent", type="primary", disabled=not confirmed,
    key="sletning_delete", on_click=_delete, args=(actor, today, [citizen.citizen_id for citizen in due]),
)
