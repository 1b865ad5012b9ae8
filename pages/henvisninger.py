"""Henvisninger: a referral in one short form, the waiting list, and what becomes of a waiting referral."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from fokus import citizen_record, clock, codes, db, entry, fmt, queries, services, ui, units
from fokus.errors import FokusError

actor = ui.page_actor("henvisninger")
entry.begin()
today = clock.today()
SEEN = "fokus_citizen_seen"  # one "viewed"/"searched" entry per citizen and kind in this browser session
seen: set = st.session_state.setdefault(SEEN, set())
EARLIEST = date(1990, 1, 1)  # the services refuse older dates

with db.read_session() as session:
    unit_names = units.visible_units(session, actor)
    waiting = queries.waiting_list(session, actor, today=today)
    groups = [g for g in queries.groups_overview(session, actor, today=today) if g.end is None or g.end >= today]
    staff = [s for s in queries.staff_load(session, actor, today=today) if s.active]

st.title("Henvisninger")
st.caption("Registrér en henvisning, se ventelisten, og start, afvis eller træk en ventende henvisning tilbage.")

if not unit_names:
    st.info("Du er ikke knyttet til nogen enhed endnu. Kontakt en administrator.")
    st.stop()


def _choice(options: dict, label: str, key: str, placeholder: str):  # noqa: ANN202
    return st.selectbox(label, list(options), format_func=lambda code: options[code], index=None,
                        placeholder=placeholder, key=key)


# ---------------------------------------------------------------------------------------
# A new referral

NEW = "henv-ny-"
st.subheader("Ny henvisning")
entry.show_saved("henv-ny")
entry.fill(NEW, {"ref": "", "aar": None, "modtaget": today, "sel85": False, "enhed": None, "henviser": None,
                 "maalgruppe": None, "note": ""})
with st.form("henv-ny", enter_to_submit=True):
    new_messages = entry.Messages()
    row = st.columns([2, 1, 1, 1] if len(unit_names) == 1 else [2, 1, 1, 1, 2])
    with row[0]:
        citizen_ref = st.text_input("Borgerens reference", key=f"{NEW}ref", max_chars=40,
                                    placeholder="sagsnummer eller enhedens egen kode, aldrig CPR-nummer")
    with row[1]:
        birth_year = st.number_input("Fødselsår", value=None, step=1, format="%d", key=f"{NEW}aar",
                                     placeholder="åååå")
    with row[2]:
        received = st.date_input("Modtaget", format="DD.MM.YYYY", key=f"{NEW}modtaget",
                                 min_value=EARLIEST)
    with row[3]:
        st.write("")
        from_sel85 = st.checkbox("Revisitering fra § 85", key=f"{NEW}sel85")
    if len(unit_names) > 1:
        with row[4]:
            unit_id = _choice(unit_names, "Enhed", f"{NEW}enhed", "Vælg enhed …")
    else:
        unit_id = next(iter(unit_names))
    new_messages.under("citizen_ref", "birth_year", "received", "from_sel85", "unit_id")
    row = st.columns([1, 1, 3])
    with row[0]:
        referrer = _choice(codes.REFERRERS, "Henviser", f"{NEW}henviser", "Vælg henviser …")
    with row[1]:
        target_group = _choice(codes.TARGET_GROUPS, "Målgruppe", f"{NEW}maalgruppe", "Vælg målgruppe …")
    with row[2]:
        age_note = st.text_input("Aldersnote (kun når borgeren er under 18 eller over 65 år)", key=f"{NEW}note",
                                 max_chars=500, placeholder="hvorfor henvisningen modtages trods alderen")
    new_messages.under("referrer", "target_group", "age_note")
    new_messages.general()
    if st.form_submit_button("Gem henvisning", type="primary"):
        def register(session: Session) -> str:
            if unit_id is None:
                raise FokusError("Vælg den enhed, henvisningen hører til.", "unit_id")
            services.register_referral(
                session, actor, unit_id=unit_id, citizen_ref=citizen_ref, birth_year=birth_year,
                received=received, referrer=referrer, target_group=target_group, from_sel85=from_sel85,
                age_note=age_note or None,
            )
            return (f"Henvisningen for borger {citizen_ref.strip()}, modtaget {fmt.day(received)}, "
                    "er gemt og står på ventelisten.")

        entry.save(register, new_messages, form="henv-ny", forget=(NEW,))


# ---------------------------------------------------------------------------------------
# Corrections of one referral and its citizen: on a waiting referral, or one found by search

def corrections(record: citizen_record.CitizenRecord, row: citizen_record.ReferralRow, form: str) -> None:
    """Edit the referral and the citizen's reference and birth year; reopen it; delete it."""
    prefix = f"{form}-{row.referral_id}-"  # the same referral may be open in both places
    referral_version = entry.version_seen(f"{prefix}henv-", row.version)
    citizen_version = entry.version_seen(f"{prefix}borger-", record.version)
    entry.fill(prefix, {"borger-ref": record.ref, "borger-aar": record.birth_year, "henv-modtaget": row.received,
                        "henv-henviser": row.referrer, "henv-maalgruppe": row.target_group,
                        "henv-sel85": row.from_sel85, "henv-note": row.age_note or ""})
    with st.form(f"{prefix}form", enter_to_submit=True):
        messages = entry.Messages()
        line = st.columns([2, 1, 1, 1, 1])
        with line[0]:
            ref = st.text_input("Borgerens reference", key=f"{prefix}borger-ref", max_chars=40)
        with line[1]:
            year = st.number_input("Fødselsår", value=None, step=1, format="%d",
                                   key=f"{prefix}borger-aar")
        with line[2]:
            received = st.date_input("Modtaget", format="DD.MM.YYYY", key=f"{prefix}henv-modtaget",
                                     min_value=EARLIEST)
        with line[3]:
            referrer = _choice(codes.REFERRERS, "Henviser", f"{prefix}henv-henviser", "Vælg henviser …")
        with line[4]:
            target = _choice(codes.TARGET_GROUPS, "Målgruppe", f"{prefix}henv-maalgruppe", "Vælg målgruppe …")
        messages.under("ref", "birth_year", "received", "referrer", "target_group")
        line = st.columns([1, 4])
        with line[0]:
            st.write("")
            sel85 = st.checkbox("Revisitering fra § 85", key=f"{prefix}henv-sel85")
        with line[1]:
            note = st.text_input("Aldersnote", key=f"{prefix}henv-note", max_chars=500)
        messages.under("from_sel85", "age_note")
        messages.general()
        if st.form_submit_button("Gem rettelser", type="primary"):
            def update(session: Session) -> str:
                services.update_citizen(session, actor, citizen_id=record.citizen_id,
                                        expected_version=citizen_version, ref=ref, birth_year=year)
                services.update_referral(session, actor, referral_id=row.referral_id,
                                         expected_version=referral_version, received=received, referrer=referrer,
                                         target_group=target, from_sel85=sel85, age_note=note or None)
                return f"Rettelserne til borger {ref.strip()}s henvisning modtaget {fmt.day(received)} er gemt."

            entry.save(update, messages, form=form, forget=(prefix,))
    entry.reload_button(prefix, key=f"{prefix}hent")

    if row.status in ("rejected", "withdrawn"):
        with st.form(f"{prefix}genaabn", enter_to_submit=True):
            st.write(f"Henvisningen blev {codes.REFERRAL_STATUSES[row.status].lower()} {fmt.day(row.decided)} "
                     f"({codes.label(codes.DECISION_REASONS, row.reason).lower()}). Var det en fejl?")
            reopen_messages = entry.Messages()
            reopen_messages.general()
            if st.form_submit_button("Sæt på ventelisten igen"):
                def reopen(session: Session) -> str:
                    services.reopen_referral(session, actor, referral_id=row.referral_id, expected_version=row.version)
                    return f"Henvisningen for borger {record.ref} står igen på ventelisten."

                entry.save(reopen, reopen_messages, form=form, forget=(prefix,))
    if row.course_ref is None:
        with st.form(f"{prefix}slet", enter_to_submit=True):
            delete_messages = entry.Messages()
            sure = st.checkbox(f"Ja, henvisningen for borger {record.ref} modtaget {fmt.day(row.received)} er en "
                               "fejlregistrering og skal slettes", key=f"{prefix}slet-sikker")
            delete_messages.general()
            if st.form_submit_button("Slet henvisningen"):
                def delete(session: Session) -> str:
                    if not sure:
                        raise FokusError("Sæt flueben for at bekræfte, at henvisningen skal slettes.", "sure")
                    services.delete_referral(session, actor, referral_id=row.referral_id,
                                             expected_version=row.version)
                    return f"Henvisningen for borger {record.ref} modtaget {fmt.day(row.received)} er slettet."

                entry.save(delete, delete_messages, form=form, forget=(prefix, "henv-valgt", "henv-fundet-"))
    else:
        st.caption(f"Henvisningen har forløb {fmt.literal(row.course_ref)}: ret eller slet forløbet på siden Forløb.")


