"""The meeting screen's slides as data: one clear message each, its figures already hidden by §7.

Built from a `fokus.dashboard.Dashboard` for the rolling 12 months (weekly counts of a unit of
150–200 citizens a year are mostly under 5; a year and its quarters carry meaning). Every count
and statistic goes through `fokus.suppress` here, so nothing unsuppressed reaches the page; the
bars of a slide's chart are suppressed numbers too. Only aggregates: the dashboard's group
activity (group names) is not used, and no citizen, course, staff member or free text is read.

Rules decided here:
- Quarters in the charts are those that begin inside the 12 months (the first, partial one is
  left out); the running quarter is marked "indtil nu".
- Group share: "på niveau med målet" within 5 percentage points of the target.
- Load: "tæt på fuld" from 90 % of the capacity (the sum of the active staff's maximum).
- Capacity is a number of places, not of people: it is never hidden.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlmodel import Session

from fokus import codes, fmt, settings, suppress
from fokus.actor import Actor
from fokus.clock import add_months
from fokus.dashboard import Dashboard
from fokus.errors import ValidationError
from fokus.suppress import Cell

SLIDES: dict[str, str] = {  # key → the setting's name part and what the slide is about
    "intake": "Tilgang",
    "load": "Forløb og venteliste",
    "group_share": "Gruppeandel",
    "ors": "ORS-fremgang",
    "next_steps": "Efter forløbet",
    "network": "Netværksmøder",
}
ON_LEVEL = 0.05  # group share within 5 percentage points of its target
NEAR_FULL = 0.9
SLAGELSE_PROGRESS = "+35,2 %"  # DESIGN §9
SLAGELSE_FURTHER = "18 %"  # 133 of 726 (DESIGN §3)


@dataclass(frozen=True)
class Big:
    label: str
    text: str


@dataclass(frozen=True)
class Slide:
    key: str
    title: str
    message: str  # the one thing to take away
    figures: tuple[Big, ...]
    target: str
    period: str
    bars: pd.DataFrame | None = None  # columns label, value (None where hidden), text
    bars_title: str = ""
    percent: bool = False  # the bars are shares 0–1
    band: tuple[float, float] | None = None  # the target across the bars (low, high; equal for a line)


def _bars(rows: list[tuple[str, Cell]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"label": [label for label, _ in rows],
         "value": pd.Series([cell.value for _, cell in rows], dtype=object),
         "text": [cell.text for _, cell in rows]},
    )


def _quarter_label(first: date, today: date) -> str:
    name = f"{(first.month - 1) // 3 + 1}. kvt. {first.year}"
    return f"{name} (indtil nu)" if first <= today < add_months(first, 3) - timedelta(days=1) else name


def _quarters(view: Dashboard) -> pd.DataFrame:
    frame = view.series["group_share_by_quarter"]
    return frame[[quarter >= view.period.start for quarter in frame["quarter"]]]


def intake(view: Dashboard) -> Slide:
    t, n = view.targets, int(view.figures["intake_12m"])
    if n < t.intake_min:
        message = f"Tilgangen er under målet på {t.intake_min}–{t.intake_max} borgere om året."
    elif n > t.intake_max:
        message = f"Tilgangen er over målet på {t.intake_min}–{t.intake_max} borgere om året."
    else:
        message = f"Tilgangen er inden for målet på {t.intake_min}–{t.intake_max} borgere om året."
    quarters = _quarters(view)
    return Slide(
        "intake", "Tilgang", message, (Big("Forløb startet de seneste 12 måneder", suppress.count(n).text),),
        f"Mål: {t.intake_min}–{t.intake_max} om året ({fmt.number(t.intake_min / 4)}–{fmt.number(t.intake_max / 4)}"
        " pr. kvartal)", view.period.label,
        _bars([(_quarter_label(q, view.period.end), suppress.count(int(s)))
               for q, s in zip(quarters["quarter"], quarters["starts"], strict=True)]),
        "Forløb startet pr. kvartal", band=(t.intake_min / 4, t.intake_max / 4),
    )


def load(view: Dashboard) -> Slide:
    f = view.figures
    active, capacity, waiting = int(f["active_at_end"]), int(f["capacity"]), int(f["waiting_at_end"])
    if capacity == 0:
        message = "Der er ingen kapacitet registreret for medarbejderne."
    elif active > capacity:
        message = "Der er flere borgere i forløb, end der er pladser."
    elif active >= NEAR_FULL * capacity:
        message = "Forløbene er tæt på fuld kapacitet."
    else:
        message = "Der er ledige pladser i forløbene."
    wait = suppress.statistic(f["median_wait_days"], int(f["courses_started"]),
                              lambda days: f"{fmt.number(days)} dage" if days is not None else fmt.NOTHING)
    months = view.series["load_over_time"]
    return Slide(
        "load", "Forløb og venteliste", message,
        (Big("I forløb nu", suppress.count(active).text), Big("På venteliste", suppress.count(waiting).text),
         Big("Ventetid (median)", wait.text)),
        f"Kapacitet: {fmt.integer(capacity)} forløb ad gangen", f"I dag, {fmt.day(view.period.end)}",
        _bars([(fmt.month_label(day), suppress.count(int(n)))
               for day, n in zip(months["day"], months["active"], strict=True)][-12:]),
        "I forløb ved hver måneds udgang", band=(capacity, capacity),
    )


def group_share(view: Dashboard) -> Slide:
    target = view.targets.group_share
    started = int(view.figures["courses_started"])
    in_group = round((view.figures["group_share"] or 0) * started)
    cell = suppress.share(in_group, started)
    if cell.hidden or cell.value is None:
        message = "For få forløb startet til at vise andelen i gruppe."
    elif target is None:
        message = f"{cell.text} af forløbene er startet i en gruppe."
    elif abs(cell.value - target) <= ON_LEVEL:
        message = "Andelen, der starter i en gruppe, er på niveau med målet."
    elif cell.value < target:
        message = "Færre starter i en gruppe end målet."
    else:
        message = "Flere starter i en gruppe end målet."
    quarters = _quarters(view)
    return Slide(
        "group_share", "Gruppeandel", message,
        (Big("Startet i gruppe", cell.text), Big("Forløb startet", suppress.count(started).text)),
        f"Mål: {fmt.percent(target)} starter i en gruppe", view.period.label,
        _bars([(_quarter_label(q, view.period.end), suppress.share(int(g), int(s)))
               for q, s, g in zip(quarters["quarter"], quarters["starts"], quarters["group_starts"], strict=True)]),
        "Andel startet i gruppe pr. kvartal", percent=True,
        band=None if target is None else (target, target),
    )


def ors_progress(view: Dashboard) -> Slide:
    pairs = int(view.figures["ors_pairs"])
    progress = suppress.statistic(view.figures["ors_progress_pct"], pairs, fmt.signed_percent)
    if progress.hidden or progress.value is None:
        message = "For få afsluttede forløb med to ORS-målinger til at vise fremgangen."
    else:
        better = "bedre" if progress.value >= 0 else "dårligere"
        message = f"Borgerne har det {progress.text.lstrip('+−±')} {better} ved afslutningen end ved starten."
    kinds = view.series["ors_pairs_frame"]
    counts = {code: int(kinds.loc[kinds["change_class"] == code, "pairs"].sum())
              for code in ("improved", "unchanged", "deteriorated")}
    cells = suppress.breakdown(counts)
    rci = view.targets.rci if view.targets.rci is not None else 5.0
    return Slide(
        "ors", "ORS-fremgang", message,
        (Big("Fremgang fra første til sidste måling", progress.text),
         Big("Afsluttede forløb med to målinger", suppress.count(pairs).text)),
        f"Reference: Slagelse {SLAGELSE_PROGRESS} · pålidelig ændring: mindst {fmt.number(rci, 0)} point",
        view.period.label,
        _bars([(codes.ORS_CHANGES[code], cells[code]) for code in counts]),
        "Forløb efter pålidelig ændring",
    )


def next_steps(view: Dashboard) -> Slide:
    frame = view.series["next_steps"]
    counts = {str(code): int(n) for code, n in zip(frame["code"], frame["courses"], strict=True)}
    cells = suppress.breakdown(counts)
    shares = suppress.breakdown_shares(counts, cells)
    further = suppress.combined_share(counts, cells, codes.FURTHER_MEASURES)
    total = sum(counts.values())
    message = ("For få afsluttede forløb til at vise, hvad borgerne går videre til." if further.hidden
               or further.value is None else f"{further.text} går videre til § 85 eller en anden SEL-indsats.")
    return Slide(
        "next_steps", "Efter forløbet", message,
        (Big("Videre til § 85 eller anden SEL-indsats", further.text),
         Big("Afsluttede forløb", suppress.count(total).text)),
        f"Reference: Slagelse {SLAGELSE_FURTHER} videre til en indsats efter serviceloven", view.period.label,
        _bars([(codes.NEXT_STEPS[code], shares[code]) for code in counts]),
        "Efterfølgende indsats, andel af afsluttede forløb", percent=True,
    )


def network(view: Dashboard) -> Slide:
    f = view.figures
    meetings = suppress.count(int(f["network_meetings"]))
    with_meeting = suppress.share(int(f["courses_with_network_meeting"]), int(f["courses_ended"]))
    message = ("Ingen netværksmøder holdt de seneste 12 måneder." if f["network_meetings"] == 0
               else f"{meetings.text} netværksmøder holdt de seneste 12 måneder.")
    return Slide(
        "network", "Netværksmøder", message,
        (Big("Netværksmøder holdt", meetings.text), Big("Afsluttede forløb med netværksmøde", with_meeting.text)),
        "Intet fast mål · Slagelse: 529 forløb med Åben Dialog 2018–2020", view.period.label,
    )


BUILDERS = {"intake": intake, "load": load, "group_share": group_share, "ors": ors_progress,
            "next_steps": next_steps, "network": network}


def slides(view: Dashboard, chosen: Collection[str] = tuple(SLIDES)) -> list[Slide]:
    """The chosen slides, in the fixed order of `SLIDES`."""
    return [BUILDERS[key](view) for key in SLIDES if key in chosen]


# ---------------------------------------------------------------------------------------
# Its settings (fokus.settings): each unit's own, set by its leaders; the installation-wide ones
# (set by an administrator) for a unit without its own.

@dataclass(frozen=True)
class ScreenSettings:
    slide_seconds: int
    dark: bool
    chosen: tuple[str, ...]  # slide keys, in the order of SLIDES


def settings_unit(actor: Actor) -> int | None:
    """The unit whose settings `actor`'s screen follows: their first unit (by id). None for those who see
    every unit (administrators), whose screen follows the installation-wide settings."""
    return None if actor.unit_ids is None else min(actor.unit_ids, default=None)


def settings_for(session: Session, actor: Actor, unit_id: int | None) -> ScreenSettings:
    """The settings of one unit's screens (its own where it has them, else the installation-wide), or
    with None the installation-wide ones."""
    if unit_id is not None:
        actor.require_unit(unit_id)
    return ScreenSettings(
        int(settings.get(session, "screen_slide_seconds", unit_id)), settings.get(session, "screen_dark", unit_id) >= 1,
        tuple(key for key in SLIDES if settings.get(session, f"screen_show_{key}", unit_id) >= 1),
    )


def settings_of(session: Session, actor: Actor) -> ScreenSettings:
    """The settings `actor`'s own screen (or preview) follows."""
    return settings_for(session, actor, settings_unit(actor))


