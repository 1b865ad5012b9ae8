"""Mål: the unit's targets as dated settings (leaders and administrators): in force, history, new, delete."""

from __future__ import annotations

from datetime import date

import streamlit as st
from sqlmodel import Session

from fokus import clock, db, entry, fmt, services, targets, ui

actor = ui.page_actor("maal")
entry.begin()
today = clock.today()

st.title("Mål")
st.caption("Et tidsrum bedømmes efter de mål, der gælder på dets sidste dag.")

unit_id, unit_name = ui.choose_unit(actor, "maal-enhed")

with db.read_session() as session:
    history = targets.targets_history(session, actor, unit_id)
current = targets.in_force(history, today)
NEW = f"maal-ny-{unit_id}-"  # the new-targets form's fields
in_force = targets.values_in_force(history, today)

# ---------------------------------------------------------------------------------------
# In force today, with where each default comes from

st.subheader(f"Gældende i dag, {fmt.day(today)}")
if current is None:
    st.info("Enheden har ingen daterede mål, der gælder i dag: standardmålene herunder gælder (DESIGN).")
else:
    st.caption(f"Gyldige fra {fmt.day(current.valid_from)}. Kilden er, hvor standardværdien kommer fra.")
st.dataframe(targets.described(in_force), hide_index=True, key="maal-gaeldende")

# ---------------------------------------------------------------------------------------
# History, and deleting a wrongly dated row

st.subheader("Historik")
entry.show_saved("maal-slettet")
if not history:
    st.info("Ingen daterede mål: standardmålene gælder for hele tiden.")
else:
    st.dataframe(targets.history_table(history, today), hide_index=True, key="maal-historik")
    PENDING = f"maal-slet-valgt-{unit_id}"
    with st.expander("Slet forkert daterede mål"):
        st.caption("Uden den slettede række gælder de forrige mål fra dens dato; er der ingen, gælder "
                   "standardmålene.")
        for row in history:
            if st.button(f"Slet mål gyldig fra {fmt.day(row.valid_from)}", key=f"maal-slet-{row.target_id}"):
                st.session_state[PENDING] = (row.target_id, row.version, row.valid_from)
        pending = st.session_state.get(PENDING)
        if pending is not None:
            target_id, version, valid_from = pending
            st.warning(f"Slet målene gyldig fra {fmt.day(valid_from)}? Det kan ikke fortrydes.")
            messages = entry.Messages()
            messages.general()
            yes, no = st.columns(2)
            if yes.button("Ja, slet", type="primary", key="maal-slet-ja"):
                def delete(session: Session) -> str:
                    services.delete_targets(session, actor, target_id=target_id, expected_version=version)
                    return f"Målene gyldig fra {fmt.day(valid_from)} er slettet."

                st.session_state.pop(PENDING, None)
                entry.save(delete, messages, form="maal-slettet", forget=(NEW,))
            if no.button("Fortryd", key="maal-slet-nej"):
                st.session_state.pop(PENDING, None)
                st.rerun()

# ---------------------------------------------------------------------------------------
# New targets from a date (the form starts from those in force today)

st.subheader("Nye mål fra en dato")
st.caption("Findes der allerede mål fra samme dato, rettes de. Gruppeandel i procent; decimaler med komma "
           "eller punktum. Tom jobcenterkvote betyder ingen kvote.")
entry.show_saved("maal-ny")
entry.fill(NEW, {"valid_from": today, **targets.form_values(in_force)})
with st.form(f"maal-ny-{unit_id}"):
    messages = entry.Messages()
    # Wide limits: the widget would silently keep its old date; the service says what is allowed.
    valid_from = st.date_input("Gyldig fra", key=f"{NEW}valid_from", format="DD.MM.YYYY",
                               min_value=date(1980, 1, 1), max_value=date(today.year + 10, 12, 31))
    messages.under("valid_from")
    left, right = st.columns(2)
    with left:
        intake_min = st.number_input("Mindste tilgang om året (forløbsstarter)", step=1, key=f"{NEW}intake_min")
        messages.under("intake_min")
        intake_max = st.number_input("Største tilgang om året (forløbsstarter)", step=1, key=f"{NEW}intake_max")
        messages.under("intake_max")
        group_share = st.text_input("Startet i gruppe (%)", key=f"{NEW}group_share", max_chars=10)
        messages.under("group_share")
        jobcenter_quota = st.text_input("Jobcenterets kvote (henvisninger om året)", key=f"{NEW}jobcenter_quota",
                                        max_chars=10)
        messages.under("jobcenter_quota")
    with right:
        weeks_min = st.number_input("Korteste forløb (uger)", step=1, key=f"{NEW}weeks_min")
        messages.under("weeks_min")
        weeks_max = st.number_input("Længste forløb (uger)", step=1, key=f"{NEW}weeks_max")
        messages.under("weeks_max")
        max_months = st.number_input("Aldrig over (måneder)", step=1, key=f"{NEW}max_months")
        messages.under("max_months")
        ors_cutoff = st.text_input("ORS' kliniske grænse (point)", key=f"{NEW}ors_cutoff", max_chars=10)
        messages.under("ors_cutoff")
        rci = st.text_input("Pålidelig ændring, RCI (point)", key=f"{NEW}rci", max_chars=10)
        messages.under("rci")
    messages.general()
    if st.form_submit_button("Gem mål", type="primary"):
        def save(session: Session) -> str:
            typed = targets.from_typed(group_share=group_share, ors_cutoff=ors_cutoff, rci=rci,
                                       jobcenter_quota=jobcenter_quota)
            saved = services.set_targets(
                session, actor, unit_id=unit_id, valid_from=valid_from, intake_min=intake_min,
                intake_max=intake_max, weeks_min=weeks_min, weeks_max=weeks_max, max_months=max_months,
                **typed,  # type: ignore[arg-type]
            )
            return f"Målene for {unit_name} gyldig fra {fmt.day(saved.valid_from)} er gemt."

        entry.save(save, messages, form="maal-ny", forget=(NEW,))