def record_of(citizen_id: int) -> citizen_record.CitizenRecord | None:
    try:
        with db.read_session() as session:
            return citizen_record.citizen_record(session, citizen_id=citizen_id, unit_ids=actor.unit_ids)
    except FokusError as error:
        ui.refuse(error)
        return None


# ---------------------------------------------------------------------------------------
# The waiting list and what becomes of a waiting referral

def waiting_list() -> None:
    st.subheader(f"Venteliste ({fmt.integer(len(waiting))})")
    entry.show_saved("henv-venter")
    if not waiting:
        st.info("Ingen henvisninger venter.")
        return
    st.dataframe(
        pd.DataFrame({
            "Borger": [w.citizen_ref for w in waiting],
            "Fødselsår": [w.birth_year for w in waiting],
            "Modtaget": [w.received for w in waiting],
            "Ventet (dage)": [w.days_waited for w in waiting],
            "Henviser": [codes.label(codes.REFERRERS, w.referrer) for w in waiting],
            "Målgruppe": [codes.label(codes.TARGET_GROUPS, w.target_group) for w in waiting],
            "§ 85": ["ja" if w.from_sel85 else "" for w in waiting],
            "Aldersnote": [w.age_note or "" for w in waiting],
            **({"Enhed": [unit_names.get(w.unit_id, "") for w in waiting]} if len(unit_names) > 1 else {}),
        }),
        hide_index=True,
        column_config={"Modtaget": st.column_config.DateColumn(format="DD.MM.YYYY"),
                       "Fødselsår": st.column_config.NumberColumn(format="%d")},
        key="henv-venteliste",
    )
    st.caption("Længst ventende står øverst. Klik på en kolonneoverskrift for at sortere.")
    by_id = {w.referral_id: w for w in waiting}
    entry.choose_from_link("henvisning", "henv-valgt", by_id)
    entry.start("henv-valgt", None)
    chosen_id = st.selectbox(
        "Vælg en ventende henvisning", list(by_id), index=None, placeholder="Skriv eller vælg borgerens reference …",
        format_func=lambda rid: (f"{by_id[rid].citizen_ref} · modtaget {fmt.day(by_id[rid].received)} · "
                                 f"{fmt.integer(by_id[rid].days_waited)} dage"),
        key="henv-valgt",
    )
    if chosen_id is None:
        return
    chosen = by_id[chosen_id]
    start_tab, decide_tab, edit_tab = st.tabs(["Start forløb", "Afvis eller træk tilbage", "Ret eller slet"])
    with start_tab:
        start_form(chosen)
    with decide_tab:
        decide_form(chosen)
    with edit_tab:
        record = record_of(chosen.citizen_id)
        row = next((r for r in record.referrals if r.referral_id == chosen_id), None) if record else None
        if record is not None and row is not None:
            corrections(record, row, "henv-venter")


