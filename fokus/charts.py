"""Charts: a DataFrame in, a plotly figure out. Pages only render what comes back.

graph_objects rather than plotly.express: a tenth of the build time per figure. Each figure is
written as one plain dict (traces with their "type", a layout with its shapes and annotations
spelled out as plotly writes them) and made by `go.Figure(...)` without validation (the tests
validate every figure drawn): every add_trace, add_hline or update_layout call validates again
and touches the template, which made a figure cost 10–40 ms instead of 1–3 ms (issue 8).
Colours are the Okabe–Ito palette (colour-blind safe); numbers and dates in Danish.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from fokus import codes, fmt

BLUE, ORANGE, GREEN, PINK, SKY, VERMILION = "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"
TARGET_FILL = "rgba(0, 158, 115, 0.14)"
TARGET_LINE = "#006b4f"
TEXT = "#1d2a33"
GRID = "#e3e8eb"

Json = dict[str, Any]  # a trace, a layout or a part of one, as plotly's JSON spells it


class Figure(go.Figure):
    """A figure that is made once and never changed, as every figure here is.

    Streamlit asks for a figure's dict each time it draws it, and plotly deep-copies the whole
    figure for it: about 1 ms a chart on every run of a page whose figures are cached. This one
    makes its dict once and hands out that same dict, which Streamlit only reads."""

    def to_dict(self) -> Json:
        made: Json | None = self.__dict__.get("_made")
        if made is None:
            made = self._made = super().to_dict()
        return made


def _figure(data: list[Json], layout: Json) -> Figure:
    """The figure as written, not validated: plotly's validation costs 2–5 ms a chart on every
    save (half of Overblik's charts), and the tests validate every figure each function can draw
    instead (`tests/test_charts.py`). Without a "template" key plotly applies its default itself."""
    layout = {key: setting for key, setting in layout.items() if setting != []}  # no shapes: left out, as plotly does
    if "legend" in layout:  # placed last, once the height and the margins are final
        layout = _place_legend(layout)
    return Figure({"data": data, "layout": layout}, _validate=False)


def _merged(layout: Json, **changes: Any) -> Json:
    """`layout` with `changes`, as update_layout makes them: a dict is merged into the dict it
    changes (one level deep), and None leaves a setting out."""
    merged = dict(layout)
    for key, value in changes.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = {name: setting for name, setting in (old | value).items() if setting is not None}
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


# What fits on one line of a chart at half the page's width on a 1366 px laptop (about 440 px): a
# longer title breaks before its period, a longer subtitle at a " · ". Plotly cuts a line, never wraps it.
TITLE_LINE, SUBTITLE_LINE = 52, 66
_TITLE_TOP, _TITLE_LINE_PX, _SUBTITLE_LINE_PX = 38, 22, 18  # the top margin: space above, then each line
# From the plot's bottom edge to the legend under it: past the tick labels (up to two lines), and past
# an x-axis title where there is one.
_LEGEND_GAP_PX, _LEGEND_GAP_TITLED_PX, _LEGEND_ROOM_PX = 48, 78, 110


def _title(what: str, period: str) -> str:
    """What a chart counts, then its period; on two lines where one would be cut at half width."""
    return f"{what}{' ' if len(what) + 1 + len(period) <= TITLE_LINE else '<br>'}{period}"


def _lines(text: str) -> int:
    return text.count("<br>") + 1


def _top_margin(title: str, subtitle: str | None = None) -> int:
    """Room above the plot for the title's lines and the subtitle's."""
    return _TITLE_TOP + _TITLE_LINE_PX * _lines(title) + (_SUBTITLE_LINE_PX * _lines(subtitle) if subtitle else 0)


def _layout(title: str, y_title: str, **changes: Any) -> Json:
    """The dashboard's common layout: title top left, Danish separators, legend under the plot."""
    return _merged({
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 16},  # from the top down: title,
                  "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 14}},  # subtitle, then the plot
        "separators": ",.",
        "font": {"color": TEXT, "size": 13},
        "margin": {"l": 10, "r": 10, "t": _top_margin(title), "b": 10},
        "height": 360,
        "legend": {"orientation": "h", "yanchor": "top", "x": 0},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "yaxis": {"title": {"text": y_title}, "gridcolor": GRID, "rangemode": "tozero"},
        "xaxis": {"gridcolor": GRID},
    }, **changes)


