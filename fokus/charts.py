"""Charts: a DataFrame in, a plotly figure out. Pages only render what comes back.

graph_objects rather than plotly.express: a tenth of the build time per figure. Colours are
the Okabe–Ito palette (colour-blind safe); numbers and dates in Danish.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from fokus import fmt

BLUE, ORANGE, GREEN, PINK, SKY, VERMILION = "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"
TARGET_FILL = "rgba(0, 158, 115, 0.14)"
TARGET_LINE = "#006b4f"
TEXT = "#1d2a33"


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        separators=",.",
        font={"color": TEXT, "size": 13},
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        height=360,
        legend={"orientation": "h", "yanchor": "bottom", "y": -0.28, "x": 0},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        hovermode="x unified",
    )
    fig.update_yaxes(title_text=y_title, gridcolor="#e3e8eb", rangemode="tozero")
    fig.update_xaxes(gridcolor="#e3e8eb")
    return fig


def monthly_starts(frame: pd.DataFrame, intake_min: int, intake_max: int, period_label: str) -> go.Figure:
    """Course starts per month, group and individual stacked, against the yearly band / 12.

    `frame` has the columns month (first day), starts and group_starts.
    """
    months = [fmt.month_label(m) for m in frame["month"]]
    group = frame["group_starts"].astype(int).tolist()
    individual = (frame["starts"] - frame["group_starts"]).astype(int).tolist()
    fig = go.Figure()
    fig.add_bar(x=months, y=group, name="Gruppe", marker_color=BLUE,
                hovertemplate="%{y} i gruppe<extra></extra>")
    fig.add_bar(x=months, y=individual, name="Individuelt", marker_color=ORANGE,
                hovertemplate="%{y} individuelt<extra></extra>")
    low, high = intake_min / 12, intake_max / 12
    fig.add_hrect(y0=low, y1=high, fillcolor=TARGET_FILL, line_width=0, layer="below")
    fig.add_scatter(
        x=months, y=[high] * len(months), mode="lines", name=f"Mål: {intake_min}–{intake_max} om året",
        line={"color": TARGET_LINE, "dash": "dash", "width": 1.5}, hoverinfo="skip",
    )
    fig.add_scatter(x=months, y=[low] * len(months), mode="lines", showlegend=False,
                    line={"color": TARGET_LINE, "dash": "dash", "width": 1.5}, hoverinfo="skip")
    fig.update_layout(barmode="stack")
    return _layout(fig, f"Forløbsstarter pr. måned, {period_label}", "Forløb startet")


def _against_limit(names: list[str], counts: list[int], limits: list[int], *, count_name: str,
                   limit_name: str, title: str, x_title: str) -> go.Figure:
    """Horizontal bars (one per row) with each row's own limit as a marker beside them.

    A bar over its limit is drawn in vermilion, so that it reads without the marker too.
    """
    over = [count > limit for count, limit in zip(counts, limits, strict=True)]
    fig = go.Figure()
    fig.add_bar(
        y=names, x=counts, orientation="h", name=count_name,
        marker_color=[VERMILION if flag else BLUE for flag in over],
        hovertemplate=f"%{{x}} {count_name.lower()}<extra></extra>",
    )
    if any(over):  # the colour of a bar over its limit, explained in the legend
        fig.add_bar(y=[None], x=[None], orientation="h", name=f"Over {limit_name.lower()}", marker_color=VERMILION,
                    hoverinfo="skip")
    fig.add_scatter(
        y=names, x=limits, mode="markers", name=limit_name,
        marker={"symbol": "line-ns", "size": 26, "line": {"width": 3, "color": TARGET_LINE}},
        hovertemplate=f"{limit_name}: %{{x}}<extra></extra>",
    )
    _layout(fig, title, "")
    fig.update_layout(height=max(240, 130 + 44 * len(names)), hovermode="y unified")
    fig.update_yaxes(autorange="reversed", rangemode=None)
    fig.update_xaxes(title_text=x_title, rangemode="tozero", dtick=1 if max([*counts, *limits, 1]) <= 12 else None)
    return fig


def group_occupancy(frame: pd.DataFrame, day_label: str) -> go.Figure:
    """Members with an active course on each group against the group's places.

    `frame` has the columns name, members and capacity, in the order to show.
    """
    return _against_limit(
        frame["name"].tolist(), frame["members"].astype(int).tolist(), frame["capacity"].astype(int).tolist(),
        count_name="Deltagere", limit_name="Pladser", title=f"Belægning pr. hold, {day_label}",
        x_title="Deltagere med aktivt forløb",
    )


def staff_caseload(frame: pd.DataFrame, day_label: str) -> go.Figure:
    """Each staff member's active courses against their own maximum.

    `frame` has the columns name, active_courses and max_active_courses, in the order to show.
    """
    return _against_limit(
        frame["name"].tolist(), frame["active_courses"].astype(int).tolist(),
        frame["max_active_courses"].astype(int).tolist(),
        count_name="Aktive forløb", limit_name="Højst", title=f"Aktive forløb pr. medarbejder, {day_label}",
        x_title="Aktive forløb som kontaktperson",
    )


ORS_BAND_FILL = "rgba(86, 180, 233, 0.18)"  # sky blue, behind the scores
ORS_MARKERS: dict[str, tuple[str, str]] = {  # the page's change labels → (colour, symbol): not colour alone
    "Første måling": (BLUE, "circle"),
    "Ingen pålidelig ændring": (BLUE, "circle"),
    "Pålidelig fremgang": (GREEN, "triangle-up"),
    "Pålidelig forværring": (VERMILION, "triangle-down"),
}


def ors_course(frame: pd.DataFrame, *, cutoff: float, band: tuple[float, float] | None, title: str) -> go.Figure:
    """One citizen's ORS totals by session, with the clinical cutoff and the reliable-change band.

    `frame` has the columns Session, Dato, Total and Vurdering (`fokus.orsentry.course_table`);
    `band` is the first score ± RCI in points (`fokus.ors.band`). Scores that changed reliably
    from the first are marked with their own colour and symbol. No "expected treatment response".
    """
    fig = go.Figure()
    sessions = frame["Session"].astype(int).tolist()
    span = [min(sessions, default=1) - 0.5, max(sessions, default=1) + 0.5]
    if band is not None:
        fig.add_hrect(y0=band[0], y1=band[1], fillcolor=ORS_BAND_FILL, line_width=0, layer="below")
        fig.add_scatter(x=span, y=[band[1]] * 2, mode="lines", hoverinfo="skip",
                        name=f"Pålidelig ændring: første {fmt.number((band[0] + band[1]) / 2, 1)} ± RCI",
                        line={"color": SKY, "width": 1})
        fig.add_scatter(x=span, y=[band[0]] * 2, mode="lines", hoverinfo="skip", showlegend=False,
                        line={"color": SKY, "width": 1})
    fig.add_scatter(x=span, y=[cutoff] * 2, mode="lines", name=f"Klinisk grænse ({fmt.number(cutoff, 1)})",
                    line={"color": TARGET_LINE, "dash": "dash", "width": 2}, hoverinfo="skip")
    labels = frame["Vurdering"].tolist()
    fig.add_scatter(
        x=sessions, y=frame["Total"].tolist(), mode="lines+markers", name="ORS-total",
        line={"color": BLUE, "width": 2},
        marker={"size": 12, "color": [ORS_MARKERS.get(label, (BLUE, ""))[0] for label in labels],
                "symbol": [ORS_MARKERS.get(label, ("", "circle"))[1] for label in labels],
                "line": {"color": "#ffffff", "width": 1}},
        customdata=[[fmt.day(day), fmt.number(total, 1), label]
                    for day, total, label in zip(frame["Dato"], frame["Total"], labels, strict=True)],
        hovertemplate="Session %{x} · %{customdata[0]}: <b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>",
    )
    for label in ("Pålidelig fremgang", "Pålidelig forværring"):  # legend entries for the marks in use
        if label in labels:
            colour, symbol = ORS_MARKERS[label]
            fig.add_scatter(x=[None], y=[None], mode="markers", name=label,
                            marker={"size": 12, "color": colour, "symbol": symbol})
    _layout(fig, title, "ORS-total (0–40)")
    fig.update_yaxes(range=[0, 40.5], rangemode=None, dtick=5)
    fig.update_xaxes(title_text="Session", range=span, dtick=1 if len(sessions) <= 20 else None, tickangle=0)
    fig.update_layout(hovermode="closest", height=440, legend={"yanchor": "top", "y": -0.25})
    return fig
