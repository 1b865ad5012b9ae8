"""Settings kept in the database: the one list, with defaults and limits.

Every setting is installation-wide, changed by an administrator. The meeting screen's (`UNIT_KEYS`)
may also be kept per unit: a unit's leader sets them for that unit, and a unit without its own value
follows the installation-wide one. Every setting is documented in the README ("Indstillinger"); a
test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from fokus import audit
from fokus.actor import Actor
from fokus.errors import PermissionDenied, ValidationError
from fokus.models import Setting, UnitSetting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    default: float
    low: float
    high: float
    unit: str


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("audit_retention_months", "Revisionslog gemmes i", 6, 6, 120, "måneder"),
        SettingSpec("citizen_retention_years", "Borgerdata slettes efter", 5, 1, 20, "år"),
        SettingSpec("idle_timeout_minutes", "Automatisk log ud efter", 30, 1, 720, "minutters inaktivitet"),
        SettingSpec("session_max_hours", "Længste login", 12, 1, 24 * 30, "timer"),
        SettingSpec("max_failed_logins", "Spærring efter", 5, 3, 20, "forkerte adgangskoder"),
        SettingSpec("lockout_minutes", "Spærringen varer", 15, 1, 1440, "minutter"),
        # The meeting screen (issue 6): a leader may change these too, on the Mødeskærm page.
        SettingSpec("screen_slide_seconds", "Mødeskærmen skifter dias hvert", 15, 3, 60, "sekunder"),
        SettingSpec("screen_dark", "Mødeskærmen i mørkt tema", 0, 0, 1, "(0 = lyst, 1 = mørkt)"),
        *(SettingSpec(f"screen_show_{key}", f"Mødeskærmen viser {name.lower()}", 1, 0, 1, "(1 = ja, 0 = nej)")
          for key, name in (("intake", "Tilgang"), ("load", "Forløb og venteliste"), ("group_share", "Gruppeandel"),
                            ("ors", "ORS-fremgang"), ("next_steps", "Efter forløbet"),
                            ("network", "Netværksmøder"))),
    )
}
# Settings of what the meeting screen shows (no data, no security): kept per unit as well, set by its leaders.
UNIT_KEYS = frozenset(key for key in SPECS if key.startswith("screen_"))


def get(session: Session, key: str, unit_id: int | None = None) -> float:
    """The setting's value, or its default when none is stored: with `unit_id`, the unit's own value
    of a setting in `UNIT_KEYS` where it has one."""
    spec = SPECS[key]
    row: Setting | UnitSetting | None = None
    if unit_id is not None and key in UNIT_KEYS:
        row = session.get(UnitSetting, {"unit_id": unit_id, "key": key})
    if row is None:
        row = session.get(Setting, key)
    if row is None:
        return spec.default
    try:
        value = float(row.value)
    except ValueError:
        return spec.default
    return min(max(value, spec.low), spec.high)


def own_keys(session: Session, unit_id: int) -> set[str]:
    """The settings `unit_id` holds its own values of."""
    return set(session.exec(select(UnitSetting.key).where(UnitSetting.unit_id == unit_id)))


def _checked(key: str, value: float) -> str:
    """`value` as stored, once it is a number within the setting's limits."""
    spec = SPECS.get(key)
    if spec is None:
        raise ValidationError(f"Ukendt indstilling: {key}.", "key")
    if isinstance(value, bool) or not isinstance(value, int | float) or not spec.low <= value <= spec.high:
        raise ValidationError(
            f"{spec.label} skal ligge fra {spec.low:g} til {spec.high:g} {spec.unit}.", key
        )
    return f"{value:g}"


def _store(session: Session, row: Setting | UnitSetting, stored: str) -> None:
    row.value = stored
    row.version = (row.version or 0) + 1
    session.add(row)


def put(session: Session, actor: Actor, key: str, value: float) -> None:
    """Change an installation-wide setting (administrators), within its limits."""
    if actor.role != "admin":
        raise PermissionDenied("Kun en administrator kan ændre indstillinger.", actor=actor, what=f"indstilling {key}")
    stored = _checked(key, value)
    _store(session, session.get(Setting, key) or Setting(key=key, value=""), stored)
    audit.record(session, actor, "changed", "setting", None, detail=f"{key}={stored}")


def put_for_unit(session: Session, actor: Actor, unit_id: int, key: str, value: float) -> None:
    """Change one unit's own value of a setting in `UNIT_KEYS` (the unit's leaders and administrators)."""
    actor.require_role("admin", "leader", what="enhedens indstillinger")
    actor.require_unit(unit_id)
    if key not in UNIT_KEYS:
        raise ValidationError(f"{key} gælder hele installationen og kan ikke sættes for én enhed.", "key")
    stored = _checked(key, value)
    _store(session, session.get(UnitSetting, {"unit_id": unit_id, "key": key})
           or UnitSetting(unit_id=unit_id, key=key, value=""), stored)
    audit.record(session, actor, "changed", "unitsetting", unit_id, unit_id=unit_id, detail=f"{key}={stored}")
