"""Sikkerhedskopi: download a backup of the whole database (administrators of every unit).

Restoring is left to the command line on purpose: it replaces every unit's data for every user
at once, and is done by whoever runs the server, with the server's own files at hand.
"""

from __future__ import annotations

import streamlit as st

from fokus import backup, ui

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
    "En gendannelse erstatter **alle** data i fokus med sikkerhedskopiens. Den gøres på serveren af den, "
    "der driver fokus, med kommandoen\n\n"
    "```\n.venv/bin/python -m fokus restore FIL --ja\n```\n\n"
    "Sikkerhedskopien kontrolleres, før noget ændres, og bringes op til den nyeste version af fokus. "
    "Borgere, der er slettet efter sikkerhedskopien blev taget, slettes igen (sletteregistret). "
    "Revisionsloggen bliver som i sikkerhedskopien; selve gendannelsen skrives i den."
)
