"""The units a user works in: the choice a page offers when something new belongs to one."""

from __future__ import annotations

from sqlmodel import Session, col, select

from fokus.actor import Actor
from fokus.models import Unit


def visible_units(session: Session, actor: Actor) -> dict[int, str]:
    """The units this actor may see, by name: id → name (every unit for an administrator)."""
    query = select(Unit).order_by(col(Unit.name))
    if actor.unit_ids is not None:
        query = query.where(col(Unit.id).in_(sorted(actor.unit_ids)))
    return {unit.id: unit.name for unit in session.exec(query).all() if unit.id is not None}
