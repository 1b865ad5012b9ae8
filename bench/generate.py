"""Benchmark data at three sizes, with the demo generator's distributions (issue 8).

A *lane* is ten years of one demo unit (`fokus.demo`'s planner with its own seed): about 1,830
courses and 21,900 ORS scores. A size is units made of lanes:

- S: 1 unit of 1 lane, one unit's ten years (≈ 1,830 courses, 21,900 ORS);
- M: 8 units of 2 lanes, a large municipality (≈ 29,000 courses, 350,000 ORS);
- L: 100 units, 64 of 2 lanes and 36 of 1 (164 lanes: ≈ 300,000 courses, 3,600,000 ORS).

Rows are written straight into the tables with their ids (the service layer would take hours
at L), then `fokus.summaries.rebuild` fills the per-course summaries from the scores, as the
migration does for an existing database. Two users sign in to the result: `bench-admin`
(every unit) and `bench-leder` (the first unit), both with `PASSWORD`.

    python -m bench.generate S sqlite:///data/bench/S.sqlite
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from fokus import auth, db, demo, summaries
from fokus.actor import SYSTEM

PASSWORD = "bench-adgangskode-42"
TODAY = date(2026, 11, 25)
YEARS = 10
SIZES: dict[str, tuple[int, ...]] = {  # lanes per unit
    "S": (1,),
    "M": (2,) * 8,
    "L": (2,) * 64 + (1,) * 36,
}
CHUNK = 20_000


def _plan(seed: int) -> demo._Plan:
    return demo._Planner(TODAY, seed=seed, days=YEARS * 365).plan()


@dataclass
class _Ids:
    """The next id of every table."""

    counters: dict[str, int]

    def next(self, table: str) -> int:
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


class _Rows:
    """Rows per table, in insert order (a table's rows only reference earlier tables' rows)."""

    ORDER = ("unit", "staff", "citizen", "group", "groupsession", "referral", "course", "attendance",
             "orsscore", "srsscore", "networkmeeting")

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in self.ORDER}
        self.ids = _Ids({})

    def add(self, table: str, **values: Any) -> int:
        row_id = self.ids.next(table)
        self.tables[table].append({"id": row_id, **values})
        return row_id


def _lane(rows: _Rows, plan: demo._Plan, unit_id: int, lane: int, created: datetime) -> None:
    suffix = "" if lane == 0 else f" {chr(ord('A') + lane)}"
    staff_ids = [
        rows.add("staff", unit_id=unit_id, name=name + suffix, initials=f"{initials}{lane or ''}", active=True,
                 max_active_courses=most, version=1)
        for name, initials, most in demo.STAFF
    ]
    group_ids: dict[int, int] = {}
    for group in plan.groups:
        end = group.planned_sessions[-1]
        group_ids[id(group)] = rows.add(
            "group", unit_id=unit_id, name=group.name + suffix, theme=group.theme, start=group.start,
            end=end if end <= plan.today else None, capacity=group.capacity, version=1,
        )
    citizen_ids: dict[str, int] = {}
    course_ids: dict[int, int] = {}
    for referral in sorted(plan.referrals, key=lambda r: r.received):
        ref = f"{referral.citizen.ref}-{lane}"
        if ref not in citizen_ids:
            citizen_ids[ref] = rows.add("citizen", unit_id=unit_id, ref=ref, birth_year=referral.citizen.birth_year,
                                        created=created, version=1)
        referral_id = rows.add(
            "referral", unit_id=unit_id, citizen_id=citizen_ids[ref], received=referral.received,
            referrer=referral.referrer, target_group=referral.target_group, from_sel85=referral.from_sel85,
            status=referral.status, decided=referral.decided, reason=referral.reason, age_note=referral.age_note,
            version=1,
        )
        course = referral.course
        if course is None:
            continue
        course_id = rows.add(
            "course", unit_id=unit_id, ref=f"F{lane}-{len(course_ids) + 1:05d}", citizen_id=citizen_ids[ref],
            referral_id=referral_id, start=course.start, form=course.form,
            group_id=group_ids[id(course.group)] if course.group else None,
            contact_person_id=staff_ids[course.contact], end=course.end,
            end_reason=course.end_reason if course.end else None, next_step=course.next_step, version=1,
        )
        course_ids[id(course)] = course_id
        for day, number, items in course.ors:
            rows.add("orsscore", course_id=course_id, date=day, session_no=number, entered_by=None,
                     entered_at=created, version=1, **items)
        for day, number, items, in_group in course.srs:
            rows.add("srsscore", course_id=course_id, date=day, session_no=number, group_session=in_group,
                     entered_by=None, entered_at=created, version=1, **items)
        for day, participants in course.meetings:
            rows.add("networkmeeting", course_id=course_id, date=day, participants=participants, version=1)
    for group in plan.groups:
        for day, present in group.present.items():
            session_id = rows.add("groupsession", group_id=group_ids[id(group)], date=day, version=1)
            for course in present:
                rows.add("attendance", session_id=session_id, course_id=course_ids[id(course)], present=True)


def _chunks(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for at in range(0, len(items), CHUNK):
        yield items[at:at + CHUNK]


def _copy(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, through psycopg: an order of magnitude faster than INSERTs."""
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    assert raw is not None
    quoted = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _write(url: str, rows: _Rows) -> None:
    engine = db.make_engine(url)
    tables = SQLModel.metadata.tables
    with engine.begin() as connection:
        for name in _Rows.ORDER:
            found = rows.tables[name]
            if not found:
                continue
            if engine.dialect.name == "postgresql":
                _copy(connection, tables[name], found)
                connection.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), {rows.ids.counters[name]})"))
            else:
                for chunk in _chunks(found):
                    connection.execute(tables[name].insert(), chunk)
    engine.dispose()


