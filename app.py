"""fokus: the entry point. Page setup, the database brought up to date, sign-in, navigation.

Pages are registered here explicitly from `fokus.access.PAGES`, and only those the signed-in
user's role may open; nothing in `pages/` is discovered by itself. Serve it through
`server.py` (`streamlit run server.py`), which adds the routes that set the session cookie.
"""

from __future__ import annotations

import streamlit as st

from fokus import access, selfreport, signin, ui

LOGIN_PAGE = "pages/login.py"
SCREEN_PAGE = access.BY_KEY["moedeskaerm"].path


def no_pages() -> None:
    st.info("Din konto har ingen sider i fokus endnu. Kontakt en administrator.")


st.set_page_config(page_title="fokus", layout="wide", initial_sidebar_state="expanded")
ui.danish_chrome()

try:
    ui.ensure_database()
    ui.settle_heap()
    actor = signin.establish()
    lock = selfreport.tablet_lock(st.session_state.get(signin.TOKEN_KEY)) if actor is not None else None
    if actor is not None and lock == "stray":  # a tablet signed in by a code, its opening gone: never more
        signin.log_out(actor, "Selvregistreringen er afsluttet.")
    if actor is None:
        st.navigation([st.Page(LOGIN_PAGE, title="Log ind", url_path="login")], position="hidden").run()
    elif lock == "locked":  # a citizen's tablet: that page alone
        signin.deliver_cookie_changes()  # a tablet just signed in by a code gets its cookie here
        # At the ORS page's address, so that leaving the mode lands back on it.
        st.navigation([st.Page(selfreport.PAGE, title="Selvregistrering", url_path="ors")], position="hidden").run()
    elif actor.role == "screen":  # a meeting screen: that page alone; no menu, and no idle timer (its refresh is)
        signin.deliver_cookie_changes()
        st.navigation([st.Page(SCREEN_PAGE, title="Mødeskærm", url_path="moedeskaerm")], position="hidden").run()
    else:
        signin.deliver_cookie_changes()
        signin.sidebar(actor)
        sections: dict[str, list[st.Page]] = {}
        for index, page in enumerate(access.pages_for(actor)):
            sections.setdefault(page.section, []).append(
                st.Page(page.path, title=page.title, url_path=page.key, default=index == 0)
            )
        if sections:
            st.navigation(sections, position="sidebar", expanded=True).run()
        else:  # still a navigation: without one Streamlit would list and open every file in pages/
            st.navigation([st.Page(no_pages, title="fokus", url_path="ingen-sider")], position="hidden").run()
except Exception as error:  # noqa: BLE001 — the last line of defence: no trace reaches a user
    ui.show_unexpected_error(error)
