"""Indstillinger: the installation-wide settings (administrators only), each within its limits."""

from __future__ import annotations

import streamlit as st

from fokus import db, fmt, settings, ui
from fokus.errors import FokusError

actor = ui.page_actor("indstillinger")

st.title("Indstillinger")
st.caption("Gælder hele installationen, alle enheder. Mødeskærmens indstillinger gælder de enheder, der ikke "
           "har valgt deres egne på siden Mødeskærm. Hver ændring skrives i revisionsloggen.")

with db.read_session() as session:
    current = {key: settings.get(session, key) for key in settings.SPECS}

with st.form("indstillinger"):
    typed: dict[str, float] = {}
    for key, spec in settings.SPECS.items():
        typed[key] = st.number_input(
            f"{spec.label} ({spec.unit})", value=int(current[key]), step=1, key=f"indstilling-{key}",
            help=f"Standard {fmt.number(spec.default)} {spec.unit}; fra {fmt.number(spec.low)} til "
                 f"{fmt.number(spec.high)}.",
        )
        st.caption(f"Standard {fmt.number(spec.default)} · tilladt {fmt.number(spec.low)}–{fmt.number(spec.high)} "
                   f"{spec.unit} · nøgle `{key}`")
    save = st.form_submit_button("Gem")

if save:
    changed = {key: value for key, value in typed.items() if value != current[key]}
    try:
        with db.write_session() as session:
            for key, value in changed.items():
                settings.put(session, actor, key, value)
        st.success("Indstillingerne er gemt." if changed else "Ingen ændringer at gemme.")
    except FokusError as error:
        ui.refuse(error)