def generate(size: str, url: str, *, log: io.TextIOBase | Any = sys.stderr) -> dict[str, int]:
    """Fill an empty database at `url` with size S, M or L; the row counts back."""
    lanes_per_unit = SIZES[size]
    started = time.perf_counter()
    db.upgrade_to_head(url)
    seeds = [demo.SEED + lane for lane in range(sum(lanes_per_unit))]
    with multiprocessing.Pool(2) as pool:
        plans = pool.map(_plan, seeds, chunksize=4)
    print(f"{size}: {len(plans)} lanes planned in {time.perf_counter() - started:.0f} s", file=log)
    rows = _Rows()
    created = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    plan_index = 0
    for number, lanes in enumerate(lanes_per_unit, start=1):
        unit_id = rows.add("unit", name=f"FOKUS {number:03d}", municipality=f"Kommune {number:03d}", version=1)
        for lane in range(lanes):
            _lane(rows, plans[plan_index], unit_id, lane, created)
            plan_index += 1
    _write(url, rows)
    print(f"{size}: rows written after {time.perf_counter() - started:.0f} s", file=log)
    engine = db.make_engine(url)
    with Session(engine) as session, session.begin():
        summaries.rebuild(session)
        summaries.refresh_sessions(session, None)  # the attendance counts of every group session
        unit_ids = [row["id"] for row in rows.tables["unit"]]
        auth.create_user(session, SYSTEM, login="bench-admin", role="admin", password=PASSWORD, unit_ids=[])
        auth.create_user(session, SYSTEM, login="bench-leder", role="leader", password=PASSWORD,
                         unit_ids=unit_ids[:1])
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
        else:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
            # Into the file itself, and the write-ahead log emptied: at L it was left at 777 MB.
            connection.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    counts = {name: len(found) for name, found in rows.tables.items()}
    print(f"{size}: done in {time.perf_counter() - started:.0f} s: {counts}", file=log)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("url", help="an empty database: sqlite:///data/bench/S.sqlite or postgresql+psycopg://…")
    arguments = parser.parse_args()
    generate(arguments.size, arguments.url)


if __name__ == "__main__":
    main()
