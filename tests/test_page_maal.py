"""The Mål page (AppTest, SQLite): the targets in force with their sources, the dated history, new
targets from a date, deleting a wrongly dated row; only leaders and administrators open it.

Every invalid input: the Danish message is shown, everything typed stays in the form, and every
table is exactly as before.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from fokus import clock, db
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.models import AuditEvent, Target
from tests.apptest_helpers import ROOT, app_as, click
from tests.test_rules import snapshot

PAGE = "pages/maal.py"
TODAY = clock.today()
BASE = svc.DEFAULT_TARGETS_FROM


@pytest.fixture
def unit_id(sqlite_url: str) -> int:
    with db.write_session() as s:
        return svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id


def open_page(login: str = "maal-leder", role: str = "leader", units: list[str] | None = None) -> AppTest:
    at = app_as(login, role, PAGE, units)
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def rows(unit_id: int) -> list[tuple[date, float, float, int | None]]:
    with db.read_session() as session:
        found = session.exec(select(Target).where(Target.unit_id == unit_id).order_by(col(Target.valid_from))).all()
        return [(t.valid_from, t.group_share, t.rci, t.jobcenter_quota) for t in found]


def prefix(unit_id: int) -> str:
    return f"maal-ny-{unit_id}-"


def tables(at: AppTest) -> dict[str, Any]:
    """The page's tables by what they are: the targets in force (with sources) and the history."""
    found = {}
    for frame in at.dataframe:
        columns = list(frame.value.columns)
        found["maal-gaeldende" if "Kilde" in columns else "maal-historik" if "Gyldig fra" in columns else "?"] = \
            frame.value
    return found


# ---------------------------------------------------------------------------------------
# What the leader sees

def test_the_page_shows_the_targets_in_force_with_their_sources_and_the_history(unit_id: int) -> None:
    at = open_page()
    assert at.title[0].value == "Mål"
    assert "bedømmes efter de mål, der gælder på dets sidste dag" in at.caption[0].value
    assert not at.selectbox, "one unit: nothing to choose"
    in_force = tables(at)["maal-gaeldende"]
    values = dict(zip(in_force["Mål"], in_force["Værdi"], strict=True))
    assert values == {"Tilgang om året": "150–200 forløbsstarter", "Startet i gruppe": "70 %",
                      "Forløbets længde": "12–16 uger, højst 6 måneder", "ORS klinisk grænse": "25 point",
                      "ORS pålidelig ændring": "5 point", "Jobcenterets kvote": "120 henvisninger om året"}
    assert "Miller" in " ".join(in_force["Kilde"])
    history = tables(at)["maal-historik"]
    assert history[["Gyldig fra", "Status"]].values.tolist() == [["01.01.2000", "i kraft"]]
    new = prefix(unit_id)
    assert at.date_input(key=f"{new}valid_from").value == TODAY
    assert at.text_input(key=f"{new}group_share").value == "70"
    assert at.number_input(key=f"{new}intake_min").value == 150


def test_a_leader_of_several_units_chooses_the_unit(unit_id: int) -> None:
    with db.write_session() as s:
        other = svc.create_unit(s, SYSTEM, name="Anden enhed", municipality="Andenkommune").id
        svc.set_targets(s, SYSTEM, unit_id=other, valid_from=date(2024, 1, 1), group_share=0.5)
    at = open_page("maal-leder-begge", "leader", ["FOKUS Test", "Anden enhed"])
    at.selectbox(key="maal-enhed").set_value(other).run()
    assert tables(at)["maal-historik"]["Gyldig fra"].tolist() == ["01.01.2024", "01.01.2000"]
    assert at.text_input(key=f"{prefix(other)}group_share").value == "50"


# ---------------------------------------------------------------------------------------
# New targets