def start_form(chosen: queries.WaitingReferral) -> None:
    unit_groups = {g.group_id: g for g in groups if g.unit_id == chosen.unit_id}
    unit_staff = {s.staff_id: s for s in staff if s.unit_id == chosen.unit_id}
    prefix = f"henv-{chosen.referral_id}-start-"
    with st.form(f"henv-{chosen.referral_id}-start", enter_to_submit=True):
        messages = entry.Messages()
        line = st.columns([1, 2, 2, 1.3, 1.3])
        with line[0]:
            form = st.radio("Form", list(codes.FORMS), format_func=codes.FORMS.get, key=f"{prefix}form")
        with line[1]:
            group_id = st.selectbox(
                "Hold (ved gruppeforløb)", list(unit_groups), index=None, placeholder="Vælg hold …",
                format_func=lambda gid: (f"{unit_groups[gid].name} · start {fmt.day(unit_groups[gid].start)} · "
                                         f"{unit_groups[gid].members_active}/{unit_groups[gid].capacity} pladser"),
                key=f"{prefix}hold",
            )
        with line[2]:
            contact_id = st.selectbox(
                "Kontaktperson", list(unit_staff), index=None, placeholder="Vælg kontaktperson …",
                format_func=lambda sid: (f"{unit_staff[sid].name} ({unit_staff[sid].initials}) · "
                                         f"{unit_staff[sid].active_courses}/{unit_staff[sid].max_active_courses} "
                                         "forløb"),
                key=f"{prefix}kontakt",
            )
        with line[3]:
            start = st.date_input("Startdato", value=today, format="DD.MM.YYYY", key=f"{prefix}dato",
                                  min_value=EARLIEST)
        with line[4]:
            course_ref = st.text_input("Forløbsnr.", key=f"{prefix}ref", max_chars=40,
                                       placeholder="automatisk")  # empty: the next free one, e.g. F2026-0042
        messages.under("form", "group_id", "contact_person_id", "start", "ref")
        messages.general()
        if st.form_submit_button("Start forløb", type="primary"):
            def start_course(session: Session) -> str:
                course = services.start_course(
                    session, actor, referral_id=chosen.referral_id, start=start, form=form, group_id=group_id,
                    contact_person_id=contact_id, ref=course_ref.strip() or None,
                )
                where = f", {unit_groups[group_id].name}" if group_id in unit_groups else ""
                return (f"Forløb {course.ref} er startet {fmt.day(start)} for borger {chosen.citizen_ref} "
                        f"({codes.FORMS[form].lower()}{where}).")

            entry.save(start_course, messages, form="henv-venter", forget=(prefix, "henv-valgt"))


