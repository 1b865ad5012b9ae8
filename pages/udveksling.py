"""Import og eksport: the exchange workbook in (upload, preview, confirm) and out, its template, the DST list."""

from __future__ import annotations

import streamlit as st

from fokus import clock, db, exchange, fmt, ui
from fokus.errors import FokusError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PLAN = "udveksling-plan"  # (the uploaded files' names and sizes, the plan checked for them)
DONE = "udveksling-done"
EXPORTED = "udveksling-export"
DST = "udveksling-dst"

actor = ui.page_actor("udveksling")
today = clock.today()

st.title("Import og eksport")
unit_id, _ = ui.choose_unit(actor, "udveksling-enhed")


def _progress(bar, verb: str):  # type: ignore[no-untyped-def]
    return lambda done, total: bar.progress(done / total if total else 1.0,
                                            text=f"{verb} {fmt.integer(done)} af {fmt.integer(total)} rækker")


def _shown(frame):  # type: ignore[no-untyped-def]
    """A frame with its dates as dd.mm.yyyy, for the screen."""
    return frame.map(lambda value: fmt.day(value) if hasattr(value, "isoformat") else value)


importing, exporting, statistics = st.tabs(["Import", "Eksport", "Danmarks Statistik"])

with importing:
    st.write("Indlæs enhedens henvisninger, forløb, ORS-målinger, netværksmøder og medarbejdere fra "
             "udvekslingsfilen (et Excel-ark, eller arkene som CSV-filer). Filen kontrolleres først, og du ser, "
             "hvad der tilføjes; importen gemmer alt eller intet. Rækker, der allerede er gemt, springes over.")
    st.download_button("Hent en tom skabelon med vejledning", exchange.template(), file_name="fokus-skabelon.xlsx",
                       mime=XLSX, key="udveksling-skabelon")
    if done := st.session_state.pop(DONE, None):
        st.success(done)
    uploaded = st.file_uploader("Udvekslingsfil (.xlsx, eller CSV-filerne med ét ark i hver)", type=["xlsx", "csv"],
                                accept_multiple_files=True, key="udveksling-fil")
    signature = (unit_id, tuple((file.name, file.size) for file in uploaded or []))
    if st.session_state.get(PLAN, (None, None))[0] != signature:
        st.session_state.pop(PLAN, None)
    if uploaded and st.button("Kontrollér filen", type="primary", key="udveksling-kontroller"):
        bar = st.progress(0.0, text="Kontrollerer filen …")
        try:
            single = len(uploaded) == 1 and uploaded[0].name.lower().endswith(".xlsx")
            workbook = exchange.read_workbook(uploaded[0].getvalue() if single
                                              else {file.name: file.getvalue() for file in uploaded})
            with db.write_session() as session:
                plan = exchange.check(session, actor, workbook, unit_id, _progress(bar, "Kontrolleret"))
        except FokusError as error:
            ui.refuse(error)
        else:
            st.session_state[PLAN] = (signature, plan)
        bar.empty()

    checked: exchange.Plan | None = st.session_state.get(PLAN, (None, None))[1]
    if checked is not None and not checked.ok:
        st.error(f"Filen er afvist: {fmt.integer(len(checked.problems))} fejl. Ret dem i filen, og kontrollér den "
                 "igen. Intet er gemt.")
        st.dataframe(exchange.problems_frame(checked.problems), hide_index=True, key="udveksling-fejl")
    elif checked is not None:
        st.subheader("Det tilføjes")
        st.dataframe(checked.tally.frame(), hide_index=True, key="udveksling-optælling")
        for what, names in (("hold", checked.tally.new_groups), ("medarbejdere (kun initialer)",
                                                                 checked.tally.new_staff)):
            if names:
                st.caption(f"Nye {what}: {', '.join(fmt.literal(name) for name in names)}")
        if st.button("Importér", type="primary", key="udveksling-importer"):
            bar = st.progress(0.0, text="Importerer …")
            try:
                with db.write_session() as session:
                    tally = exchange.apply(session, actor, checked, _progress(bar, "Importeret"))
            except exchange.ImportRefused as refused:
                st.session_state[PLAN] = (signature, exchange.Plan(unit_id, checked.workbook, refused.problems,
                                                                   checked.tally))
                st.rerun()
            except FokusError as error:
                ui.refuse(error)
            else:
                st.session_state.pop(PLAN, None)
                st.session_state[DONE] = f"Importeret: {tally.summary()}."
                st.rerun()

with exporting:
    st.write("Hent enhedens data i udvekslingsfilens format: alt, eller det der vedrører en periode (henvisninger "
             "modtaget senest periodens sidste dag, hvis forløb eller afgørelse rækker ind i perioden, med forløbenes "
             "ORS-målinger og netværksmøder). Udtrækket skrives i revisionsloggen for hver borger.")
    whole = st.radio("Hvad", ["Alle data", "En periode"], horizontal=True, key="udveksling-hvad") == "Alle data"
    start = end = None
    if not whole:
        left, right = st.columns(2)
        start = left.date_input("Fra", value=today.replace(month=1, day=1), format="DD.MM.YYYY", key="udveksling-fra")
        end = right.date_input("Til", value=today, format="DD.MM.YYYY", key="udveksling-til")
    if st.button("Lav udtræk", key="udveksling-udtræk"):
        try:
            with db.write_session() as session:
                data = exchange.export(session, actor, unit_id, start, end)
        except FokusError as error:
            ui.refuse(error)
        else:
            period = "alle" if whole else f"{start:%Y%m%d}-{end:%Y%m%d}"
            st.session_state[EXPORTED] = (data, f"fokus-udtraek-{period}.xlsx")
    if exported := st.session_state.get(EXPORTED):
        st.download_button("Hent udtrækket (.xlsx)", exported[0], file_name=exported[1], mime=XLSX,
                           key="udveksling-hent")

with statistics:
    st.write("Månedens starter og afslutninger af forløb efter § 82a (gruppeforløb) og § 82b (individuelle "
             "forløb): listen, sagssystemet skal bruge til indberetningen til Danmarks Statistik.")
    left, right = st.columns(2)
    previous = clock.add_months(today, -1)
    year = left.number_input("År", min_value=2000, max_value=today.year, value=previous.year, step=1,
                             key="udveksling-dst-år")
    month = right.selectbox("Måned", list(range(1, 13)), index=previous.month - 1,
                            format_func=lambda m: fmt.DANISH_MONTH_NAMES[m - 1], key="udveksling-dst-måned")
    if st.button("Lav listen", key="udveksling-dst-lav"):
        try:
            with db.write_session() as session:
                st.session_state[DST] = (int(year), month, exchange.dst_monthly(session, actor, unit_id, int(year),
                                                                                  month))
        except FokusError as error:
            ui.refuse(error)
    if (made := st.session_state.get(DST)) is not None:
        made_year, made_month, frame = made
        name = f"dst-{made_year}-{made_month:02d}"
        st.caption(f"{fmt.integer(len(frame))} forløb startet eller afsluttet i "
                   f"{fmt.DANISH_MONTH_NAMES[made_month - 1]} {made_year}")
        st.dataframe(_shown(frame), hide_index=True, key="udveksling-dst-tabel")
        csv_column, xlsx_column = st.columns(2)
        csv_column.download_button("Hent som CSV", exchange.dst_csv(frame), file_name=f"{name}.csv", mime="text/csv",
                                   key="udveksling-dst-csv")
        xlsx_column.download_button("Hent som Excel", exchange.dst_xlsx(frame), file_name=f"{name}.xlsx", mime=XLSX,
                                    key="udveksling-dst-xlsx")
