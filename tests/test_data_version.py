"""The data version (`fokus.db.data_version`): what dashboards cache their figures on.

It must rise with every committed change of the unit's data, whichever way it was written
(one row, a bulk delete), and stay put for reads, refused saves and bookkeeping (the audit
log, logins), so that a save anywhere shows at the next run and nothing else recomputes.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from fokus import audit, db, services
from fokus.actor import SYSTEM
from fokus.errors import ValidationError
from fokus.models import DataChange, Staff


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
