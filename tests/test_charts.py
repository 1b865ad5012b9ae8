"""The dashboard's charts (issue 5) and the tables behind them, as a reader checks them.

The frames are built by hand with exactly the columns of the series contract (the series
themselves are tested in test_metrics.py): the title names what is counted and the period, the
target sits at its value, an empty period says so, labels come from fokus.codes, numbers and
dates are Danish, colours are Okabe–Ito, and classes part by name and pattern, not colour alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from fokus import charts, codes, fmt

PERIOD = "01.12.2025–30.11.2026"

OKABE_ITO = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"}
# The target's dark green (WCAG AA on white), the pale fills behind a band, and white edges.
ALSO_ALLOWED = {"#006b4f", "rgba(0, 158, 115, 0.14)", "rgba(86, 180, 233, 0.18)", "#ffffff"}


# ---------------------------------------------------------------------------------------
# Frames with the contract's columns, small enough to work out by hand

def load_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "day": [date(2026, 10, 4), date(2026, 10, 11), date(2026, 10, 15)],
        "active": [12, 14, 15], "waiting": [3, 1, 0], "capacity": [16, 16, 16],
    })


def quarter_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "quarter": [date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)],
        "starts": [3, 0, 4], "group_starts": [2, 0, 4], "group_share": [2 / 3, None, 1.0],
    })


def pairs_of(first: list[float], last: list[float], classes: list[str], below: list[bool],
             change: list[float] | None = None) -> pd.DataFrame:
    """An `ors_pairs_frame` with one row per pair (each a kind of its own, counted once)."""
    return pd.DataFrame({
        "change": change or [b - a for a, b in zip(first, last, strict=True)], "change_class": classes,
        "below_cutoff": below, "pairs": [1] * len(first), "first_sum": first, "last_sum": last,
    })


def pairs_frame() -> pd.DataFrame:
    """Four pairs: first 10, 20, 30, 20 and last 16, 24, 32, 8 (RCI 5, cutoff 25): +6, +4, +2, −12."""
    return pairs_of([10.0, 20.0, 30.0, 20.0], [16.0, 24.0, 32.0, 8.0],
                    ["improved", "unchanged", "unchanged", "deteriorated"], [True, True, False, True])


def session_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "session": [1, 2, 3], "n": [5, 3, 1], "mean": [18.0, 21.5, 24.0],
        "low": [15.0, 17.2, None], "high": [21.0, 25.8, None],
    })


def duration_frame(courses: list[int] | None = None) -> pd.DataFrame:
    weeks_from = list(range(0, 27, 2))
    counts = courses if courses is not None else [0, 0, 0, 0, 1, 2, 5, 7, 3, 1, 0, 0, 0, 1]
    return pd.DataFrame({"weeks_from": weeks_from, "weeks_to": weeks_from[1:] + [999], "courses": counts})


def referral_frame() -> pd.DataFrame:
    """Two months; referrers 4 + 1 + 0 and 2 + 2 + 1, target groups 5 + 0 + 0 and 3 + 1 + 1."""
    counts = {
        ("referrer", "socialcenter"): (4, 2), ("referrer", "jobcenter"): (1, 2), ("referrer", "other"): (0, 1),
        ("target_group", "psychic"): (5, 3), ("target_group", "physical"): (0, 1),
        ("target_group", "social"): (0, 1),
    }
    rows = [{"month": month, "dimension": dimension, "code": code, "count": values[i]}
            for i, month in enumerate([date(2026, 1, 1), date(2026, 2, 1)])
            for (dimension, code), values in counts.items()]
    return pd.DataFrame(rows)


def next_step_frame() -> pd.DataFrame:
    """Eight ended courses with a next step: 4 none, 1 § 85, 1 other SEL, 2 job."""
    courses = {"none": 4, "sel85": 1, "other_sel": 1, "job": 2, "education": 0, "other": 0}
    return pd.DataFrame({"code": list(courses), "courses": list(courses.values()),
                         "share": [n / 8 for n in courses.values()]})


def group_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["Angst og uro", "Stress", "Søvn"], "capacity": [8, 6, 10], "members": [6, 7, 0],
        "sessions": [4, 2, 0], "attendance_share": [0.75, None, None],
    })


def monthly_frame() -> pd.DataFrame:
    return pd.DataFrame({"month": [date(2026, 1, 1), date(2026, 2, 1)], "starts": [5, 0], "group_starts": [3, 0]})


# Every new chart with its sample frame, an empty period, and what its title must name.
CHARTS: dict[str, tuple[Callable[[pd.DataFrame], go.Figure], Callable[[], pd.DataFrame], pd.DataFrame, str]] = {
    "load_over_time": (lambda f: charts.load_over_time(f, period_label=PERIOD), load_frame,
                       load_frame().assign(active=0, waiting=0), "Aktive forløb og venteliste"),
    "group_share_by_quarter": (lambda f: charts.group_share_by_quarter(f, period_label=PERIOD, target=0.7),
                               quarter_frame, quarter_frame().assign(starts=0, group_starts=0, group_share=None),
                               "Andel af forløbsstarter i gruppe pr. kvartal"),
    "ors_first_last": (lambda f: charts.ors_first_last(f, period_label=PERIOD, cutoff=25.0), pairs_frame,
                       pairs_frame().iloc[0:0], "gennemsnit ved første og sidste måling"),
    "ors_change_distribution": (lambda f: charts.ors_change_distribution(f, period_label=PERIOD, rci=5.0),
                                pairs_frame, pairs_frame().iloc[0:0], "ændring fra første til sidste måling"),
    "ors_by_session": (lambda f: charts.ors_by_session(f, period_label=PERIOD, cutoff=25.0), session_frame,
                       session_frame().iloc[0:0], "gennemsnitlig total pr. måling, forløb startet"),
    "duration_histogram": (lambda f: charts.duration_histogram(f, period_label=PERIOD, weeks_min=12, weeks_max=16,
                                                               max_months=6),
                           duration_frame, duration_frame([0] * 14), "Varighed af forløb afsluttet"),
    "referrals_by_month": (lambda f: charts.referrals_by_month(f, period_label=PERIOD, dimension="referrer"),
                           referral_frame, referral_frame().assign(count=0), "Henvisninger pr. måned efter henviser"),
    "next_steps": (lambda f: charts.next_steps(f, period_label=PERIOD), next_step_frame,
                   next_step_frame().assign(courses=0, share=None), "Efterfølgende indsats efter forløb afsluttet"),
    "group_activity": (lambda f: charts.group_activity(f, period_label=PERIOD), group_frame,
                       group_frame().iloc[0:0], "Hold: deltagere mod pladser og fremmøde"),
}


def legend(fig: go.Figure) -> list[str]:
    """What the legend lists: traces and shapes that show there, in order of drawing."""
    traces = [t.name for t in fig.data if t.name and t.showlegend is not False]
    shapes = [s.name for s in fig.layout.shapes if s.showlegend]
    return traces + shapes


def target_lines(fig: go.Figure) -> dict[str, float]:
    """Horizontal targets across the plot, by their legend name → the y they are drawn at."""
    return {s.name: s.y0 for s in fig.layout.shapes if s.type == "line" and s.y0 == s.y1 and s.showlegend}


def vertical_lines(fig: go.Figure) -> list[float]:
    return [s.x0 for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]


def texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def trace(fig: go.Figure, name: str) -> go.Bar | go.Scatter:
    return next(t for t in fig.data if t.name == name)


def colours(fig: go.Figure) -> set[str]:
    found: set[str] = set()

    def add(value: object) -> None:
        if isinstance(value, str):
            found.add(value.lower())
        elif isinstance(value, list | tuple):
            for item in value:
                add(item)

    for t in fig.data:
        add(t.marker.color if "marker" in t else None)
        add(t.line.color if "line" in t else None)
        add(getattr(t, "fillcolor", None))
    for s in fig.layout.shapes:
        add(s.line.color)
        add(s.fillcolor)
    return found


# ---------------------------------------------------------------------------------------
# What every chart does

@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_title_names_what_it_counts_and_the_period(name: str) -> None:
    draw, sample, _, counts = CHARTS[name]
    title = draw(sample()).layout.title.text
    assert counts in title and PERIOD in title


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_says_there_is_no_data_when_the_period_is_empty(name: str) -> None:
    draw, _, empty, counts = CHARTS[name]
    fig = draw(empty)
    assert texts(fig) == [charts.NO_DATA] == ["Ingen data i perioden"]
    assert fig.data == ()  # no empty axes, no zero bars
    assert counts in fig.layout.title.text and PERIOD in fig.layout.title.text
    fig.to_json()  # and it renders


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_uses_danish_separators_and_colour_blind_safe_colours(name: str) -> None:
    draw, sample, _, _ = CHARTS[name]
    fig = draw(sample())
    assert fig.layout.separators == ",."  # decimal comma, thousands dot
    assert colours(fig) <= OKABE_ITO | ALSO_ALLOWED


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_is_drawn_in_plotlys_default_template(name: str) -> None:
    # the figures are built as one dict without a template: plotly must still apply its own
    draw, sample, empty, _ = CHARTS[name]
    for fig in (draw(sample()), draw(empty)):
        assert fig.layout.template == pio.templates[pio.templates.default]


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_hands_out_plotlys_own_dict_made_once(name: str) -> None:
    # Streamlit asks for the dict on every run that draws a cached figure
    draw, sample, _, _ = CHARTS[name]
    fig = draw(sample())
    sent = fig.to_dict()
    assert fig.to_dict() is sent
    assert sent == go.Figure.to_dict(fig)  # what plotly itself makes of the figure, fresh


# ---------------------------------------------------------------------------------------
# Each chart

def test_load_over_time_draws_active_and_waiting_against_the_capacity_line() -> None:
    fig = charts.load_over_time(load_frame(), period_label=PERIOD)
    assert list(trace(fig, "Aktive forløb").y) == [12, 14, 15]
    assert list(trace(fig, "Venteliste").y) == [3, 1, 0]
    assert target_lines(fig) == {"Kapacitet: 16 samtidige forløb": 16}
    assert fig.layout.shapes[0].line.dash == "dash"
    # told apart without colour: a solid line with circles, a dotted one with squares
    active, waiting = trace(fig, "Aktive forløb"), trace(fig, "Venteliste")
    assert (active.line.dash, active.marker.symbol) != (waiting.line.dash, waiting.marker.symbol)
    assert fig.layout.xaxis.hoverformat == "%d.%m.%Y"


def test_load_over_time_with_courses_but_nobody_waiting_is_not_empty() -> None:
    fig = charts.load_over_time(load_frame().assign(waiting=0), period_label=PERIOD)
    assert charts.NO_DATA not in texts(fig)
    assert list(trace(fig, "Venteliste").y) == [0, 0, 0]


def test_group_share_by_quarter_shows_percent_per_quarter_against_the_target_line() -> None:
    fig = charts.group_share_by_quarter(quarter_frame(), period_label=PERIOD, target=0.7)
    bars = trace(fig, "Startet i gruppe")
    assert list(bars.x) == ["K4 2025", "K1 2026", "K2 2026"]
    assert bars.y[0] == pytest.approx(200 / 3) and bars.y[1] is None and bars.y[2] == 100
    assert list(bars.text) == ["67 %<br>n=3", f"{fmt.NOTHING}<br>n=0", "100 %<br>n=4"]
    assert target_lines(fig) == {"Mål: 70 %": 70}
    assert "ingen starter" in texts(fig)  # the quarter with no starts says why it has no bar
    assert fig.layout.yaxis.ticktext[-1] == "100 %"


def test_group_share_by_quarter_without_a_common_target_draws_no_line() -> None:
    fig = charts.group_share_by_quarter(quarter_frame(), period_label=PERIOD, target=None)
    assert target_lines(fig) == {}


def test_ors_first_last_shows_the_two_means_the_progress_and_the_cutoff() -> None:
    # means: first (10 + 20 + 30 + 20) / 4 = 20, last (16 + 24 + 32 + 8) / 4 = 20 → ±0 %
    fig = charts.ors_first_last(pairs_frame(), period_label=PERIOD, cutoff=25.0)
    bars = fig.data[0]
    assert list(bars.x) == ["Første måling", "Sidste måling"] and list(bars.y) == [20, 20]
    assert list(bars.text) == ["20,0", "20,0"]
    assert "Fremgang: <b>±0,0 %</b>" in texts(fig)
    assert target_lines(fig) == {"Klinisk grænse (25)": 25}
    assert "4 afsluttede forløb med mindst to målinger" in fig.layout.title.subtitle.text
    # first 10 → last 16 and first 20 → last 27: means 15 and 21.5, progress 6.5 / 15 = +43,3 %
    two = pairs_of([10.0, 20.0], [16.0, 27.0], ["improved", "improved"], [True, True])
    assert "Fremgang: <b>+43,3 %</b>" in texts(charts.ors_first_last(two, period_label=PERIOD, cutoff=25.5))
    assert "Klinisk grænse (25,5)" in target_lines(charts.ors_first_last(two, period_label=PERIOD, cutoff=25.5))


def test_ors_change_distribution_stacks_one_point_bins_by_reliable_change_class() -> None:
    fig = charts.ors_change_distribution(pairs_frame(), period_label=PERIOD, rci=5.0)
    names = [codes.ORS_CHANGES[c] for c in ("deteriorated", "unchanged", "improved")]
    assert legend(fig) == [f"{names[0]} (1)", f"{names[1]} (2)", f"{names[2]} (1)",
                           "Pålidelig ændring: ±5 point"]
    assert fig.layout.barmode == "stack"
    # bins run from −12 (the lowest change) to +6; each bar is 1 point wide at its bin's middle
    improved = trace(fig, f"{names[2]} (1)")
    counted = {x: y for x, y in zip(improved.x, improved.y, strict=True) if y}
    assert counted == {6.5: 1} and improved.width == 1
    unchanged = trace(fig, f"{names[1]} (2)")
    assert {x: y for x, y in zip(unchanged.x, unchanged.y, strict=True) if y} == {2.5: 1, 4.5: 1}
    assert sorted(vertical_lines(fig)) == [-5, 5]
    # and apart without colour: each class has its own fill pattern
    assert len({t.marker.pattern.shape for t in fig.data}) == 3


def test_ors_change_bins_are_counted_from_whole_tenths() -> None:
    # 8.2 − 3.2 is 4.999999999999999 in floating point: it belongs in the bin from 5, as 5.0 does
    frame = pairs_of([3.2, 20.0], [8.2, 25.0], ["improved", "improved"], [True, True], change=[8.2 - 3.2, 5.0])
    fig = charts.ors_change_distribution(frame, period_label=PERIOD, rci=5.0)
    improved = fig.data[2]
    assert list(improved.x) == [5.5] and list(improved.y) == [2]


def test_the_ors_charts_and_tables_weigh_each_kind_of_pair_by_how_many_pairs_it_counts() -> None:
    # 3 pairs +6 (first 10, 10, 10 → last 16, 16, 16) and 1 pair −2 (20 → 18): 4 pairs in two rows
    counted = pd.DataFrame({"change": [-2.0, 6.0], "change_class": ["unchanged", "improved"],
                            "below_cutoff": [True, True], "pairs": [1, 3], "first_sum": [20.0, 30.0],
                            "last_sum": [18.0, 48.0]})
    means = charts.ors_first_last(counted, period_label=PERIOD, cutoff=25.0)
    assert list(means.data[0].y) == [12.5, 16.5]  # 50 / 4 and 66 / 4: +32,0 %
    assert "Fremgang: <b>+32,0 %</b>" in texts(means)
    assert "4 afsluttede forløb med mindst to målinger" in means.layout.title.subtitle.text
    spread = charts.ors_change_distribution(counted, period_label=PERIOD, rci=5.0)
    improved = trace(spread, f"{codes.ORS_CHANGES['improved']} (3)")
    assert {x: y for x, y in zip(improved.x, improved.y, strict=True) if y} == {6.5: 3}
    assert spread.layout.yaxis.dtick == 1  # 3 in the tallest bar: a tick per course (up to 8)
    crowded = counted.assign(pairs=[1, 3000])  # one row, 3,000 pairs: no tick per course (3,000 gridlines)
    assert charts.ors_change_distribution(crowded, period_label=PERIOD, rci=5.0).layout.yaxis.dtick is None
    few = counted.assign(pairs=[1, 1])
    assert charts.ors_change_distribution(few, period_label=PERIOD, rci=5.0).layout.yaxis.dtick == 1
    table = charts.table_for("ors_change_distribution", counted)
    assert table[codes.ORS_CHANGES["improved"]].tolist()[-1] == 3
    assert charts.table_for("ors_first_last", counted).to_dict("records")[0]["Fremgang"] == "+32,0 %"


def test_ors_change_distribution_without_a_common_rci_draws_no_lines() -> None:
    fig = charts.ors_change_distribution(pairs_frame(), period_label=PERIOD, rci=None)
    assert vertical_lines(fig) == []


def test_ors_by_session_draws_the_mean_its_confidence_band_and_the_cutoff() -> None:
    fig = charts.ors_by_session(session_frame(), period_label=PERIOD, cutoff=25.0)
    mean = trace(fig, "Gennemsnit")
    assert list(mean.x) == [1, 2, 3] and list(mean.y) == [18.0, 21.5, 24.0]
    assert [row[0] for row in mean.customdata] == ["5", "3", "1"]  # n in the hover
    assert mean.customdata[2][1] == fmt.NOTHING  # one course: no band at measurement 3
    band = trace(fig, "95 % konfidensinterval")
    # the band's outline: along the highs of measurements 1–2, back along the lows
    assert list(band.x) == [1, 2, 2, 1] and list(band.y) == [21.0, 25.8, 17.2, 15.0]
    assert target_lines(fig) == {"Klinisk grænse (25)": 25}
    assert tuple(fig.layout.yaxis.range) == (0, 40.5)
    assert fig.layout.xaxis.title.text == "Måling nr."


def test_duration_histogram_shades_the_target_weeks_and_marks_six_months() -> None:
    fig = charts.duration_histogram(duration_frame(), period_label=PERIOD, weeks_min=12, weeks_max=16, max_months=6)
    bars = fig.data[0]
    assert list(bars.x[:2]) == [1, 3] and bars.x[-1] == 27  # 2-week bins at their middles
    assert list(bars.y) == [0, 0, 0, 0, 1, 2, 5, 7, 3, 1, 0, 0, 0, 1]
    assert bars.customdata[0] == "0 til under 2 uger" and bars.customdata[-1] == "26 uger og derover"
    band = next(s for s in fig.layout.shapes if s.type == "rect")
    assert (band.x0, band.x1, band.name) == (12, 16, "Mål: 12–16 uger")
    assert vertical_lines(fig) == [26]  # 6 months = 26 weeks
    assert "Højst 6 måneder" in legend(fig)
    assert fig.layout.xaxis.ticktext[-1] == "26+"
    assert "20 afsluttede forløb" in fig.layout.title.subtitle.text


def test_duration_histogram_without_targets_draws_only_the_bars() -> None:
    fig = charts.duration_histogram(duration_frame(), period_label=PERIOD, weeks_min=None, weeks_max=None,
                                    max_months=None)
    assert fig.layout.shapes == ()


def test_referrals_by_month_stacks_the_codes_of_one_dimension_with_danish_labels() -> None:
    fig = charts.referrals_by_month(referral_frame(), period_label=PERIOD, dimension="referrer")
    assert legend(fig) == list(codes.REFERRERS.values()) == ["Socialcenter", "Jobcenter", "Andet"]
    assert list(fig.data[0].x) == ["jan 2026", "feb 2026"]
    assert [list(t.y) for t in fig.data] == [[4, 2], [1, 2], [0, 1]]
    assert fig.layout.barmode == "stack"
    assert fig.layout.title.subtitle.text == "10 henvisninger modtaget"
    assert len({t.marker.pattern.shape for t in fig.data}) == 3  # parted by pattern too

    groups = charts.referrals_by_month(referral_frame(), period_label=PERIOD, dimension="target_group")
    assert "efter målgruppe" in groups.layout.title.text
    assert legend(groups) == ["Psykisk", "Fysisk", "Socialt"]
    assert [list(t.y) for t in groups.data] == [[5, 3], [0, 1], [0, 1]]


def test_referrals_by_month_states_the_jobcenter_quota_beside_the_jobcenters_count() -> None:
    fig = charts.referrals_by_month(referral_frame(), period_label=PERIOD, dimension="referrer",
                                    jobcenter_quota=120)
    # two lines: on one, a half-width chart on a laptop would cut it
    assert fig.layout.title.subtitle.text == "10 henvisninger modtaget<br>heraf Jobcenter 3 (aftale: højst 120 om året)"
    groups = charts.referrals_by_month(referral_frame(), period_label=PERIOD, dimension="target_group",
                                       jobcenter_quota=120)
    assert "Jobcenter" not in groups.layout.title.subtitle.text


def test_next_steps_shows_each_share_in_percent_with_its_count_and_the_further_measures_apart() -> None:
    fig = charts.next_steps(next_step_frame(), period_label=PERIOD)
    further, rest = trace(fig, "Videre indsats efter serviceloven"), trace(fig, "Uden videre SEL-indsats")
    assert list(further.y) == ["§ 85", "Anden SEL-indsats"] and list(further.x) == [12.5, 12.5]
    assert list(further.text) == ["12 % (1)", "12 % (1)"]  # 12.5 % shown whole, as fmt.percent rounds
    assert list(rest.y) == ["Ingen", "Job", "Uddannelse", "Andet"] and list(rest.x) == [50, 25, 0, 0]
    assert list(rest.text) == ["50 % (4)", "25 % (2)", "0 % (0)", "0 % (0)"]
    assert list(fig.layout.yaxis.categoryarray) == list(codes.NEXT_STEPS.values())  # in the codes' order
    assert further.marker.pattern.shape != rest.marker.pattern.shape
    # (1 + 1) / 8 = 25 % went on to a further measure under serviceloven
    assert fig.layout.title.subtitle.text.startswith("Videre SEL-indsats i alt 25 %<br>")


def test_a_title_or_subtitle_too_long_for_half_a_laptop_screen_goes_on_two_lines() -> None:
    # plotly cuts a long line (tests/e2e/test_overblik.py looks at the drawn charts at 1366 px)
    short = charts.monthly_starts(monthly_frame(), 150, 200, PERIOD).layout
    long = charts.group_share_by_quarter(quarter_frame(), period_label=PERIOD, target=0.7).layout
    assert short.title.text == f"Forløbsstarter pr. måned, {PERIOD}"
    assert long.title.text == f"Andel af forløbsstarter i gruppe pr. kvartal,<br>{PERIOD}"
    assert all(len(line) <= charts.TITLE_LINE for line in long.title.text.split("<br>"))
    assert long.margin.t > short.margin.t  # room for the second line
    assert charts._wrapped("a" * 40 + " · " + "b" * 30 + " · c") == "a" * 40 + "<br>" + "b" * 30 + " · c"


def test_group_activity_draws_members_against_places_with_the_attendance_beside() -> None:
    fig = charts.group_activity(group_frame(), period_label=PERIOD)
    bars, places = trace(fig, "Deltagere"), trace(fig, "Pladser")
    assert list(bars.y) == ["Angst og uro", "Stress", "Søvn"] and list(bars.x) == [6, 7, 0]
    assert list(places.x) == [8, 6, 10]
    assert list(bars.marker.color) == [charts.BLUE, charts.VERMILION, charts.BLUE]  # Stress is over
    assert "Over pladser" in legend(fig)
    assert texts(fig)[1:] == ["75 % · 4 møder", f"{fmt.NOTHING} · 2 møder", "ingen møder"]
    one = group_frame().assign(sessions=[1, 2, 0])
    assert texts(charts.group_activity(one, period_label=PERIOD))[1] == "75 % · 1 møde"
    assert fig.layout.xaxis.dtick == 2  # up to 10 places: whole numbers, every other one, not 11 crowded ticks


def test_group_activity_of_more_groups_than_it_draws_says_so_on_a_line_of_its_own() -> None:
    # beside the attendance note it ran into the "Fremmøde" heading over the notes at 1920 px
    many = pd.concat([group_frame()] * 8, ignore_index=True).assign(name=[f"Hold {n}" for n in range(24)])
    fig = charts.group_activity(many, period_label=PERIOD)
    assert len(trace(fig, "Deltagere").y) == charts.GROUPS_SHOWN == 20
    assert fig.layout.title.subtitle.text.endswith("<br>De 20 senest startede af 24 hold; alle står i tabellen")
    assert fig.layout.margin.t > charts.group_activity(group_frame(), period_label=PERIOD).layout.margin.t


def test_group_activity_names_a_group_of_several_units_on_two_lines() -> None:
    # "Hold · Enhed" on one line took half of a half-width chart and squeezed its axis
    frame = group_frame().assign(name=["Hold 3/2026 · FOKUS Nord", "Hold 3/2026 · FOKUS Syd", "Søvn"])
    fig = charts.group_activity(frame, period_label=PERIOD)
    names = ["Hold 3/2026<br>FOKUS Nord", "Hold 3/2026<br>FOKUS Syd", "Søvn"]
    assert list(trace(fig, "Deltagere").y) == names
    assert [note.y for note in fig.layout.annotations[1:]] == names  # each attendance note beside its bar


HOSTILE_NAME = '<a href="https://phish.example">Hold A</a> & <b>B</b>'
HOSTILE_LABEL = '&lt;a href="https://phish.example"&gt;Hold A&lt;/a&gt; &amp; &lt;b&gt;B&lt;/b&gt;'


def test_a_typed_name_is_drawn_as_typed_and_not_read_as_plotly_markup() -> None:
    # plotly reads <a href>, <b>, <br> and entities in labels: a group's name would be a link on the dashboard
    groups = group_frame().assign(name=[HOSTILE_NAME, "Stress", "Søvn"])
    occupancy = groups[["name", "members", "capacity"]]
    caseload = pd.DataFrame({"name": [HOSTILE_NAME], "active_courses": [3], "max_active_courses": [12]})
    drawn = [(charts.group_activity(groups, period_label=PERIOD), "Deltagere"),
             (charts.group_occupancy(occupancy, "i dag"), "Deltagere"),
             (charts.staff_caseload(caseload, "i dag"), "Aktive forløb")]
    for fig, bars in drawn:
        assert trace(fig, bars).y[0] == HOSTILE_LABEL
    several = groups.assign(name=[f"{HOSTILE_NAME} · <i>Nord</i>", "Stress", "Søvn"])
    assert trace(charts.group_activity(several, period_label=PERIOD), "Deltagere").y[0] \
        == f"{HOSTILE_LABEL}<br>&lt;i&gt;Nord&lt;/i&gt;"  # the line break between group and unit is still ours
    assert fmt.chart_text("Hold\nA") == "Hold A"


def test_monthly_starts_stacks_group_and_individual_against_the_yearly_band_by_twelve() -> None:
    # 150–200 starts a year is 12,5–16,7 a month: the band and its two dashed edges
    fig = charts.monthly_starts(monthly_frame(), 150, 200, PERIOD)
    assert fig.layout.title.text == f"Forløbsstarter pr. måned, {PERIOD}"
    assert list(trace(fig, "Gruppe").y) == [3, 0] and list(trace(fig, "Individuelt").y) == [2, 0]
    assert list(trace(fig, "Gruppe").x) == ["jan 2026", "feb 2026"] and fig.layout.barmode == "stack"
    band = fig.layout.shapes[0]
    assert (band.type, band.xref, band.x0, band.x1, band.layer) == ("rect", "x domain", 0, 1, "below")
    assert (band.y0, band.y1) == (12.5, pytest.approx(200 / 12))
    assert list(trace(fig, "Mål: 150–200 om året").y) == pytest.approx([200 / 12] * 2)
    assert legend(fig) == ["Gruppe", "Individuelt", "Mål: 150–200 om året"]  # the lower edge is not listed twice
    assert fig.layout.separators == ",." and colours(fig) <= OKABE_ITO | ALSO_ALLOWED


def test_screen_bars_draw_a_hidden_value_without_a_bar_and_the_target_as_a_band_or_a_line() -> None:
    frame = pd.DataFrame({"label": ["K2", "K3", "K4"], "value": [40, None, 3], "text": ["40", "<5", "3"]})
    fig = charts.screen_bars(frame, title="Forløb startet pr. kvartal", band=(38, 50))
    bars = fig.data[0]
    assert list(bars.y) == [40, 0, 3] and list(bars.text) == ["40", "<5", "3"]
    # the top is the band's 50: 40 is over a fifth of it and carries its figure inside; "<5" and 3 above
    assert list(bars.textposition) == ["inside", "outside", "outside"]
    band = fig.layout.shapes[0]
    assert (band.type, band.y0, band.y1, band.xref) == ("rect", 38, 50, "x domain")
    assert fig.layout.yaxis.range == (0, 62.5)  # 50 × 1,25: room for the text above the top
    assert fig.layout.hovermode is False and fig.layout.showlegend is False
    line = charts.screen_bars(frame, title="I forløb", band=(45, 45)).layout.shapes[0]
    assert (line.type, line.y0, line.y1, line.line.dash) == ("line", 45, 45, "dash")
    shares = charts.screen_bars(pd.DataFrame({"label": ["2024"], "value": [0.7], "text": ["70 %"]}),
                                title="Andel i gruppe", percent=True, band=(0.7, 0.7), dark=True)
    assert list(shares.data[0].y) == [70] and shares.layout.shapes[0].y0 == 70
    assert shares.layout.yaxis.range == (0, 125)  # a share's axis runs to 100 %
    assert shares.layout.paper_bgcolor == charts.SCREEN_THEMES["dark"][2]


# ---------------------------------------------------------------------------------------
# The tables behind the charts

def test_table_for_monthly_starts_splits_group_and_individual() -> None:
    table = charts.table_for("monthly_starts", monthly_frame())
    assert table.to_dict("records") == [
        {"Måned": "jan 2026", "Gruppe": 3, "Individuelt": 2, "I alt": 5},
        {"Måned": "feb 2026", "Gruppe": 0, "Individuelt": 0, "I alt": 0},
    ]


def test_table_for_load_over_time_has_danish_dates() -> None:
    table = charts.table_for("load_over_time", load_frame())
    assert list(table.columns) == ["Dato", "Aktive forløb", "Venteliste", "Kapacitet"]
    assert table["Dato"].tolist() == ["04.10.2026", "11.10.2026", "15.10.2026"]
    assert table["Aktive forløb"].tolist() == [12, 14, 15]


def test_table_for_group_share_shows_shares_with_one_decimal_and_a_dash_for_no_starts() -> None:
    table = charts.table_for("group_share_by_quarter", quarter_frame())
    assert table.to_dict("records") == [
        {"Kvartal": "K4 2025", "Forløb startet": 3, "Heraf i gruppe": 2, "Andel i gruppe": "66,7 %"},
        {"Kvartal": "K1 2026", "Forløb startet": 0, "Heraf i gruppe": 0, "Andel i gruppe": fmt.NOTHING},
        {"Kvartal": "K2 2026", "Forløb startet": 4, "Heraf i gruppe": 4, "Andel i gruppe": "100,0 %"},
    ]


def test_table_for_ors_first_last_is_the_summary_the_chart_shows() -> None:
    assert charts.table_for("ors_first_last", pairs_frame()).to_dict("records") == [{
        "Afsluttede forløb med mindst to målinger": 4, "Gennemsnit ved første måling": "20,0",
        "Gennemsnit ved sidste måling": "20,0", "Fremgang": "±0,0 %",
    }]
    empty = charts.table_for("ors_first_last", pairs_frame().iloc[0:0]).to_dict("records")
    assert empty == [{"Afsluttede forløb med mindst to målinger": 0, "Gennemsnit ved første måling": fmt.NOTHING,
                      "Gennemsnit ved sidste måling": fmt.NOTHING, "Fremgang": fmt.NOTHING}]


def test_table_for_ors_change_distribution_counts_courses_per_bin_and_class_as_drawn() -> None:
    table = charts.table_for("ors_change_distribution", pairs_frame())
    improved, unchanged, deteriorated = (codes.ORS_CHANGES[c] for c in ("improved", "unchanged", "deteriorated"))
    assert table.to_dict("records")[0] == {
        "Ændring fra (point)": "-12", "Ændring til under (point)": "-11", improved: 0, unchanged: 0, deteriorated: 1,
    }
    assert table["Ændring fra (point)"].tolist() == ["-12", "2", "4", "6"]
    assert table[unchanged].tolist() == [0, 1, 1, 0]
    assert table[improved].tolist() == [0, 0, 0, 1]
    assert charts.table_for("ors_change_distribution", pairs_frame().iloc[0:0]).empty


def test_table_for_ors_by_session_shows_no_band_where_one_course_has_the_measurement() -> None:
    table = charts.table_for("ors_by_session", session_frame())
    assert table.to_dict("records")[2] == {
        "Måling nr.": 3, "Forløb": 1, "Gennemsnitlig ORS-total": "24,0",
        "95 % konfidensinterval, nedre": fmt.NOTHING, "95 % konfidensinterval, øvre": fmt.NOTHING,
    }
    assert table["95 % konfidensinterval, øvre"].tolist()[:2] == ["21,0", "25,8"]


def test_table_for_duration_histogram_names_each_bin() -> None:
    table = charts.table_for("duration_histogram", duration_frame())
    assert table.columns.tolist() == ["Varighed", "Afsluttede forløb"]
    assert table["Varighed"].tolist()[6:8] == ["12 til under 14 uger", "14 til under 16 uger"]
    assert table.iloc[-1].tolist() == ["26 uger og derover", 1]
    assert table["Afsluttede forløb"].sum() == 20


def test_table_for_referrals_by_month_has_a_column_per_label() -> None:
    both = charts.table_for("referrals_by_month", referral_frame())
    assert both.columns.tolist() == [
        "Måned", "Henviser: Socialcenter", "Henviser: Jobcenter", "Henviser: Andet",
        "Målgruppe: Psykisk", "Målgruppe: Fysisk", "Målgruppe: Socialt",
    ]
    assert both.iloc[1].tolist() == ["feb 2026", 2, 2, 1, 3, 1, 1]
    frame = referral_frame()
    one = charts.table_for("referrals_by_month", frame[frame["dimension"] == "target_group"])
    assert one.to_dict("records")[0] == {"Måned": "jan 2026", "Psykisk": 5, "Fysisk": 0, "Socialt": 0}


def test_table_for_next_steps_and_group_activity() -> None:
    steps = charts.table_for("next_steps", next_step_frame())
    assert steps.to_dict("records")[:2] == [
        {"Efterfølgende indsats": "Ingen", "Forløb": 4, "Andel": "50,0 %"},
        {"Efterfølgende indsats": "§ 85", "Forløb": 1, "Andel": "12,5 %"},
    ]
    assert charts.table_for("next_steps", next_step_frame().assign(courses=0, share=None))["Andel"].tolist() == [
        fmt.NOTHING] * 6
    groups = charts.table_for("group_activity", group_frame())
    assert groups.to_dict("records")[:2] == [
        {"Hold": "Angst og uro", "Pladser": 8, "Deltagere ved periodens slutning": 6, "Holdmøder i perioden": 4,
         "Fremmøde": "75,0 %"},
        {"Hold": "Stress", "Pladser": 6, "Deltagere ved periodens slutning": 7, "Holdmøder i perioden": 2,
         "Fremmøde": fmt.NOTHING},
    ]


@pytest.mark.parametrize("name", ["monthly_starts", *CHARTS])
def test_table_for_an_empty_period_keeps_its_headers(name: str) -> None:
    empty = {"monthly_starts": monthly_frame().iloc[0:0]} | {n: CHARTS[n][1]().iloc[0:0] for n in CHARTS}
    table = charts.table_for(name, empty[name])
    sample = monthly_frame() if name == "monthly_starts" else CHARTS[name][1]()
    assert table.columns.tolist() == charts.table_for(name, sample).columns.tolist()


def test_table_for_an_unknown_chart_is_an_error() -> None:
    with pytest.raises(ValueError, match="forløbsstarter"):
        charts.table_for("forløbsstarter", monthly_frame())
