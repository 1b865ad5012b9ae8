"""One citizen's referrals, every status, with the versions the correction forms send back.

`fokus.queries` has the waiting list and the courses; a rejected or withdrawn referral (to be
reopened or corrected) is in neither, so the Henvisninger page reads it here. The caller has
already found the citizen through a scoped, logged read (`queries.find_citizens`, the waiting
list); `unit_ids` (the acting user's `Actor.unit_ids`) keeps this read inside the same units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from fokus.errors import NotFoundError
from fokus.models import Citizen, Course, Referral


@dataclass(frozen=True)
class ReferralRow:
    referral_id: int
    version: int
    received: date
    referrer: str
    target_group: str
    from_sel85: bool
    age_note: str | None
    status: str
    decided: date | None
    reason: str | None
    course_ref: str | None  # the course started from it


@dataclass(frozen=True)
class CitizenRecord:
    citizen_id: int
    version: int
    unit_id: int
    ref: str
    birth_year: int
    referrals: tuple[ReferralRow, ...]  # newest first


def citizen_record(session: Session, *, citizen_id: int, unit_ids: frozenset[int] | None) -> CitizenRecord:
    """The citizen and their referrals; NotFoundError outside `unit_ids` (None: every unit)."""
    citizen = session.get(Citizen, citizen_id) if isinstance(citizen_id, int) else None
    if citizen is None or (unit_ids is not None and citizen.unit_id not in unit_ids):
        raise NotFoundError("Borgeren findes ikke (længere). Søg igen.")
    rows = session.exec(
        select(Referral, Course.ref)
        .join(Course, col(Course.referral_id) == col(Referral.id), isouter=True)
        .where(Referral.citizen_id == citizen.id)
        .order_by(col(Referral.received).desc(), col(Referral.id).desc())
    ).all()
    return CitizenRecord(
        citizen_id=citizen.id, version=citizen.version, unit_id=citizen.unit_id, ref=citizen.ref,
        birth_year=citizen.birth_year,
        referrals=tuple(
            ReferralRow(
                referral_id=r.id, version=r.version, received=r.received, referrer=r.referrer,
                target_group=r.target_group, from_sel85=r.from_sel85, age_note=r.age_note, status=r.status,
                decided=r.decided, reason=r.reason, course_ref=course_ref,
            )
            for r, course_ref in rows
        ),
    )