def _across_x(kind: str, y0: float, y1: float, **style: Any) -> Json:
    """A shape over the plot's whole width from y0 to y1, as add_hline / add_hrect write it."""
    return {"type": kind, "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y0, "y1": y1, **style}


def _across_y(kind: str, x0: float, x1: float, **style: Any) -> Json:
    """A shape over the plot's whole height from x0 to x1, as add_vline / add_vrect write it."""
    return {"type": kind, "xref": "x", "x0": x0, "x1": x1, "yref": "y domain", "y0": 0, "y1": 1, **style}


def _band(low: float, high: float, fill: str = TARGET_FILL) -> Json:
    """A pale target band behind the data."""
    return _across_x("rect", low, high, fillcolor=fill, line={"width": 0}, layer="below")


def _month_ticks(labels: list[str]) -> Json:
    """Month labels on two lines ("nov" over "2025"), so that twelve fit unturned."""
    return {"tickvals": labels, "ticktext": [label.replace(" ", "<br>") for label in labels], "tickangle": 0}


def monthly_starts(frame: pd.DataFrame, intake_min: int, intake_max: int, period_label: str) -> Figure:
    """Course starts per month, group and individual stacked, against the yearly band / 12.

    `frame` has the columns month (first day), starts and group_starts.
    """
    months = [fmt.month_label(m) for m in frame["month"]]
    group = frame["group_starts"].astype(int).tolist()
    individual = (frame["starts"] - frame["group_starts"]).astype(int).tolist()
    low, high = intake_min / 12, intake_max / 12
    edge = {"type": "scatter", "x": months, "mode": "lines", "hoverinfo": "skip",
            "line": {"color": TARGET_LINE, "dash": "dash", "width": 1.5}}
    return _figure([
        {"type": "bar", "x": months, "y": group, "name": "Gruppe", "marker": {"color": BLUE},
         "hovertemplate": "%{y} i gruppe<extra></extra>"},
        {"type": "bar", "x": months, "y": individual, "name": "Individuelt", "marker": {"color": ORANGE},
         "hovertemplate": "%{y} individuelt<extra></extra>"},
        edge | {"y": [high] * len(months), "name": f"Mål: {intake_min}–{intake_max} om året"},
        edge | {"y": [low] * len(months), "showlegend": False},
    ], _layout(_title("Forløbsstarter pr. måned,", period_label), "Forløb startet", barmode="stack",
               shapes=[_band(low, high)], xaxis=_month_ticks(months)))


def _whole_step(most: int) -> int | None:
    """A tick step for counts up to `most`: whole numbers (plotly would mark halves), and at most
    about seven ticks, so that a half-width chart does not crowd and turn its labels."""
    return 1 if most <= 6 else 2 if most <= 12 else None


def _against_limit(names: list[str], counts: list[int], limits: list[int], *, count_name: str,
                   limit_name: str, title: str, x_title: str) -> tuple[list[Json], Json]:
    """Horizontal bars (one per row) with each row's own limit as a marker beside them.

    A bar over its limit is drawn in vermilion, so that it reads without the marker too.
    """
    over = [count > limit for count, limit in zip(counts, limits, strict=True)]
    data: list[Json] = [{
        "type": "bar", "y": names, "x": counts, "orientation": "h", "name": count_name,
        "marker": {"color": [VERMILION if flag else BLUE for flag in over]},
        "hovertemplate": f"%{{x}} {count_name.lower()}<extra></extra>",
    }]
    if any(over):  # the colour of a bar over its limit, explained in the legend
        data.append({"type": "bar", "y": [None], "x": [None], "orientation": "h",
                     "name": f"Over {limit_name.lower()}", "marker": {"color": VERMILION}, "hoverinfo": "skip"})
    data.append({
        "type": "scatter", "y": names, "x": limits, "mode": "markers", "name": limit_name,
        "marker": {"symbol": "line-ns", "size": 26, "line": {"width": 3, "color": TARGET_LINE}},
        "hovertemplate": f"{limit_name}: %{{x}}<extra></extra>",
    })
    return data, _layout(
        title, "", height=max(240, 130 + 44 * len(names)), hovermode="y unified",
        yaxis={"autorange": "reversed", "rangemode": None},
        xaxis={"title": {"text": x_title}, "rangemode": "tozero",
               "dtick": _whole_step(max([*counts, *limits, 1]))},
    )


def group_occupancy(frame: pd.DataFrame, day_label: str) -> Figure:
    """Members with an active course on each group against the group's places.

    `frame` has the columns name, members and capacity, in the order to show.
    """
    return _figure(*_against_limit(
        [fmt.chart_text(name) for name in frame["name"]], frame["members"].astype(int).tolist(),
        frame["capacity"].astype(int).tolist(),
        count_name="Deltagere", limit_name="Pladser", title=_title("Belægning pr. hold,", day_label),
        x_title="Deltagere med aktivt forløb",
    ))


def staff_caseload(frame: pd.DataFrame, day_label: str) -> Figure:
    """Each staff member's active courses against their own maximum.

    `frame` has the columns name, active_courses and max_active_courses, in the order to show.
    """
    return _figure(*_against_limit(
        [fmt.chart_text(name) for name in frame["name"]], frame["active_courses"].astype(int).tolist(),
        frame["max_active_courses"].astype(int).tolist(),
        count_name="Aktive forløb", limit_name="Højst", title=_title("Aktive forløb pr. medarbejder,", day_label),
        x_title="Aktive forløb som kontaktperson",
    ))


ORS_BAND_FILL = "rgba(86, 180, 233, 0.18)"  # sky blue, behind the scores
ORS_MARKERS: dict[str, tuple[str, str]] = {  # the page's change labels → (colour, symbol): not colour alone
    "Første måling": (BLUE, "circle"),
    "Ingen pålidelig ændring": (BLUE, "circle"),
    "Pålidelig fremgang": (GREEN, "triangle-up"),
    "Pålidelig forværring": (VERMILION, "triangle-down"),
}


def ors_course(frame: pd.DataFrame, *, cutoff: float, band: tuple[float, float] | None, title: str) -> Figure:
    """One citizen's ORS totals by session, with the clinical cutoff and the reliable-change band.

    `frame` has the columns Session, Dato, Total and Vurdering (`fokus.orsentry.course_table`);
    `band` is the first score ± RCI in points (`fokus.ors.band`). Scores that changed reliably
    from the first are marked with their own colour and symbol. No "expected treatment response".
    """
    sessions = frame["Session"].astype(int).tolist()
    span = [min(sessions, default=1) - 0.5, max(sessions, default=1) + 0.5]
    data: list[Json] = []
    shapes: list[Json] = []
    if band is not None:
        shapes.append(_band(band[0], band[1], ORS_BAND_FILL))
        edge = {"type": "scatter", "x": span, "mode": "lines", "hoverinfo": "skip", "line": {"color": SKY, "width": 1}}
        data += [edge | {"y": [band[1]] * 2,
                         "name": f"Pålidelig ændring: første {fmt.number((band[0] + band[1]) / 2, 1)} ± RCI"},
                 edge | {"y": [band[0]] * 2, "showlegend": False}]
    data.append({"type": "scatter", "x": span, "y": [cutoff] * 2, "mode": "lines",
                 "name": f"Klinisk grænse ({fmt.number(cutoff, 1)})",
                 "line": {"color": TARGET_LINE, "dash": "dash", "width": 2}, "hoverinfo": "skip"})
    labels = frame["Vurdering"].tolist()
    data.append({
        "type": "scatter", "x": sessions, "y": frame["Total"].tolist(), "mode": "lines+markers", "name": "ORS-total",
        "line": {"color": BLUE, "width": 2},
        "marker": {"size": 12, "color": [ORS_MARKERS.get(label, (BLUE, ""))[0] for label in labels],
                   "symbol": [ORS_MARKERS.get(label, ("", "circle"))[1] for label in labels],
                   "line": {"color": "#ffffff", "width": 1}},
        "customdata": [[fmt.day(day), fmt.number(total, 1), label]
                       for day, total, label in zip(frame["Dato"], frame["Total"], labels, strict=True)],
        "hovertemplate": "Session %{x} · %{customdata[0]}: <b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>",
    })
    data += [{"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": label,  # legend for the marks
              "marker": {"size": 12, "color": ORS_MARKERS[label][0], "symbol": ORS_MARKERS[label][1]}}
             for label in ("Pålidelig fremgang", "Pålidelig forværring") if label in labels]
    return _figure(data, _layout(
        title, "ORS-total (0–40)", shapes=shapes, hovermode="closest", height=440,
        yaxis={"range": [0, 40.5], "rangemode": None, "dtick": 5},
        xaxis={"title": {"text": "Session"}, "range": span, "dtick": 1 if len(sessions) <= 20 else None,
               "tickangle": 0},
    ))


# ---------------------------------------------------------------------------------------
# The Overblik dashboard: one figure per series of `fokus.metrics` (the contract of issue 5).
# Each says what it counts and for which period, draws its target, and says "Ingen data i
# perioden" rather than drawing empty axes.

NO_DATA = "Ingen data i perioden"
# Classes and codes carry a pattern besides their colour, so they part in grey print too.
PATTERNS = ("", "/", ".", "x", "-", "+")
CODE_COLOURS = (BLUE, ORANGE, PINK, SKY, GREEN, VERMILION)
ORS_CHANGE_STYLE: dict[str, tuple[str, str]] = {  # change class → (colour, pattern), left to right
    "deteriorated": (VERMILION, "x"),
    "unchanged": (SKY, ""),
    "improved": (GREEN, "/"),
}
_PERCENT_TICKS = {"tickvals": list(range(0, 101, 20)), "ticktext": [f"{p} %" for p in range(0, 101, 20)]}
_TARGET_STYLE = {"color": TARGET_LINE, "dash": "dash", "width": 2}


def _pattern(shape: str) -> dict[str, object]:
    """A white hatching over the bar's own colour, so classes differ without colour too.

    "overlay": the marker colour stays the background (the default fill mode leaves it
    transparent, and Streamlit's plotly then draws nothing but the white lines).
    """
    return {"shape": shape, "fgcolor": "#ffffff", "solidity": 0.3, "fillmode": "overlay"}


def _present(value: object) -> float | None:
    """A frame's cell as a number, or None where pandas holds None or NaN."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return float(value)  # type: ignore[arg-type]


def _points(value: float) -> str:
    """A score or target in points: 25 → '25', 25.5 → '25,5'."""
    return fmt.number(value, 0 if float(value).is_integer() else 1)


def _quarter_label(first_day: date) -> str:
    return f"K{(first_day.month - 1) // 3 + 1} {first_day.year}"


def _wrapped(text: str, width: int = SUBTITLE_LINE) -> str:
    """`text` broken at its " · " into lines of at most `width` characters where it can be."""
    lines: list[str] = []
    for part in text.split("<br>"):
        line = ""
        for piece in part.split(" · "):
            if line and len(line) + 3 + len(piece) > width:
                lines.append(line)
                line = piece
            else:
                line = f"{line} · {piece}" if line else piece
        lines.append(line)
    return "<br>".join(lines)


def _subtitle(layout: Json, text: str) -> Json:
    """A line or two under the title, in plain weight; the top margin grows with it."""
    text = _wrapped(text)
    return _merged(layout, title={"subtitle": {"text": text, "font": {"size": 13, "color": TEXT}}},
                   margin={"t": _top_margin(layout["title"]["text"], text)})


def _target_hline(y: float, name: str) -> Json:
    """A dashed horizontal target across the whole plot, named last in the legend."""
    return _across_x("line", y, y, line=_TARGET_STYLE, layer="above", showlegend=True, legendrank=2000, name=name)


def _target_vline(x: float, name: str, *, colour: str = TARGET_LINE, showlegend: bool = True) -> Json:
    """A dashed vertical limit over the whole height, named last in the legend."""
    return _across_y("line", x, x, line=_TARGET_STYLE | {"color": colour}, layer="above", showlegend=showlegend,
                     legendrank=2000, name=name)


def _place_legend(layout: Json) -> Json:
    """The legend under the plot at the same distance in a tall chart as in a short one: plotly takes its
    y as a share of the plot's height. That height is what the top margin leaves, less the room plotly
    makes at the bottom for the ticks and the legend (a legend of three rows at half width on a laptop);
    a legend of fewer rows leaves a little more room. `_figure` calls it on the finished layout."""
    plot = layout["height"] - layout["margin"]["t"] - _LEGEND_ROOM_PX
    gap = _LEGEND_GAP_TITLED_PX if layout.get("xaxis", {}).get("title", {}).get("text") else _LEGEND_GAP_PX
    return _merged(layout, legend={"y": -round(gap / plot, 3)})


def _legend_under_axis_title(layout: Json, height: int = 420) -> Json:
    """A chart with an x-axis title and its legend under it: a little taller, the legend in its order."""
    return _merged(layout, height=height, legend={"traceorder": "normal"})


def _no_data(title: str, subtitle: str | None = None) -> Figure:
    layout = _layout(
        title, "", height=220, xaxis={"visible": False}, yaxis={"visible": False},
        annotations=[{"text": NO_DATA, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                      "font": {"size": 16, "color": TEXT}}],
    )
    return _figure([], _subtitle(layout, subtitle) if subtitle else layout)


def load_over_time(frame: pd.DataFrame, *, period_label: str) -> Figure:
    """Active courses and the waiting list over the period, against the staff's capacity.

    `frame`: day, active, waiting, capacity (`fokus.metrics.load_over_time`).
    """
    title = _title("Aktive forløb og venteliste,", period_label)
    if frame.empty or int(frame["active"].sum()) + int(frame["waiting"].sum()) == 0:
        return _no_data(title)
    days = frame["day"].tolist()
    capacity = int(frame["capacity"].iloc[-1])
    return _figure([
        {"type": "scatter", "x": days, "y": frame["active"].astype(int).tolist(), "mode": "lines+markers",
         "name": "Aktive forløb", "line": {"color": BLUE, "width": 2.5}, "marker": {"symbol": "circle", "size": 7},
         "hovertemplate": "%{y} aktive forløb<extra></extra>"},
        {"type": "scatter", "x": days, "y": frame["waiting"].astype(int).tolist(), "mode": "lines+markers",
         "name": "Venteliste", "line": {"color": ORANGE, "width": 2.5, "dash": "dot"},
         "marker": {"symbol": "square", "size": 7}, "hovertemplate": "%{y} på venteliste<extra></extra>"},
    ], _layout(
        title, "Forløb / henvisninger",
        shapes=[_target_hline(capacity, f"Kapacitet: {fmt.integer(capacity)} samtidige forløb")],
        # the year under the day: eight dates fit a half-width chart unturned, clear of the legend
        xaxis={"tickformat": "%d.%m<br>%Y", "hoverformat": "%d.%m.%Y", "nticks": 8, "tickangle": 0},
        yaxis={"range": [0, max(capacity, int(frame["active"].max()), int(frame["waiting"].max())) * 1.12]},
    ))


def group_share_by_quarter(frame: pd.DataFrame, *, period_label: str, target: float | None) -> Figure:
    """The share of course starts in a group, per quarter, against the target share.

    `frame`: quarter, starts, group_starts, group_share (`fokus.metrics.group_share_by_quarter`).
    """
    title = _title("Andel af forløbsstarter i gruppe pr. kvartal,", period_label)
    if frame.empty or int(frame["starts"].sum()) == 0:
        return _no_data(title)
    quarters = [_quarter_label(q) for q in frame["quarter"]]
    shares = [_present(s) for s in frame["group_share"]]
    starts = frame["starts"].astype(int).tolist()
    bars = {
        "type": "bar", "x": quarters, "y": [None if s is None else s * 100 for s in shares],
        "name": "Startet i gruppe", "marker": {"color": BLUE}, "textposition": "auto", "insidetextanchor": "start",
        "cliponaxis": False, "insidetextfont": {"color": "#ffffff"}, "outsidetextfont": {"color": TEXT},
        "text": [f"{fmt.percent(s)}<br>n={fmt.integer(n)}" for s, n in zip(shares, starts, strict=True)],
        "customdata": [[fmt.percent(s, 1), fmt.integer(g), fmt.integer(n)]
                       for s, g, n in zip(shares, frame["group_starts"].astype(int), starts, strict=True)],
        "hovertemplate": "%{customdata[0]} i gruppe (%{customdata[1]} af %{customdata[2]} starter)<extra></extra>",
    }
    layout = _layout(
        title, "Startet i gruppe", showlegend=True, yaxis={"range": [0, 108], **_PERCENT_TICKS},
        annotations=[{"x": quarter, "y": 0, "text": "ingen starter", "showarrow": False, "yanchor": "bottom",
                      "font": {"color": TEXT}} for quarter, share in zip(quarters, shares, strict=True)
                     if share is None],
        shapes=[] if target is None else [_target_hline(target * 100, f"Mål: {fmt.percent(target)}")],
    )
    return _figure([bars], _subtitle(layout, f"Forløb startet: {fmt.integer(sum(starts))} · "
                                             "n = forløbsstarter i kvartalet"))


def _pair_count(frame: pd.DataFrame) -> int:
    """The ORS pairs in a `fokus.metrics.ors_pairs_frame` (one row per kind of pair)."""
    return int(frame["pairs"].sum())


def _first_last_means(frame: pd.DataFrame) -> tuple[float | None, float | None, float | None]:
    """Mean first, mean last and the progress in % (DESIGN §3's ors_progress_pct) over the pairs."""
    pairs = _pair_count(frame)
    if not pairs:
        return None, None, None
    first, last = float(frame["first_sum"].sum()) / pairs, float(frame["last_sum"].sum()) / pairs
    return first, last, ((last - first) / first * 100 if first else None)


def ors_first_last(frame: pd.DataFrame, *, period_label: str, cutoff: float) -> Figure:
    """Mean ORS total at the first and at the last measurement of the courses ended in the period.

    `frame`: `fokus.metrics.ors_pairs_frame`, the pairs counted by kind; the progress in % is the
    dashboard's `ors_progress_pct`, (mean last − mean first) / mean first.
    """
    title = _title("ORS: gennemsnit ved første og sidste måling,", period_label)
    pairs = f"{fmt.integer(_pair_count(frame))} afsluttede forløb med mindst to målinger"
    if not _pair_count(frame):
        return _no_data(title, pairs)
    first, last, progress = _first_last_means(frame)
    assert first is not None and last is not None
    bars = {
        "type": "bar", "x": ["Første måling", "Sidste måling"], "y": [first, last], "marker": {"color": [SKY, BLUE]},
        "showlegend": False, "width": 0.5, "text": [fmt.number(first, 1), fmt.number(last, 1)],
        "textposition": "outside", "cliponaxis": False, "hovertemplate": "%{x}: gennemsnit %{y:.1f}<extra></extra>",
    }
    layout = _layout(
        title, "ORS-total (0–40)", hovermode="closest", yaxis={"range": [0, 40.5], "dtick": 5, "rangemode": None},
        shapes=[_target_hline(cutoff, f"Klinisk grænse ({_points(cutoff)})")],
        annotations=[{"x": 0.5, "y": min(max(first, last) + 6, 38), "xref": "paper", "showarrow": False,
                      "text": f"Fremgang: <b>{fmt.signed_percent(progress)}</b>", "font": {"size": 15, "color": TEXT}}],
    )
    return _figure([bars], _subtitle(layout, pairs))


def _change_bins(changes: pd.Series) -> list[int]:
    """The 1-point bin [k, k + 1) of each change, from whole tenths so that 5.0 is never 4.999…"""
    return [round(value * 10) // 10 for value in changes]


def _binned_changes(frame: pd.DataFrame) -> Counter[tuple[int, str]]:
    """Pairs per (1-point bin of change, reliable-change class), from an `ors_pairs_frame`."""
    binned: Counter[tuple[int, str]] = Counter()
    for b, change_class, pairs in zip(_change_bins(frame["change"]), frame["change_class"], frame["pairs"],
                                      strict=True):
        binned[(b, change_class)] += int(pairs)
    return binned


def ors_change_distribution(frame: pd.DataFrame, *, period_label: str, rci: float | None) -> Figure:
    """How many courses changed by how much from the first to the last ORS, by reliable-change class.

    `frame`: `fokus.metrics.ors_pairs_frame`, the pairs counted by change and change_class.
    """
    title = _title("ORS: ændring fra første til sidste måling,", period_label)
    pairs = f"{fmt.integer(_pair_count(frame))} afsluttede forløb med mindst to målinger · søjle = 1 point"
    if not _pair_count(frame):
        return _no_data(title, pairs)
    binned = _binned_changes(frame)
    bins = sorted({b for b, _ in binned})
    tallest: Counter[int] = Counter()  # pairs per bin, every class stacked
    for (b, _), n in binned.items():
        tallest[b] += n
    every_bin = list(range(min(bins), max(bins) + 1))
    data = []
    for change_class, (colour, pattern) in ORS_CHANGE_STYLE.items():
        counts = Counter({b: n for (b, cls), n in binned.items() if cls == change_class})
        data.append({
            "type": "bar", "x": [b + 0.5 for b in every_bin], "y": [counts[b] for b in every_bin], "width": 1,
            "name": f"{codes.label(codes.ORS_CHANGES, change_class)} ({fmt.integer(counts.total())})",
            "marker": {"color": colour, "pattern": _pattern(pattern), "line": {"color": "#ffffff", "width": 0.5}},
            "customdata": [[_points(b), _points(b + 1)] for b in every_bin],
            "hovertemplate": "%{customdata[0]} til under %{customdata[1]} point: %{y} forløb<extra></extra>",
        })
    reach = max(abs(min(bins)), abs(max(bins) + 1), (rci or 0) + 1)
    layout = _layout(
        title, "Forløb", barmode="stack", hovermode="closest",
        shapes=[] if rci is None else [_target_vline(sign * rci, f"Pålidelig ændring: ±{_points(rci)} point",
                                                     showlegend=sign > 0) for sign in (-1, 1)],
        xaxis={"title": {"text": "Ændring i ORS-total, sidste − første (point)"}, "range": [-reach, reach], "dtick": 5,
               "zeroline": True, "zerolinecolor": "#9aa5ad"},
        # a tick per course only while the tallest bar is short: thousands of gridlines jam the browser
        yaxis={"dtick": 1 if max(tallest.values()) <= 8 else None},
    )
    return _figure(data, _subtitle(_legend_under_axis_title(layout), pairs))


def ors_by_session(frame: pd.DataFrame, *, period_label: str, cutoff: float) -> Figure:
    """Mean ORS total at the 1st, 2nd, … measurement of the courses started in the period.

    `frame`: session, n, mean, low, high (`fokus.metrics.ors_by_session`); the band is the
    95 % confidence interval of the mean, drawn where at least two courses have that measurement.
    """
    title = _title("ORS: gennemsnitlig total pr. måling, forløb startet", period_label)
    if frame.empty:
        return _no_data(title)
    rows = frame.sort_values("session")
    sessions = rows["session"].astype(int).tolist()
    lows, highs = [_present(v) for v in rows["low"]], [_present(v) for v in rows["high"]]
    banded = [(s, lo, hi) for s, lo, hi in zip(sessions, lows, highs, strict=True) if lo is not None and hi is not None]
    data: list[Json] = []
    if banded:
        xs = [s for s, _, _ in banded]
        data.append({"type": "scatter", "x": xs + xs[::-1],
                     "y": [hi for _, _, hi in banded] + [lo for _, lo, _ in banded][::-1], "fill": "toself",
                     "fillcolor": ORS_BAND_FILL, "line": {"width": 0}, "mode": "lines",
                     "name": "95 % konfidensinterval", "hoverinfo": "skip"})
    data.append({
        "type": "scatter", "x": sessions, "y": rows["mean"].astype(float).tolist(), "mode": "lines+markers",
        "name": "Gennemsnit", "line": {"color": BLUE, "width": 2.5}, "marker": {"size": 8, "symbol": "circle"},
        "customdata": [[fmt.integer(int(n)), fmt.number(lo, 1), fmt.number(hi, 1)]
                       for n, lo, hi in zip(rows["n"], lows, highs, strict=True)],
        "hovertemplate": "Måling %{x}: gennemsnit <b>%{y:.1f}</b> (n=%{customdata[0]})<br>"
                         "95 %: %{customdata[1]}–%{customdata[2]}<extra></extra>",
    })
    layout = _layout(
        title, "ORS-total (0–40)", hovermode="closest",
        shapes=[_target_hline(cutoff, f"Klinisk grænse ({_points(cutoff)})")],
        yaxis={"range": [0, 40.5], "dtick": 5, "rangemode": None},
        xaxis={"title": {"text": "Måling nr."}, "range": [0.5, max(sessions) + 0.5], "dtick": 1, "tickangle": 0},
    )
    return _figure(data, _subtitle(_legend_under_axis_title(layout),
                                   f"{fmt.integer(int(rows['n'].iloc[0]))} forløb med mindst én måling · "
                                   "n falder, efterhånden som forløb slutter"))


OPEN_BIN = 999  # weeks_to of the last bin, "26 uger og derover"


def _duration_label(weeks_from: int, weeks_to: int) -> str:
    return f"{weeks_from} til under {weeks_to} uger" if weeks_to < OPEN_BIN else f"{weeks_from} uger og derover"


def duration_histogram(frame: pd.DataFrame, *, period_label: str, weeks_min: int | None,
                       weeks_max: int | None, max_months: int | None) -> Figure:
    """Courses ended in the period by their length in 2-week bins, with the target band and the limit.

    `frame`: weeks_from, weeks_to (999 for the open last bin), courses (`fokus.metrics.duration_histogram`).
    """
    title = _title("Varighed af forløb afsluttet", period_label)
    total = int(frame["courses"].sum()) if not frame.empty else 0
    ended = f"{fmt.integer(total)} afsluttede forløb · søjle = 2 uger"
    if total == 0:
        return _no_data(title, ended)
    starts, stops = frame["weeks_from"].astype(int).tolist(), frame["weeks_to"].astype(int).tolist()
    ends = [stop if stop < OPEN_BIN else start + 2 for start, stop in zip(starts, stops, strict=True)]
    shapes = []
    if weeks_min is not None and weeks_max is not None:
        shapes.append(_across_y("rect", weeks_min, weeks_max, fillcolor=TARGET_FILL, line={"width": 0}, layer="below",
                                showlegend=True, legendrank=1500, name=f"Mål: {weeks_min}–{weeks_max} uger"))
    if max_months is not None:
        shapes.append(_target_vline(max_months * 52 / 12, f"Højst {max_months} måneder", colour=VERMILION))
    bars = {
        "type": "bar", "x": [(a + b) / 2 for a, b in zip(starts, ends, strict=True)],
        "y": frame["courses"].astype(int).tolist(), "width": [b - a for a, b in zip(starts, ends, strict=True)],
        "name": "Forløb", "showlegend": False, "marker": {"color": BLUE, "line": {"color": "#ffffff", "width": 1}},
        "customdata": [_duration_label(start, stop) for start, stop in zip(starts, stops, strict=True)],
        "hovertemplate": "%{customdata}: %{y} forløb<extra></extra>",
    }
    layout = _layout(
        title, "Forløb", shapes=shapes, hovermode="closest", bargap=0,
        xaxis={"title": {"text": "Uger fra start til slut"}, "range": [0, ends[-1]], "tickvals": starts, "tickangle": 0,
               "ticktext": [str(a) if b < OPEN_BIN else f"{a}+" for a, b in zip(starts, stops, strict=True)]},
    )
    return _figure([bars], _subtitle(_legend_under_axis_title(layout), ended))


REFERRAL_DIMENSIONS: dict[str, tuple[dict[str, str], str]] = {  # dimension → (codes, Danish name)
    "referrer": (codes.REFERRERS, "henviser"),
    "target_group": (codes.TARGET_GROUPS, "målgruppe"),
}


def referrals_by_month(frame: pd.DataFrame, *, period_label: str, dimension: str,
                       jobcenter_quota: int | None = None) -> Figure:
    """Referrals received per month, stacked by referrer or by target group.

    `frame`: month, dimension, code, count (`fokus.metrics.referrals_by_month`); only the rows of
    `dimension` are drawn. A jobcenter quota (a yearly ceiling for one part of the stack) is
    stated beside the jobcenter's count rather than drawn as a line the whole stack would be
    read against.
    """
    labels, name = REFERRAL_DIMENSIONS[dimension]
    title = _title(f"Henvisninger pr. måned efter {name},", period_label)
    rows = frame[frame["dimension"] == dimension] if not frame.empty else frame
    total = int(rows["count"].sum()) if not rows.empty else 0
    received = f"{fmt.integer(total)} henvisninger modtaget"
    if total == 0:
        return _no_data(title, received)
    months = sorted(set(rows["month"]))
    counts = {(m, c): int(n) for m, c, n in zip(rows["month"], rows["code"], rows["count"], strict=True)}
    month_labels = [fmt.month_label(m) for m in months]
    data = [{
        "type": "bar", "x": month_labels, "y": [counts.get((m, code), 0) for m in months], "name": label,
        "marker": {"color": CODE_COLOURS[rank], "pattern": _pattern(PATTERNS[rank])},
        "hovertemplate": f"{label}: %{{y}}<extra></extra>",
    } for rank, (code, label) in enumerate(labels.items())]
    if dimension == "referrer" and jobcenter_quota is not None:
        jobcenter = sum(counts.get((m, "jobcenter"), 0) for m in months)
        received += (f" · heraf {codes.REFERRERS['jobcenter']} {fmt.integer(jobcenter)} "
                     f"(aftale: højst {fmt.integer(jobcenter_quota)} om året)")
    layout = _layout(
        title, "Henvisninger", barmode="stack", height=400,
        legend={"traceorder": "normal"},
        xaxis=_month_ticks(month_labels),
    )
    return _figure(data, _subtitle(layout, received))


def next_steps(frame: pd.DataFrame, *, period_label: str) -> Figure:
    """What citizens went on to after their course: the share per next step.

    `frame`: code, courses, share (`fokus.metrics.next_steps`). The further measures under
    serviceloven (DESIGN §3: § 85 and other SEL) have their own colour, named in the legend.
    """
    title = _title("Efterfølgende indsats efter forløb afsluttet", period_label)
    total = int(frame["courses"].sum()) if not frame.empty else 0
    ended = f"{fmt.integer(total)} afsluttede forløb med registreret indsats"
    if total == 0:
        return _no_data(title, ended)
    further = frame["code"].isin(codes.FURTHER_MEASURES)
    data = []
    for part, name, colour, pattern in ((further, "Videre indsats efter serviceloven", ORANGE, "/"),
                                        (~further, "Uden videre SEL-indsats", BLUE, "")):
        rows = frame[part]
        shares = [_present(s) for s in rows["share"]]
        data.append({
            "type": "bar", "y": [codes.label(codes.NEXT_STEPS, c) for c in rows["code"]],
            "x": [None if s is None else s * 100 for s in shares], "orientation": "h", "name": name,
            "marker": {"color": colour, "pattern": _pattern(pattern)},
            "text": [f"{fmt.percent(s)} ({fmt.integer(int(n))})" for s, n in zip(shares, rows["courses"], strict=True)],
            "textposition": "outside", "cliponaxis": False, "hovertemplate": "%{y}: %{text}<extra></extra>",
        })
    layout = _layout(
        title, "", barmode="relative", hovermode="closest",
        yaxis={"autorange": "reversed", "rangemode": None, "categoryorder": "array",
               "categoryarray": [codes.label(codes.NEXT_STEPS, c) for c in frame["code"]]},
        xaxis={"title": {"text": "Andel af forløbene"}, "range": [0, 108], **_PERCENT_TICKS},
    )
    further_share = int(frame.loc[further, "courses"].sum()) / total
    return _figure(data, _subtitle(
        _legend_under_axis_title(layout, height=max(380, 200 + 40 * len(frame))),
        # the share first: a half-width chart at laptop size cuts the end of a long subtitle
        f"Videre SEL-indsats i alt {fmt.percent(further_share)} · {ended} (antal i parentes)"))


GROUPS_SHOWN = 20  # bars in the group chart; the table behind it lists every group


def group_activity(frame: pd.DataFrame, *, period_label: str) -> Figure:
    """Each group's members at the period's end against its places, with the period's attendance.

    `frame`: name, capacity, members, sessions, attendance_share (`fokus.metrics.group_activity`).
    """
    title = _title("Hold: deltagere mod pladser og fremmøde,", period_label)
    if frame.empty:
        return _no_data(title)
    every = len(frame)
    frame = frame.tail(GROUPS_SHOWN)  # ordered by start: the latest groups, and a readable chart at any size
    # "Hold · Enhed" (several units) on two lines: the names would take half a half-width chart
    names = ["<br>".join(fmt.chart_text(name).rsplit(" · ", 1)) for name in frame["name"]]
    data, layout = _against_limit(
        names, frame["members"].astype(int).tolist(), frame["capacity"].astype(int).tolist(),
        count_name="Deltagere", limit_name="Pladser", title=title,
        x_title="Deltagere med aktivt forløb ved periodens slutning",
    )
    beside = {"x": 1, "xref": "paper", "xanchor": "left", "xshift": 14, "showarrow": False, "align": "left"}
    layout = _merged(layout, margin={"r": 150}, annotations=[
        beside | {"y": 1, "yref": "paper", "yanchor": "bottom", "text": "<b>Fremmøde</b>"},
        *(beside | {"y": name, "yref": "y",
                    "text": f"{fmt.percent(_present(share))} · {fmt.integer(held)} {'møde' if held == 1 else 'møder'}"
                    if held else "ingen møder"}
          for name, share, held in zip(names, frame["attendance_share"], frame["sessions"].astype(int), strict=True)),
    ])
    note = "Fremmøde: til stede af tilmeldte på periodens holdmøder"
    if every > GROUPS_SHOWN:
        note += f"<br>De {GROUPS_SHOWN} senest startede af {fmt.integer(every)} hold; alle står i tabellen"
    layout = _subtitle(_legend_under_axis_title(layout, height=max(300, 190 + 44 * len(names))), note)
    # a line of its own between the subtitle and the plot for the "Fremmøde" heading over the notes
    return _figure(data, _merged(layout, margin={"t": layout["margin"]["t"] + _TITLE_LINE_PX}))


# ---------------------------------------------------------------------------------------
# The tables behind the charts, to read and download: Danish headers, Danish values.

def _shares(values: pd.Series) -> list[str]:
    return [fmt.percent(_present(v), 1) for v in values]


def _numbers(values: pd.Series, decimals: int = 1) -> list[str]:
    return [fmt.number(_present(v), decimals) for v in values]


def _counts(values: pd.Series) -> list[int]:
    return [int(v) for v in values]


def _monthly_starts_table(frame: pd.DataFrame) -> pd.DataFrame:
    starts, group = _counts(frame["starts"]), _counts(frame["group_starts"])
    return pd.DataFrame({
        "Måned": [fmt.month_label(m) for m in frame["month"]], "Gruppe": group,
        "Individuelt": [n - g for n, g in zip(starts, group, strict=True)], "I alt": starts,
    })


def _load_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Dato": [fmt.day(d) for d in frame["day"]], "Aktive forløb": _counts(frame["active"]),
        "Venteliste": _counts(frame["waiting"]), "Kapacitet": _counts(frame["capacity"]),
    })


def _group_share_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Kvartal": [_quarter_label(q) for q in frame["quarter"]], "Forløb startet": _counts(frame["starts"]),
        "Heraf i gruppe": _counts(frame["group_starts"]), "Andel i gruppe": _shares(frame["group_share"]),
    })