def test_new_targets_from_a_date_are_saved_and_shown_in_force(unit_id: int) -> None:
    at = open_page()
    new, day = prefix(unit_id), TODAY - timedelta(days=10)
    at.date_input(key=f"{new}valid_from").set_value(day)
    at.text_input(key=f"{new}group_share").input("65,5")
    at.text_input(key=f"{new}rci").input("6")
    at.text_input(key=f"{new}jobcenter_quota").input("")
    click(at, "Gem mål")
    assert f"Målene for FOKUS Test gyldig fra {day:%d.%m.%Y} er gemt." in [s.value for s in at.success]
    assert rows(unit_id) == [(BASE, 0.70, 5.0, 120), (day, 0.655, 6.0, None)]
    values = dict(zip(tables(at)["maal-gaeldende"]["Mål"], tables(at)["maal-gaeldende"]["Værdi"], strict=True))
    assert (values["Startet i gruppe"], values["ORS pålidelig ændring"], values["Jobcenterets kvote"]) == (
        "65,5 %", "6 point", "ingen kvote")
    assert at.text_input(key=f"{new}group_share").value == "65,5"  # the form starts again from those in force
    assert at.date_input(key=f"{new}valid_from").value == TODAY
    with db.read_session() as session:
        logged = session.exec(select(AuditEvent).where(AuditEvent.action == "created",
                                                       AuditEvent.table_name == "target")).all()
    assert [e.user_login for e in logged] == ["maal-leder"]


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ({"group_share": "halvfjerds"}, ["Gruppeandel 'halvfjerds' er ikke et tal"]),
        ({"group_share": "150"}, ["mellem 0 og 100 %"]),
        ({"group_share": ""}, ["gruppeandel i procent"]),
        ({"intake_min": 250}, ["Største årlige tilgang skal være mindst den mindste"]),
        ({"intake_min": -5}, ["Mindste årlige tilgang", "0 til 100000"]),
        ({"weeks_max": 10}, ["Længste forløb skal være mindst det korteste"]),
        ({"max_months": 30}, ["Højst måneder", "1 til 24"]),
        ({"ors_cutoff": "41"}, ["ORS' kliniske grænse", "0 til 40 point"]),
        ({"ors_cutoff": "25 point"}, ["er ikke et tal"]),
        ({"rci": "0,5"}, ["Pålidelig ændring (RCI)", "1 til 40 point"]),
        ({"jobcenter_quota": "1.000"}, ["cifre alene"]),
        ({"valid_from": date(TODAY.year + 6, 1, 1)}, ["for langt ude i fremtiden"]),
        ({"valid_from": date(1989, 12, 31)}, ["for langt tilbage"]),
    ],
    ids=lambda value: next(iter(value)) + "=" + str(next(iter(value.values()))) if isinstance(value, dict) else "",
)
def test_invalid_targets_are_refused_with_the_message_and_the_input_kept(unit_id: int, typed: dict[str, Any],
                                                                        words: list[str]) -> None:
    at = open_page()
    new = prefix(unit_id)
    fields = {"valid_from": at.date_input, "intake_min": at.number_input, "weeks_max": at.number_input,
              "max_months": at.number_input}
    everything = {"group_share": "60", "rci": "6", **typed}
    for name, value in everything.items():
        widget = fields.get(name, at.text_input)(key=f"{new}{name}")
        widget.set_value(value)
    before = snapshot()
    click(at, "Gem mål")
    for word in words:
        assert word in errors(at), errors(at)
    assert not at.success
    assert snapshot() == before
    for name, value in everything.items():
        kept = fields.get(name, at.text_input)(key=f"{new}{name}").value
        assert kept in (value, (value,)), name  # AppTest reads a date input set by the test back as a 1-tuple


# ---------------------------------------------------------------------------------------
# Deleting a wrongly dated row

def test_a_wrongly_dated_row_is_deleted_after_confirmation(unit_id: int) -> None:
    with db.write_session() as s:
        svc.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2024, 2, 1), group_share=0.6)
    at = open_page()
    click(at, "Slet mål gyldig fra 01.02.2024")
    assert "Slet målene gyldig fra 01.02.2024?" in at.warning[0].value
    assert len(rows(unit_id)) == 2  # nothing deleted before the confirmation
    click(at, "Ja, slet")
    assert "Målene gyldig fra 01.02.2024 er slettet." in [s.value for s in at.success]
    assert rows(unit_id) == [(BASE, 0.70, 5.0, 120)]
    assert tables(at)["maal-historik"]["Gyldig fra"].tolist() == ["01.01.2000"]


def test_a_deletion_can_be_called_off(unit_id: int) -> None:
    at = open_page()
    click(at, "Slet mål gyldig fra 01.01.2000")
    before = snapshot()
    click(at, "Fortryd")
    assert snapshot() == before and not at.warning


def test_without_any_row_the_page_says_the_defaults_apply(unit_id: int) -> None:
    at = open_page()
    click(at, "Slet mål gyldig fra 01.01.2000")
    click(at, "Ja, slet")
    assert rows(unit_id) == []
    infos = " ".join(i.value for i in at.info)
    assert "standardmålene" in infos
    assert "maal-historik" not in tables(at)
    assert dict(zip(tables(at)["maal-gaeldende"]["Mål"], tables(at)["maal-gaeldende"]["Værdi"],
                    strict=True))["Startet i gruppe"] == "70 %"


# ---------------------------------------------------------------------------------------
# Who may open it

def test_staff_cannot_open_the_page(unit_id: int) -> None:
    at = app_as("maal-medarbejder", "staff")
    assert "Mål" not in [page.title for page in at.sidebar.get("page_link")] if at.sidebar else True
    with pytest.raises(ValueError, match="Could not find"):
        at.switch_page(PAGE)
    direct = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    direct.session_state["fokus_actor"] = Actor("maal-medarbejder-direkte", "staff", frozenset({unit_id}))
    direct.run()
    assert [e.value for e in direct.error] == ["Din rolle giver ikke adgang til denne side."]
    assert not direct.title and not direct.dataframe
