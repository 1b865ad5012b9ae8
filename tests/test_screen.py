"""The meeting screen's slides: each figure suppressed by DESIGN §7, each slide with its target."""

from __future__ import annotations

from datetime import date

import pandas as pd

from fokus import dashboard, db, metrics, periods, screen, services
from fokus.actor import SYSTEM, Actor
from fokus.dashboard import Dashboard
from tests.test_metrics import course, refer

END = date(2024, 12, 31)
PERIOD = periods.rolling_12_months(END)  # 02.01.2024–31.12.2024


def _texts(slide: screen.Slide) -> dict[str, str]:
    return {big.label: big.text for big in slide.figures}


def _bars(slide: screen.Slide) -> dict[str, str]:
    assert slide.bars is not None
    return dict(zip(slide.bars["label"], slide.bars["text"], strict=True))


def _by_key(view: Dashboard) -> dict[str, screen.Slide]:
    return {slide.key: slide for slide in screen.slides(view)}


# ---------------------------------------------------------------------------------------
# A unit of a good size, as a hand-made Dashboard

def _frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(metrics.SERIES_COLUMNS[name]))


def _big_unit() -> Dashboard:
    figures = {key: 0 for key in metrics.KPI_KEYS} | {
        "intake_12m": 160, "courses_started": 160, "group_share": 112 / 160, "median_wait_days": 14.0,
        "active_at_end": 41, "capacity": 45, "waiting_at_end": 3, "ors_pairs": 50, "ors_progress_pct": 35.2,
        "network_meetings": 30, "courses_with_network_meeting": 20, "courses_ended": 100,
    }
    changes = ["improved"] * 30 + ["unchanged"] * 17 + ["deteriorated"] * 3
    series = {
        "group_share_by_quarter": _frame("group_share_by_quarter", [
            (date(2024, 1, 1), 2, 1, 0.5),  # begins before the period (02.01.2024): left out
            (date(2024, 4, 1), 40, 28, 0.7), (date(2024, 7, 1), 42, 40, 40 / 42), (date(2024, 10, 1), 38, 20, 20 / 38),
        ]),
        "load_over_time": _frame("load_over_time", [(date(2024, 11, 30), 3, 2, 45), (END, 41, 3, 45)]),
        "ors_pairs_frame": _frame("ors_pairs_frame", [
            (10.0, change, True, changes.count(change), 20.0 * changes.count(change), 30.0 * changes.count(change))
            for change in dict.fromkeys(changes)]),
        "next_steps": _frame("next_steps", [
            ("none", 60, 0.6), ("sel85", 12, 0.12), ("other_sel", 3, 0.03), ("job", 10, 0.1),
            ("education", 5, 0.05), ("other", 10, 0.1)]),
    }
    return Dashboard(PERIOD, metrics.previous_period(PERIOD.start, END), figures, figures, metrics.DEFAULT_TARGETS,
                     series)


def test_every_slide_has_a_title_a_message_and_its_target() -> None:
    slides = screen.slides(_big_unit())
    assert [s.key for s in slides] == list(screen.SLIDES)
    assert all(s.title and s.message.endswith(".") and s.target for s in slides)
    assert [s.target for s in slides] == [
        "Mål: 150–200 om året (38–50 pr. kvartal)",
        "Kapacitet: 45 forløb ad gangen",
        "Mål: 70 % starter i en gruppe",
        "Reference: Slagelse +35,2 % · pålidelig ændring: mindst 5 point",
        "Reference: Slagelse 18 % videre til en indsats efter serviceloven",
        "Intet fast mål · Slagelse: 529 forløb med Åben Dialog 2018–2020",
    ]


