"""Selvregistrering: the tablet page where a citizen marks the four ORS lines themselves (DESIGN §6).

`app.py` shows this page, alone and without a menu, while the staff member's login session is
locked to it (`fokus.selfreport`); no role has it in the menu. Nothing on it names the citizen,
the course or anyone else. Each line must be touched before "Gem", as on paper, where every
line is marked. After saving, a neutral "Tak" screen; the staff member leaves with their PIN.
"""

from __future__ import annotations

import streamlit as st

from fokus import codes, db, entry, fmt, orsentry, selfreport, signin, ui
from fokus.errors import FokusError

token = st.session_state.get(signin.TOKEN_KEY)
actor = ui.current_actor()
if actor is None or not selfreport.is_locked(token):
    actor = ui.page_actor("selvregistrering")  # not opened through the ORS page: refused and logged
PREFIX = "selvreg-"
TOUCHED = f"{PREFIX}touched"

st.html("""<style>
[data-testid="stHeader"], [data-testid="stToolbar"] {display: none;}
.block-container {max-width: 900px; padding-top: 2rem;}
h1 {font-size: 2.4rem;}
[data-testid="stSlider"] {padding: 0.4rem 1.2rem 1.6rem 1.2rem;}
[data-testid="stSlider"] [role="slider"] {width: 2.6rem; height: 2.6rem;}
[data-testid="stSliderThumbValue"] {font-size: 1.5rem; top: -2.4rem;}
[data-testid="stSliderTickBarMin"], [data-testid="stSliderTickBarMax"] {font-size: 1.2rem;}
.stButton button, [data-testid="stFormSubmitButton"] button {font-size: 1.4rem; padding: 0.9rem 2.5rem;}
.selvreg-item {font-size: 1.6rem; font-weight: 600; margin: 1.2rem 0 0 0;}
.selvreg-explain {font-size: 1.2rem; margin: 0;}
</style>""")


def touched(name: str) -> None:
    st.session_state.setdefault(TOUCHED, set()).add(name)


def forget_marks() -> None:
    for key in [key for key in st.session_state if str(key).startswith(PREFIX)]:
        del st.session_state[key]


def marking() -> None:
    st.title("Hvordan har du haft det?")
    st.markdown("<p class='selvreg-explain'>Tænk på den seneste uge, også i dag. Flyt markøren på hver af de fire "
                "linjer: mod venstre betyder dårligt, mod højre godt.</p>", unsafe_allow_html=True)
    for name, label in codes.ORS_ITEMS.items():
        st.markdown(f"<p class='selvreg-item'>{label}</p><p class='selvreg-explain'>"
                    f"{orsentry.ORS_EXPLANATIONS[name].capitalize()}</p>", unsafe_allow_html=True)
        st.select_slider(label, options=list(range(101)), value=50, format_func=fmt.tenths, key=f"{PREFIX}{name}",
                         label_visibility="collapsed", on_change=touched, args=(name,))
    place = st.empty()
    if st.button("Gem", type="primary", key=f"{PREFIX}gem", width="stretch"):
        missing = [label for name, label in codes.ORS_ITEMS.items() if name not in st.session_state.get(TOUCHED, set())]
        if missing:
            place.warning(f"Flyt markøren på alle fire linjer. Mangler: {', '.join(missing)}.", icon="👆")
            return
        try:
            with db.write_session() as session:
                selfreport.save_ors(session, actor, login_token=token,
                                    items={name: int(st.session_state[f"{PREFIX}{name}"]) for name in codes.ORS_ITEMS})
        except FokusError as error:
            place.error(error.message, icon="⚠️")
        else:
            forget_marks()
            st.rerun()


def thanks() -> None:
    st.title("Tak!")
    st.markdown("<p class='selvreg-item'>Dine svar er gemt.</p>"
                "<p class='selvreg-explain'>Giv tabletten tilbage til medarbejderen.</p>", unsafe_allow_html=True)


def leave_form(used: bool) -> None:
    st.divider()
    with st.expander("Til medarbejderen: afslut selvregistrering"), st.form(f"{PREFIX}leave", clear_on_submit=True):
        pin = st.text_input("Din PIN", type="password", key=f"{PREFIX}pin", max_chars=6)
        submitted = st.form_submit_button("Afslut")
    if not submitted:
        return
    with db.write_session() as session:
        outcome = selfreport.leave(session, actor, login_token=token, pin=pin)
    if outcome == "wrong":
        st.error("Forkert PIN.", icon="⚠️")
        return
    forget_marks()
    if outcome == "signed_out":
        signin.log_out(actor)
    entry.saved("selvregistrering", "Selvregistreringen er afsluttet" +
                (", og borgerens ORS er gemt." if used else " uden en ny måling."))


with db.read_session() as read:
    used = selfreport.is_used(read, token)
if used:
    thanks()
else:
    marking()
leave_form(used)
