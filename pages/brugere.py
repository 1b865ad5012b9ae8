"""Brugere: accounts, roles, units and staff links (administrators only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlmodel import select

from fokus import auth, codes, db, fmt, ui
from fokus.errors import FokusError
from fokus.models import Staff, Unit

actor = ui.page_actor("brugere")

with db.read_session() as session:
    users = auth.list_users(session, actor)
    units = {unit.id: unit.name for unit in session.exec(select(Unit).order_by(Unit.name)).all()}
    staff = {s.id: f"{s.name} ({s.initials})" for s in session.exec(select(Staff).order_by(Staff.name)).all()}

st.title("Brugere")
st.caption("Roller: administrator (brugere, enheder, indstillinger, sletning) · leder (alt om enhedens data og "
           "revisionsloggen) · medarbejder (registrering og overblik) · mødeskærm (kun mødeskærmen).")

st.dataframe(
    pd.DataFrame(
        [{"Brugernavn": u["login"], "Rolle": codes.label(codes.ROLES, str(u["role"])),
          "Enheder": ", ".join(u["units"]) or "alle", "Medarbejder": u["staff"] or "",
          "Aktiv": "ja" if u["active"] else "nej", "Spærret": "ja" if u["locked"] else ""} for u in users],
        columns=["Brugernavn", "Rolle", "Enheder", "Medarbejder", "Aktiv", "Spærret"],
    ),
    hide_index=True,
)


def _saved(message: str) -> None:
    st.session_state["brugere_saved"] = message
    st.rerun()


# The message's place is always there: a message that came and went would move the tabs below, and the browser
# would then show their first tab again (a keyboard user choosing a user under "Ny adgangskode" landed in "Ny bruger").
notice = st.empty()
if message := st.session_state.pop("brugere_saved", None):
    notice.success(fmt.plain(message))

new, edit, password = st.tabs(["Ny bruger", "Ret bruger", "Ny adgangskode"])

with new, st.form("new_user"):
    login = st.text_input("Brugernavn (fx e-mailadresse)", key="new_login")
    role = st.selectbox("Rolle", list(codes.ROLES), format_func=lambda r: codes.ROLES[r], key="new_role", index=2)
    chosen_units = st.multiselect("Enheder", list(units), format_func=units.get, key="new_units",
                                  placeholder="Vælg en eller flere enheder")
    staff_id = st.selectbox("Medarbejder (valgfrit)", [None, *staff], key="new_staff",
                            format_func=lambda s: "—" if s is None else staff[s])
    first_password = st.text_input("Adgangskode (mindst 12 tegn; tom ved login med kommunens konto)",
                                   type="password", key="new_password")
    if st.form_submit_button("Opret bruger", type="primary"):
        try:
            with db.write_session() as session:
                auth.create_user(session, actor, login=login, role=role, password=first_password or None,
                                 unit_ids=chosen_units, staff_id=staff_id)
        except FokusError as error:
            ui.refuse(error)
        else:
            _saved(f"Brugeren {login.strip().lower()} er oprettet.")

by_id = {int(u["id"]): u for u in users}  # type: ignore[arg-type]
with edit:
    chosen = st.selectbox("Bruger", list(by_id), format_func=lambda i: str(by_id[i]["login"]), key="edit_user")
    if chosen is not None:
        user = by_id[chosen]
        name_to_id = {name: unit_id for unit_id, name in units.items()}
        with st.form(f"edit_user_{chosen}"):
            role = st.selectbox("Rolle", list(codes.ROLES), format_func=lambda r: codes.ROLES[r],
                                index=list(codes.ROLES).index(str(user["role"])))
            chosen_units = st.multiselect("Enheder", list(units), format_func=units.get,
                                          default=[name_to_id[n] for n in user["units"] if n in name_to_id],
                                          placeholder="Vælg en eller flere enheder")
            options = [None, *staff]
            staff_id = st.selectbox("Medarbejder", options, format_func=lambda s: "—" if s is None else staff[s],
                                    index=options.index(user["staff_id"]) if user["staff_id"] in options else 0)
            active = st.checkbox("Aktiv (en deaktiveret bruger logges ud og kan ikke logge ind)",
                                 value=bool(user["active"]))
            if st.form_submit_button("Gem ændringer", type="primary"):
                try:
                    with db.write_session() as session:
                        auth.update_user(session, actor, user_id=chosen, role=role, unit_ids=chosen_units,
                                         staff_id=staff_id, active=active, expected_version=int(user["version"]))
                except FokusError as error:
                    ui.refuse(error)
                else:
                    _saved(f"Brugeren {user['login']} er gemt.")

with password:
    chosen = st.selectbox("Bruger", list(by_id), format_func=lambda i: str(by_id[i]["login"]), key="pw_user")
    with st.form("reset_password", clear_on_submit=True):
        new_password = st.text_input("Ny adgangskode (mindst 12 tegn)", type="password", key="pw_new")
        if st.form_submit_button("Sæt ny adgangskode") and chosen is not None:
            try:
                with db.write_session() as session:
                    auth.reset_password(session, actor, user_id=chosen, password=new_password)
            except FokusError as error:
                ui.refuse(error)
            else:
                _saved(f"Ny adgangskode sat for {by_id[chosen]['login']}; brugerens logins er afsluttet.")
