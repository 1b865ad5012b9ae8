"""Facts about this installation and the targets in force, for the "Om fokus" page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from fokus import config, db, fmt
from fokus.actor import Actor
from fokus.metrics import targets_for
from fokus.models import Unit

# Where the defaults come from (DESIGN §6 and §9), shown beside them.
TARGET_SOURCES = {
    "Tilgang om året": "Faxe Kommunes plan: 150–200 borgere om året",
    "Startet i gruppe": "Slagelse FOKUS: ca. 70 % starter i grupper",
    "Forløbets længde": "12–16 uger, aldrig over 6 måneder (Faxe/Slagelse)",
    "ORS klinisk grænse": "Miller m.fl. 2003: 25 for voksne",
    "ORS pålidelig ændring": "5 point (FIT/ORS-litteraturen)",
}


@dataclass(frozen=True)
class Installation:
    database_kind: str
    database_location: str
    revision: str | None
    newest_revision: str


def installation() -> Installation:
    url = make_url(config.database_url())
    if url.get_backend_name() == "sqlite":
        kind, location = "Indlejret SQLite-fil", str(url.database)
    else:
        kind, location = "PostgreSQL", f"{url.host}:{url.port or 5432}/{url.database}"
    return Installation(kind, location, db.current_revision(), db.head_revision())


def targets_table(session: Session, actor: Actor, day: date) -> list[dict[str, str]]:
    """One row per target and unit the actor sees: the value in force on `day`, and its source."""
    units = session.exec(select(Unit).order_by(col(Unit.name))).all()
    rows: list[dict[str, str]] = []
    for unit in units:
        if unit.id is None or not actor.sees_unit(unit.id):
            continue
        targets = targets_for(session, [unit.id], day)
        values = {
            "Tilgang om året": f"{targets.intake_min}–{targets.intake_max} forløbsstarter",
            "Startet i gruppe": fmt.percent(targets.group_share),
            "Forløbets længde": f"{fmt.integer(targets.weeks_min)}–{fmt.integer(targets.weeks_max)} uger, "
                                f"højst {fmt.integer(targets.max_months)} måneder",
            "ORS klinisk grænse": fmt.number(targets.ors_cutoff, 0),
            "ORS pålidelig ændring": f"{fmt.number(targets.rci, 0)} point",
        }
        for name, value in values.items():
            rows.append({"Enhed": unit.name, "Mål": name, "Værdi": value, "Kilde": TARGET_SOURCES[name]})
    return rows