def _ors_first_last_table(frame: pd.DataFrame) -> pd.DataFrame:
    first, last, progress = _first_last_means(frame)
    return pd.DataFrame({
        "Afsluttede forløb med mindst to målinger": [_pair_count(frame)],
        "Gennemsnit ved første måling": [fmt.number(first, 1)],
        "Gennemsnit ved sidste måling": [fmt.number(last, 1)],
        "Fremgang": [fmt.signed_percent(progress)],
    })


def _ors_pairs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The histogram's own data: courses per 1-point bin of change and reliable-change class."""
    counts = _binned_changes(frame)
    bins = sorted({b for b, _ in counts})
    return pd.DataFrame({
        "Ændring fra (point)": [_points(b) for b in bins],
        "Ændring til under (point)": [_points(b + 1) for b in bins],
        **{codes.label(codes.ORS_CHANGES, change_class): [counts[(b, change_class)] for b in bins]
           for change_class in ORS_CHANGE_STYLE},
    })


def _ors_by_session_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Måling nr.": _counts(frame["session"]), "Forløb": _counts(frame["n"]),
        "Gennemsnitlig ORS-total": _numbers(frame["mean"]),
        "95 % konfidensinterval, nedre": _numbers(frame["low"]),
        "95 % konfidensinterval, øvre": _numbers(frame["high"]),
    })


