"""Overblik: does the unit keep its promises, and what needs action today?

The period (rolling 12 months by default) and the filters choose what is counted; every tile
shows its target and the change against the previous equal period; every chart has its table.
The figures come from `fokus.dashboard` (the one implementation in `fokus.metrics`), cached on
the data version, so a save anywhere shows at the next run.
"""

from __future__ import annotations

import streamlit as st

from fokus import clock, codes, fmt, metrics, periods, ui
from fokus.errors import FokusError

actor = ui.page_actor("overblik")
today = clock.today()

st.html("""<style>
[data-testid="stMetricValue"] {font-size: 2.1rem;}
[data-testid="stMetricLabel"] p {font-size: 0.95rem; font-weight: 600;}
</style>""")

unit_names, first_day, people = ui.overview_choices(actor, today)

st.title("Overblik", anchor=False)

# ---------------------------------------------------------------------------------------
# Period and filters


def choose_period() -> periods.Period | None:
    left, right = st.columns([1, 2])
    kind = left.selectbox("Periode", list(codes.PERIOD_KINDS), format_func=codes.PERIOD_KINDS.__getitem__,
                          key="overblik-periode")
    try:
        if kind == "year":
            number = right.selectbox("År", periods.years(first_day, today), key="overblik-aar")
            return periods.year(number, today)
        if kind == "quarter":
            chosen = right.selectbox("Kvartal", periods.quarters(first_day, today), key="overblik-kvartal",
                                     format_func=lambda yq: f"{yq[1]}. kvartal {yq[0]}")
            return periods.quarter(*chosen, today)
        if kind == "month":
            chosen = right.selectbox(
                "Måned", periods.months(first_day, today), key="overblik-maaned",
                format_func=lambda ym: f"{fmt.DANISH_MONTH_NAMES[ym[1] - 1].capitalize()} {ym[0]}")
            return periods.month(*chosen, today)
        if kind == "custom":
            default = periods.rolling_12_months(today)
            picked = right.date_input("Fra og med – til og med", value=(default.start, default.end),
                                      max_value=today, format="DD.MM.YYYY", key="overblik-selvvalgt")
            days = list(picked) if isinstance(picked, tuple | list) else [picked]
            return periods.custom(days[0] if days else None, days[1] if len(days) > 1 else None, today)
    except FokusError as error:
        right.warning(fmt.plain(error.message))
        return None
    return periods.rolling_12_months(today)


def choose_filters() -> tuple[list[int] | None, metrics.Filters]:
    with st.expander("Filtre"):
        unit_ids: list[int] | None = None
        if len(unit_names) > 1:
            unit_ids = st.multiselect("Enhed", list(unit_names), format_func=unit_names.__getitem__,
                                      placeholder="Alle dine enheder", key="overblik-enheder") or None
        a, b = st.columns(2)
        referrers = a.multiselect("Henviser", list(codes.REFERRERS), format_func=codes.REFERRERS.__getitem__,
                                  placeholder="Alle", key="overblik-henviser")
        groups = b.multiselect("Målgruppe", list(codes.TARGET_GROUPS), format_func=codes.TARGET_GROUPS.__getitem__,
                               placeholder="Alle", key="overblik-maalgruppe")
        forms = a.multiselect("Form", list(codes.FORMS), format_func=codes.FORMS.__getitem__, placeholder="Begge",
                              key="overblik-form")
        staff = b.multiselect("Kontaktperson", list(people), format_func=people.__getitem__, placeholder="Alle",
                              key="overblik-kontakt")
        st.caption("Henviser og målgruppe afgrænser henvisninger og de forløb, der er startet fra dem. Form og "
                   "kontaktperson afgrænser forløbene; kontaktperson også kapaciteten.")
    return unit_ids, metrics.Filters(frozenset(referrers), frozenset(groups), frozenset(forms), frozenset(staff))


period = choose_period()
unit_ids, filters = choose_filters()
if period is None:
    st.stop()

view, sections = ui.cached_overview(actor, period, unit_ids, filters)
now, before, targets = view.figures, view.before, view.targets
previous_label = fmt.period(*view.previous)
units_shown = list(unit_ids or unit_names)
shown_units = ", ".join(fmt.literal(unit_names[u]) for u in units_shown) or "ingen enheder"
notes = [period.label, f"pilene viser ændringen mod {previous_label}", shown_units]
if filters.active:
    notes.append("filtreret")
st.caption(" · ".join(notes))

if now["referrals"] == 0 and now["courses_started"] == 0 and now["active_at_end"] == 0 and now["courses_ended"] == 0:
    st.info("Der er ingen henvisninger eller forløb i perioden. Vælg en anden periode, eller fjern filtrene.")

# ---------------------------------------------------------------------------------------
# The tiles: each with its target and the change against the previous period


def change(key: str, *, share: bool = False, decimals: int = 0) -> tuple[str, str] | None:
    return fmt.change(now[key], before[key], share=share, decimals=decimals)


def band(low: int | None, high: int | None, unit: str) -> str:
    return f"{fmt.integer(low)}–{fmt.integer(high)} {unit}" if low is not None and high is not None else "ingen fælles"


