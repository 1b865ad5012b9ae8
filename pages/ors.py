"""ORS: a citizen's score typed in seconds, their chart beside it, SRS, corrections, self-report.

The four items are text fields in a form: typed with a decimal comma or point (read by
`fokus.orsentry`, not by the browser), Tab between them, Enter saves, and the confirmation
names the total. A form sends nothing until it is submitted, so the total is shown on saving;
"Brug skydere" gives four sliders outside a form instead, whose total follows every move.
The self-report opens on the staff member's own tablet, or on another one through a code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st
from sqlmodel import Session

from fokus import auth, charts, clock, codes, db, entry, fmt, ors, orsentry, queries, selfreport, services, signin, ui
from fokus.errors import FokusError

actor = ui.page_actor("ors")
entry.begin()
today = clock.today()
seen: set[Any] = st.session_state.setdefault("fokus_citizen_seen", set())  # one "viewed"/"searched" per citizen
# The search text outlives a visit to another page; pages/forloeb.py sets KEPT_SEARCH to open on a citizen.
SEARCH, KEPT_SEARCH = "ors-borger", "ors-borger-husket"

INSTRUMENTS: dict[str, dict[str, str]] = {"ors": codes.ORS_ITEMS, "srs": codes.SRS_ITEMS}


def choose_course() -> queries.CourseDetail | None:
    """The citizen typed in the search field, and their open (or latest) course."""
    if SEARCH not in st.session_state and KEPT_SEARCH in st.session_state:
        st.session_state[SEARCH] = st.session_state[KEPT_SEARCH]
    back_from_tablet = st.session_state.pop(selfreport.RETURN_COURSE_KEY, None)
    if back_from_tablet is not None:  # the citizen whose self-report just ended, also after a reload
        try:
            with db.read_session() as session:
                returned = queries.course_detail(session, actor, course_id=back_from_tablet, seen=seen, today=today)
            st.session_state[SEARCH] = returned.citizen_ref
        except FokusError:
            pass
    text = st.text_input("Borger", key=SEARCH, placeholder="Skriv borgerens reference, og tryk Enter")
    st.session_state[KEPT_SEARCH] = text
    if not text.strip():
        st.caption("Søg borgeren frem på referencen; borgerens forløb vælges af sig selv.")
        return None
    try:
        with db.read_session() as session:
            hits = queries.find_citizens(session, actor, text=text, seen=seen)
    except FokusError as error:
        ui.refuse(error)
        return None
    if not hits:
        st.warning(f"Ingen borger med en reference, der indeholder »{fmt.literal(text.strip())}«.")
        return None
    hit = orsentry.chosen_hit(hits, text)
    if hit is None:
        by_id = {h.citizen_id: h for h in hits}
        chosen = st.radio(
            "Vælg borger", list(by_id), index=None, horizontal=True, key=f"ors-valg-{text.strip().lower()}",
            format_func=lambda citizen_id: f"{by_id[citizen_id].ref} (født {by_id[citizen_id].birth_year})",
        )
        if len(hits) == queries.SEARCH_LIMIT:
            st.caption(f"Viser de første {queries.SEARCH_LIMIT}: skriv mere af referencen.")
        if chosen is None:
            return None
        hit = by_id[chosen]
    course_id = orsentry.course_of(hit)
    if course_id is None:
        st.info(f"{fmt.literal(hit.ref)} har intet forløb endnu: start det under Forløb, så kan ORS registreres.")
        return None
    with db.read_session() as session:
        return queries.course_detail(session, actor, course_id=course_id, seen=seen, today=today)


def describe(detail: queries.CourseDetail) -> None:
    parts = [f"**{fmt.literal(detail.citizen_ref)}** (født {detail.birth_year})",
             f"forløb {fmt.literal(detail.ref)}, {codes.label(codes.FORMS, detail.form).lower()}"
             + (f" på {fmt.literal(detail.group_name)}" if detail.group_name else ""),
             f"startet {fmt.day(detail.start)}"]
    if detail.end is None:
        parts.append(f"uge {int(detail.weeks_elapsed) + 1}")
    else:
        parts.append(f"afsluttet {fmt.day(detail.end)}")
    if detail.contact_initials:
        parts.append(f"kontaktperson {fmt.literal(detail.contact_initials)}")
    st.markdown(" · ".join(parts))
    if detail.end is not None:
        st.caption("Forløbet er afsluttet: en sidste måling kan stadig registreres, dateret inden for forløbet.")


def default_day(detail: queries.CourseDetail) -> date:
    return min(today, detail.end) if detail.end is not None else today


def item_fields(prefix: str, names: dict[str, str]) -> None:
    """The four items two by two: row by row, so Tab goes through them in order."""
    pairs = list(names.items())
    for row in (pairs[:2], pairs[2:]):
        for column, (name, label) in zip(st.columns(2), row, strict=True):
            column.text_input(label, key=f"{prefix}{name}", placeholder="0–10")


SAVED, REFUSED = "ors-ny-gemt", "ors-ny-afvist"  # form → its last good save's message / its refusal


def add_score(form: str, kind: str, course_id: int, citizen_ref: str, earlier: list[int], prefix: str,
              sliders: bool) -> None:
    """The submit button's callback: it runs before the page, so a good save empties the fields and the
    same run shows the confirmation (one round trip from Enter to "Gemt"). A refusal is kept for the
    run to show under its field; the fields keep what was typed."""
    state = st.session_state
    names = INSTRUMENTS[kind]
    field = (lambda name: f"{prefix}s-{name}") if sliders else (lambda name: f"{prefix}{name}")
    typed = {name: fmt.tenths(state[field(name)]) if sliders else state[field(name)] for name in names}
    add = services.add_ors if kind == "ors" else services.add_srs
    extra = {"group_session": bool(state[field("group_session")])} if kind == "srs" else {}
    try:
        with db.write_session() as session:
            values = orsentry.parse_items(typed, names)
            score = add(session, actor, course_id=course_id, day=state[field("date")], items=values,
                        session_no=int(state[field("session_no")]), **extra)  # type: ignore[arg-type]
    except FokusError as error:
        state.setdefault(REFUSED, {})[form] = error
        return
    except Exception as error:  # noqa: BLE001 — a callback's error would reach the user as a trace
        ui.log.exception("ORS kunne ikke gemmes", exc_info=error)
        state.setdefault(REFUSED, {})[form] = FokusError("Der skete en uventet fejl, og intet blev gemt. Prøv igen.")
        return
    for name in names:
        state[field(name)] = 50 if sliders else ""
    state[field("session_no")] = orsentry.next_session_no([*earlier, score.session_no])
    state.setdefault(SAVED, {})[form] = (f"Gemt: {kind.upper()} {fmt.tenths(ors.total(values))} for {citizen_ref} "
                                         f"(session {score.session_no}, {fmt.day(score.date)}).")


def submit_args(form: str, kind: str, detail: queries.CourseDetail, prefix: str,
                sliders: bool = False) -> tuple[Any, ...]:
    earlier = [score.session_no for score in (detail.ors if kind == "ors" else detail.srs)]
    return form, kind, detail.course_id, detail.citizen_ref, earlier, prefix, sliders


def show_outcome(form: str, messages: entry.Messages | None = None) -> None:
    """The confirmation of the form's last good save (call where the form starts), or, with the
    form's message places, its refusal."""
    if messages is None:
        if message := st.session_state.get(SAVED, {}).pop(form, None):
            st.success(fmt.plain(message))
    elif error := st.session_state.get(REFUSED, {}).pop(form, None):
        messages.refuse(error)