def _duration_table(frame: pd.DataFrame) -> pd.DataFrame:
    bins = zip(_counts(frame["weeks_from"]), _counts(frame["weeks_to"]), strict=True)
    return pd.DataFrame({
        "Varighed": [_duration_label(weeks_from, weeks_to) for weeks_from, weeks_to in bins],
        "Afsluttede forløb": _counts(frame["courses"]),
    })


def _referrals_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per month, one column per code; named by dimension too when the frame holds both."""
    dimensions = [d for d in REFERRAL_DIMENSIONS if d in set(frame["dimension"])] or list(REFERRAL_DIMENSIONS)
    counts = {(m, d, c): int(n) for m, d, c, n in zip(frame["month"], frame["dimension"], frame["code"],
                                                        frame["count"], strict=True)}
    months = sorted(set(frame["month"]))
    table = pd.DataFrame({"Måned": [fmt.month_label(m) for m in months]})
    for dimension in dimensions:
        labels, name = REFERRAL_DIMENSIONS[dimension]
        for code, label in labels.items():
            header = label if len(dimensions) == 1 else f"{name.capitalize()}: {label}"
            table[header] = [counts.get((m, dimension, code), 0) for m in months]
    return table


def _next_steps_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Efterfølgende indsats": [codes.label(codes.NEXT_STEPS, c) for c in frame["code"]],
        "Forløb": _counts(frame["courses"]), "Andel": _shares(frame["share"]),
    })


def _group_activity_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Hold": frame["name"].tolist(), "Pladser": _counts(frame["capacity"]),
        "Deltagere ved periodens slutning": _counts(frame["members"]),
        "Holdmøder i perioden": _counts(frame["sessions"]), "Fremmøde": _shares(frame["attendance_share"]),
    })


_TABLES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "monthly_starts": _monthly_starts_table,
    "load_over_time": _load_table,
    "group_share_by_quarter": _group_share_table,
    "ors_first_last": _ors_first_last_table,
    "ors_change_distribution": _ors_pairs_table,
    "ors_by_session": _ors_by_session_table,
    "duration_histogram": _duration_table,
    "referrals_by_month": _referrals_table,
    "next_steps": _next_steps_table,
    "group_activity": _group_activity_table,
}


def table_for(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table behind chart `name` as a reader downloads it: Danish headers, dates dd.mm.yyyy,
    codes as labels, shares as '70,0 %' and '–' where there is nothing to compute from.

    Counts stay numbers, so that a spreadsheet can add them up.
    """
    if name not in _TABLES:
        raise ValueError(f"Ingen tabel hedder {name!r}; kendte: {', '.join(_TABLES)}")
    return _TABLES[name](frame)