period_end = fmt.day(period.end)
rci = fmt.number(targets.rci, 1) if targets.rci is not None else "enhedernes egen"
cutoff = fmt.number(targets.ors_cutoff, 1) if targets.ors_cutoff is not None else "enhedernes egen"
TILES = [
    [
        ("Tilgang, 12 måneder", fmt.integer(now["intake_12m"]),
         f"Mål: {targets.intake_min}–{targets.intake_max} forløbsstarter om året · 365 dage til {period_end}",
         change("intake_12m")),
        ("Aktive forløb", fmt.integer(now["active_at_end"]),
         f"Kapacitet: {fmt.integer(now['capacity'])} samtidige forløb · den {period_end}", change("active_at_end")),
        ("Venteliste", fmt.integer(now["waiting_at_end"]),
         f"Median ventetid: {fmt.number(now['median_wait_days'])} dage fra henvisning til start · den {period_end}",
         change("waiting_at_end")),
        ("Startet i gruppe", fmt.percent(now["group_share"]),
         f"Mål: omkring {fmt.percent(targets.group_share)} · af {fmt.integer(now['courses_started'])} startede",
         change("group_share", share=True)),
    ],
    [
        ("ORS-fremgang, start → slut", fmt.signed_percent(now["ors_progress_pct"]),
         f"{fmt.integer(now['ors_pairs'])} afsluttede forløb med mindst to målinger · Slagelse: +35,2 %",
         change("ors_progress_pct", decimals=1)),
        ("Pålidelig forbedring", fmt.percent(now["reliable_improvement_share"]),
         f"Fremgang på mindst {rci} point (RCI)", change("reliable_improvement_share", share=True)),
        ("Pålidelig forværring", fmt.percent(now["reliable_deterioration_share"]),
         f"Tilbagegang på mindst {rci} point", change("reliable_deterioration_share", share=True)),
        ("Klinisk signifikant", fmt.percent(now["clinically_significant_share"]),
         f"Fra under {cutoff} til over grænsen, med pålidelig fremgang",
         change("clinically_significant_share", share=True)),
    ],
    [
        ("Median varighed", f"{fmt.number(now['median_weeks'], 1)} uger",
         f"Mål: {band(targets.weeks_min, targets.weeks_max, 'uger')} · {fmt.integer(now['courses_ended'])} afsluttede",
         change("median_weeks", decimals=1)),
        ("Afsluttet efter 12–16 uger", fmt.percent(now["share_12_16_weeks"]),
         "Andel af de afsluttede forløb", change("share_12_16_weeks", share=True)),
        ("Over 6 måneder", fmt.integer(now["over_6_months"]),
         "Mål: ingen · afsluttede og stadig aktive forløb", change("over_6_months")),
        ("Videre indsats efter SEL", fmt.percent(now["further_measure_share"]),
         "§ 85 eller anden SEL-indsats · Slagelse: 18 %", change("further_measure_share", share=True)),
    ],
]
for row in TILES:
    for column, (label, value, target, moved) in zip(st.columns(len(row)), row, strict=True):
        with column:
            ui.tile(label, value, target, moved, compared_with=None)  # the caption names the previous period

# ---------------------------------------------------------------------------------------
# Kræver handling


actions, action_count = ui.cached_needs_action(actor, today, unit_ids, filters)
several_units = len(units_shown) > 1  # then each item names its unit: units number their courses alike
with st.expander(f"Kræver handling i dag ({action_count})", expanded=bool(actions)):
    if not actions:
        st.success("Ingen forløb eller henvisninger kræver handling lige nu.")
    for item in actions:
        left, right = st.columns([2, 3])
        target_page = "pages/forloeb.py" if item.kind == "course" else "pages/henvisninger.py"
        param = "forloeb" if item.kind == "course" else "henvisning"
        label = f"{item.label} · {fmt.literal(unit_names[item.unit_id])}" if several_units else item.label
        left.page_link(target_page, label=label, icon=":material/arrow_forward:",
                       query_params={param: str(item.row_id)})
        right.markdown(f"{' · '.join(item.reasons)} · {item.since}")
    if action_count > len(actions):
        st.caption(f"De {len(actions)} mest presserende af {fmt.integer(action_count)} vises her. "
                   "Alle forløb med flag står på siden Forløb, og hele ventelisten på siden Henvisninger.")

# ---------------------------------------------------------------------------------------
# The charts, two by two, each with its table (a lone last chart takes the whole width)

for section in sections:
    st.header(section.title, anchor=False)
    for at in range(0, len(section.charts), 2):
        pair = section.charts[at:at + 2]
        for column, drawn in zip(st.columns(2) if len(pair) == 2 else [st.container()], pair, strict=True):
            with column:
                ui.chart(drawn.figure, drawn.table, key=drawn.key, alt=drawn.alt, shown=drawn.shown)

st.caption(f"Målene er dem, der gjaldt den {period_end}: en periode bedømmes efter målene på dens sidste dag. "
           f"{fmt.NOTHING} betyder, at der intet er at beregne ud fra.")
