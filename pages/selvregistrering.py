"""Selvregistrering: the tablet page where a citizen marks the four ORS lines themselves (DESIGN §6).

`app.py` shows this page, alone and without a menu, while the staff member's login session is
locked to it (`fokus.selfreport`), on their own tablet or on one signed in by a code; no role has
it in the menu. Nothing on it names the citizen, the course or anyone else. Each line must be
touched before "Gem", as on paper, where every line is marked. After saving, a neutral "Tak"
screen; the staff member leaves with their PIN (a tablet signed in by a code then shows the
login page).
"""

from __future__ import annotations

import streamlit as st

from fokus import codes, db, entry, fmt, selfreport, signin, ui
from fokus.errors import FokusError

token = st.session_state.get(signin.TOKEN_KEY)
actor = ui.current_actor()
if actor is None or not selfreport.is_locked(token):
    actor = ui.page_actor("selvregistrering")  # not opened through the ORS page: refused and logged
PREFIX = "selvreg-"
TOUCHED = f"{PREFIX}touched"

st.html("""<style>
[data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none;}
.block-container {max-width: 900px; padding-top: 2rem;}
[data-testid="stMarkdownContainer"] p {font-size: 1.25rem;}
[data-testid="stSlider"] {padding: 2.2rem 1.5rem 0.6rem 1.5rem;}
h3 {padding: 0.8rem 0 0 0;}
[data-testid="stSlider"] [data-orientation="horizontal"] > div:first-child {height: 0.6rem;}
[data-testid="stSlider"] div[style*="translate(-50%, -50%)"] {width: 2.6rem; height: 2.6rem;}
[data-testid="stSliderThumbValue"] {top: -2.6rem;}
[data-testid="stSliderThumbValue"] p {font-size: 1.6rem; font-weight: 600;}
.stButton button {padding: 0.9rem 2.5rem;}
.stButton button p {font-size: 1.6rem;}
</style>""")


def touched(name: str) -> None:
    st.session_state.setdefault(TOUCHED, set()).add(name)


def forget_marks() -> None:
    for key in [key for key in st.session_state if str(key).startswith(PREFIX)]:
        del st.session_state[key]


def marking() -> None:
    st.title("Hvordan har du haft det?", anchor=False)
    st.markdown("Tænk på den seneste uge, også i dag. Flyt markøren på hver af de fire linjer: "
                "mod venstre betyder dårligt, mod højre godt.")
    for name, label in codes.ORS_ITEMS.items():
        st.subheader(label, anchor=False)
        st.markdown(codes.ORS_EXPLANATIONS[name].capitalize())
        st.select_slider(label, options=list(range(101)), value=50, format_func=fmt.tenths, key=f"{PREFIX}{name}",
                         label_visibility="collapsed", on_change=touched, args=(name,))
    place = st.empty()
    if st.button("Gem", type="primary", key=f"{PREFIX}gem", width="stretch"):
        missing = [label for name, label in codes.ORS_ITEMS.items() if name not in st.session_state.get(TOUCHED, set())]
        if missing:
            place.warning(f"Flyt markøren på alle fire linjer. Mangler: {', '.join(missing)}.")
            return
        try:
            with db.write_session() as session:
                selfreport.save_ors(session, actor, login_token=token,
                                    items={name: int(st.session_state[f"{PREFIX}{name}"]) for name in codes.ORS_ITEMS})
        except FokusError as error:
            place.error(fmt.plain(error.message))
        else:
            forget_marks()
            st.rerun()


def thanks() -> None:
    st.title("Tak!", anchor=False)
    st.subheader("Dine svar er gemt.", anchor=False)
    st.markdown("Giv tabletten tilbage til medarbejderen.")


def leave_form(used: bool) -> None:
    st.divider()
    with st.expander("Til medarbejderen: afslut selvregistrering"), st.form(f"{PREFIX}leave", clear_on_submit=True):
        pin = st.text_input("Din PIN", type="password", key=f"{PREFIX}pin", max_chars=6)
        submitted = st.form_submit_button("Afslut")
    if not submitted:
        return
    with db.write_session() as session:
        mode = selfreport.active_mode(session, token)
        outcome = selfreport.leave(session, actor, login_token=token, pin=pin)
    if outcome == "wrong":
        st.error("Forkert PIN.")
        return
    forget_marks()
    if outcome == "ended":  # a tablet signed in by a code: back to the login page, no one's browser
        signin.log_out(actor, "Selvregistreringen er afsluttet.")
    if outcome == "signed_out":
        signin.log_out(actor)
    if mode is not None:
        st.session_state[selfreport.RETURN_COURSE_KEY] = mode.course_id
    entry.saved("selvregistrering", "Selvregistreringen er afsluttet" +
                (", og borgerens ORS er gemt." if used else " uden en ny måling."))


with db.read_session() as read:
    used = selfreport.is_used(read, token)
if used:
    thanks()
else:
    marking()
leave_form(used)
