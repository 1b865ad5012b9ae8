"""Streamlit building blocks shared by the pages: tiles, charts with their tables, errors.

Pages arrange these and call `fokus` functions; nothing here computes a figure.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Collection
from datetime import date, datetime, time
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from fokus import access, audit, config, dashboard, db, fmt, metrics, overview, periods, tables
from fokus.actor import Actor
from fokus.errors import FokusError

log = logging.getLogger("fokus")


@st.cache_resource(show_spinner=False)
def _migrated(url: str) -> bool:
    db.upgrade_to_head(url)
    return True


def ensure_database() -> None:
    """Bring the configured database to the newest revision, once per process and URL."""
    _migrated(config.database_url())


_heap_settled = False


def settle_heap() -> None:
    """Once per server process, at its first run: what is alive then (the imports of Streamlit,
    pandas, plotly and SQLAlchemy, about 170,000 objects) is frozen out of the garbage
    collector's full passes, which otherwise walk it all: a pause of 80–120 ms on a 2-core
    machine, in a run now and then (`bench/README.md`)."""
    global _heap_settled
    if not _heap_settled:
        _heap_settled = True
        gc.collect()
        gc.freeze()


ACTOR_KEY = "fokus_actor"


def current_actor() -> Actor | None:
    """The signed-in user of this browser session, as `app.py` established it for this run."""
    actor = st.session_state.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else None


# Streamlit draws captions in the text colour at 60 % opacity: 4.07:1 on white, under WCAG 2.1 AA's 4.5:1
# (axe-core: color-contrast). The theme's grey text colour (config.toml) passes on both backgrounds.
ACCESSIBLE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {color: #4f5b63; opacity: 1;}
</style>"""


# Streamlit writes a few words of its own, in English, and cannot be told another language (streamlit#13500):
# the hint under a field being typed in, the file uploader, the choice lists, and the dialog for an unknown
# address. The browser puts them into Danish as they are drawn, in the page itself, so that a screen reader
# and a button's accessible name say it too. Keys are Streamlit's exact texts (static/js/InputInstructions.*.js,
# FileUploader.*.js, Multiselect.*.js, Selectbox.*.js and index.*.js in Streamlit 1.67); the browser tests
# check that they are replaced.
CHROME_TEXTS: dict[str, str] = {
    "Press Enter to submit form": "Tryk Enter for at sende",
    "Press Enter to apply": "Tryk Enter for at bruge",
    "Press Ctrl+Enter to submit form": "Tryk Ctrl+Enter for at sende",
    "Press Ctrl+Enter to apply": "Tryk Ctrl+Enter for at bruge",
    "Press ⌘+Enter to submit form": "Tryk ⌘+Enter for at sende",
    "Press ⌘+Enter to apply": "Tryk ⌘+Enter for at bruge",
    "Drag and drop a file here": "Træk en fil hertil",
    "Drag and drop files here": "Træk filer hertil",
    "Upload": "Vælg fil",
    "File type not allowed.": "Filtypen kan ikke bruges her.",
    "Select all": "Vælg alle",
    "No results": "Ingen resultater",
    "Page not found": "Siden findes ikke",
    "The page that you have requested does not seem to exist. Running the app's main page.":
        "Den side, adressen peger på, findes ikke. Du ser i stedet den første side.",
}
# The same for accessible names (aria-label) in those places, which only a screen reader says: the dialog's
# close button and the date fields. (The calendar itself follows the browser's language: with a Danish
# browser it has Danish months and weekdays, and the week starts on Monday.)
CHROME_LABELS: dict[str, str] = {
    "Close": "Luk",
    "Clear all": "Ryd alle",
    "Clear value": "Ryd valget",
    "Open": "Åbn",
    "Selected values": "Valgte",
    "Choose date": "Vælg dato",
    "Previous month": "Forrige måned",
    "Next month": "Næste måned",
}
CHROME_LABEL_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^day, (.+)$", "dag, $1"),
    (r"^month, (.+)$", "måned, $1"),
    (r"^year, (.+)$", "år, $1"),
    (r"^Choose date, (.+)$", "Vælg dato, $1"),
)
# (regular expression, replacement) for texts with a number in them: "200MB per file".
CHROME_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^(\d+)([KMG]?B) per file$", "$1 $2 pr. fil"),
    (r"^(.+) per file$", "$1 pr. fil"),
    (r"^Select (\d+) matches$", "Vælg de $1 fundne"),
    (r"^File is too large\. Maximum size is .*$", "Filen er for stor."),
)
_CHROME_PLACES = ", ".join(f'[data-testid="{place}"]' for place in (
    "InputInstructions", "stFileUploader", "stDialog", "stDateInput", "stDateInputCalendar",
    "stSelectbox", "stSelectboxVirtualDropdown", "stMultiSelect", "stMultiSelectDropdown"))