def test_a_unit_of_good_size_shows_its_figures_with_small_cells_hidden() -> None:
    s = _by_key(_big_unit())
    assert _texts(s["intake"]) == {"Forløb startet de seneste 12 måneder": "160"}
    assert s["intake"].message == "Tilgangen er inden for målet på 150–200 borgere om året."
    assert _bars(s["intake"]) == {"2. kvt. 2024": "40", "3. kvt. 2024": "42", "4. kvt. 2024": "38"}
    # 41 of 45 places is over 90 %; 3 waiting is "<5"
    assert _texts(s["load"]) == {"I forløb nu": "41", "På venteliste": "<5", "Ventetid (median)": "14 dage"}
    assert s["load"].message == "Forløbene er tæt på fuld kapacitet."
    assert _bars(s["load"]) == {"nov 2024": "<5", "dec 2024": "41"}
    # 112 of 160 = 70 %; per quarter: 28/40 = 70 %, 40/42 hides (2 individual), 20/38 = 53 %
    assert _texts(s["group_share"]) == {"Startet i gruppe": "70 %", "Forløb startet": "160"}
    assert s["group_share"].message == "Andelen, der starter i en gruppe, er på niveau med målet."
    assert _bars(s["group_share"]) == {"2. kvt. 2024": "70 %", "3. kvt. 2024": "for få", "4. kvt. 2024": "53 %"}
    assert list(s["group_share"].bars["value"]) == [0.7, None, 20 / 38]
    # 3 deteriorated hidden, and so the next smallest (17 unchanged) beside the total of 50
    assert _texts(s["ors"]) == {"Fremgang fra første til sidste måling": "+35,2 %",
                                "Afsluttede forløb med to målinger": "50"}
    assert s["ors"].message == "Borgerne har det 35,2 % bedre ved afslutningen end ved starten."
    assert _bars(s["ors"]) == {"Pålidelig fremgang": "30", "Ingen pålidelig ændring": "skjult",
                               "Pålidelig forværring": "<5"}
    # 3 other_sel hidden, 5 education (next smallest) too; § 85 + other SEL would give 3 away: hidden
    assert _texts(s["next_steps"]) == {"Videre til § 85 eller anden SEL-indsats": "for få", "Afsluttede forløb": "100"}
    assert _bars(s["next_steps"]) == {"Ingen": "60 %", "§ 85": "12 %", "Anden SEL-indsats": "for få", "Job": "10 %",
                                      "Uddannelse": "for få", "Andet": "10 %"}
    # 20 of 100 ended courses had a meeting
    assert _texts(s["network"]) == {"Netværksmøder holdt": "30", "Afsluttede forløb med netværksmøde": "20 %"}
    assert s["network"].message == "30 netværksmøder holdt de seneste 12 måneder."


def test_only_the_chosen_slides_are_built_in_their_fixed_order() -> None:
    assert [s.key for s in screen.slides(_big_unit(), {"network", "intake"})] == ["intake", "network"]


# ---------------------------------------------------------------------------------------
# A small hand-made unit in the database: everything is "<5" or hidden

def test_a_small_unit_shows_under_five_and_hides_every_share_and_change(unit_id: int) -> None:
    with db.write_session() as s:
        # Two group courses ended with ORS 20 → 30 and 15 → 22 (both reliable improvement), one open individual
        a1 = course(s, unit_id, "A1", date(2024, 3, 1), end=date(2024, 6, 1), next_step="none",
                    ors=((date(2024, 3, 1), 20), (date(2024, 5, 30), 30)))
        course(s, unit_id, "A2", date(2024, 4, 1), end=date(2024, 7, 1), next_step="sel85",
               ors=((date(2024, 4, 1), 15), (date(2024, 6, 30), 22)))
        course(s, unit_id, "A3", date(2024, 5, 1), form="individual")
        refer(s, unit_id, "A4", date(2024, 11, 1))  # waiting
        services.add_network_meeting(s, SYSTEM, course_id=a1.id, day=date(2024, 4, 2), participants=5)
        services.add_staff(s, SYSTEM, unit_id=unit_id, name="Medarbejder", initials="ME")
    leader = Actor("leder", "leader", frozenset({unit_id}))
    with db.read_session() as s:
        slides = _by_key(dashboard.build(s, leader, PERIOD))
    assert _texts(slides["intake"]) == {"Forløb startet de seneste 12 måneder": "<5"}
    assert slides["intake"].message == "Tilgangen er under målet på 150–200 borgere om året."
    assert set(_bars(slides["intake"]).values()) <= {"<5", "0"}
    assert _texts(slides["load"]) == {"I forløb nu": "<5", "På venteliste": "<5", "Ventetid (median)": "for få"}
    assert _texts(slides["group_share"]) == {"Startet i gruppe": "for få", "Forløb startet": "<5"}
    assert slides["group_share"].message == "For få forløb startet til at vise andelen i gruppe."
    assert _texts(slides["ors"]) == {"Fremgang fra første til sidste måling": "for få",
                                     "Afsluttede forløb med to målinger": "<5"}
    assert _bars(slides["ors"]) == {"Pålidelig fremgang": "<5", "Ingen pålidelig ændring": "0",
                                    "Pålidelig forværring": "0"}
    assert _texts(slides["next_steps"]) == {"Videre til § 85 eller anden SEL-indsats": "for få",
                                            "Afsluttede forløb": "<5"}
    assert set(_bars(slides["next_steps"]).values()) == {"for få"}
    assert _texts(slides["network"]) == {"Netværksmøder holdt": "<5", "Afsluttede forløb med netværksmøde": "for få"}
    for slide in slides.values():  # nothing hidden leaks into a chart
        if slide.bars is not None:
            hidden = slide.bars[slide.bars["text"].isin(["<5", "for få", "skjult"])]
            assert hidden["value"].isna().all(), slide.key
