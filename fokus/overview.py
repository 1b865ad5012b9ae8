"""Overblik's charts as the page lays them out: sections of charts, each with its table and text.

`sections` turns a `fokus.dashboard.Dashboard` into figures, tables and text alternatives once;
the page caches the result with the dashboard on the data version (`fokus.ui`), so a rerun with
nothing changed builds no figure and formats no table again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa

from fokus import charts, fmt, metrics, tables
from fokus.dashboard import Dashboard


@dataclass(frozen=True)
class ChartView:
    key: str  # the widget key and the download's file name
    figure: go.Figure = field(hash=False)
    table: pd.DataFrame = field(hash=False)  # the table behind the chart, as a reader downloads it
    alt: str  # the text alternative: what the chart shows, in one sentence
    shown: pa.Table = field(hash=False)  # the same table as the page sends it (`tables.for_screen`)


@dataclass(frozen=True)
class Section:
    title: str
    charts: tuple[ChartView, ...]  # shown two by two


def _count(total: int, noun: str) -> str:
    return f"{fmt.integer(total)} {noun}"


def sections(view: Dashboard) -> list[Section]:
    """Every chart of Overblik for this dashboard, in the page's order."""
    now, targets, series = view.figures, view.targets, view.series
    label = fmt.period(view.period.start, view.period.end)

    def chart(name: str, figure: go.Figure, alt: str, table_name: str | None = None,
              frame: pd.DataFrame | None = None, key: str | None = None) -> ChartView:
        table = charts.table_for(table_name or name, series[name] if frame is None else frame)
        return ChartView(f"overblik-{key or name}", figure, table, alt, tables.for_screen(table))

    months = series["monthly_starts"]
    capacity = Section("Kapacitet", (
        chart("monthly_starts", charts.monthly_starts(months, targets.intake_min, targets.intake_max, label),
              f"Forløbsstarter pr. måned {label}: {_count(int(months['starts'].sum()), 'i alt')}, "
              f"mod målet {targets.intake_min}–{targets.intake_max} om året."),
        chart("load_over_time", charts.load_over_time(series["load_over_time"], period_label=label),
              f"Aktive forløb og venteliste over tid {label}, mod kapaciteten {fmt.integer(now['capacity'])}."),
    ))
    groups_and_duration = Section("Gruppeforløb og varighed", (
        chart("group_share_by_quarter",
              charts.group_share_by_quarter(series["group_share_by_quarter"], period_label=label,
                                            target=targets.group_share),
              f"Andel startet i gruppe pr. kvartal {label}, mod målet {fmt.percent(targets.group_share)}."),
        chart("duration_histogram",
              charts.duration_histogram(series["duration_histogram"], period_label=label,
                                        weeks_min=targets.weeks_min, weeks_max=targets.weeks_max,
                                        max_months=targets.max_months),
              f"Varighed af {_count(now['courses_ended'], 'afsluttede forløb')} {label}, mod 12–16 uger."),
    ))
    cutoff = targets.ors_cutoff if targets.ors_cutoff is not None else metrics.DEFAULT_TARGETS.ors_cutoff or 25.0
    pairs = series["ors_pairs_frame"]
    ors = Section("ORS: fremgang", (
        chart("ors_pairs_frame", charts.ors_first_last(pairs, period_label=label, cutoff=cutoff),
              f"Gennemsnitlig første og sidste ORS-total for {_count(now['ors_pairs'], 'afsluttede forløb')} "
              f"{label}.", table_name="ors_first_last", key="ors-first-last"),
        chart("ors_pairs_frame", charts.ors_change_distribution(pairs, period_label=label, rci=targets.rci),
              f"Fordeling af ændringen fra første til sidste ORS-måling {label}, delt i pålidelig forbedring, "
              "ingen pålidelig ændring og pålidelig forværring.", table_name="ors_change_distribution",
              key="ors-change"),
        chart("ors_by_session", charts.ors_by_session(series["ors_by_session"], period_label=label, cutoff=cutoff),
              f"Gennemsnitlig ORS-total efter målingens nummer for forløb startet {label}, med 95 %-konfidensbånd."),
    ))
    referrals = series["referrals_by_month"]
    by_referral = []
    for dimension, noun in (("referrer", "henviser"), ("target_group", "målgruppe")):
        part = referrals[referrals["dimension"] == dimension]
        by_referral.append(chart(
            "referrals_by_month", charts.referrals_by_month(part, period_label=label, dimension=dimension),
            f"Henvisninger pr. måned efter {noun} {label}, i alt {fmt.integer(now['referrals'])}.",
            frame=part, key=f"henvisninger-{dimension}"))
    after = Section("Efter forløbet og holdene", (
        chart("next_steps", charts.next_steps(series["next_steps"], period_label=label),
              f"Efterfølgende indsats for forløb afsluttet {label}."),
        chart("group_activity", charts.group_activity(series["group_activity"], period_label=label),
              f"Deltagere mod pladser og fremmøde pr. hold {label}."),
    ))
    return [capacity, groups_and_duration, ors, Section("Henvisninger", tuple(by_referral)), after]