# The style keeps the script's own (empty) element out of the page's layout: it would add a gap at the top.
_DANISH_CHROME_JS = """<style>
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script#fokus-danish-chrome) {display: none;}
</style><script id="fokus-danish-chrome">(function () {
  if (window.fokusDanishChrome) { return; }
  window.fokusDanishChrome = true;
  const exact = new Map(Object.entries(%(texts)s));
  const patterns = %(patterns)s.map(([find, put]) => [new RegExp(find), put]);
  const places = %(places)s;
  const labels = new Map(Object.entries(%(labels)s));
  const labelPatterns = %(label_patterns)s.map(([find, put]) => [new RegExp(find), put]);
  function translated(text, known, rules) {
    let put = known.get(text);
    for (const [find, to] of rules) { if (put === undefined && find.test(text)) { put = text.replace(find, to); } }
    return put;
  }
  function danish(node) {
    const text = node.nodeValue.trim();
    const put = translated(text, exact, patterns);
    if (put !== undefined && put !== text) { node.nodeValue = node.nodeValue.replace(text, put); }
  }
  function danishLabel(element) {
    const label = element.getAttribute("aria-label");
    const put = label === null ? undefined : translated(label, labels, labelPatterns);
    if (put !== undefined && put !== label) { element.setAttribute("aria-label", put); }
  }
  function within(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) { danish(node); }
    [root, ...root.querySelectorAll("[aria-label]")].forEach(danishLabel);
  }
  function visit(node) {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.parentElement && node.parentElement.closest(places)) { danish(node); }
    } else if (node.nodeType === Node.ELEMENT_NODE) {
      if (node.closest(places)) { within(node); } else { node.querySelectorAll(places).forEach(within); }
    }
  }
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "characterData") { visit(change.target); }
      else if (change.type === "attributes") { if (change.target.closest(places)) { danishLabel(change.target); } }
      else { change.addedNodes.forEach(visit); }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributeFilter: ["aria-label"]});
  visit(document.body);
})();</script>"""


_DANISH_CHROME_HTML = _DANISH_CHROME_JS % {
    "texts": json.dumps(CHROME_TEXTS), "patterns": json.dumps(CHROME_PATTERNS),
    "labels": json.dumps(CHROME_LABELS), "label_patterns": json.dumps(CHROME_LABEL_PATTERNS),
    "places": json.dumps(_CHROME_PLACES),
}


def danish_chrome() -> None:
    """Put Streamlit's own English words into Danish in the browser (see CHROME_TEXTS); it acts once per page load."""
    st.html(_DANISH_CHROME_HTML, unsafe_allow_javascript=True)


def page_actor(page_key: str) -> Actor:
    """The first line of every page: who is here, and may they open this page?

    A refusal is logged once per session and page, and the page stops with a Danish message.
    """
    st.html(ACCESSIBLE_CSS)
    actor = current_actor()
    if actor is None:
        st.warning("Log ind for at se denne side.")
        st.stop()
    if not access.may_open(actor, page_key):
        logged = st.session_state.setdefault("fokus_denied_logged", set())
        if page_key not in logged:
            with db.write_session() as session:
                audit.record(session, actor, "denied", detail=f"side {page_key}")
            logged.add(page_key)
        st.error("Din rolle giver ikke adgang til denne side.")
        st.stop()
    return actor


