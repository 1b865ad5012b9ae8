"""fokus: the entry point. Page setup, the database brought up to date, and navigation.

Every page is registered here explicitly; nothing in `pages/` is discovered by itself.
"""

from __future__ import annotations

import streamlit as st

from fokus import ui

st.set_page_config(page_title="fokus", page_icon="🧭", layout="wide", initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/overblik.py", title="Overblik", default=True),
    st.Page("pages/om.py", title="Om fokus"),
]

try:
    ui.ensure_database()
    st.navigation(PAGES, position="sidebar").run()
except Exception as error:  # noqa: BLE001 — the last line of defence: no trace reaches a user
    ui.show_unexpected_error(error)
