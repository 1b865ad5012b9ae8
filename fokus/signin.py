"""Who is signed in to this browser session: established by `app.py` at the start of every run.

The session token lives in `st.session_state` (server-side, per tab) and in the HttpOnly cookie
that `fokus.web` sets, so a reload or a new tab finds it again. Every run resumes the session
through `fokus.auth.resume`, which applies the idle timeout; a small fragment notices the
timeout even when nobody clicks.
"""

from __future__ import annotations

import json

import streamlit as st

from fokus import auth, codes, fmt, web
from fokus.actor import Actor
from fokus.errors import FokusError
from fokus.ui import ACTOR_KEY

TOKEN_KEY = "fokus_token"
TICKET_KEY = "fokus_ticket"
CLEAR_COOKIE_KEY = "fokus_clear_cookie"
LOGGED_OUT_KEY = "fokus_logged_out"
# Tokens of sessions that ended while this page was open. The browser's cookie, as Streamlit
# sees it, stays the one sent when the page was opened: an ended one must not be resumed again
# (that would replace "Du er logget ud." and repeat the timeout message on every rerun).
ENDED_TOKENS_KEY = "fokus_ended_tokens"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False
    except Exception:  # noqa: BLE001 — a malformed secrets file means: not configured
        return False


def _oidc_user_email() -> str | None:
    if not oidc_configured() or not st.user.get("is_logged_in", False):
        return None
    email = st.user.get("email") or st.user.get("preferred_username")
    return str(email) if email else None


def _forget(reason: str | None) -> None:
    for key in (TOKEN_KEY, ACTOR_KEY):
        st.session_state.pop(key, None)
    if reason:
        st.session_state[LOGGED_OUT_KEY] = reason


def establish() -> Actor | None:
    """The signed-in actor for this run, or None (then `app.py` shows the login page)."""
    token = st.session_state.get(TOKEN_KEY) or _cookie_token()
    if isinstance(token, str) and token:
        actor = auth.resume(token)
        if actor is not None:
            st.session_state[TOKEN_KEY] = token
            st.session_state[ACTOR_KEY] = actor
            return actor
        _forget("Du er logget ud, fordi du ikke har brugt fokus et stykke tid. Log ind igen.")
        _ended(token)
        st.session_state[CLEAR_COOKIE_KEY] = True
        if _oidc_user_email():
            st.logout()  # else the identity provider's cookie would sign the user straight back in
        return None
    email = _oidc_user_email()
    if email:
        try:
            actor, token = auth.login_oidc(email)
        except FokusError as refused:
            st.session_state[LOGGED_OUT_KEY] = refused.message
            return None
        start_session(actor, token)
        return actor
    return None


def _cookie_token() -> str | None:
    token = st.context.cookies.get(web.COOKIE)
    return None if token in st.session_state.get(ENDED_TOKENS_KEY, set()) else token


def _ended(token: str | None) -> None:
    if token:
        st.session_state.setdefault(ENDED_TOKENS_KEY, set()).add(token)


def start_session(actor: Actor, token: str) -> None:
    st.session_state[TOKEN_KEY] = token
    st.session_state[ACTOR_KEY] = actor
    st.session_state[TICKET_KEY] = web.issue_ticket(token)
    st.session_state.pop(LOGGED_OUT_KEY, None)


def _post(path: str, body: str = "") -> None:
    """Have the browser POST to one of fokus's own routes (the cookie can only be set that way)."""
    st.html(
        "<script>fetch(" + json.dumps(path) + ", {method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: " + json.dumps(body) + "});</script>",
        unsafe_allow_javascript=True,
    )


def deliver_cookie_changes() -> None:
    """Set or clear the session cookie in the browser, once, after a login or logout."""
    ticket = st.session_state.pop(TICKET_KEY, None)
    if ticket:
        _post("/_fokus/session", f"ticket={ticket}")
    if st.session_state.pop(CLEAR_COOKIE_KEY, False):
        _post("/_fokus/logout")


def log_out(actor: Actor, reason: str = "Du er logget ud.") -> None:
    token = st.session_state.get(TOKEN_KEY)
    auth.logout(token, actor)
    _forget(reason)
    _ended(token)
    st.session_state[CLEAR_COOKIE_KEY] = True
    if _oidc_user_email():
        st.logout()
    st.rerun()


def _idle_timer(seconds: float) -> None:
    """Reload the page in the browser when the session's idle time has run out.

    A timer in the browser rather than a refreshing fragment: a `run_every` fragment on an entry
    page can overwrite what the user is typing (streamlit#7831, #10805). Every run of the app is
    activity and sets the timer anew; the reload then meets the server's own check, which ends
    the session and shows the login page with the reason. The run's number makes the script new
    each run (so it runs again), and browser tests read it to know that a run has happened.
    """
    milliseconds = int(seconds * 1000) + 2000
    run = st.session_state["fokus_run"] = st.session_state.get("fokus_run", 0) + 1
    st.html(
        f"<script>window.fokusRun = {run}; clearTimeout(window.fokusIdleTimer); "
        f"window.fokusIdleTimer = setTimeout(function () {{ window.location.reload(); }}, {milliseconds});</script>",
        unsafe_allow_javascript=True,
    )


def sidebar(actor: Actor) -> None:
    """Who is signed in, a logout button, and the timer that ends an idle session."""
    with st.sidebar:
        st.caption(f"Logget ind som {fmt.literal(actor.login)} · {codes.label(codes.ROLES, actor.role)}")
        if st.button("Log ud", key="fokus_logout"):
            log_out(actor)
        _idle_timer(auth.seconds_left(st.session_state.get(TOKEN_KEY)))