def refuse(error: FokusError) -> None:
    """A refusal where the page is: its message as plain text, never as Markdown (it may quote what
    was typed: a reference, a name)."""
    st.error(fmt.plain(error.message))


def show_unexpected_error(error: BaseException) -> None:
    """A short apology for the user; the detail goes to the server log only."""
    log.exception("Uventet fejl i siden", exc_info=error)
    if db.unreachable(error):
        _keep_input()
        st.error("fokus kan ikke nå databasen lige nu, så siden kan ikke vises. Prøv igen om et øjeblik; "
                 "det gemte er ikke tabt, og det, du har skrevet, er bevaret. Fortsætter det, så kontakt den, "
                 "der driver fokus.")
        return
    st.error(
        "Der skete en uventet fejl, og siden kunne ikke vises helt. Prøv igen om lidt; "
        "fortsætter det, så kontakt den, der driver fokus (fejlen er skrevet i serverens log)."
    )


_TYPED = (str, int, float, date, datetime, time)


def _keep_input() -> None:
    """Keep what the user typed through a run that stopped before drawing the form.

    Streamlit forgets the value of every widget a run does not draw; written back as the page's
    own state, typed values (text, numbers, dates, choices) wait for the next run. Buttons and
    check boxes (True/False), uploads and tables are left as they are: Streamlit refuses some of
    them as state, and a button pressed again would repeat its action."""
    from streamlit.errors import StreamlitAPIException

    def typed(value: object) -> bool:
        if isinstance(value, list | tuple):
            return all(typed(item) for item in value)
        return isinstance(value, _TYPED) and not isinstance(value, bool)

    for key in list(st.session_state.keys()):
        value = st.session_state.get(key)
        if not typed(value):
            continue
        try:
            st.session_state[key] = value
        except StreamlitAPIException:  # drawn in this run already: it keeps its value anyway
            continue


def tile(label: str, value: str, target: str, change: tuple[str, str] | None = None, *,
         compared_with: str | None = "mod forrige periode", help: str | None = None) -> None:
    """A KPI tile: the figure, the change against the previous period, and its target."""
    with st.container(border=True, height="stretch"):  # the tiles of a row as tall as its tallest
        st.metric(label, value, delta=change[0] if change else None, delta_color="off",
                  delta_arrow=change[1] if change else "auto",
                  delta_description=compared_with if change else None, help=help)
        st.caption(target)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "tabel"


def chart(fig: go.Figure, table: pd.DataFrame, *, key: str, alt: str, shown: pa.Table | None = None) -> None:
    """A chart, its text alternative, and the table behind it to read and download.

    `shown` is the table as made once for the screen (`tables.for_screen`), for a page that caches
    it. The files are made only when a download is clicked, not on every run.
    """
    st.plotly_chart(fig, key=f"{key}-chart", config={"displaylogo": False}, alt=alt)
    with st.expander("Tabellen bag grafen"):
        st.dataframe(table if shown is None else shown, hide_index=True, key=f"{key}-table")
        left, right = st.columns(2)
        left.download_button("Hent som CSV", lambda: tables.to_csv_bytes(table), file_name=f"{_slug(key)}.csv",
                             mime="text/csv", key=f"{key}-csv")
        right.download_button(
            "Hent som Excel", lambda: tables.to_xlsx_bytes(table), file_name=f"{_slug(key)}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}-xlsx",
        )


# Cached on the data version: a save anywhere shows at the next run, and nothing unchanged is
# computed again. The keys hold the database, the actor's own units and login, so no one is ever
# served figures from another database or of units they may not see. Resources, not copies:
# what comes back is shared between sessions and never changed by a page.

