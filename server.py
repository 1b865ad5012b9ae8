"""The server: Streamlit's app (`app.py`) plus fokus's cookie routes (`fokus.web`).

Run with `streamlit run server.py`. `app.py` alone works too, but then a reload logs out.
"""

import streamlit as st

from fokus.web import ROUTES

app = st.App("app.py", routes=ROUTES)
