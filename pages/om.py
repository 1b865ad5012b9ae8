"""Om fokus: what this installation is, the targets the figures are judged by, and the licence."""

from __future__ import annotations

import streamlit as st

from fokus import about, clock, db, fmt, ui

actor = ui.page_actor("om")
facts = about.installation()
with db.read_session() as session:
    targets = about.targets_table(session, actor, clock.today())

st.title("Om fokus")
st.write(
    "fokus er enhedens arbejdsredskab for det forebyggende, tidsbegrænsede tilbud efter serviceloven "
    "§ 82a (gruppeforløb) og § 82b (individuel, tidsbegrænset hjælp): henvisninger og venteliste, "
    "forløb fra start til slut, hold, ORS-målinger og netværksmøder efter Åben Dialog — og tallene, "
    "lederen og udvalget skal bruge."
)

st.subheader("Mål, som tallene måles imod")
st.caption(f"Gældende {fmt.day(clock.today())}. Et tidsrum bedømmes efter de mål, der gælder på dets sidste dag.")
if targets:
    st.dataframe(targets, hide_index=True)
else:
    st.info("Der er endnu ingen enheder.")

st.subheader("Database")
revision_note = "nyeste version" if facts.revision == facts.newest_revision else f"nyeste er {facts.newest_revision}"
st.markdown(
    f"- **Type:** {facts.database_kind}\n"
    f"- **Placering:** `{facts.database_location}`\n"
    f"- **Skemaversion:** {facts.revision} ({revision_note})"
)

st.subheader("ORS og SRS")
st.write(
    "Outcome Rating Scale (ORS) og Session Rating Scale (SRS) er licenserede redskaber (Scott D. Miller og "
    "Barry L. Duncan). fokus gemmer kun scorerne: enheden skal selv have licens til at bruge skemaerne. "
    "ORS-fremgang er (gennemsnit af sidste måling − gennemsnit af første måling) / gennemsnit af første "
    "måling for afsluttede forløb med mindst to målinger."
)