def form_prefix(detail: queries.CourseDetail) -> str:
    """The keys of the ORS form's fields for this course start with this."""
    return f"ors-ny-{detail.course_id}-"


def ors_form(detail: queries.CourseDetail) -> None:
    """Four numbers, Tab between them, Enter: saved. Or four sliders with a live total."""
    prefix = form_prefix(detail)
    next_no = orsentry.next_session_no([score.session_no for score in detail.ors])
    show_outcome("ors-ny")
    messages = entry.Messages()
    if st.session_state.get("ors-skydere"):
        values = {
            name: st.select_slider(label, options=list(range(101)), value=50, format_func=fmt.tenths,
                                   key=f"{prefix}s-{name}", help=codes.ORS_EXPLANATIONS[name])
            for name, label in codes.ORS_ITEMS.items()
        }
        messages.under(*codes.ORS_ITEMS)
        st.metric("Total", fmt.tenths(ors.total(values)))
        left, right = st.columns(2)
        left.date_input("Dato", value=default_day(detail), format="DD.MM.YYYY", key=f"{prefix}s-date")
        right.number_input("Session nr.", min_value=1, max_value=500, step=1, value=next_no,
                           key=f"{prefix}s-session_no")
        messages.under("date", "session_no")
        messages.general()
        st.button("Gem ORS", type="primary", key=f"{prefix}s-gem", on_click=add_score,
                  args=submit_args("ors-ny", "ors", detail, prefix, sliders=True))
        show_outcome("ors-ny", messages)
        return
    with st.form(f"ors-ny-{detail.course_id}", enter_to_submit=True):
        item_fields(prefix, codes.ORS_ITEMS)
        messages.under(*codes.ORS_ITEMS)
        left, right = st.columns(2)
        left.date_input("Dato", value=default_day(detail), format="DD.MM.YYYY", key=f"{prefix}date")
        right.number_input("Session nr.", min_value=1, max_value=500, step=1, value=next_no,
                           key=f"{prefix}session_no")
        messages.under("date", "session_no")
        messages.general()
        st.form_submit_button("Gem ORS (Enter)", type="primary", key=f"{prefix}gem", on_click=add_score,
                              args=submit_args("ors-ny", "ors", detail, prefix))
    show_outcome("ors-ny", messages)
    st.caption("Skriv 0–10 med komma eller punktum (fx 7,5), Tab til næste felt, Enter gemmer. "
               "Totalen vises, når målingen er gemt; med skyderne ses den med det samme.")


