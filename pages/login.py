"""Log ind: local accounts, or the municipality's identity provider when one is configured.

Also the door of a tablet that a staff member opened the self-report for with a code
(`fokus.selfreport.open_code`): the code arrives in the link (`?selvregistrering=CODE`) or is
typed here. A good code signs the tablet in to that self-report alone (`app.py` shows nothing
else); the code is taken out of the address at once, so a reload does not offer it again.
"""

from __future__ import annotations

import streamlit as st

from fokus import auth, selfreport, signin, ui
from fokus.errors import FokusError


def open_self_report(code: object) -> str | None:
    """Sign the tablet in with the code and run again (into the self-report), or say why not."""
    try:
        actor, token = selfreport.redeem_code(code)
    except FokusError as refused:
        return refused.message
    signin.start_session(actor, token)
    st.rerun()


def self_report_code(refusal: str | None) -> None:
    st.divider()
    st.subheader("Selvregistrering på tablet", anchor=False)
    with st.form("selvreg-kode", enter_to_submit=True):
        code = st.text_input("Kode fra medarbejderen", key="selvreg-kode-felt", placeholder="ABCD-EFGH",
                             max_chars=12, autocomplete="off")
        submitted = st.form_submit_button("Åbn selvregistrering")
    if submitted:
        refusal = open_self_report(code)
    if refusal:
        st.error(refusal)


signin.deliver_cookie_changes()
linked_code = st.query_params.get(selfreport.CODE_PARAM)
if linked_code is not None:
    del st.query_params[selfreport.CODE_PARAM]
link_refusal = open_self_report(linked_code) if linked_code is not None else None
left, middle, right = st.columns([1, 2, 1])
with middle:
    st.title("fokus")
    st.write("Arbejdsredskab for § 82a/§ 82b-forløb. Log ind for at fortsætte.")
    reason = st.session_state.pop(signin.LOGGED_OUT_KEY, None)
    if reason:
        st.info(reason)
    if signin.oidc_configured():
        if st.button("Log ind med kommunens konto", type="primary", key="oidc_login"):
            st.login()
    else:
        with st.form("login", enter_to_submit=True):
            login_name = st.text_input("Brugernavn", key="login_user", autocomplete="username")
            password = st.text_input("Adgangskode", type="password", key="login_password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("Log ind", type="primary")
        if submitted:
            try:
                actor, token = auth.login(login_name, password)
            except FokusError as refused:
                ui.refuse(refused)
            else:
                signin.start_session(actor, token)
                st.rerun()
    self_report_code(link_refusal)
