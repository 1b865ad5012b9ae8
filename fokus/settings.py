"""Installation-wide settings kept in the database: the one list, with defaults and limits.

Every setting is documented in the README ("Indstillinger"); a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from fokus import audit
from fokus.actor import Actor
from fokus.errors import PermissionDenied, ValidationError
from fokus.models import Setting


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
# Settings of what the meeting screen shows: no data, no security; a leader may change them.
LEADER_KEYS = frozenset(key for key in SPECS if key.startswith("screen_"))


def get(session: Session, key: str) -> float:
    """The setting's value, or its default when none is stored."""
    spec = SPECS[key]
    row = session.get(Setting, key)
    if row is None:
        return spec.default
    try:
        value = float(row.value)
    except ValueError:
        return spec.default
    return min(max(value, spec.low), spec.high)


def put(session: Session, actor: Actor, key: str, value: float) -> None:
    """Change a setting (administrators; leaders those of the meeting screen), within its limits."""
    if actor.role != "admin" and not (actor.role == "leader" and key in LEADER_KEYS):
        raise PermissionDenied("Kun en administrator kan ændre indstillinger.", actor=actor, what=f"indstilling {key}")
    spec = SPECS.get(key)
    if spec is None:
        raise ValidationError(f"Ukendt indstilling: {key}.", "key")
    if isinstance(value, bool) or not isinstance(value, int | float) or not spec.low <= value <= spec.high:
        raise ValidationError(
            f"{spec.label} skal ligge fra {spec.low:g} til {spec.high:g} {spec.unit}.", key
        )
    row = session.get(Setting, key) or Setting(key=key, value="")
    row.value = f"{value:g}"
    row.version = (row.version or 0) + 1
    session.add(row)
    audit.record(session, actor, "changed", "setting", None, detail=f"{key}={value:g}")