def decide_form(chosen: queries.WaitingReferral) -> None:
    prefix = f"henv-{chosen.referral_id}-afgoer-"
    with st.form(f"henv-{chosen.referral_id}-afgoer", enter_to_submit=True):
        messages = entry.Messages()
        line = st.columns([2, 2, 1])
        with line[0]:
            status = st.radio("Afgørelse", ["rejected", "withdrawn"], format_func=codes.REFERRAL_STATUSES.get,
                              index=None, horizontal=True, key=f"{prefix}status")
        with line[1]:
            reason = _choice(codes.DECISION_REASONS, "Årsag", f"{prefix}aarsag", "Vælg årsag …")
        with line[2]:
            decided = st.date_input("Dato", value=today, format="DD.MM.YYYY", key=f"{prefix}dato", min_value=EARLIEST)
        messages.under("status", "reason", "decided")
        messages.general()
        if st.form_submit_button("Gem afgørelse", type="primary"):
            def decide(session: Session) -> str:
                services.decide_referral(session, actor, referral_id=chosen.referral_id, status=status,
                                         decided=decided, reason=reason, expected_version=chosen.version)
                return (f"Henvisningen for borger {chosen.citizen_ref} er "
                        f"{codes.REFERRAL_STATUSES[status].lower()} {fmt.day(decided)} "
                        f"({codes.DECISION_REASONS[reason].lower()}).")

            entry.save(decide, messages, form="henv-venter", forget=(prefix, "henv-valgt"))


# ---------------------------------------------------------------------------------------
# Any referral, found by the citizen's reference: corrections, reopening, merging two references