def srs_form(detail: queries.CourseDetail) -> None:
    prefix = f"srs-ny-{detail.course_id}-"
    next_no = orsentry.next_session_no([score.session_no for score in detail.srs])
    pending = "srs-ny" in st.session_state.get(SAVED, {}) or "srs-ny" in st.session_state.get(REFUSED, {})
    with st.expander("SRS for sessionen (valgfri)", expanded=pending):
        show_outcome("srs-ny")
        messages = entry.Messages()
        with st.form(f"srs-ny-{detail.course_id}", enter_to_submit=True):
            item_fields(prefix, codes.SRS_ITEMS)
            messages.under(*codes.SRS_ITEMS)
            left, middle, right = st.columns(3)
            left.date_input("Dato", value=default_day(detail), format="DD.MM.YYYY", key=f"{prefix}date")
            middle.number_input("Session nr.", min_value=1, max_value=500, step=1, value=next_no,
                                key=f"{prefix}session_no")
            right.checkbox("Gruppesession", key=f"{prefix}group_session", value=detail.form == "group")
            messages.under("date", "session_no", "group_session")
            messages.general()
            st.form_submit_button("Gem SRS (Enter)", key=f"{prefix}gem", on_click=add_score,
                                  args=submit_args("srs-ny", "srs", detail, prefix))
        show_outcome("srs-ny", messages)


CODE_SHOWN = "ors-selvreg-kode"  # the code just opened for another tablet: course, code, valid until


