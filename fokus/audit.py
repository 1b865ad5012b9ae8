"""The audit log: one row per use of a citizen's data, written in the same transaction."""

from __future__ import annotations

from sqlmodel import Session

from fokus.actor import Actor
from fokus.models import AuditEvent, Citizen

ACTIONS = (
    "viewed", "searched", "created", "changed", "deleted", "exported",
    "login", "login_failed", "logout", "denied", "purged",
)


def record(
    session: Session,
    actor: Actor,
    action: str,
    table_name: str = "",
    row_id: int | None = None,
    *,
    unit_id: int | None = None,
    citizen: Citizen | None = None,
    detail: str = "",
) -> AuditEvent:
    assert action in ACTIONS, action
    event = AuditEvent(
        user_login=actor.login,
        action=action,
        table_name=table_name,
        row_id=row_id,
        unit_id=unit_id if unit_id is not None else (citizen.unit_id if citizen else None),
        citizen_id=citizen.id if citizen else None,
        citizen_ref=citizen.ref if citizen else None,
        detail=detail[:2000],
    )
    session.add(event)
    return event
