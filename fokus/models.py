"""The tables of DESIGN §2, with the rules the database itself can hold.

Rules that need more than one row or table (one open course per citizen aside, which is a
partial unique index) live in `fokus.services`; the CHECK constraints here are the last line
of defence behind them, so that nothing invalid is stored even by a bug.

ORS and SRS items are stored as whole tenths (0–100) so that totals and the reliable-change
test are exact integers.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fokus.clock import now_utc

# Named constraints, so that Alembic's batch mode on SQLite can find them again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, codes: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{code}'" for code in codes)
    return f"{column} IN ({quoted})"


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120)
    municipality: str = Field(max_length=120)
    version: int = 1


class Citizen(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "ref", name="uq_citizen_unit_ref"),
        sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    ref: str = Field(max_length=40)
    birth_year: int
    created: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    version: int = 1


REFERRAL_STATUS_CODES = ("waiting", "started", "rejected", "withdrawn")


# The covering index of referral figures for every unit at once (migration 0006).
REFERRAL_RECEIVED_COVER = ("received", "unit_id", "referrer", "target_group", "from_sel85")


class Referral(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("citizen_id", "received", name="uq_referral_citizen_received"),
        sa.CheckConstraint(_in("referrer", ("socialcenter", "jobcenter", "other")), name="referrer_code"),
        sa.CheckConstraint(_in("target_group", ("psychic", "physical", "social")), name="target_group_code"),
        sa.CheckConstraint(_in("status", REFERRAL_STATUS_CODES), name="status_code"),
        sa.CheckConstraint(
            "(status = 'waiting' AND decided IS NULL) OR (status <> 'waiting' AND decided IS NOT NULL)",
            name="decided_iff_not_waiting",
        ),
        sa.CheckConstraint("decided IS NULL OR decided >= received", name="decided_after_received"),
        sa.CheckConstraint(
            "(status IN ('rejected', 'withdrawn')) = (reason IS NOT NULL)", name="reason_iff_refused"
        ),
        # Periods by received or decided, per unit and for every unit at once.
        sa.Index("ix_referral_unit_received", "unit_id", "received"),
        sa.Index("ix_referral_unit_decided", "unit_id", "decided"),
        sa.Index("ix_referral_received_cover", *REFERRAL_RECEIVED_COVER),
        sa.Index("ix_referral_decided", "decided"),
    )
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    received: date
    referrer: str = Field(max_length=20)
    target_group: str = Field(max_length=20)
    from_sel85: bool = False
    status: str = Field(default="waiting", max_length=20)
    decided: date | None = None
    reason: str | None = Field(default=None, max_length=40)
    age_note: str | None = Field(default=None, max_length=500)
    version: int = 1


ORS_ORDINALS = 20  # the first scores whose totals a course keeps (`ors_1` … `ors_20`)
# The covering indexes of course figures for every unit at once (migration 0006).
COURSE_START_COVER = ("start", "unit_id", "form", "wait_days", "end", "contact_person_id",
                      *(f"ors_{n}" for n in range(1, ORS_ORDINALS + 1)))
COURSE_END_COVER = ("end", "unit_id", "duration_days", "next_step", "network_meetings", "ors_count", "ors_first",
                    "ors_last", "start", "form", "contact_person_id", "group_id")


class Course(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "ref", name="uq_course_unit_ref"),
        sa.UniqueConstraint("referral_id", name="uq_course_referral"),
        sa.CheckConstraint(_in("form", ("group", "individual")), name="form_code"),
        sa.CheckConstraint('"end" IS NULL OR "end" >= start', name="end_after_start"),
        sa.CheckConstraint(
            'end_reason IS NULL OR ("end" IS NOT NULL AND '
            + _in("end_reason", ("completed", "dropped_out", "moved", "other"))
            + ")",
            name="end_reason_code",
        ),
        sa.CheckConstraint(
            'next_step IS NULL OR ("end" IS NOT NULL AND '
            + _in("next_step", ("none", "sel85", "other_sel", "job", "education", "other"))
            + ")",
            name="next_step_code",
        ),
        # One open course per citizen.
        sa.Index(
            "uq_course_one_open_per_citizen",
            "citizen_id",
            unique=True,
            sqlite_where=sa.text('"end" IS NULL'),
            postgresql_where=sa.text('"end" IS NULL'),
        ),
        sa.Index("ix_course_unit_start", "unit_id", "start"),
        sa.Index("ix_course_unit_end", "unit_id", "end"),
        # Every unit at once (an administrator's figures): periods by start or by end, each index
        # holding every column the figures of such a period read, so they are read from the index
        # alone (a table lookup per course costs 20-30 ms at 30,000 courses a year).
        sa.Index("ix_course_start_cover", *COURSE_START_COVER),
        sa.Index("ix_course_end_cover", *COURSE_END_COVER),
    )
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    ref: str = Field(max_length=40)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    referral_id: int = Field(foreign_key="referral.id")
    start: date
    form: str = Field(max_length=20)
    group_id: int | None = Field(default=None, foreign_key="group.id", index=True)
    contact_person_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    end: date | None = None
    end_reason: str | None = Field(default=None, max_length=20)
    next_step: str | None = Field(default=None, max_length=20)
    version: int = 1
    # Summaries kept by `fokus.summaries` in the transaction that changes what they sum up.
    wait_days: int | None = None
    duration_days: int | None = None
    network_meetings: int = 0
    ors_count: int = 0
    ors_first: int | None = None  # total in tenths, first in the course's order
    ors_last: int | None = None
    ors_last_date: date | None = None
    ors_1: int | None = None
    ors_2: int | None = None
    ors_3: int | None = None
    ors_4: int | None = None
    ors_5: int | None = None
    ors_6: int | None = None
    ors_7: int | None = None
    ors_8: int | None = None
    ors_9: int | None = None
    ors_10: int | None = None
    ors_11: int | None = None
    ors_12: int | None = None
    ors_13: int | None = None
    ors_14: int | None = None
    ors_15: int | None = None
    ors_16: int | None = None
    ors_17: int | None = None
    ors_18: int | None = None
    ors_19: int | None = None
    ors_20: int | None = None


class Group(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "name", name="uq_group_unit_name"),
        sa.CheckConstraint("capacity BETWEEN 1 AND 100", name="capacity_range"),
        sa.CheckConstraint('"end" IS NULL OR "end" >= start', name="end_after_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=80)
    theme: str = Field(default="", max_length=200)
    start: date
    end: date | None = None
    capacity: int = 10
    version: int = 1


class GroupSession(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("group_id", "date", name="uq_groupsession_group_date"),)
    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="group.id")
    date: date
    version: int = 1
    # The attendance registered at the session and how much of it present: a summary kept up to
    # date with its attendance rows in the same transaction (`fokus.summaries.refresh_sessions`),
    # so a period's attendance is read from the sessions alone.
    present_count: int = 0
    registered_count: int = 0


class Attendance(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("session_id", "course_id", name="uq_attendance_session_course"),
        # Attendance of a period's sessions, counted from the index alone (migration 0006).
        sa.Index("ix_attendance_session_present", "session_id", "present"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="groupsession.id")
    course_id: int = Field(foreign_key="course.id", index=True)
    present: bool = True


class Staff(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "initials", name="uq_staff_unit_initials"),
        sa.CheckConstraint("max_active_courses BETWEEN 0 AND 200", name="max_active_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=120)
    initials: str = Field(max_length=10)
    active: bool = True
    max_active_courses: int = 15
    version: int = 1


class User(SQLModel, table=True):
    __table_args__ = (sa.CheckConstraint(_in("role", ("admin", "leader", "staff", "screen")), name="role_code"),)
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=120)
    role: str = Field(max_length=20)
    password_hash: str | None = Field(default=None, max_length=300)
    active: bool = True
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # A 4–6 digit PIN (argon2) that ends the tablet self-report mode (`fokus.selfreport`).
    pin_hash: str | None = Field(default=None, max_length=300)
    version: int = 1


class UserUnit(SQLModel, table=True):
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


def _items_in_range(*items: str) -> tuple[sa.CheckConstraint, ...]:
    return tuple(sa.CheckConstraint(f"{item} BETWEEN 0 AND 100", name=f"{item}_range") for item in items)


class OrsScore(SQLModel, table=True):
    __table_args__ = (
        *_items_in_range("individual", "interpersonal", "social", "overall"),
        sa.CheckConstraint("session_no >= 1", name="session_no_positive"),
        sa.Index("ix_orsscore_course_order", "course_id", "date", "session_no", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id")
    date: date
    session_no: int
    individual: int
    interpersonal: int
    social: int
    overall: int
    entered_by: int | None = Field(default=None, foreign_key="user.id")
    entered_at: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    version: int = 1


class SrsScore(SQLModel, table=True):
    __table_args__ = (
        *_items_in_range("relation", "goals", "approach", "overall"),
        sa.CheckConstraint("session_no >= 1", name="session_no_positive"),
        sa.Index("ix_srsscore_course_order", "course_id", "date", "session_no", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id")
    date: date
    session_no: int
    relation: int
    goals: int
    approach: int
    overall: int
    group_session: bool = False
    entered_by: int | None = Field(default=None, foreign_key="user.id")
    entered_at: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    version: int = 1


class NetworkMeeting(SQLModel, table=True):
    __table_args__ = (
        sa.CheckConstraint("participants BETWEEN 1 AND 100", name="participants_range"),
        sa.Index("ix_networkmeeting_date", "date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    date: date
    participants: int
    version: int = 1


class Target(SQLModel, table=True):
    """The unit's targets, dated: a period is judged by those in force on its last day."""

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "valid_from", name="uq_target_unit_valid_from"),
        sa.CheckConstraint("intake_min >= 0 AND intake_max >= intake_min", name="intake_band"),
        sa.CheckConstraint("group_share BETWEEN 0 AND 1", name="group_share_range"),
        sa.CheckConstraint("weeks_min >= 1 AND weeks_max >= weeks_min", name="weeks_band"),
        sa.CheckConstraint("max_months BETWEEN 1 AND 24", name="max_months_range"),
        sa.CheckConstraint("ors_cutoff BETWEEN 0 AND 40", name="ors_cutoff_range"),
        sa.CheckConstraint("rci BETWEEN 1 AND 40", name="rci_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    valid_from: date
    intake_min: int = 150
    intake_max: int = 200
    group_share: float = 0.70
    weeks_min: int = 12
    weeks_max: int = 16
    max_months: int = 6
    ors_cutoff: float = 25.0
    rci: float = 5.0
    # No SQL-side default: None must stay None ("no quota"); create_unit sets 120 explicitly.
    jobcenter_quota: int | None = None
    version: int = 1


class AuditEvent(SQLModel, table=True):
    """One use of fokus: who, when, what kind, which row and which citizen.

    `citizen_ref` is copied in, so the log can be read after the citizen is deleted (it is
    then replaced by a neutral token); `citizen_id` has no foreign key for the same reason.
    """

    __table_args__ = (
        sa.Index("ix_auditevent_at", "at"),
        sa.Index("ix_auditevent_citizen", "citizen_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    user_login: str = Field(max_length=120)
    action: str = Field(max_length=20)
    table_name: str = Field(default="", max_length=40)
    row_id: int | None = None
    unit_id: int | None = None
    citizen_id: int | None = None
    citizen_ref: str | None = Field(default=None, max_length=60)
    detail: str = Field(default="", max_length=2000)


class LoginSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    method: str = Field(default="password", max_length=20)
    created: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    last_seen: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))


class DeletionRecord(SQLModel, table=True):
    """The deletion register: a hashed reference of every citizen deleted for retention.

    A restore from an older backup applies it again, so deleted citizens stay deleted.
    """

    id: int | None = Field(default=None, primary_key=True)
    ref_hash: str = Field(max_length=64, unique=True)
    deleted_at: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))


