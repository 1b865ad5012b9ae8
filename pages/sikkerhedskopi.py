"""Sikkerhedskopi: download a backup of the whole database, or restore one (administrators of every unit).

A restore replaces every unit's data for every user at once, so the page asks for the backup file
and for the word GENDAN typed out before it starts; the command line does the same with `--ja`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from fokus import backup, fmt, ui
from fokus.errors import FokusError

actor = ui.page_actor("sikkerhedskopi")

st.title("Sikkerhedskopi")
st.write(
    "Hent en sikkerhedskopi af hele databasen, alle enheder. Den tages, mens fokus kører, og rummer alt, "
    "der var gemt, da den begyndte. Hver sikkerhedskopi skrives i revisionsloggen."
)
st.warning("Sikkerhedskopien indeholder helbredsoplysninger om borgerne. Gem den lige så beskyttet som "
           "databasen selv, og slet den, når den ikke længere skal bruges.")
st.download_button(
    "Hent sikkerhedskopi", data=lambda: backup.download(actor), file_name=backup.file_name(),
    mime="application/octet-stream", type="primary", key="sikkerhedskopi-hent",
)

st.header("Gendannelse", anchor=False)
st.markdown(
    "En gendannelse erstatter **alle** data i fokus, for alle enheder og alle brugere, med sikkerhedskopiens. "
    "Sikkerhedskopien kontrolleres, før noget ændres, og bringes op til den nyeste version af fokus. "
    "Borgere, der er slettet efter sikkerhedskopien blev taget, slettes igen (sletteregistret). "
    "Revisionsloggen bliver som i sikkerhedskopien; selve gendannelsen skrives i den. På PostgreSQL bør fokus "
    "være stoppet for andre brugere imens. Den kan også gøres på serveren med kommandoen\n\n"
    "```\n.venv/bin/python -m fokus restore FIL --ja\n```"
)
with st.form("sikkerhedskopi-gendan"):
    uploaded = st.file_uploader("Sikkerhedskopi (.db eller .dump)", key="sikkerhedskopi-fil")
    word = st.text_input("Skriv GENDAN for at bekræfte", key="sikkerhedskopi-bekraeft", max_chars=10)
    start = st.form_submit_button("Gendan sikkerhedskopien", type="secondary")
if start:
    if uploaded is None:
        st.error("Vælg sikkerhedskopien, der skal gendannes.")
    elif word.strip().upper() != "GENDAN":
        st.error("Skriv GENDAN i feltet for at bekræfte, at alle data skal erstattes.")
    else:
        with tempfile.TemporaryDirectory(prefix="fokus-restore-") as folder:
            path = Path(folder) / Path(uploaded.name).name
            path.write_bytes(uploaded.getvalue())
            path.chmod(0o600)
            try:
                with st.spinner("Gendanner …"):
                    info = backup.restore(actor, path)
            except FokusError as error:
                ui.refuse(error)
            else:
                st.success(f"Sikkerhedskopien er gendannet på {fmt.number(info.seconds, 1)} sekunder "
                           f"(version {info.backup_revision} → {info.revision}); "
                           f"{fmt.integer(info.deleted_again)} borgere er slettet igen efter sletteregistret. "
                           "Log ind igen, hvis din login-session ikke fandtes i sikkerhedskopien.")
