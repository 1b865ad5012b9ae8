"""Medarbejdere: each person's caseload against their maximum, the staff list, and moving courses."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlmodel import Session

from fokus import charts, clock, codes, db, entry, fmt, queries, services, ui, units
from fokus.errors import FokusError

actor = ui.page_actor("medarbejdere")
entry.begin()
today = clock.today()

with db.read_session() as session:
    staff = queries.staff_load(session, actor, today=today)
    courses = queries.active_courses(session, actor, today=today)
    unit_names = units.visible_units(session, actor)

by_id = {s.staff_id: s for s in staff}


def person(staff_id: int) -> str:
    member = by_id[staff_id]
    return f"{member.name} ({member.initials})" + ("" if member.active else " – ikke aktiv")


st.title("Medarbejdere")
st.caption("Hver medarbejders aktive forløb som kontaktperson mod sit maksimum, og flytning af forløb "
           "til en kollega (ved sygdom eller fratræden).")

if not staff:
    st.info("Enheden har endnu ingen medarbejdere. Opret den første under »Ny medarbejder« herunder.")
else:
    st.dataframe(
        pd.DataFrame(
            [{"Navn": s.name, "Initialer": s.initials, "Aktiv": "ja" if s.active else "nej",
              "Aktive forløb": s.active_courses, "Højst": s.max_active_courses,
              "Belastning": fmt.percent(s.active_courses / s.max_active_courses) if s.max_active_courses
              else fmt.NOTHING}
             for s in staff],
        ),
        hide_index=True, key="medarbejdere-liste",
    )
    if loaded := [s for s in staff if s.active or s.active_courses]:
        load = pd.DataFrame({
            "name": [f"{s.name} ({s.initials})" for s in loaded],
            "active_courses": [s.active_courses for s in loaded],
            "max_active_courses": [s.max_active_courses for s in loaded],
        })
        over = sum(s.active_courses > s.max_active_courses for s in loaded)
        ui.chart(
            charts.staff_caseload(load, f"i dag {fmt.day(today)}"),
            load.rename(columns={"name": "medarbejder", "active_courses": "aktive_forloeb",
                                 "max_active_courses": "hoejst"}),
            key="medarbejdere-belastning",
            alt=f"Søjlediagram: aktive forløb pr. medarbejder i dag, i alt {sum(s.active_courses for s in loaded)} "
                f"forløb hos {len(loaded)} medarbejdere; hver søjle har personens maksimum som markering. "
                f"{over} er over sit maksimum.",
        )

move_tab, new_tab, edit_tab = st.tabs(["Flyt forløb", "Ny medarbejder", "Ret medarbejder"])

# ---------------------------------------------------------------------------------------
# Move all or some of one person's courses to one colleague

with move_tab:
    entry.show_saved("medarbejdere-flyt")
    holders = [s.staff_id for s in staff if s.active_courses]
    if not holders:
        st.info("Ingen medarbejder er kontaktperson for et aktivt forløb.")
    else:
        entry.keep_choice("medarbejdere-flyt-fra", holders)
        from_id = st.columns(2)[0].selectbox(
            "Flyt forløb fra", holders, key="medarbejdere-flyt-fra",
            format_func=lambda i: f"{person(i)}: {by_id[i].active_courses} aktive forløb",
        )
        theirs = {c.course_id: c for c in courses if c.contact_person_id == from_id}
        colleagues = [s.staff_id for s in staff
                      if s.active and s.staff_id != from_id and s.unit_id == by_id[from_id].unit_id]
        MOVE = f"medarbejdere-flyt-{from_id}-"
        entry.fill(MOVE, {"forloeb": list(theirs), "til": None})
        entry.drop_missing(f"{MOVE}forloeb", theirs)
        with st.form(f"medarbejdere-flyt-{from_id}"):
            messages = entry.Messages()
            chosen = st.multiselect(
                "Forløb (alle er valgt: fjern dem, der bliver)", list(theirs),
                key=f"{MOVE}forloeb", placeholder="Vælg forløb",
                format_func=lambda c: f"{theirs[c].citizen_ref} · {theirs[c].ref} · "
                                      f"{codes.group_or_form(theirs[c].form, theirs[c].group_name)} · "
                                      f"uge {int(theirs[c].weeks_elapsed)}",
            )
            messages.under("course_ids")
            to_id = st.selectbox(
                "Til kollega", colleagues, key=f"{MOVE}til", placeholder="Vælg kollega",
                format_func=lambda i: f"{person(i)}: {by_id[i].active_courses} af højst {by_id[i].max_active_courses}",
            )
            messages.under("to_staff_id")
            messages.general()
            if st.form_submit_button("Flyt forløb", type="primary"):
                def move(session: Session) -> str:
                    if to_id is None:
                        raise FokusError("Vælg den kollega, forløbene skal flyttes til.", "to_staff_id")
                    moved = services.move_courses(session, actor, course_ids=chosen, to_staff_id=to_id)
                    receiver = by_id[to_id]
                    return (f"{moved} forløb er flyttet fra {by_id[from_id].name} til {receiver.name}, som nu har "
                            f"{receiver.active_courses + moved} aktive forløb (højst {receiver.max_active_courses}).")

                entry.save(move, messages, form="medarbejdere-flyt", forget=(MOVE,))

# ---------------------------------------------------------------------------------------
# A new staff member

NEW = "medarbejdere-ny-"
with new_tab:
    entry.show_saved("medarbejdere-ny")
    unit_id = next(iter(unit_names), None)
    entry.fill(NEW, {"enhed": unit_id, "navn": "", "initialer": "", "hoejst": 15})
    with st.form("medarbejdere-ny"):
        messages = entry.Messages()
        if len(unit_names) > 1:
            unit_id = st.selectbox("Enhed", list(unit_names), format_func=unit_names.get, key=f"{NEW}enhed")
        row = st.columns([3, 1, 1])
        with row[0]:
            name = st.text_input("Navn", key=f"{NEW}navn", max_chars=120)
            messages.under("name")
        with row[1]:
            initials = st.text_input("Initialer", key=f"{NEW}initialer", max_chars=10)
            messages.under("initials")
        with row[2]:
            maximum = st.number_input("Højst aktive forløb", step=1, key=f"{NEW}hoejst")
            messages.under("max_active_courses")
        messages.general()
        if st.form_submit_button("Opret medarbejder", type="primary"):
            def add(session: Session) -> str:
                if unit_id is None:
                    raise FokusError("Din bruger er ikke knyttet til en enhed: kontakt en administrator.")
                added = services.add_staff(session, actor, unit_id=unit_id, name=name, initials=initials,
                                           max_active_courses=maximum)
                return f"{added.name} ({added.initials}) er oprettet som medarbejder."

            entry.save(add, messages, form="medarbejdere-ny", forget=(NEW,))

# ---------------------------------------------------------------------------------------
# Edit a staff member (optimistic locking: the version the user opened is the one sent)

with edit_tab:
    entry.show_saved("medarbejdere-ret")
    if not staff:
        st.info("Der er endnu ingen medarbejder at rette.")
    else:
        entry.keep_choice("medarbejdere-ret-hvem", by_id)
        staff_id = st.columns(2)[0].selectbox("Medarbejder", list(by_id), format_func=person,
                                              key="medarbejdere-ret-hvem")
        member = by_id[staff_id]
        EDIT = f"medarbejdere-ret-{staff_id}-"
        seen_version = entry.version_seen(EDIT, member.version)
        entry.fill(EDIT, {"navn": member.name, "initialer": member.initials,
                                    "hoejst": member.max_active_courses, "aktiv": member.active})
        with st.form(f"medarbejdere-ret-{staff_id}"):
            messages = entry.Messages()
            row = st.columns([3, 1, 1])
            with row[0]:
                name = st.text_input("Navn", key=f"{EDIT}navn", max_chars=120)
                messages.under("name")
            with row[1]:
                initials = st.text_input("Initialer", key=f"{EDIT}initialer", max_chars=10)
                messages.under("initials")
            with row[2]:
                maximum = st.number_input("Højst aktive forløb", step=1, key=f"{EDIT}hoejst")
                messages.under("max_active_courses")
            active = st.checkbox("Aktiv (en inaktiv medarbejder kan ikke vælges som kontaktperson)",
                                 key=f"{EDIT}aktiv")
            messages.under("active")
            messages.general()
            if st.form_submit_button("Gem ændringer", type="primary"):
                def update(session: Session) -> str:
                    saved = services.update_staff(session, actor, staff_id=staff_id, expected_version=seen_version,
                                                  name=name, initials=initials, active=active,
                                                  max_active_courses=maximum)
                    return f"{saved.name} ({saved.initials}) er gemt."

                entry.save(update, messages, form="medarbejdere-ret", forget=(EDIT,))
        entry.reload_button(EDIT, key=f"medarbejdere-ret-{staff_id}-hent")