def self_report_buttons(detail: queries.CourseDetail) -> None:
    """On this tablet (the staff member's own, signed in), or on another one through a single-use code."""
    with db.read_session() as session:
        pin_set = selfreport.has_pin(session, actor)
    running = detail.start <= today and (detail.end is None or detail.end >= today)
    refused = ("Sæt din PIN under »Min PIN« nederst på siden først." if not pin_set
               else "Kun for et forløb, der er i gang i dag." if not running else None)
    here = refused or (f"Borgeren udfylder ORS på tabletten selv; den er låst, til du taster din PIN "
                       f"(gælder i {selfreport.OPEN_MINUTES} minutter).")
    elsewhere = refused or (f"Giver en kode og et link, der åbner selvregistreringen på en tablet, som ikke er "
                            f"logget ind (én gang, inden for {selfreport.OPEN_MINUTES} minutter).")
    if st.button("Åbn selvregistrering", key=f"ors-selvreg-{detail.course_id}", disabled=refused is not None,
                 help=here):
        try:
            with db.write_session() as session:
                selfreport.open_mode(session, actor, course_id=detail.course_id,
                                     login_token=st.session_state.get(signin.TOKEN_KEY))
        except FokusError as error:
            ui.refuse(error)
        else:
            st.rerun()
    if st.button("Åbn på en anden tablet", key=f"ors-selvreg-kode-{detail.course_id}", disabled=refused is not None,
                 help=elsewhere):
        try:
            with db.write_session() as session:
                mode, code = selfreport.open_code(session, actor, course_id=detail.course_id)
                st.session_state[CODE_SHOWN] = (detail.course_id, code, mode.expires)
        except FokusError as error:
            ui.refuse(error)


PROGRESS = {
    "waiting": "Venter på tabletten …",
    "open": "Tabletten er åbnet: borgeren udfylder ORS nu.",
    "ended": "Koden gælder ikke længere (udløbet, afsluttet eller afløst af en nyere): åbn igen, hvis det skal være.",
}


def code_shown(detail: queries.CourseDetail) -> bool:
    shown = st.session_state.get(CODE_SHOWN)
    return bool(shown) and shown[0] == detail.course_id


@st.fragment(run_every=selfreport.CODE_POLL_SECONDS)
def code_panel(detail: queries.CourseDetail) -> None:
    """The code to type on the other tablet, large, and the link that holds it; how far the tablet has
    come, looked up every few seconds. Once the citizen's ORS is saved, the page shows it."""
    if auth.seconds_left(st.session_state.get(signin.TOKEN_KEY)) <= 0:
        st.rerun(scope="app")  # signed out meanwhile: the page shows the login (a look is no activity)
    if not code_shown(detail):  # hidden, or another course chosen, since this look was set going
        return
    _, code, expires = st.session_state[CODE_SHOWN]
    with db.read_session() as session:
        progress = selfreport.code_progress(session, actor, course_id=detail.course_id, code=code)
    if progress == "saved":
        st.session_state.pop(CODE_SHOWN, None)
        prefix = form_prefix(detail)  # the next session number is counted again, with the tablet's
        for key in (f"{prefix}session_no", f"{prefix}s-session_no"):
            st.session_state.pop(key, None)
        st.session_state.setdefault(SAVED, {})["ors-ny"] = (
            f"Gemt fra tabletten: borgerens ORS for {detail.citizen_ref} står nu i forløbets målinger.")
        st.rerun(scope="app")
    with st.container(border=True, key="ors-selvreg-kode-vist"):
        st.markdown("**Selvregistrering på en anden tablet.** Skriv koden på tablettens login-side:")
        st.html(f'<p style="font: 700 3rem/1.2 monospace; letter-spacing: 0.15em; margin: 0.3rem 0">'
                f"{selfreport.show_code(code)}</p>")
        st.markdown("… eller åbn linket på tabletten:")
        st.code(selfreport.tablet_link(st.context.url or "", code), language=None, wrap_lines=True)
        st.caption(f"Koden gælder én gang, til {fmt.moment(expires)}. Tabletten viser kun selvregistreringen; "
                   "du forlader den med din PIN, og så står tabletten på login-siden.")
        (st.warning if progress == "ended" else st.info)(PROGRESS[progress])
        if st.button("Skjul koden", key="ors-selvreg-kode-skjul"):
            st.session_state.pop(CODE_SHOWN, None)
            st.rerun(scope="app")