_NEWEST_KEPT = 1024  # argument lists whose newest version is remembered
_newest: OrderedDict[tuple[Any, ...], int] = OrderedDict()
_newest_lock = threading.Lock()


def _newest_only(cached: Any, *args: Any, version_at: int, _actor: Actor) -> Any:
    """`cached(*args, _actor=_actor)`, where `args[version_at]` is a data version; the entry of the
    same arguments with an older version is dropped. A version only rises, so that entry would
    never be asked for again, and after a day of saves a cache of 64 dashboards would hold 63
    stale ones (tens of MB each at the largest sizes)."""
    version = args[version_at]
    rest = (id(cached), *args[:version_at], *args[version_at + 1:])
    with _newest_lock:
        older = _newest.get(rest)
        if older is None or older < version:
            _newest[rest] = version
            _newest.move_to_end(rest)
            while len(_newest) > _NEWEST_KEPT:
                _newest.popitem(last=False)
    value = cached(*args, _actor=_actor)
    if older is not None and older < version:
        cached.clear(*args[:version_at], older, *args[version_at + 1:], _actor=_actor)
    return value


def _scope_key(actor: Actor) -> tuple[int, ...] | None:
    return None if actor.unit_ids is None else tuple(sorted(actor.unit_ids))


def _filters_key(filters: metrics.Filters) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(sorted(values)) for values in
                 (filters.referrers, filters.target_groups, filters.forms, filters.staff_ids))


def _filters_from(key: tuple[tuple[Any, ...], ...]) -> metrics.Filters:
    return metrics.Filters(*(frozenset(values) for values in key))


@st.cache_resource(max_entries=64, show_spinner=False)
def _overview(database: str, version: int, scope: tuple[int, ...] | None, login: str, start: date, end: date,
              label: str, unit_ids: tuple[int, ...] | None, filters: tuple[tuple[Any, ...], ...],
              _actor: Actor) -> tuple[dashboard.Dashboard, list[overview.Section]]:
    previous, chosen = metrics.previous_period(start, end), _filters_from(filters)
    version = db.data_version_until(previous[1], contacts=chosen.reads_contacts)
    before = _newest_only(_figures, database, version, scope, login, *previous, unit_ids, filters, version_at=1,
                          _actor=_actor)
    with db.read_session() as session:
        view = dashboard.build(session, _actor, periods.Period(start, end, label), unit_ids, chosen, before=before)
    return view, overview.sections(view)


# The previous period's figures, on every tile for comparison, cached on the changes that reach
# back into that period: a save of today's work does not compute them again.
@st.cache_resource(max_entries=64, show_spinner=False)
def _figures(database: str, version: int, scope: tuple[int, ...] | None, login: str, start: date, end: date,
             unit_ids: tuple[int, ...] | None, filters: tuple[tuple[Any, ...], ...],
             _actor: Actor) -> dict[str, Any]:
    with db.read_session() as session:
        return metrics.compute_kpis(session, _actor, start, end, unit_ids, _filters_from(filters))


def _overview_for(actor: Actor, period: periods.Period, unit_ids: Collection[int] | None,
                  filters: metrics.Filters) -> tuple[dashboard.Dashboard, list[overview.Section]]:
    return _newest_only(  # type: ignore[no-any-return]
        _overview, config.database_url(), db.data_version(), _scope_key(actor), actor.login,
        period.start, period.end, period.label, None if unit_ids is None else tuple(sorted(unit_ids)),
        _filters_key(filters), version_at=1, _actor=actor,
    )


def cached_dashboard(actor: Actor, period: periods.Period, unit_ids: Collection[int] | None = None,
                     filters: metrics.Filters = metrics.NO_FILTERS) -> dashboard.Dashboard:
    """`fokus.dashboard.build`, cached on the data version."""
    return _overview_for(actor, period, unit_ids, filters)[0]


