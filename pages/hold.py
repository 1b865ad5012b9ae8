"""Hold: the unit's groups, their occupancy, and the entry of a group's sessions and citizens."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from fokus import charts, clock, codes, db, entry, fmt, queries, services, ui, units
from fokus.errors import FokusError
from fokus.session_grid import GridRow, cell_field, read_grid

actor = ui.page_actor("hold")
entry.begin()
today = clock.today()
EARLIEST = date(1990, 1, 1)  # the services refuse older dates

with db.read_session() as session:
    groups = queries.groups_overview(session, actor, today=today)
    staff = [s for s in queries.staff_load(session, actor, today=today) if s.active]
    waiting = queries.waiting_list(session, actor, today=today)
    unit_names = units.visible_units(session, actor)

by_id = {g.group_id: g for g in groups}
running = [g for g in groups if g.end is None or g.end >= today]  # planned and running groups

st.title("Hold")
st.caption("Enhedens hold (§ 82a): belægning mod pladser, holdmøder med fremmøde og ORS, og nye deltagere.")


def group_label(group_id: int) -> str:
    group = by_id[group_id]
    span = f"{fmt.day(group.start)}–{fmt.day(group.end)}" if group.end else f"fra {fmt.day(group.start)}"
    return f"{group.name} ({span})"


def group_table(rows: list[queries.GroupRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Hold": g.name, "Tema": g.theme, "Start": fmt.day(g.start), "Slut": fmt.day(g.end),
          "Pladser": g.capacity, "Deltagere i dag": g.members_active, "Belægning": fmt.percent(g.occupancy),
          "Holdmøder": g.sessions_held, "Fremmøde": fmt.percent(g.attendance_share)} for g in rows],
        columns=["Hold", "Tema", "Start", "Slut", "Pladser", "Deltagere i dag", "Belægning", "Holdmøder",
                 "Fremmøde"],
    )


overview_tab, session_tab, start_tab, new_tab, edit_tab = st.tabs(
    ["Oversigt", "Holdmøde", "Start borgere på hold", "Nyt hold", "Ret hold"]
)

# ---------------------------------------------------------------------------------------
# The groups and their occupancy

with overview_tab:
    if not groups:
        st.info("Enheden har endnu ingen hold. Opret det første under »Nyt hold«.")
    if running:
        st.dataframe(group_table(running), hide_index=True, key="hold-list")
        occupancy = pd.DataFrame(
            {"name": [g.name for g in running], "members": [g.members_active for g in running],
             "capacity": [g.capacity for g in running]}
        )
        ui.chart(
            charts.group_occupancy(occupancy, f"i dag {fmt.day(today)}"),
            occupancy.rename(columns={"name": "hold", "members": "deltagere", "capacity": "pladser"}),
            key="hold-belaegning",
            alt=f"Søjlediagram: deltagere med aktivt forløb på {len(running)} igangværende og planlagte hold "
                f"i dag, i alt {sum(g.members_active for g in running)} på {sum(g.capacity for g in running)} "
                "pladser; hver søjle har holdets antal pladser som markering.",
        )
    elif groups:
        st.info("Intet hold er i gang eller planlagt lige nu.")
    if ended := [g for g in groups if g not in running]:
        with st.expander(f"Afsluttede hold ({len(ended)})"):
            st.dataframe(group_table(ended), hide_index=True, key="hold-ended")

# ---------------------------------------------------------------------------------------
# A group session: attendance and everyone's ORS in one grid

with session_tab:
    entry.show_saved("hold-moede")
    if not groups:
        st.info("Opret et hold først.")
    else:
        left, right, _ = st.columns([3, 1, 2])
        choices = [g.group_id for g in running or groups]
        entry.keep_choice("hold-moede-hold", choices)
        group_id = left.selectbox("Hold", choices, format_func=group_label, key="hold-moede-hold")
        with right:
            day = st.date_input("Mødedato", value=today, min_value=EARLIEST, max_value=today, format="DD.MM.YYYY",
                                key="hold-moede-dato")
        messages = entry.Messages()
        messages.under("day")
        with db.read_session() as session:
            members = queries.group_members(session, actor, group_id=group_id, day=day)
        if not members:
            st.info("Ingen borgere har et aktivt forløb på holdet den dag.")
        else:
            st.caption("Sæt flueben ved dem, der kom, og skriv ORS for hver fremmødt (0–10, fx 7,5). "
                       "En tom række betyder: ingen ORS denne gang. Tab flytter til næste felt.")
            GRID = f"hold-grid-{group_id}-"
            widths = [2.2, 1.1, 1, 1, 1, 1]
            with st.form(f"hold-grid-{group_id}", enter_to_submit=False):
                head = st.columns(widths)
                for column, title in zip(head, ["Borger · forløb", "Fremmødt", *codes.ORS_ITEMS.values()],
                                         strict=True):
                    column.markdown(f"**{title}**")
                for member in members:
                    prefix = f"{GRID}{member.course_id}-"
                    entry.fill(prefix, {"present": True, **dict.fromkeys(codes.ORS_ITEMS, "")})
                    cells = st.columns(widths, vertical_alignment="center")
                    cells[0].write(f"{member.citizen_ref} · {member.course_ref}")
                    cells[1].checkbox(f"Fremmødt, {member.citizen_ref}", key=f"{prefix}present",
                                      label_visibility="collapsed")
                    for cell, (item, label) in zip(cells[2:], codes.ORS_ITEMS.items(), strict=True):
                        cell.text_input(f"{label}, {member.citizen_ref}", key=f"{prefix}{item}",
                                        placeholder="0–10", label_visibility="collapsed", max_chars=5)
                    messages.under(cell_field(member.course_id),
                                   *(cell_field(member.course_id, item) for item in codes.ORS_ITEMS))
                messages.general()
                submitted = st.form_submit_button("Gem holdmøde", type="primary")
            if submitted:
                state = st.session_state
                rows = [
                    GridRow(m.course_id, m.citizen_ref, bool(state.get(f"{GRID}{m.course_id}-present")),
                            {item: state.get(f"{GRID}{m.course_id}-{item}") or "" for item in codes.ORS_ITEMS})
                    for m in members
                ]

                def record(session: Session) -> str:
                    grid = read_grid(rows)
                    services.record_group_session(session, actor, group_id=group_id, day=day,
                                                  present_course_ids=grid.present_course_ids, scores=grid.scores)
                    return (f"Holdmødet {fmt.day(day)} på {by_id[group_id].name} er gemt: "
                            f"{len(grid.present_course_ids)} af {len(rows)} mødte, {len(grid.scores)} ORS-målinger.")

                entry.save(record, messages, form="hold-moede", forget=(GRID,))

# ---------------------------------------------------------------------------------------
# Several waiting citizens start on a group at once

with start_tab:
    entry.show_saved("hold-start")
    if not running:
        st.info("Der er intet igangværende eller planlagt hold at starte borgere på.")
    else:
        choices = [g.group_id for g in running]
        entry.keep_choice("hold-start-hold", choices)
        group_id = st.columns([3, 3])[0].selectbox("Hold", choices, format_func=group_label, key="hold-start-hold")
        group = by_id[group_id]
        candidates = {w.referral_id: w for w in waiting if w.unit_id == group.unit_id}
        colleagues = {s.staff_id: f"{s.name} ({s.initials})" for s in staff if s.unit_id == group.unit_id}
        st.caption(f"{fmt.literal(group.name)}: {group.members_active} af {group.capacity} pladser er optaget i dag.")
        START = f"hold-start-{group_id}-"
        entry.fill(START, {"henvisninger": [], "dato": today, "kontakt": None})
        entry.drop_missing(f"{START}henvisninger", candidates)
        with st.form("hold-start"):
            messages = entry.Messages()
            chosen = st.multiselect(
                "Borgere fra ventelisten", list(candidates), key=f"{START}henvisninger",
                format_func=lambda r: f"{candidates[r].citizen_ref} · venter {candidates[r].days_waited} dage · "
                                      f"{codes.label(codes.REFERRERS, candidates[r].referrer)}",
                placeholder="Vælg en eller flere borgere",
            )
            messages.under("referral_ids", "referral_id")
            left, right = st.columns(2)
            with left:
                start = st.date_input("Startdato", min_value=EARLIEST, max_value=today, format="DD.MM.YYYY",
                                      key=f"{START}dato")
                messages.under("start")
            with right:
                contact = st.selectbox("Kontaktperson", list(colleagues), key=f"{START}kontakt",
                                       format_func=colleagues.get, placeholder="Vælg kontaktperson (valgfrit)")
                messages.under("contact_person_id")
            messages.general()
            if st.form_submit_button("Start forløb på holdet", type="primary"):
                def start_all(session: Session) -> str:
                    started = services.start_group_courses(session, actor, group_id=group_id, referral_ids=chosen,
                                                           start=start, contact_person_id=contact)
                    names = ", ".join(candidates[r].citizen_ref for r in chosen)
                    return f"{len(started)} forløb er startet på {group.name}: {names}."

                entry.save(start_all, messages, form="hold-start", forget=(START,))

# ---------------------------------------------------------------------------------------
# Plan a new group

NEW = "hold-ny-"
with new_tab:
    entry.show_saved("hold-ny")
    unit_id = next(iter(unit_names), None)
    entry.fill(NEW, {"enhed": unit_id, "navn": "", "tema": "", "start": today, "slut": None,
                               "pladser": 10})
    with st.form("hold-ny"):
        messages = entry.Messages()
        if len(unit_names) > 1:
            unit_id = st.selectbox("Enhed", list(unit_names), format_func=unit_names.get, key=f"{NEW}enhed")
        name = st.text_input("Holdets navn", key=f"{NEW}navn", max_chars=80)
        messages.under("name")
        theme = st.text_input("Tema", key=f"{NEW}tema", max_chars=200)
        messages.under("theme")
        row = st.columns(3)
        with row[0]:
            start = st.date_input("Startdato (må ligge ude i fremtiden)", min_value=EARLIEST, format="DD.MM.YYYY",
                                  key=f"{NEW}start")
            messages.under("start")
        with row[1]:
            end = st.date_input("Slutdato (valgfri)", min_value=EARLIEST, format="DD.MM.YYYY", key=f"{NEW}slut")
            messages.under("end")
        with row[2]:
            capacity = st.number_input("Antal pladser", step=1, key=f"{NEW}pladser")
            messages.under("capacity")
        messages.general()
        if st.form_submit_button("Opret hold", type="primary"):
            def create(session: Session) -> str:
                if unit_id is None:
                    raise FokusError("Din bruger er ikke knyttet til en enhed: kontakt en administrator.")
                group = services.create_group(session, actor, unit_id=unit_id, name=name, theme=theme, start=start,
                                              end=end, capacity=capacity)
                return f"Holdet {group.name} er oprettet med start {fmt.day(group.start)}."

            entry.save(create, messages, form="hold-ny", forget=(NEW,))

# ---------------------------------------------------------------------------------------
# Edit a group (optimistic locking: the version the user opened is the one sent)

with edit_tab:
    entry.show_saved("hold-ret")
    if not groups:
        st.info("Der er endnu intet hold at rette.")
    else:
        entry.keep_choice("hold-ret-hold", by_id)
        group_id = st.columns([3, 3])[0].selectbox("Hold", list(by_id), format_func=group_label, key="hold-ret-hold")
        group = by_id[group_id]
        EDIT = f"hold-ret-{group_id}-"
        seen_version = entry.version_seen(EDIT, group.version)
        entry.fill(EDIT, {"navn": group.name, "tema": group.theme, "start": group.start, "slut": group.end,
                                    "pladser": group.capacity})
        with st.form(f"hold-ret-{group_id}"):
            messages = entry.Messages()
            name = st.text_input("Holdets navn", key=f"{EDIT}navn", max_chars=80)
            messages.under("name")
            theme = st.text_input("Tema", key=f"{EDIT}tema", max_chars=200)
            messages.under("theme")
            row = st.columns(3)
            with row[0]:
                start = st.date_input("Startdato", min_value=EARLIEST, format="DD.MM.YYYY", key=f"{EDIT}start")
                messages.under("start")
            with row[1]:
                end = st.date_input("Slutdato (valgfri)", min_value=EARLIEST, format="DD.MM.YYYY", key=f"{EDIT}slut")
                messages.under("end")
            with row[2]:
                capacity = st.number_input("Antal pladser", step=1, key=f"{EDIT}pladser")
                messages.under("capacity")
            messages.general()
            if st.form_submit_button("Gem ændringer", type="primary"):
                def update(session: Session) -> str:
                    saved = services.update_group(session, actor, group_id=group_id, expected_version=seen_version,
                                                  name=name, theme=theme, start=start, end=end, capacity=capacity)
                    return f"Holdet {saved.name} er gemt."

                entry.save(update, messages, form="hold-ret", forget=(EDIT,))
        entry.reload_button(EDIT, key=f"hold-ret-{group_id}-hent")
