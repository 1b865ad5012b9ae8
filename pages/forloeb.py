"""Forløb: the active courses with their flags, one course's record, and every change to it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from fokus import access, clock, codes, db, entry, fmt, queries, services, ui
from fokus.errors import FokusError

actor = ui.page_actor("forloeb")
entry.begin()
today = clock.today()
SEEN = "fokus_citizen_seen"  # one "viewed"/"searched" entry per citizen and kind in this browser session
seen: set = st.session_state.setdefault(SEEN, set())
EARLIEST = date(1990, 1, 1)

with db.read_session() as session:
    active = queries.active_courses(session, actor, today=today)
    groups = queries.groups_overview(session, actor, today=today)
    staff = queries.staff_load(session, actor, today=today)


def flag_text(flags: tuple[str, ...]) -> str:
    return ", ".join(codes.label(codes.FLAGS, flag) for flag in flags)


st.title("Forløb")
st.caption("De aktive forløb med deres flag, ét forløbs oplysninger, og afslutning, rettelser og netværksmøder.")

# ---------------------------------------------------------------------------------------
# The active courses, flagged ones first

flagged = sum(1 for course in active if course.flags)
st.subheader(f"Aktive forløb ({fmt.integer(len(active))}, heraf {fmt.integer(flagged)} med flag)")
if active:
    only_flagged = st.toggle("Vis kun forløb med flag", key="forl-kun-flag")
    shown = sorted((c for c in active if c.flags or not only_flagged),
                   key=lambda c: (not c.flags, -c.weeks_elapsed, c.ref))
    table = pd.DataFrame({
        "Forløb": [c.ref for c in shown],
        "Borger": [c.citizen_ref for c in shown],
        "Uger": [round(c.weeks_elapsed, 1) for c in shown],
        "Flag": [flag_text(c.flags) for c in shown],
        "Kontaktperson": [c.contact_initials or "" for c in shown],
        "Hold": [codes.group_or_form(c.form, c.group_name) for c in shown],  # one column, not two
        "Seneste ORS": [c.last_ors for c in shown],
        "ORS-målinger": [c.ors_count for c in shown],
    })
    st.dataframe(
        table.style.apply(
            lambda row: ["background-color: #fff4d6" if row["Flag"] else "" for _ in row], axis=1
        ).format({"Uger": lambda weeks: fmt.number(weeks, 1)}).format(na_rep="–", subset=["Seneste ORS"]),
        hide_index=True,
        # No start date: "Uger" says how long ago, and without it the table fits beside the menu at 1366 px.
        column_config={"Seneste ORS": st.column_config.DateColumn(format="DD.MM.YYYY"),
                       "Uger": st.column_config.TextColumn(width="small"),
                       "Flag": st.column_config.TextColumn(width=300),
                       "Kontaktperson": st.column_config.TextColumn("Kontakt", width="small"),
                       "ORS-målinger": st.column_config.NumberColumn("ORS", help="ORS-målinger i forløbet",
                                                                     width="small")},
        key="forl-aktive",
    )
    st.caption("Forløb med flag står først og er markeret. Klik på en kolonneoverskrift for at sortere.")
else:
    st.info("Der er ingen aktive forløb.")

# ---------------------------------------------------------------------------------------
# Choosing one course: an active one, or any course found by the citizen's reference

st.subheader("Ét forløb")
# In a container, which is there with or without a message: a message that came and went would move the tabs
# below, and the browser would show their first tab again, hiding the confirmation of a save in another tab.
with st.container():
    entry.show_saved("forl-status")  # here: an ended course leaves the list of active ones
    entry.show_saved("forl-slettet")
by_id = {c.course_id: c for c in active}
if st.query_params.get("forloeb") is not None:  # a link from Overblik's "Kræver handling"
    st.session_state["forl-hvordan"] = "active"
    entry.choose_from_link("forloeb", "forl-valgt", by_id)
how = st.radio("Find forløbet", ["active", "search"], horizontal=True, key="forl-hvordan",
               format_func={"active": "Blandt de aktive", "search": "Søg på borgerens reference"}.get)
course_id: int | None = None
# A course chosen here stays chosen when it leaves the active list (ended by the user or a colleague),
# so its forms and whatever was typed in them stay on screen.
labels = {cid: f"{c.ref} · borger {c.citizen_ref}" for cid, c in by_id.items()}
shown_before: dict[int, str] = st.session_state.setdefault("forl-vist", {})
still_chosen = st.session_state.get("forl-valgt")
if how == "active":
    entry.start("forl-valgt", None)
    options = sorted(by_id, key=lambda cid: by_id[cid].ref)
    if still_chosen in shown_before and still_chosen not in by_id:
        options.append(still_chosen)
    course_id = st.selectbox(
        "Aktivt forløb", options, index=None, placeholder="Skriv forløbsnummer eller borgerens reference …",
        key="forl-valgt", format_func=lambda cid: labels.get(cid) or shown_before[cid],
    )
else:
    with st.form("forl-soeg", enter_to_submit=True):
        text = st.text_input("Borgerens reference (hele eller en del af den)", key="forl-soegetekst", max_chars=40)
        search_messages = entry.Messages()
        search_messages.general()
        st.form_submit_button("Søg")
    hits: list[queries.CitizenHit] = []
    if text.strip():
        try:
            with db.read_session() as session:
                hits = queries.find_citizens(session, actor, text=text, seen=seen)
        except FokusError as error:
            search_messages.refuse(error)
    with_course = {h.latest_course_id: h for h in hits if h.latest_course_id is not None}
    if text.strip() and not with_course:
        st.info("Ingen borger med et forløb passer til søgningen.")
    if with_course:
        course_id = st.selectbox(
            "Borgerens seneste forløb", list(with_course), index=0 if len(with_course) == 1 else None,
            placeholder="Vælg borger …", key="forl-fundet",
            format_func=lambda cid: (f"borger {with_course[cid].ref} · "
                                     + (f"åbent forløb {with_course[cid].open_course_ref}"
                                        if with_course[cid].open_course_id == cid else "afsluttet forløb")),
        )

if course_id is None:
    st.stop()

try:
    with db.read_session() as session:
        detail = queries.course_detail(session, actor, course_id=course_id, seen=seen, today=today)
except FokusError as error:
    ui.refuse(error)
    st.stop()

shown_before[course_id] = f"{detail.ref} · borger {detail.citizen_ref}"

# ---------------------------------------------------------------------------------------
# The course's record

st.markdown(f"#### Forløb {fmt.literal(detail.ref)} · borger {fmt.literal(detail.citizen_ref)} "
            f"(født {detail.birth_year})")
if detail.end is None:
    status = f"Aktivt siden {fmt.day(detail.start)}, uge {fmt.number(detail.weeks_elapsed, 1)}"
else:
    step = codes.label(codes.NEXT_STEPS, detail.next_step) or "ikke registreret"
    status = (f"Afsluttet {fmt.day(detail.end)} efter {fmt.number(detail.weeks_elapsed, 1)} uger: "
              f"{codes.label(codes.END_REASONS, detail.end_reason).lower()}, efterfølgende indsats: {step.lower()}")
st.write(status)
if detail.flags:
    st.warning("Flag: " + flag_text(detail.flags))
facts = st.columns(5)
facts[0].markdown(f"**Form**  \n{codes.label(codes.FORMS, detail.form)}"
                  + (f", {fmt.literal(detail.group_name)}" if detail.group_name else ""))
facts[1].markdown(f"**Kontaktperson**  \n{fmt.literal(detail.contact_initials or '–')}")
facts[2].markdown(f"**Henvist**  \n{fmt.day(detail.received)}, {codes.label(codes.REFERRERS, detail.referrer)}"
                  + (", revisitering fra § 85" if detail.from_sel85 else ""))
facts[3].markdown(f"**Målgruppe**  \n{codes.label(codes.TARGET_GROUPS, detail.target_group)}"
                  + (f"  \nAldersnote: {fmt.literal(detail.age_note)}" if detail.age_note else ""))

latest = f"{fmt.tenths(detail.ors[-1].total)} ({fmt.day(detail.ors[-1].date)})" if detail.ors else "–"
facts[4].markdown(f"**Seneste ORS**  \n{latest}")
ors_page = next((page for page in access.PAGES if page.path == "pages/ors.py"), None)
with st.expander(f"ORS-målinger ({fmt.integer(len(detail.ors))})"):
    if detail.ors:
        st.dataframe(
            pd.DataFrame({
                "Session": [s.session_no for s in detail.ors],
                "Dato": [fmt.day(s.date) for s in detail.ors],
                **{label: [fmt.tenths(s.items[code]) for s in detail.ors] for code, label in codes.ORS_ITEMS.items()},
                "I alt": [fmt.tenths(s.total) for s in detail.ors],
            }),
            hide_index=True, key=f"forl-{course_id}-ors",
        )
    else:
        st.caption("Ingen ORS-målinger endnu.")
if detail.srs:
    with st.expander(f"SRS-målinger ({fmt.integer(len(detail.srs))})"):
        st.dataframe(
            pd.DataFrame({
                "Session": [s.session_no for s in detail.srs],
                "Dato": [fmt.day(s.date) for s in detail.srs],
                **{label: [fmt.tenths(s.items[code]) for s in detail.srs] for code, label in codes.SRS_ITEMS.items()},
                "I alt": [fmt.tenths(s.total) for s in detail.srs],
                "Gruppe": ["ja" if s.group_session else "" for s in detail.srs],
            }),
            hide_index=True, key=f"forl-{course_id}-srs",
        )
ORS_SEARCH_KEPT = "ors-borger-husket"  # the ORS page's remembered citizen search: it opens on this citizen
if ors_page is not None and access.may_open(actor, ors_page.key) and st.button(
    f"Registrér eller ret ORS og SRS for borger {detail.citizen_ref} →", key=f"forl-{course_id}-til-ors"
):
    st.session_state[ORS_SEARCH_KEPT] = detail.citizen_ref
    st.switch_page(ors_page.path)

tabs = st.tabs(["Afslut" if detail.end is None else "Genåbn", "Ret forløbet", "Netværksmøder", "Slet"])

# End an active course, or reopen one ended by mistake

END = f"forl-{course_id}-afslut-"
with tabs[0]:
    if detail.end is None:
        entry.fill(END, {"dato": today, "aarsag": None, "indsats": None})
        with st.form(f"forl-{course_id}-afslut", enter_to_submit=True):
            end_messages = entry.Messages()
            row = st.columns(3)
            with row[0]:
                end = st.date_input("Slutdato", format="DD.MM.YYYY", key=f"{END}dato",
                                    min_value=EARLIEST)
            with row[1]:
                end_reason = st.selectbox("Afslutningsårsag", list(codes.END_REASONS),
                                          format_func=codes.END_REASONS.get, index=None,
                                          placeholder="Vælg årsag …", key=f"{END}aarsag")
            with row[2]:
                next_step = st.selectbox("Efterfølgende indsats", list(codes.NEXT_STEPS),
                                         format_func=codes.NEXT_STEPS.get, index=None,
                                         placeholder="Vælg indsats …", key=f"{END}indsats")
            end_messages.under("end", "end_reason", "next_step")
            end_messages.general()
            if st.form_submit_button("Afslut forløbet", type="primary"):
                def end_course(session: Session) -> str:
                    services.end_course(session, actor, course_id=course_id, end=end, end_reason=end_reason,
                                        next_step=next_step, expected_version=detail.version)
                    return f"Forløb {detail.ref} er afsluttet {fmt.day(end)}."

                entry.save(end_course, end_messages, form="forl-status", forget=(f"forl-{course_id}-",))
        st.caption("Den sidste ORS-måling kan stadig registreres efter afslutningen, dateret inden for forløbet.")
    else:
        with st.form(f"forl-{course_id}-genaabn", enter_to_submit=True):
            st.write("Blev forløbet afsluttet ved en fejl? Genåbn det, så det igen er aktivt "
                     f"fra {fmt.day(detail.start)}.")
            reopen_messages = entry.Messages()
            reopen_messages.general()
            if st.form_submit_button("Genåbn forløbet", type="primary"):
                def reopen(session: Session) -> str:
                    services.reopen_course(session, actor, course_id=course_id, expected_version=detail.version)
                    return f"Forløb {detail.ref} er genåbnet og er igen aktivt."

                entry.save(reopen, reopen_messages, form="forl-status", forget=(f"forl-{course_id}-",))

# Edit any field of the course

EDIT = f"forl-{course_id}-ret-"
unit_groups = {g.group_id: g.name for g in groups if g.unit_id == detail.unit_id
               and (g.end is None or g.end >= detail.start or g.group_id == detail.group_id)}
unit_staff = {s.staff_id: f"{s.name} ({s.initials})" + ("" if s.active else " – fratrådt") for s in staff
              if s.unit_id == detail.unit_id and (s.active or s.staff_id == detail.contact_person_id)}


def _optional(options: dict, label: str, key: str, none: str = "–"):  # noqa: ANN202
    return st.selectbox(label, [None, *options], key=key,
                        format_func=lambda value: none if value is None else options[value])


with tabs[1]:
    entry.show_saved("forl-ret")
    seen_version = entry.version_seen(EDIT, detail.version)
    entry.fill(EDIT, {"ref": detail.ref, "start": detail.start, "form": detail.form,
                      "hold": detail.group_id if detail.group_id in unit_groups else None,
                      "kontakt": detail.contact_person_id if detail.contact_person_id in unit_staff else None,
                      "slut": detail.end, "aarsag": detail.end_reason, "indsats": detail.next_step})
    with st.form(f"forl-{course_id}-ret", enter_to_submit=True):
        edit_messages = entry.Messages()
        row = st.columns(4)
        with row[0]:
            edit_ref = st.text_input("Forløbsnr.", key=f"{EDIT}ref", max_chars=40)
        with row[1]:
            edit_start = st.date_input("Startdato", format="DD.MM.YYYY", key=f"{EDIT}start",
                                       min_value=EARLIEST)
        with row[2]:
            edit_form = st.radio("Form", list(codes.FORMS), format_func=codes.FORMS.get, horizontal=True,
                                 key=f"{EDIT}form")
        with row[3]:
            edit_group = _optional(unit_groups, "Hold", f"{EDIT}hold", "– intet hold")
        edit_messages.under("ref", "start", "form", "group_id")
        row = st.columns(4)
        with row[0]:
            edit_contact = _optional(unit_staff, "Kontaktperson", f"{EDIT}kontakt")
        with row[1]:
            edit_end = st.date_input("Slutdato (tom: aktivt)", value=None, format="DD.MM.YYYY",
                                     key=f"{EDIT}slut", min_value=EARLIEST)
        with row[2]:
            edit_reason = _optional(codes.END_REASONS, "Afslutningsårsag", f"{EDIT}aarsag")
        with row[3]:
            edit_step = _optional(codes.NEXT_STEPS, "Efterfølgende indsats", f"{EDIT}indsats")
        edit_messages.under("contact_person_id", "end", "end_reason", "next_step")
        edit_messages.general()
        if st.form_submit_button("Gem rettelser", type="primary"):
            def update(session: Session) -> str:
                services.update_course(
                    session, actor, course_id=course_id, expected_version=seen_version, ref=edit_ref,
                    start=edit_start, form=edit_form, group_id=edit_group, contact_person_id=edit_contact,
                    end=edit_end, end_reason=edit_reason, next_step=edit_step,
                )
                return f"Rettelserne til forløb {edit_ref.strip()} er gemt."

            entry.save(update, edit_messages, form="forl-ret", forget=(f"forl-{course_id}-",))
    entry.reload_button(EDIT, key=f"forl-{course_id}-ret-hent")

# Network meetings (Åben Dialog)

MEETING = f"forl-{course_id}-moede-"
with tabs[2]:
    entry.show_saved("forl-moede")
    if detail.meetings:
        st.dataframe(
            pd.DataFrame({"Dato": [fmt.day(m.date) for m in detail.meetings],
                          "Deltagere": [m.participants for m in detail.meetings]}),
            hide_index=True, key=f"forl-{course_id}-moeder",
        )
    else:
        st.caption("Ingen netværksmøder endnu.")
    entry.fill(f"{MEETING}ny-", {"dato": today, "antal": None})
    with st.form(f"forl-{course_id}-moede-ny", enter_to_submit=True):
        st.markdown("**Nyt netværksmøde**")
        meeting_messages = entry.Messages()
        row = st.columns([1, 1, 2])
        with row[0]:
            meeting_day = st.date_input("Mødedato", format="DD.MM.YYYY", key=f"{MEETING}ny-dato",
                                        min_value=EARLIEST)
        with row[1]:
            participants = st.number_input("Antal deltagere", value=None, step=1, format="%d",
                                           key=f"{MEETING}ny-antal")
        meeting_messages.under("date", "participants")
        meeting_messages.general()
        if st.form_submit_button("Gem netværksmødet", type="primary"):
            def add_meeting(session: Session) -> str:
                services.add_network_meeting(session, actor, course_id=course_id, day=meeting_day,
                                             participants=participants)
                return f"Netværksmødet {fmt.day(meeting_day)} med {participants} deltagere er gemt."

            entry.save(add_meeting, meeting_messages, form="forl-moede", forget=(f"{MEETING}ny-",))

    meetings = {m.id: m for m in detail.meetings}
    entry.start(f"{MEETING}valgt", None)
    meeting_id = None if not meetings else st.selectbox(
        "Ret eller slet et møde", list(meetings), index=None, placeholder="Vælg møde …", key=f"{MEETING}valgt",
        format_func=lambda mid: f"{fmt.day(meetings[mid].date)} · {meetings[mid].participants} deltagere",
    )
    if meeting_id is not None:
        meeting = meetings[meeting_id]
        ONE = f"{MEETING}{meeting_id}-"
        meeting_version = entry.version_seen(ONE, meeting.version)
        entry.fill(ONE, {"dato": meeting.date, "antal": meeting.participants, "slet": False})
        with st.form(f"forl-moede-{meeting_id}", enter_to_submit=True):
            one_messages = entry.Messages()
            row = st.columns([2, 2, 1])
            with row[0]:
                one_day = st.date_input("Mødedato", format="DD.MM.YYYY", key=f"{ONE}dato",
                                        min_value=EARLIEST)
            with row[1]:
                one_count = st.number_input("Antal deltagere", value=None, step=1, format="%d",
                                            key=f"{ONE}antal")
            with row[2]:
                remove = st.checkbox("Slet mødet", key=f"{ONE}slet")
            one_messages.under("date", "participants")
            one_messages.general()
            if st.form_submit_button("Gem", type="primary"):
                def change_meeting(session: Session) -> str:
                    if remove:
                        services.delete_network_meeting(session, actor, meeting_id=meeting_id,
                                                        expected_version=meeting_version)
                        return f"Netværksmødet {fmt.day(meeting.date)} er slettet."
                    services.update_network_meeting(session, actor, meeting_id=meeting_id,
                                                    expected_version=meeting_version, day=one_day,
                                                    participants=one_count)
                    return f"Netværksmødet {fmt.day(one_day)} med {one_count} deltagere er gemt."

                entry.save(change_meeting, one_messages, form="forl-moede", forget=(ONE, f"{MEETING}valgt"))
        entry.reload_button(ONE, key=f"{ONE}hent")

# Delete a course registered by mistake

DELETE = f"forl-{course_id}-slet-"
with tabs[3], st.form(f"forl-{course_id}-slet", enter_to_submit=True):
    st.write(f"Slet forløb {fmt.literal(detail.ref)}, hvis det er oprettet ved en fejl. Dets ORS- og SRS-målinger "
             "og netværksmøder slettes med, og henvisningen står igen på ventelisten.")
    delete_messages = entry.Messages()
    sure = st.checkbox(f"Ja, forløb {detail.ref} er en fejlregistrering og skal slettes", key=f"{DELETE}sikker")
    delete_messages.general()
    if st.form_submit_button("Slet forløbet"):
        def delete(session: Session) -> str:
            if not sure:
                raise FokusError("Sæt flueben for at bekræfte, at forløbet skal slettes.", "sure")
            services.delete_course(session, actor, course_id=course_id, expected_version=detail.version)
            return f"Forløb {detail.ref} er slettet."

        entry.save(delete, delete_messages, form="forl-slettet", forget=(DELETE, "forl-valgt", "forl-fundet"))