class Setting(SQLModel, table=True):
    """Installation-wide settings kept in the database (see `fokus.settings` for the list)."""

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=200)
    version: int = 1


class UnitSetting(SQLModel, table=True):
    """A unit's own value of a setting kept per unit (the meeting screen's, `fokus.settings.UNIT_KEYS`).

    A unit without its own value follows the installation-wide `Setting`.
    """

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=200)
    version: int = 1


class SelfReportSession(SQLModel, table=True):
    """A tablet self-report opened by a staff member for one course (`fokus.selfreport`).

    It locks the staff member's login session (`login_token_hash`, the SHA-256 its token is
    kept under in `LoginSession`) into the self-report page until they leave it with their PIN;
    it takes one ORS (`used`) until `expires`. `code_hash` is the SHA-256 of a random code that
    names the opening. Deleted with its course.
    """

    __table_args__ = (sa.CheckConstraint("expires > created", name="expires_after_created"),)
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    course_id: int = Field(foreign_key="course.id", ondelete="CASCADE", index=True)
    created_by: int = Field(foreign_key="user.id")
    login_token_hash: str | None = Field(default=None, max_length=64, index=True)
    created: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    expires: datetime = Field(sa_type=sa.DateTime(timezone=True))
    used: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    failed_pins: int = 0
    version: int = 1


class DataChange(SQLModel, table=True):
    """One row per committed transaction that changed the unit's data (`fokus.db.data_version`).

    The newest id is the data version: dashboards cache their figures on it, so a save anywhere
    shows at the next run and nothing unchanged is recomputed. Rows are only ever inserted (no
    row is locked by concurrent writers) and the old ones pruned.
    """

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=now_utc, sa_type=sa.DateTime(timezone=True))
    # The earliest day the change can move a figure of (`fokus.db.data_version_until`): the
    # earliest date, before and after, of the rows it wrote. None: any day (staff, units, bulk changes).
    since: date | None = None
    # Every row it wrote that the figures read is an ORS score: readings that do not read scores
    # pass it by (`data_version_until(..., scores=False)`).
    scores_only: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # It changed the contact person of courses and nothing else the figures read: readings not
    # narrowed to contact people pass it by (`data_version_until(..., contacts=False)`).
    contact_only: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The one course whose rows (the course, its scores, its network meetings) were all it wrote;
    # None: anything else. Readings kept by course read only that course again (`fokus.db.kept_by_course`).
    course_id: int | None = None
