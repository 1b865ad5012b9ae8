"""The server: Streamlit's app (`app.py`) plus fokus's cookie routes (`fokus.web`).

Run with `streamlit run server.py`. `app.py` alone works too, but then a reload logs out.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from fokus.web import ROUTES

# app.py registers every page with st.navigation. Streamlit only learns that when a session first
# runs app.py; until then (the first visitor after a start or a crash, at a page's address) it would
# run the file in pages/ alone, without app.py's sign-in, and list every file in the menu.
PagesManager.uses_pages_directory = False

app = st.App("app.py", routes=ROUTES)
