"""The data version (`fokus.db.data_version`): what dashboards cache their figures on.

It must rise with every committed change of the unit's data, whichever way it was written
(one row, a bulk delete), and stay put for reads, refused saves and bookkeeping (the audit
log, logins), so that a save anywhere shows at the next run and nothing else recomputes.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fokus import audit, db, services
from fokus.actor import SYSTEM
from fokus.errors import ConflictError, ValidationError
from fokus.models import Course, DataChange, Staff


def add_referral(unit_id: int, ref: str = "B1") -> None:
    with db.write_session() as session:
        services.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1980,
                                   received=date(2024, 3, 1), referrer="socialcenter", target_group="psychic")


def test_a_saved_change_raises_the_data_version_by_one(unit_id: int) -> None:
    before = db.data_version()
    add_referral(unit_id)
    assert db.data_version() == before + 1


def test_reads_and_audit_only_writes_leave_the_data_version_alone(unit_id: int) -> None:
    add_referral(unit_id)
    before = db.data_version()
    with db.read_session() as session:
        session.exec(sa.select(Staff)).all()
    with db.write_session() as session:
        audit.record(session, SYSTEM, "viewed", "citizen", 1, unit_id=unit_id)
    assert db.data_version() == before


def test_a_refused_save_leaves_the_data_version_alone(unit_id: int) -> None:
    before = db.data_version()
    with pytest.raises(ValidationError), db.write_session() as session:
        services.add_staff(session, SYSTEM, unit_id=unit_id, name="", initials="AB")
    assert db.data_version() == before


def test_a_bulk_update_raises_the_data_version(unit_id: int) -> None:
    with db.write_session() as session:
        services.add_staff(session, SYSTEM, unit_id=unit_id, name="Anna", initials="AN")
    before = db.data_version()
    with db.write_session() as session:
        session.execute(sa.update(Staff).where(Staff.unit_id == unit_id).values(max_active_courses=9))  # type: ignore[arg-type]
    assert db.data_version() == before + 1


def test_old_change_rows_are_pruned_and_the_version_still_rises(unit_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "KEEP_CHANGE_ROWS", 4)
    versions = []
    for n in range(10):
        add_referral(unit_id, f"B{n}")
        versions.append(db.data_version())
    assert versions == sorted(set(versions))  # strictly rising
    with db.read_session() as session:
        kept = session.execute(sa.select(sa.func.count()).select_from(DataChange)).scalar_one()
    assert kept <= 2 * 4


def test_a_core_delete_as_retention_runs_it_raises_the_data_version(unit_id: int) -> None:
    with db.write_session() as session:
        services.add_staff(session, SYSTEM, unit_id=unit_id, name="Anna", initials="AN")
    before = db.data_version()
    with db.write_session() as session:
        session.execute(sa.delete(Staff.__table__).where(Staff.__table__.c.unit_id == unit_id))  # type: ignore[attr-defined]
    assert db.data_version() == before + 1


# ---------------------------------------------------------------------------------------
# The key of a period's figures (`data_version_until`): it moves with every change that can
# move a figure of a period ending on that day, and stays for changes that lie after it.


def a_course(unit_id: int, ref: str, received: date, start: date) -> int:
    with db.write_session() as session:
        referral = services.register_referral(
            session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1980, received=received,
            referrer="socialcenter", target_group="psychic")
        return services.start_course(session, SYSTEM, referral_id=referral.id, start=start, form="individual").id


ITEMS = {"individual": 50, "interpersonal": 50, "social": 50, "overall": 50}


def test_a_score_on_a_course_started_after_a_day_leaves_that_days_key_and_moves_the_later_ones(unit_id: int) -> None:
    course = a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    before = db.data_version(), db.data_version_until(date(2024, 3, 9)), db.data_version_until(date(2024, 3, 10))
    with db.write_session() as session:
        services.add_ors(session, SYSTEM, course_id=course, day=date(2024, 5, 1), items=ITEMS)
    after = db.data_version(), db.data_version_until(date(2024, 3, 9)), db.data_version_until(date(2024, 3, 10))
    assert after[0] == before[0] + 1
    assert after[1] == before[1]  # the course started the day after: no figure up to 9 March moves
    assert after[2] == after[0]  # it started on 10 March: that period's figures may move


def test_a_course_moved_later_moves_the_key_of_the_day_it_left(unit_id: int) -> None:
    course = a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    early = db.data_version_until(date(2024, 3, 10))
    with db.write_session() as session:
        row = session.get(Course, course)
        assert row is not None
        services.update_course(session, SYSTEM, course_id=course, expected_version=row.version, ref=row.ref,
                               start=date(2024, 6, 1), form=row.form, group_id=None, contact_person_id=None,
                               end=None, end_reason=None, next_step=None)
    assert db.data_version_until(date(2024, 3, 10)) != early  # the old start counts, not only the new one


def test_attendance_counts_on_its_sessions_day(unit_id: int) -> None:
    with db.write_session() as session:
        group = services.create_group(session, SYSTEM, unit_id=unit_id, name="Hold A", start=date(2024, 3, 1))
    course = a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 5))
    with db.write_session() as session:
        row = session.get(Course, course)
        assert row is not None
        services.update_course(session, SYSTEM, course_id=course, expected_version=row.version, ref=row.ref,
                               start=row.start, form="group", group_id=group.id, contact_person_id=None,
                               end=None, end_reason=None, next_step=None)
    day_before, on_the_day = db.data_version_until(date(2024, 4, 1)), db.data_version_until(date(2024, 4, 2))
    with db.write_session() as session:
        services.add_group_session(session, SYSTEM, group_id=group.id, day=date(2024, 4, 2),
                                   present_course_ids=[course])
    assert db.data_version_until(date(2024, 4, 1)) == day_before
    assert db.data_version_until(date(2024, 4, 2)) == db.data_version() != on_the_day


def test_staff_and_bulk_changes_move_every_days_key(unit_id: int) -> None:
    a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    with db.write_session() as session:
        services.add_staff(session, SYSTEM, unit_id=unit_id, name="Anna", initials="AN")  # capacity has no day
    assert db.data_version_until(date(2000, 1, 1)) == db.data_version()
    with db.write_session() as session:
        session.execute(sa.update(Staff).where(Staff.unit_id == unit_id).values(max_active_courses=9))  # type: ignore[arg-type]
    assert db.data_version_until(date(2000, 1, 1)) == db.data_version()


def test_a_days_key_never_comes_back_to_a_value_it_had_when_old_changes_are_pruned(
    unit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "KEEP_CHANGE_ROWS", 4)
    a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    keys = [db.data_version_until(date(2024, 3, 10))]
    course = a_course(unit_id, "B2", date(2024, 3, 1), date(2024, 3, 20))
    for n in range(12):  # scores on a course after the day: the key may stay, or rise as rows are pruned
        with db.write_session() as session:
            services.add_ors(session, SYSTEM, course_id=course, day=date(2024, 4, 1) + timedelta(days=n), items=ITEMS)
        keys.append(db.data_version_until(date(2024, 3, 10)))
    assert keys == sorted(keys)
    assert keys[-1] < db.data_version()  # still below the newest change: the scores did not reach back


def test_a_period_whose_key_stayed_has_the_same_figures_after_any_sequence_of_changes(db_url: str) -> None:
    """The property the cache relies on, on random writes through the service functions (those of
    the summaries' test): for periods ending on a grid of days, whenever the key stayed after a
    step, compute_kpis gives the same figures as before it."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from fokus import metrics
    from tests.test_summaries import FIRST_DAY, PROPERTY_SETTINGS, STEPS, build, plans, take

    days = [FIRST_DAY + timedelta(days=n) for n in (20, 60, 100, 140, 200, 260)]
    tallies = {"stayed": 0, "moved": 0}

    def figures(unit: int, day: date) -> dict[str, object]:
        with db.read_session() as session:
            return metrics.compute_kpis(session, SYSTEM, day - timedelta(days=59), day, [unit])

    @settings(PROPERTY_SETTINGS, max_examples=12 if db_url.startswith("sqlite") else 4)
    @given(plans_=st.lists(plans(), min_size=1, max_size=3), steps=st.lists(STEPS, min_size=4, max_size=12))
    def run(plans_: list[object], steps: list[object]) -> None:
        unit = build(plans_)  # type: ignore[arg-type]
        seen = {day: (db.data_version_until(day), figures(unit, day)) for day in days}
        for step in steps:
            try:
                with db.write_session() as session:
                    take(session, unit, step)  # type: ignore[arg-type]
            except (ValidationError, ConflictError):
                continue
            for day in days:
                key, now = db.data_version_until(day), figures(unit, day)
                if key == seen[day][0]:
                    assert now == seen[day][1], (day, step)
                    tallies["stayed"] += 1
                else:
                    tallies["moved"] += 1
                seen[day] = key, now

    run()
    assert tallies["stayed"] > 0 and tallies["moved"] > 0, tallies


# Readings kept across transactions (`db.settled`, `metrics.pieces`): a period's readings are
# kept in pieces on the key of each piece's last day; readings that do not read ORS scores are
# kept through saves of scores alone (`data_version_until(..., scores=False)`).

def test_a_score_leaves_the_key_of_readings_without_scores_and_a_course_edit_moves_it(unit_id: int) -> None:
    course = a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    day = date(2024, 6, 30)
    before = db.data_version_until(day), db.data_version_until(day, scores=False)
    with db.write_session() as session:
        services.add_ors(session, SYSTEM, course_id=course, day=date(2024, 5, 1), items=ITEMS)
    after_score = db.data_version_until(day), db.data_version_until(day, scores=False)
    assert after_score[0] == db.data_version() != before[0]  # the scores' readings read again
    assert after_score[1] == before[1]  # the others kept
    with db.write_session() as session:
        stored = session.get(Course, course)
        assert stored is not None
        stored.form = "group"
    assert db.data_version_until(day, scores=False) == db.data_version() != before[1]


def test_a_score_with_another_change_in_the_same_save_is_not_scores_only(unit_id: int) -> None:
    course = a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    with db.write_session() as session:
        services.add_ors(session, SYSTEM, course_id=course, day=date(2024, 5, 1), items=ITEMS)
        services.add_network_meeting(session, SYSTEM, course_id=course, day=date(2024, 5, 2), participants=3)
    with db.read_session() as session:
        newest = session.exec(sa.select(DataChange).order_by(DataChange.id.desc())).scalars().first()
    assert newest is not None and newest.scores_only is False


def test_a_course_handed_to_another_contact_person_moves_only_the_key_of_readings_narrowed_to_contact_people(
        unit_id: int) -> None:
    from fokus import metrics
    from tests.test_summaries import edit_course

    course = a_course(unit_id, "B1", date(2024, 3, 1), date(2024, 3, 10))
    with db.write_session() as session:
        anna, bo = (services.add_staff(session, SYSTEM, unit_id=unit_id, name=name, initials=name[:2].upper()).id
                    for name in ("Anna", "Bo"))
    day = date(2024, 6, 30)

    def keys() -> tuple[int, int, int]:
        return db.data_version_until(day), db.data_version_until(day, contacts=False), db.data_version(contacts=False)

    def handed_to(staff_id: int | None, **also: object) -> None:
        with db.write_session() as session:
            stored = session.get(Course, course)
            assert stored is not None
            edit_course(session, stored, contact_person_id=staff_id, **also)

    before = keys()
    handed_to(anna)
    assert keys() == (db.data_version(), *before[1:])  # read again only if narrowed to Anna or Bo
    assert metrics.Selection(None, metrics.Filters(staff_ids=frozenset({anna}))).reads_contacts
    assert not metrics.Selection(None, metrics.Filters(forms=frozenset({"group"}))).reads_contacts
    handed_to(bo, form="group")  # with another change in the same save: moves every key
    assert keys() == (db.data_version(),) * 3


def test_pieces_cover_the_period_once_month_by_month_near_its_end_and_in_years_long_before() -> None:
    from fokus.metrics import pieces

    found = pieces(date(2021, 5, 17), date(2024, 3, 10))
    assert found[:3] == [(date(2021, 5, 17), date(2021, 12, 31)), (date(2022, 1, 1), date(2022, 12, 31)),
                         (date(2023, 1, 1), date(2023, 2, 28))]
    assert found[3] == (date(2023, 3, 1), date(2023, 7, 31))  # the rest of the last year
    assert found[4:] == [(date(2023, 8, 1), date(2023, 8, 31)), (date(2023, 9, 1), date(2023, 9, 30)),
                         (date(2023, 10, 1), date(2023, 10, 31)), (date(2023, 11, 1), date(2023, 11, 30)),
                         (date(2023, 12, 1), date(2023, 12, 31)), (date(2024, 1, 1), date(2024, 1, 31)),
                         (date(2024, 2, 1), date(2024, 2, 29)), (date(2024, 3, 1), date(2024, 3, 10))]
    # Rolling 12 months: the months before the last 8 in one piece, then month by month.
    rolling = pieces(date(2025, 11, 27), date(2026, 11, 26))
    assert rolling[0] == (date(2025, 11, 27), date(2026, 3, 31)) and len(rolling) == 9
    assert pieces(date(2024, 3, 2), date(2024, 3, 9)) == [(date(2024, 3, 2), date(2024, 3, 9))]
    for start, end in ((date(2020, 2, 29), date(2026, 11, 26)), (date(2026, 1, 1), date(2026, 1, 1)), *[
            (date(2019, 12, 31) + timedelta(days=k), date(2026, 11, 26)) for k in range(0, 2500, 97)]):
        found = pieces(start, end)
        assert found[0][0] == start and found[-1][1] == end
        assert all(last + timedelta(days=1) == first for (_, last), (first, _) in zip(found, found[1:], strict=False))
        assert all(first <= last for first, last in found)


def test_kept_readings_give_the_figures_and_series_of_a_fresh_reading_after_any_sequence_of_changes(
        db_url: str) -> None:
    """The property the kept readings rely on, on random writes through the service functions:
    after every step, Overblik's figures and every series of its charts, for periods ending on a
    grid of days and reaching over several months, and the work list (kept by course) on those
    days, are those read with nothing kept."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from fokus import dashboard, metrics
    from tests.test_summaries import FIRST_DAY, PROPERTY_SETTINGS, STEPS, build, plans, take

    days = [FIRST_DAY + timedelta(days=n) for n in (45, 140, 260)]
    reads = {"asked": 0, "read": 0, "counting": 0}  # of the readings asked for after a step, how many were read
    work_lists = {"all": 0, "some": 0}  # the work list read again after a step: in full, or course by course
    keeping, keeping_by_course = db.settled, db.kept_by_course

    def kept_by_course(session, key, read):  # type: ignore[no-untyped-def]
        def counting(course_ids):  # type: ignore[no-untyped-def]
            if reads["counting"]:
                work_lists["all" if course_ids is None else "some"] += 1
            return read(course_ids)
        return keeping_by_course(session, key, counting)

    def settled(session, key, read, *, until, scores=True, contacts=True):  # type: ignore[no-untyped-def]
        def counting():  # type: ignore[no-untyped-def]
            reads["read"] += reads["counting"]
            return read()
        reads["asked"] += reads["counting"]
        return keeping(session, key, counting, until=until, scores=scores, contacts=contacts)

    def everything(unit: int, day: date) -> list[object]:
        shown: list[object] = []
        with db.read_session() as session:
            anna = session.exec(sa.select(sa.func.min(Staff.id)).where(Staff.unit_id == unit)).scalar_one()
            for start, units, filters in ((day - timedelta(days=120), [unit], metrics.NO_FILTERS),
                                          (FIRST_DAY, None, metrics.NO_FILTERS),
                                          (FIRST_DAY, [unit], metrics.Filters(staff_ids=frozenset({anna})))):
                shown.append(metrics.compute_kpis(session, SYSTEM, start, day, units, filters))
                for name in dashboard.SERIES:
                    shown.append(getattr(metrics, name)(session, SYSTEM, start, day, units, filters).to_dict("records"))
                shown.append(dashboard.course_actions(session, SYSTEM, today=day, unit_ids=units, filters=filters))
                print("WL", day, len(shown[-1]), [(i.row_id, i.reasons) for i in shown[-1]][:3])
        return shown

    @settings(PROPERTY_SETTINGS, max_examples=10 if db_url.startswith("sqlite") else 3)
    @given(plans_=st.lists(plans(), min_size=1, max_size=3), steps=st.lists(STEPS, min_size=4, max_size=10))
    def run(plans_: list[object], steps: list[object]) -> None:
        unit = build(plans_)  # type: ignore[arg-type]
        for day in days:
            everything(unit, day)
        for step in steps:
            try:
                with db.write_session() as session:
                    take(session, unit, step)  # type: ignore[arg-type]
            except (ValidationError, ConflictError):
                continue
            for day in days:
                reads["counting"] = 1
                kept = everything(unit, day)
                reads["counting"] = 0
                db.forget_kept()
                assert kept == everything(unit, day), (day, step)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "settled", settled)
        patch.setattr(db, "kept_by_course", kept_by_course)
        run()
    # Many pieces were kept (a step reaches back to its course's start, so most steps move most
    # of these short periods): the property was tested on kept readings, not on fresh ones only.
    assert reads["asked"] - reads["read"] > reads["asked"] / 10, reads
    # The work list was brought up to date course by course after many steps (a score, a course
    # edit), and read in full after others (a course started or deleted also moves its referral).
    assert work_lists["some"] > 0 and work_lists["all"] > 0, work_lists


def test_a_change_stamps_its_version_only_after_an_earlier_stamp_committed(unit_id: int) -> None:
    """Otherwise change n + 1 could commit first, a reader cache figures on n + 1, and change n
    land unseen beneath it. A transaction that has written its change row and not committed
    stands for one between its stamp and its commit: a save must wait for it. On PostgreSQL the
    stamp's table lock makes it wait; on SQLite every writer queues at BEGIN IMMEDIATE."""
    import threading

    engine = db.engine_for()
    before = db.data_version()
    saved = threading.Event()
    # A write connection, as `write_session` opens one (on SQLite: BEGIN IMMEDIATE).
    with engine.execution_options(**{db._WRITE: True}).connect() as other:
        other.execute(sa.insert(DataChange).values(at=sa.func.now()))

        def save() -> None:
            add_referral(unit_id, "B2")
            saved.set()

        writer = threading.Thread(target=save)
        writer.start()
        assert not saved.wait(1.0), "the save stamped its version while an earlier stamp was not committed"
        other.commit()
    writer.join(10)
    assert saved.is_set() and db.data_version() == before + 2
