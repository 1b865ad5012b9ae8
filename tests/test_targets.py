"""The unit's targets as dated settings (issue 5): who may set and delete them, the rules a row
must keep, what the audit log says, and which row a period is judged by (the one in force on its
last day; DESIGN's defaults where there is none). SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from fokus import clock, db, metrics, services, targets
from fokus.actor import SYSTEM, Actor
from fokus.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from fokus.models import AuditEvent, Target
from tests.test_rules import refused, snapshot

TODAY = clock.today()
BASE_DAY = services.DEFAULT_TARGETS_FROM  # the row every new unit gets, with DESIGN's defaults


def leader_of(unit_id: int) -> Actor:
    return Actor(login="leder@faxe.dk", role="leader", unit_ids=frozenset({unit_id}))


def events(action: str | None = None) -> list[tuple[str, str, str]]:
    """(action, table, detail) of the log, oldest first."""
    with db.read_session() as session:
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    return [(e.action, e.table_name, e.detail) for e in rows if action is None or e.action == action]


def rows_of(unit_id: int) -> list[Target]:
    with db.read_session() as session:
        return list(session.exec(select(Target).where(Target.unit_id == unit_id).order_by(col(Target.valid_from))))


def write(run: Callable[[Session], Any]) -> Any:
    with db.write_session() as session:
        return run(session)


def history(actor: Actor, unit_id: int) -> list[targets.DatedTargets]:
    with db.read_session() as session:
        return targets.targets_history(session, actor, unit_id)


def judged_by(unit_id: int, day: date) -> metrics.Targets:
    with db.read_session() as session:
        return metrics.targets_for(session, [unit_id], day)


# ---------------------------------------------------------------------------------------
# Setting targets

def test_a_leader_sets_targets_from_a_date_and_the_log_says_what_changed(unit_id: int) -> None:
    day = date(2025, 3, 1)
    saved = write(lambda s: services.set_targets(s, leader_of(unit_id), unit_id=unit_id, valid_from=day,
                                                 group_share=0.655, rci=6.0, jobcenter_quota=None))
    assert [(r.valid_from, r.group_share, r.rci, r.jobcenter_quota, r.intake_min) for r in rows_of(unit_id)] == [
        (BASE_DAY, 0.70, 5.0, 120, 150), (day, 0.655, 6.0, None, 150)]
    assert events("created")[-1] == (
        "created", "target",
        "mål gyldig fra 01.03.2025: gruppeandel 70 % → 65,5 %; pålidelig ændring (RCI) 5 point → 6 point; "
        "jobcenterets kvote 120 → ingen kvote",
    )
    assert saved.version == 1


def test_new_targets_equal_to_those_in_force_are_logged_as_such(unit_id: int) -> None:
    write(lambda s: services.set_targets(s, leader_of(unit_id), unit_id=unit_id, valid_from=date(2025, 1, 1)))
    assert events("created")[-1][2] == "mål gyldig fra 01.01.2025: som de hidtil gældende"


def test_a_new_row_is_compared_with_the_row_in_force_the_day_before(unit_id: int) -> None:
    leader = leader_of(unit_id)
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2025, 1, 1), weeks_max=20))
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2025, 7, 1), weeks_max=18))
    assert events("created")[-1][2] == "mål gyldig fra 01.07.2025: længste forløb i uger 20 → 18"


def test_targets_for_a_date_that_has_a_row_change_that_row(unit_id: int) -> None:
    leader, day = leader_of(unit_id), date(2025, 3, 1)
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=day, intake_min=100, intake_max=140))
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=day, intake_min=120, intake_max=140,
                                         ors_cutoff=24.5))
    row = rows_of(unit_id)[-1]
    assert (len(rows_of(unit_id)), row.intake_min, row.ors_cutoff, row.version) == (2, 120, 24.5, 2)
    assert events()[-1] == ("changed", "target", "mål gyldig fra 01.03.2025 rettet: mindste årlige tilgang 100 → 120; "
                                                 "ORS' kliniske grænse 25 point → 24,5 point")


def test_saving_the_same_targets_again_changes_nothing_and_logs_nothing(unit_id: int) -> None:
    leader = leader_of(unit_id)
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2025, 3, 1), rci=6.0))
    before = snapshot()
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2025, 3, 1), rci=6.0))
    assert snapshot() == before


def test_targets_may_be_planned_ahead_up_to_five_years(unit_id: int) -> None:
    ahead = date(TODAY.year + 5, 12, 31)
    write(lambda s: services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=ahead, group_share=0.8))
    assert judged_by(unit_id, TODAY).group_share == 0.70
    assert judged_by(unit_id, ahead).group_share == 0.8


@pytest.mark.parametrize(
    "changes",
    [{"intake_min": 0, "intake_max": 0}, {"group_share": 0}, {"group_share": 1}, {"weeks_min": 1, "weeks_max": 1},
     {"max_months": 1}, {"max_months": 24}, {"ors_cutoff": 0}, {"ors_cutoff": 40}, {"rci": 1}, {"rci": 40},
     {"jobcenter_quota": 0}, {"jobcenter_quota": None}],
    ids=repr,
)
def test_targets_at_the_edges_of_their_ranges_are_kept(unit_id: int, changes: dict[str, Any]) -> None:
    write(lambda s: services.set_targets(s, leader_of(unit_id), unit_id=unit_id, valid_from=TODAY, **changes))
    row = rows_of(unit_id)[-1]
    assert {name: getattr(row, name) for name in changes} == changes


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"valid_from": date(1989, 12, 31)}, "valid_from", ["for langt tilbage"]),
        ({"valid_from": date(TODAY.year + 6, 1, 1)}, "valid_from", ["for langt ude i fremtiden"]),
        ({"valid_from": datetime(2025, 1, 1, 12, 0)}, "valid_from", ["dd.mm.åååå"]),
        ({"valid_from": "2025-01-01"}, "valid_from", ["dd.mm.åååå"]),
        ({"intake_min": -1}, "intake_min", ["Mindste årlige tilgang", "0 til 100000"]),
        ({"intake_min": 200, "intake_max": 150}, "intake_max", ["mindst den mindste"]),
        ({"intake_min": 150.5}, "intake_min", ["helt tal"]),
        ({"group_share": 1.01}, "group_share", ["0 og 100 %"]),
        ({"group_share": -0.01}, "group_share", ["0 og 100 %"]),
        ({"group_share": math.nan}, "group_share", ["0 og 100 %"]),
        ({"group_share": True}, "group_share", ["0 og 100 %"]),
        ({"weeks_min": 0}, "weeks_min", ["Korteste forløb", "1 til 104"]),
        ({"weeks_min": 16, "weeks_max": 12}, "weeks_max", ["mindst det korteste"]),
        ({"max_months": 0}, "max_months", ["Højst måneder", "1 til 24"]),
        ({"max_months": 25}, "max_months", ["Højst måneder", "1 til 24"]),
        ({"ors_cutoff": 40.5}, "ors_cutoff", ["ORS' kliniske grænse", "0 til 40 point"]),
        ({"ors_cutoff": math.nan}, "ors_cutoff", ["0 til 40 point"]),
        ({"rci": 0.5}, "rci", ["RCI", "1 til 40 point"]),
        ({"rci": "5"}, "rci", ["1 til 40 point"]),
        ({"jobcenter_quota": -1}, "jobcenter_quota", ["Jobcenterets kvote", "helt tal"]),
        ({"jobcenter_quota": 12.5}, "jobcenter_quota", ["helt tal"]),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, dict) else None,
)
def test_targets_breaking_a_rule_are_refused_with_the_field_named_and_nothing_written(
    unit_id: int, changes: dict[str, Any], field: str, words: list[str]
) -> None:
    leader = leader_of(unit_id)
    arguments = {"unit_id": unit_id, "valid_from": TODAY, **changes}
    refused(lambda s: services.set_targets(s, leader, **arguments), field=field, words=words)


def test_targets_for_a_unit_that_does_not_exist_are_refused(unit_id: int) -> None:
    refused(lambda s: services.set_targets(s, SYSTEM, unit_id=unit_id + 99, valid_from=TODAY),
            field=None, words=["Enheden findes ikke"], error=NotFoundError)


# ---------------------------------------------------------------------------------------
# Who may set, delete and read them

@pytest.mark.parametrize("role", ["staff", "screen"])
def test_staff_and_the_meeting_screen_may_not_set_or_delete_targets_and_the_refusal_is_logged(
    unit_id: int, role: str
) -> None:
    actor = Actor(login=f"{role}@faxe.dk", role=role, unit_ids=frozenset({unit_id}))
    base = rows_of(unit_id)[0]
    attempts: list[Callable[[Session], object]] = [
        lambda s: services.set_targets(s, actor, unit_id=unit_id, valid_from=TODAY, group_share=0.5),
        lambda s: services.delete_targets(s, actor, target_id=base.id, expected_version=base.version),
    ]
    for attempt in attempts:
        before = {table: rows for table, rows in snapshot().items() if table != "auditevent"}
        with pytest.raises(PermissionDenied, match="Din rolle giver ikke adgang til enhedens mål"):
            write(attempt)
        assert {table: rows for table, rows in snapshot().items() if table != "auditevent"} == before
        assert events()[-1][0] == "denied"
    assert [detail for action, _, detail in events() if action == "denied"] == ["enhedens mål"] * 2


def test_a_leader_of_another_unit_may_not_set_delete_or_read_the_units_targets(unit_id: int) -> None:
    other = write(lambda s: services.create_unit(s, SYSTEM, name="Anden enhed", municipality="Andenkommune")).id
    stranger = leader_of(other)
    base = rows_of(unit_id)[0]
    before = snapshot()["target"]
    with pytest.raises(PermissionDenied):
        write(lambda s: services.set_targets(s, stranger, unit_id=unit_id, valid_from=TODAY))
    with pytest.raises(PermissionDenied):
        write(lambda s: services.delete_targets(s, stranger, target_id=base.id, expected_version=None))
    with pytest.raises(PermissionDenied):
        history(stranger, unit_id)
    assert snapshot()["target"] == before
    assert [t.valid_from for t in history(stranger, other)] == [BASE_DAY]


def test_an_administrator_sets_targets_for_any_unit(unit_id: int) -> None:
    admin = Actor(login="admin@faxe.dk", role="admin", unit_ids=None)
    write(lambda s: services.set_targets(s, admin, unit_id=unit_id, valid_from=TODAY, weeks_min=10))
    assert judged_by(unit_id, TODAY).weeks_min == 10


# ---------------------------------------------------------------------------------------
# Deleting a wrongly dated row

def test_deleting_a_wrongly_dated_row_brings_back_the_row_before_it(unit_id: int) -> None:
    leader = leader_of(unit_id)
    wrong = write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2024, 1, 1),
                                                 group_share=0.6))
    assert judged_by(unit_id, date(2024, 6, 30)).group_share == 0.6
    write(lambda s: services.delete_targets(s, leader, target_id=wrong.id, expected_version=wrong.version))
    assert [r.valid_from for r in rows_of(unit_id)] == [BASE_DAY]
    assert judged_by(unit_id, date(2024, 6, 30)).group_share == 0.70
    assert events()[-1] == (
        "deleted", "target",
        "mål gyldig fra 01.01.2024 slettet: mindste årlige tilgang 150; største årlige tilgang 200; gruppeandel 60 %; "
        "korteste forløb i uger 12; længste forløb i uger 16; højst måneder 6; ORS' kliniske grænse 25 point; "
        "pålidelig ændring (RCI) 5 point; jobcenterets kvote 120",
    )


def test_without_any_row_the_defaults_of_the_design_apply(unit_id: int) -> None:
    leader = leader_of(unit_id)
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=BASE_DAY, rci=7.0,
                                         jobcenter_quota=None))
    base = rows_of(unit_id)[0]
    write(lambda s: services.delete_targets(s, leader, target_id=base.id, expected_version=base.version))
    assert rows_of(unit_id) == [] and history(leader, unit_id) == []
    assert judged_by(unit_id, TODAY) == metrics.DEFAULT_TARGETS
    assert targets.values_in_force([], TODAY) == metrics.DEFAULT_TARGETS
    assert (metrics.DEFAULT_TARGETS.intake_min, metrics.DEFAULT_TARGETS.intake_max, metrics.DEFAULT_TARGETS.rci,
            metrics.DEFAULT_TARGETS.ors_cutoff, metrics.DEFAULT_TARGETS.jobcenter_quota) == (150, 200, 5.0, 25.0, 120)


def test_a_row_someone_changed_since_it_was_seen_is_not_deleted(unit_id: int) -> None:
    leader = leader_of(unit_id)
    seen = write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2025, 1, 1)))
    write(lambda s: services.set_targets(s, leader, unit_id=unit_id, valid_from=date(2025, 1, 1), rci=6.0))
    refused(lambda s: services.delete_targets(s, leader, target_id=seen.id, expected_version=1),
            field=None, words=["ændret af en anden"], error=ConflictError)


def test_deleting_a_row_that_is_gone_is_refused(unit_id: int) -> None:
    refused(lambda s: services.delete_targets(s, leader_of(unit_id), target_id=12345, expected_version=None),
            field=None, words=["findes ikke"], error=NotFoundError)


# ---------------------------------------------------------------------------------------
# The history, and which row a period is judged by

def test_the_history_is_newest_first_and_the_row_in_force_is_the_latest_on_or_before_the_day(unit_id: int) -> None:
    leader = leader_of(unit_id)
    for day, share in ((date(2024, 1, 1), 0.6), (date(2025, 1, 1), 0.65), (date(TODAY.year + 1, 1, 1), 0.75)):
        write(lambda s, day=day, share=share: services.set_targets(s, leader, unit_id=unit_id, valid_from=day,
                                                                   group_share=share))
    found = history(leader, unit_id)
    assert [(t.valid_from, t.targets.group_share) for t in found] == [
        (date(TODAY.year + 1, 1, 1), 0.75), (date(2025, 1, 1), 0.65), (date(2024, 1, 1), 0.6), (BASE_DAY, 0.70)]
    for day, share in ((date(2023, 12, 31), 0.70), (date(2024, 1, 1), 0.6), (date(2024, 12, 31), 0.6),
                       (date(2025, 1, 1), 0.65), (TODAY, 0.65), (date(TODAY.year + 1, 1, 1), 0.75)):
        assert targets.values_in_force(found, day).group_share == share, day
        assert targets.values_in_force(found, day) == judged_by(unit_id, day), day  # the rule every figure uses
    assert [row["Status"] for row in targets.history_table(found, TODAY)] == ["kommende", "i kraft", "afløst", "afløst"]


def test_a_period_is_judged_by_the_targets_in_force_on_its_last_day(unit_id: int) -> None:
    """Reliable improvement in 2024 with the RCI of 31.12.2024, not the one in force when the course began."""
    write(lambda s: services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2024, 12, 31), rci=8.0))
    referral = write(lambda s: services.register_referral(
        s, SYSTEM, unit_id=unit_id, citizen_ref="SAG-1", birth_year=1980, received=date(2024, 3, 1),
        referrer="socialcenter", target_group="psychic"))
    course = write(lambda s: services.start_course(s, SYSTEM, referral_id=referral.id, start=date(2024, 3, 1),
                                                   form="individual"))
    for day, total_tenths in ((date(2024, 3, 1), 150), (date(2024, 6, 1), 210)):  # 15 → 21 points: +6
        items = {"individual": total_tenths // 4 + total_tenths % 4, "interpersonal": total_tenths // 4,
                 "social": total_tenths // 4, "overall": total_tenths // 4}
        write(lambda s, day=day, items=items: services.add_ors(s, SYSTEM, course_id=course.id, day=day, items=items))
    write(lambda s: services.end_course(s, SYSTEM, course_id=course.id, end=date(2024, 6, 1), end_reason="completed"))

    def improved(end: date) -> float | None:
        with db.read_session() as session:
            return metrics.compute_kpis(session, SYSTEM, date(2024, 1, 1), end)["reliable_improvement_share"]

    assert improved(date(2024, 12, 30)) == 1.0  # RCI 5 on 30.12: +6 is a reliable improvement
    assert improved(date(2024, 12, 31)) == 0.0  # RCI 8 on 31.12: it is not


# ---------------------------------------------------------------------------------------
# The text the page shows and the form reads (no database)

def test_the_targets_in_force_are_shown_with_their_sources() -> None:
    rows = {row["Mål"]: row for row in targets.described(metrics.DEFAULT_TARGETS)}
    assert rows["Tilgang om året"]["Værdi"] == "150–200 forløbsstarter"
    assert rows["Startet i gruppe"]["Værdi"] == "70 %" and "70 %" in rows["Startet i gruppe"]["Kilde"]
    assert rows["Forløbets længde"]["Værdi"] == "12–16 uger, højst 6 måneder"
    assert rows["ORS klinisk grænse"]["Værdi"] == "25 point" and "Miller" in rows["ORS klinisk grænse"]["Kilde"]
    assert rows["ORS pålidelig ændring"]["Værdi"] == "5 point"
    assert rows["Jobcenterets kvote"]["Værdi"] == "120 henvisninger om året"
    assert "120 henvisninger" in rows["Jobcenterets kvote"]["Kilde"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (("70", "25", "5", "120"), (0.70, 25.0, 5.0, 120)),
        (("67,5", "24,5", "4.5", ""), (0.675, 24.5, 4.5, None)),
        ((" 65 % ", " 25,0 ", "5", " "), (0.65, 25.0, 5.0, None)),
    ],
)
def test_typed_targets_accept_a_decimal_comma_or_point_and_a_percent_sign(
    typed: tuple[str, str, str, str], expected: tuple[float, float, float, float | None]
) -> None:
    found = targets.from_typed(group_share=typed[0], ors_cutoff=typed[1], rci=typed[2], jobcenter_quota=typed[3])
    assert found["jobcenter_quota"] == expected[3]
    assert (found["group_share"], found["ors_cutoff"], found["rci"]) == pytest.approx(expected[:3])


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [("group_share", "", ["gruppeandel i procent"]), ("group_share", "halvfjerds", ["er ikke et tal"]),
     ("ors_cutoff", "25 point", ["ORS' kliniske grænse", "er ikke et tal"]), ("rci", "", ["RCI", "er ikke et tal"]),
     ("jobcenter_quota", "1.000", ["Jobcenterets kvote", "cifre alene"]),
     ("jobcenter_quota", "12,5", ["helt antal"]), ("jobcenter_quota", "-1", ["helt antal"])],
)
def test_typed_targets_that_are_not_numbers_are_refused_with_the_field_named(field: str, text: str,
                                                                             words: list[str]) -> None:
    typed = {"group_share": "70", "ors_cutoff": "25", "rci": "5", "jobcenter_quota": "120", field: text}
    with pytest.raises(ValidationError) as caught:
        targets.from_typed(**typed)
    assert caught.value.field == field
    for word in words:
        assert word in caught.value.message


def test_the_form_starts_from_the_targets_in_force_as_typed_text() -> None:
    values = targets.form_values(metrics.Targets(
        intake_min=150, intake_max=200, group_share=0.675, weeks_min=12, weeks_max=16, max_months=6,
        ors_cutoff=24.5, rci=5.0, jobcenter_quota=None))
    assert values == {"intake_min": 150, "intake_max": 200, "group_share": "67,5", "weeks_min": 12, "weeks_max": 16,
                      "max_months": 6, "ors_cutoff": "24,5", "rci": "5", "jobcenter_quota": ""}
    back = targets.from_typed(group_share="67,5", ors_cutoff="24,5", rci="5", jobcenter_quota="")
    assert back == {"group_share": 0.675, "ors_cutoff": 24.5, "rci": 5.0, "jobcenter_quota": None}


def test_the_history_table_reads_in_danish() -> None:
    row = targets.DatedTargets(target_id=1, unit_id=1, valid_from=date(2025, 3, 1), version=1,
                               targets=metrics.Targets(intake_min=1000, intake_max=1200, group_share=0.655,
                                                       weeks_min=12, weeks_max=16, max_months=6, ors_cutoff=25.0,
                                                       rci=5.5, jobcenter_quota=None))
    assert targets.history_table([row], date(2025, 3, 1)) == [{
        "Gyldig fra": "01.03.2025", "Status": "i kraft", "Tilgang om året": "1.000–1.200", "Gruppeandel": "65,5 %",
        "Uger": "12–16", "Højst måneder": "6", "ORS-grænse": "25 point", "RCI": "5,5 point",
        "Jobcenterkvote": "ingen kvote"}]
    assert targets.history_table([row], date(2025, 2, 28))[0]["Status"] == "kommende"
