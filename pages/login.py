"""Log ind: local accounts, or the municipality's identity provider when one is configured."""

from __future__ import annotations

import streamlit as st

from fokus import auth, signin
from fokus.errors import FokusError

signin.deliver_cookie_changes()
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
                st.error(refused.message)
            else:
                signin.start_session(actor, token)
                st.rerun()