def search() -> None:
    st.subheader("Find en borger: rettelser og sammenlægning")
    st.caption("Til en afvist eller tilbagetrukket henvisning, en rettelse af referencen eller fødselsåret, "
               "og to referencer, der viser sig at være samme borger.")
    entry.show_saved("henv-rettelser")
    with st.form("henv-soeg", enter_to_submit=True):
        text = st.text_input("Borgerens reference (hele eller en del af den)", key="henv-soegetekst", max_chars=40)
        messages = entry.Messages()
        messages.general()
        st.form_submit_button("Søg")
    if not text.strip():
        return
    try:
        with db.read_session() as session:
            hits = queries.find_citizens(session, actor, text=text, seen=seen)
    except FokusError as error:
        messages.refuse(error)
        return
    if not hits:
        st.info("Ingen borger passer til søgningen.")
        return
    by_id = {hit.citizen_id: hit for hit in hits}
    entry.keep_choice("henv-fundet-borger", by_id)  # a corrected reference or birth year shows in its label
    citizen_id = st.selectbox(
        "Borger", list(by_id), index=0 if len(hits) == 1 else None, placeholder="Vælg borger …",
        format_func=lambda cid: f"{by_id[cid].ref} · født {by_id[cid].birth_year}"
        + (f" · {unit_names.get(by_id[cid].unit_id, '')}" if len(unit_names) > 1 else ""),
        key="henv-fundet-borger",
    )
    if citizen_id is None:
        return
    record = record_of(citizen_id)
    if record is None:
        return
    rows = {r.referral_id: r for r in record.referrals}
    st.dataframe(
        pd.DataFrame({
            "Modtaget": [fmt.day(r.received) for r in rows.values()],
            "Status": [codes.label(codes.REFERRAL_STATUSES, r.status) for r in rows.values()],
            "Afgjort": [fmt.day(r.decided) for r in rows.values()],
            "Årsag": [codes.label(codes.DECISION_REASONS, r.reason) for r in rows.values()],
            "Forløb": [r.course_ref or "" for r in rows.values()],
            "Henviser": [codes.label(codes.REFERRERS, r.referrer) for r in rows.values()],
            "Målgruppe": [codes.label(codes.TARGET_GROUPS, r.target_group) for r in rows.values()],
        }),
        hide_index=True, key="henv-fundet-henvisninger",
    )
    referral_id = st.selectbox(
        "Henvisning", list(rows), index=0 if len(rows) == 1 else None, placeholder="Vælg henvisning …",
        format_func=lambda rid: (f"modtaget {fmt.day(rows[rid].received)} · "
                                 f"{codes.label(codes.REFERRAL_STATUSES, rows[rid].status).lower()}"),
        key=f"henv-fundet-henvisning-{citizen_id}",
    )
    if referral_id is not None:
        corrections(record, rows[referral_id], "henv-rettelser")
    merge_form(record)


def merge_form(record: citizen_record.CitizenRecord) -> None:
    prefix = f"henv-flet-{record.citizen_id}-"
    entry.fill(prefix, {"ref": ""})
    with st.form(f"{prefix}form", enter_to_submit=True):
        st.markdown(f"**Læg en anden reference sammen med borger {fmt.literal(record.ref)}**")
        messages = entry.Messages()
        other = st.text_input(f"Den anden reference (dens henvisninger og forløb flyttes til {record.ref}, "
                              "og den forsvinder)", key=f"{prefix}ref", max_chars=40)
        messages.under("merge_citizen_id", "text")
        messages.general()
        if st.form_submit_button("Læg sammen"):
            try:  # the search is a use of data in itself, logged whether or not the merge succeeds
                with db.read_session() as session:
                    hits = queries.find_citizens(session, actor, text=other, seen=seen)
            except FokusError as error:
                messages.refuse(error)
                return
            found = [hit for hit in hits if hit.ref == other.strip() and hit.unit_id == record.unit_id]

            def merge(session: Session) -> str:
                if not found:
                    raise FokusError(f"Ingen borger i enheden har præcis referencen '{other.strip()}'.",
                                     "merge_citizen_id")
                services.merge_citizens(session, actor, keep_citizen_id=record.citizen_id,
                                        merge_citizen_id=found[0].citizen_id)
                return f"Borger {other.strip()} er lagt sammen med borger {record.ref}."

            entry.save(merge, messages, form="henv-rettelser", forget=(prefix,))


waiting_list()
search()