def chart(detail: queries.CourseDetail) -> None:
    table = orsentry.course_table(detail.ors, detail.rci)
    band = ors.band(detail.ors[0].total, detail.rci) if detail.ors else None
    period = fmt.period(detail.ors[0].date, detail.ors[-1].date) if detail.ors else "ingen målinger endnu"
    fig = charts.ors_course(table, cutoff=detail.ors_cutoff, band=band,
                            title=f"ORS-total pr. session, {fmt.chart_text(detail.citizen_ref)}, {period}")
    ui.chart(fig, table, key=f"ors-{detail.course_id}",
             alt=orsentry.chart_alt(detail.citizen_ref, detail.ors, detail.ors_cutoff, detail.rci))
    st.caption(f"Klinisk grænse {fmt.number(detail.ors_cutoff, 1)} og pålidelig ændring "
               f"{fmt.number(detail.rci, 1)} point (Miller m.fl. 2003; enhedens mål i dag). "
               "Båndet er første måling ± den pålidelige ændring.")
    if detail.flags:
        st.warning("Flag: " + " · ".join(codes.label(codes.FLAGS, flag) for flag in detail.flags))


def score_label(kind: str, row: Any) -> str:
    return f"{kind.upper()} · session {row.session_no} · {fmt.day(row.date)} · total {fmt.tenths(row.total)}"


def corrections(detail: queries.CourseDetail) -> None:
    """The course's scores, and one of them corrected or deleted (with the version first seen)."""
    st.subheader("Målinger i forløbet")
    entry.show_saved("ors-ret")
    if not detail.ors and not detail.srs:
        st.caption("Ingen målinger endnu.")
        return
    tables = {"ORS": orsentry.course_table(detail.ors, detail.rci), "SRS": orsentry.srs_table(detail.srs)}
    for name, table in tables.items():
        if table.empty:
            continue
        points = {column: (lambda value: fmt.number(value, 1)) for column in table.columns
                  if column in (*codes.ORS_ITEMS.values(), *codes.SRS_ITEMS.values(), "Total")}
        signed = {"Ændring fra første": lambda value: ("+" if value > 0 else "") + fmt.number(value, 1)}
        st.markdown(f"**{name}**")
        st.dataframe(table.style.format({**points, **(signed if name == "ORS" else {})}), hide_index=True,
                     key=f"ors-maalinger-{name}",
                     column_config={"Dato": st.column_config.DateColumn(format="DD.MM.YYYY")})
    rows = {f"ors-{row.id}": ("ors", row) for row in detail.ors} | {f"srs-{row.id}": ("srs", row) for row in detail.srs}
    choice_key = f"ors-ret-valg-{detail.course_id}"
    entry.start(choice_key, None)
    chosen = st.selectbox("Ret eller slet en måling", list(rows)[::-1], index=None, key=choice_key,
                          format_func=lambda key: score_label(*rows[key]), placeholder="Vælg en måling …")
    if chosen is not None:
        edit_form(detail, *rows[chosen], choice_key)