# ---------------------------------------------------------------------------------------
# The meeting screen: large, calm bars from numbers already suppressed (fokus.screen)

SCREEN_THEMES = {  # text, grid, background; the bar blue passes 3:1 against both backgrounds
    "light": ("#101820", "#c9d1d6", "#ffffff", BLUE),
    "dark": ("#f4f7f9", "#3a4650", "#0d1418", SKY),
}


def screen_bars(frame: pd.DataFrame, *, title: str, percent: bool = False,
                band: tuple[float, float] | None = None, dark: bool = False, height: int = 460) -> Figure:
    """Bars with their text above them ("<5", "skjult" and "for få" where a value is hidden,
    drawn without a bar; inside the top of a tall bar), the target as a band or a dashed line; no hover,
    no toolbar."""
    text, grid, background, bar = SCREEN_THEMES["dark" if dark else "light"]
    values = [_present(value) for value in frame["value"]]
    scale = 100 if percent else 1
    shown = [value * scale for value in values if value is not None]
    top = 100 if percent else max([*shown, band[1] * scale if band else 0, 1])
    # A tall bar carries its figure inside its top, so a target line across the bars never runs
    # through the figure; a low or hidden one carries it above.
    inside = [value is not None and value * scale >= top * 0.2 for value in values]
    shapes = []
    if band is not None:
        low, high = band[0] * scale, band[1] * scale
        shapes.append(_band(low, high) if high > low else _across_x(
            "line", low, low, line={"color": "#7fd1b9" if dark else TARGET_LINE, "dash": "dash", "width": 4},
            layer="below"))  # between the bars, not through their figures
    return _figure([{
        "type": "bar", "x": list(frame["label"]), "y": [0 if value is None else value * scale for value in values],
        "text": list(frame["text"]), "textposition": ["inside" if flag else "outside" for flag in inside],
        "insidetextanchor": "end", "textangle": 0,
        "textfont": {"size": 30, "color": [(background if dark else "#ffffff") if flag else text for flag in inside]},
        "marker": {"color": bar}, "cliponaxis": False, "hoverinfo": "skip",
    }], {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 30, "color": text}},
        "separators": ",.", "font": {"color": text, "size": 24}, "height": height,
        "margin": {"l": 20, "r": 20, "t": 70, "b": 20}, "plot_bgcolor": background, "paper_bgcolor": background,
        "showlegend": False, "hovermode": False, "bargap": 0.35, "shapes": shapes,
        "yaxis": {"range": [0, top * 1.25], "gridcolor": grid, "showticklabels": False, "zeroline": False},
        "xaxis": {"tickfont": {"size": 26, "color": text}},
    })