def save_settings(session: Session, actor: Actor, *, unit_id: int | None, slide_seconds: int, dark: bool,
                  chosen: Collection[str]) -> int:
    """Store what changed (each change audit-logged): how many values changed.

    With a unit (its leaders and administrators) the settings of that unit's screens, no other unit's:
    the whole choice then becomes the unit's own, so a later installation-wide change does not alter
    it. With None (administrators) the installation-wide ones, which every unit without its own follows.
    """
    actor.require_role("admin", "leader", what="mødeskærmens indstillinger")
    unknown = set(chosen) - set(SLIDES)
    if unknown or not chosen:
        raise ValidationError("Vælg mindst ét dias fra listen.", "chosen")
    wanted = {"screen_slide_seconds": slide_seconds, "screen_dark": int(dark)} | {
        f"screen_show_{key}": int(key in chosen) for key in SLIDES}
    if unit_id is not None:
        actor.require_unit(unit_id)  # before its values are read
    differs = {key for key, value in wanted.items() if settings.get(session, key, unit_id) != value}
    if unit_id is None:
        for key in differs:
            settings.put(session, actor, key, wanted[key])
        return len(differs)
    if differs:
        own = settings.own_keys(session, unit_id)
        for key, value in wanted.items():
            if key in differs or key not in own:
                settings.put_for_unit(session, actor, unit_id, key, value)
    return len(differs)