def edit_form(detail: queries.CourseDetail, kind: str, row: Any, choice_key: str) -> None:
    names = INSTRUMENTS[kind]
    prefix = f"ors-ret-{kind}-{row.id}-"
    version = entry.version_seen(prefix, row.version)
    entry.fill(prefix, {**{name: fmt.tenths(row.items[name]) for name in names}, "date": row.date,
                        "session_no": row.session_no,
                        **({"group_session": row.group_session} if kind == "srs" else {})})
    messages = entry.Messages()
    with st.form(f"{prefix}form"):
        item_fields(prefix, names)
        messages.under(*names)
        left, right = st.columns(2)
        left.date_input("Dato", format="DD.MM.YYYY", key=f"{prefix}date")
        right.number_input("Session nr.", min_value=1, max_value=500, step=1, key=f"{prefix}session_no")
        if kind == "srs":
            st.checkbox("Gruppesession", key=f"{prefix}group_session")
        messages.under("date", "session_no", "group_session")
        st.checkbox("Ja, slet denne måling", key=f"{prefix}confirm")
        messages.general()
        save_clicked = st.form_submit_button("Gem rettelse", type="primary", key=f"{prefix}gem")
        delete_clicked = st.form_submit_button("Slet måling", key=f"{prefix}slet")
    entry.reload_button(prefix, key=f"{prefix}hent")
    state = st.session_state
    if save_clicked:
        update = services.update_ors if kind == "ors" else services.update_srs
        extra = {"group_session": bool(state[f"{prefix}group_session"])} if kind == "srs" else {}

        def write_update(session: Session) -> str:
            values = orsentry.parse_items({name: state[f"{prefix}{name}"] for name in names}, names)
            score = update(session, actor, score_id=row.id, expected_version=version, day=state[f"{prefix}date"],
                           items=values, session_no=int(state[f"{prefix}session_no"]), **extra)
            return (f"Rettet: {kind.upper()} {fmt.tenths(ors.total(values))} for {detail.citizen_ref} "
                    f"(session {score.session_no}, {fmt.day(score.date)}).")

        entry.save(write_update, messages, form="ors-ret", forget=(prefix,))
    elif delete_clicked:
        if not state.get(f"{prefix}confirm"):
            messages.refuse(FokusError("Sæt flueben ved »Ja, slet denne måling« først."))
            return
        delete = services.delete_ors if kind == "ors" else services.delete_srs

        def write_delete(session: Session) -> str:
            delete(session, actor, score_id=row.id, expected_version=version)
            return f"Slettet: {score_label(kind, row)} for {detail.citizen_ref}."

        entry.save(write_delete, messages, form="ors-ret", forget=(choice_key, prefix))


def pin_form() -> None:
    # Open while its confirmation is to be shown: the expander is drawn anew when what is above it changed
    # (a message gone), and closed it hid "Din PIN er sat." (found by the keyboard test).
    with st.expander("Min PIN til selvregistrering", expanded=entry.has_saved("ors-pin")):
        st.caption("Med din PIN forlader du selvregistreringen på tabletten. 4–6 cifre, som kun du kender.")
        entry.show_saved("ors-pin")
        messages = entry.Messages()
        entry.fill("ors-pin-", {"pin": "", "repeated": ""})
        with st.form("ors-pin-form"):
            st.text_input("Ny PIN", type="password", key="ors-pin-pin", max_chars=6)
            messages.under("pin")
            st.text_input("Gentag PIN", type="password", key="ors-pin-repeated", max_chars=6)
            messages.under("repeated")
            messages.general()
            submitted = st.form_submit_button("Sæt PIN", key="ors-pin-gem")
        if submitted:
            state = st.session_state

            def write(session: Session) -> str:
                selfreport.set_pin(session, actor, pin=state["ors-pin-pin"], repeated=state["ors-pin-repeated"])
                return "Din PIN er sat."

            entry.save(write, messages, form="ors-pin", forget=("ors-pin-",))


st.title("ORS")
entry.show_saved("selvregistrering")  # the tablet page says how the self-report ended
detail = choose_course()
if detail is not None:
    describe(detail)
    entry_column, chart_column = st.columns([5, 6], gap="large")
    with entry_column:
        ors_form(detail)
        srs_form(detail)
        left, right = st.columns(2)
        left.toggle("Brug skydere", key="ors-skydere")
        with right:
            self_report_buttons(detail)
        if code_shown(detail):
            code_panel(detail)
    with chart_column:
        chart(detail)
    corrections(detail)
pin_form()