def cached_overview(actor: Actor, period: periods.Period, unit_ids: Collection[int] | None = None,
                    filters: metrics.Filters = metrics.NO_FILTERS
                    ) -> tuple[dashboard.Dashboard, list[overview.Section]]:
    """`fokus.dashboard.build` and Overblik's charts (`fokus.overview.sections`), cached on the data version."""
    return _overview_for(actor, period, unit_ids, filters)


# The work list's two parts, each cached on what it reads: the courses' flags read ORS scores,
# the waiting referrals read neither scores nor contact people (a saved score or a course handed
# to another contact person leaves them). Only what the page shows is kept.
@st.cache_resource(max_entries=64, show_spinner=False)
def _actions(kind: str, database: str, version: int, scope: tuple[int, ...] | None, login: str, today: date,
             unit_ids: tuple[int, ...] | None, filters: tuple[tuple[Any, ...], ...],
             _actor: Actor) -> tuple[tuple[dashboard.ActionItem, ...], int]:
    read = dashboard.course_actions if kind == "course" else dashboard.referral_actions
    with db.read_session() as session:
        items = read(session, _actor, today=today, unit_ids=unit_ids, filters=_filters_from(filters))
    return tuple(items[:dashboard.ACTIONS_SHOWN]), len(items)


def cached_needs_action(actor: Actor, today: date, unit_ids: Collection[int] | None = None,
                        filters: metrics.Filters = metrics.NO_FILTERS) -> tuple[list[dashboard.ActionItem], int]:
    """`fokus.dashboard.needs_action`, cached on the data version and the day: the most urgent
    items (at most `dashboard.ACTIONS_SHOWN`) and how many there are in all."""
    database = config.database_url()
    rest = (_scope_key(actor), actor.login, today, None if unit_ids is None else tuple(sorted(unit_ids)),
            _filters_key(filters))
    courses, course_count = _newest_only(_actions, "course", database, db.data_version(), *rest, version_at=2,
                                         _actor=actor)
    referrals, referral_count = _newest_only(_actions, "referral", database,
                                             db.data_version(scores=False, contacts=False), *rest, version_at=2,
                                             _actor=actor)
    return [*courses, *referrals][:dashboard.ACTIONS_SHOWN], course_count + referral_count


# The units and staff change only by changes without a day (`db.data_version_until`): a
# saved score, course or referral leaves them.
@st.cache_resource(max_entries=64, show_spinner=False)
def _units_and_staff(database: str, version: int, scope: tuple[int, ...] | None, login: str,
                     _actor: Actor) -> tuple[dict[int, str], dict[int, str]]:
    from fokus import units

    with db.read_session() as session:
        return units.visible_units(session, _actor), dashboard.contact_people(session, _actor)


def overview_choices(actor: Actor, today: date) -> tuple[dict[int, str], date, dict[int, str]]:
    """What Overblik's pickers offer: the actor's units (id → name), the first day with data
    (today when none) and the contact people (id → "Name (INI)")."""
    unit_names, staff = _newest_only(_units_and_staff, config.database_url(), db.data_version_until(date.min),
                                     _scope_key(actor), actor.login, version_at=1, _actor=actor)
    with db.read_session() as session:
        first = dashboard.first_data_day(session, actor)
    return unit_names, first or today, staff


def choose_unit(actor: Actor, key: str) -> tuple[int, str]:
    """The unit a page works in, (id, name): the user's only unit, or the one chosen where they have several.

    A user without any unit is told so, and the page stops.
    """
    from fokus import entry, units

    with db.read_session() as session:
        names = units.visible_units(session, actor)
    if not names:
        st.info("Din bruger er ikke knyttet til en enhed: kontakt en administrator.")
        st.stop()
    unit_id = next(iter(names))
    if len(names) > 1:
        entry.keep_choice(key, names)
        unit_id = st.columns(2)[0].selectbox("Enhed", list(names), format_func=names.__getitem__, key=key)
    return unit_id, names[unit_id]
