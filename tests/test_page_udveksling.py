"""The Import og eksport page (AppTest, SQLite): upload → preview → confirm, the template, export, the DST list.

A bad file shows every bad row and writes nothing (every table compared); a good file shows what
will be added, and is written only when the user confirms.
"""

from __future__ import annotations

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from fokus import db
from fokus import services as svc
from fokus.actor import SYSTEM
from fokus.models import AuditEvent, Course, Referral
from tests.apptest_helpers import app_as, click
from tests.test_exchange import BAD_FILES, good_sheets, xlsx
from tests.test_rules import snapshot

PAGE = "pages/udveksling.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def unit_id(sqlite_url: str) -> int:
    with db.write_session() as s:
        return svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id


def open_page() -> AppTest:
    at = app_as("udveksling-leder", "leader", PAGE)
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, data: bytes, name: str = "enhed.xlsx") -> AppTest:
    at.file_uploader(key="udveksling-fil").set_value([(name, data, XLSX)]).run()
    assert not at.exception, at.exception
    return click(at, "Kontrollér filen")


def test_a_bad_file_shows_every_bad_row_and_writes_nothing(unit_id: int) -> None:
    at = open_page()
    sheets = good_sheets()
    BAD_FILES["bad or ambiguous dates"][0](sheets)
    before = snapshot()
    upload(at, xlsx(sheets))
    assert at.error[0].value.startswith("Filen er afvist: 3 fejl.")
    problems = at.dataframe[0].value
    assert problems[["Ark", "Række", "Kolonne"]].values.tolist() == [
        ["henvisninger", 3, "henvist_dato"], ["henvisninger", 4, "henvist_dato"], ["forloeb", 3, "start_dato"]]
    assert not [b for b in at.button if b.label == "Importér"]
    assert snapshot() == before


def test_a_good_file_is_previewed_and_written_only_when_confirmed(unit_id: int) -> None:
    at = open_page()
    before = snapshot()
    upload(at, xlsx(good_sheets()))
    assert not at.error
    counts = at.dataframe[0].value
    assert counts[["Ark", "Tilføjes", "Findes allerede"]].values.tolist() == [
        ["henvisninger", 4, 0], ["forloeb", 2, 0], ["ors", 3, 0], ["netvaerksmoeder", 1, 0], ["medarbejdere", 1, 0]]
    assert [c.value for c in at.caption if c.value.startswith("Nye")] == [
        "Nye hold: Hold A", "Nye medarbejdere (kun initialer): CD"]
    assert snapshot() == before, "the preview wrote something"

    click(at, "Importér")
    assert at.success[0].value == ("Importeret: tilføjet: 4 henvisninger, 2 forloeb, 3 ors, 1 netvaerksmoeder, "
                                   "1 medarbejdere; 0 rækker fandtes allerede.")
    with db.read_session() as session:
        assert len(session.exec(select(Referral)).all()) == 4
        assert len(session.exec(select(Course)).all()) == 2
        assert session.exec(select(AuditEvent.user_login).where(AuditEvent.detail.startswith("import af"))).all() == [
            "udveksling-leder"]


def test_the_template_export_and_dst_list_are_offered_for_download(unit_id: int) -> None:
    at = open_page()
    upload(at, xlsx(good_sheets()))
    click(at, "Importér")
    click(at, "Lav udtræk")
    click(at, "Lav listen")
    assert at.caption[-1].value.startswith("0 forløb startet eller afsluttet i")  # last month: none here
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Hent en tom skabelon med vejledning", "Hent udtrækket (.xlsx)", "Hent som CSV",
                      "Hent som Excel"]
    with db.read_session() as session:
        exports = session.exec(select(AuditEvent.detail).where(AuditEvent.action == "exported",
                                                               AuditEvent.citizen_ref == None)).all()  # noqa: E711
    assert [detail.split(":")[0] for detail in exports][0] == "udvekslingsfil (alle data)"
