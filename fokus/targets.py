"""The unit's dated targets (DESIGN §2 `Target`): their history, which are in force, and their Danish text.

A period is judged by the targets in force on its last day: the row with the latest `valid_from`
on or before that day (`metrics.targets_for`, the one rule every figure uses); a unit without such
a row is judged by the defaults of DESIGN (`metrics.DEFAULT_TARGETS`). The leader changes them
with `services.set_targets` and `services.delete_targets`; this module reads and describes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from fokus import fmt
from fokus.about import TARGET_SOURCES
from fokus.actor import Actor
from fokus.errors import ValidationError
from fokus.metrics import DEFAULT_TARGETS, Targets
from fokus.models import Target

# The fields of a Target, in the order of the form, with their Danish labels.
LABELS: dict[str, str] = {
    "intake_min": "Mindste årlige tilgang",
    "intake_max": "Største årlige tilgang",
    "group_share": "Gruppeandel",
    "weeks_min": "Korteste forløb i uger",
    "weeks_max": "Længste forløb i uger",
    "max_months": "Højst måneder",
    "ors_cutoff": "ORS' kliniske grænse",
    "rci": "Pålidelig ændring (RCI)",
    "jobcenter_quota": "Jobcenterets kvote",
}
# DESIGN §9: Slagelse's contract with the Jobcenter (the other sources are the "Om fokus" page's).
JOBCENTER_SOURCE = "Slagelse FOKUS: kontrakt med Jobcenteret om op til 120 henvisninger om året"
NO_QUOTA = "ingen kvote"


@dataclass(frozen=True)
class DatedTargets:
    """One row of a unit's target history."""

    target_id: int
    unit_id: int
    valid_from: date
    targets: Targets
    version: int


def targets_of(row: Target) -> Targets:
    return Targets(**{field: getattr(row, field) for field in LABELS})


def _dated(row: Target) -> DatedTargets:
    assert row.id is not None
    return DatedTargets(target_id=row.id, unit_id=row.unit_id, valid_from=row.valid_from, version=row.version,
                        targets=targets_of(row))


def targets_history(session: Session, actor: Actor, unit_id: int) -> list[DatedTargets]:
    """The unit's dated targets, newest `valid_from` first (refused for a unit the actor may not see)."""
    actor.require_unit(unit_id)
    rows = session.exec(
        select(Target).where(Target.unit_id == unit_id).order_by(col(Target.valid_from).desc())
    ).all()
    return [_dated(row) for row in rows]


def in_force(history: list[DatedTargets], day: date) -> DatedTargets | None:
    """The row of `history` in force on `day` (the latest valid_from on or before it), or None."""
    return max((row for row in history if row.valid_from <= day), key=lambda row: row.valid_from, default=None)


def values_in_force(history: list[DatedTargets], day: date) -> Targets:
    """The targets a period ending on `day` is judged by: the row in force, else DESIGN's defaults."""
    row = in_force(history, day)
    return row.targets if row else DEFAULT_TARGETS


# ---------------------------------------------------------------------------------------
# Danish text

def plain_number(value: float | int) -> str:
    """A number with as few decimals as it needs (at most two), decimal comma: 67.5 → '67,5', 25.0 → '25'."""
    for decimals in (0, 1):
        if abs(value - round(value, decimals)) < 1e-9:
            return fmt.number(value, decimals)
    return fmt.number(value, 2)


def value_text(field: str, value: object) -> str:
    """One target's value as the leader reads it: '70 %', '25 point', 'ingen kvote'."""
    if value is None:
        return NO_QUOTA if field == "jobcenter_quota" else fmt.NOTHING
    assert isinstance(value, int | float)
    if field == "group_share":
        return f"{plain_number(value * 100)} %"
    if field in ("ors_cutoff", "rci"):
        return f"{plain_number(value)} point"
    return fmt.integer(int(value))


def _in_sentence(label: str) -> str:
    """'Gruppeandel' → 'gruppeandel', but 'ORS' kliniske grænse' stays as it is."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _same(old: object, new: object) -> bool:
    """Equal, or floats equal but for rounding (67.5 % typed is 0.675 however it was computed)."""
    if isinstance(old, float) and isinstance(new, float):
        return math.isclose(old, new, rel_tol=0, abs_tol=1e-9)
    return old == new


def changes(before: Targets | None, after: Targets) -> list[str]:
    """What differs, in Danish: 'gruppeandel 70 % → 65 %' (every value, when there is no `before`)."""
    found = []
    for field, label in LABELS.items():
        new, name = getattr(after, field), _in_sentence(label)
        if before is None:
            found.append(f"{name} {value_text(field, new)}")
        elif not _same(getattr(before, field), new):
            found.append(f"{name} {value_text(field, getattr(before, field))} → {value_text(field, new)}")
    return found


def described(targets: Targets) -> list[dict[str, str]]:
    """The targets in force, one row a target with where its default comes from (DESIGN §6 and §9)."""
    def text(field: str) -> str:
        return value_text(field, getattr(targets, field))

    values = {
        "Tilgang om året": f"{text('intake_min')}–{text('intake_max')} forløbsstarter",
        "Startet i gruppe": text("group_share"),
        "Forløbets længde": f"{text('weeks_min')}–{text('weeks_max')} uger, højst {text('max_months')} måneder",
        "ORS klinisk grænse": text("ors_cutoff"),
        "ORS pålidelig ændring": text("rci"),
        "Jobcenterets kvote": (NO_QUOTA if targets.jobcenter_quota is None
                               else f"{text('jobcenter_quota')} henvisninger om året"),
    }
    sources = {**TARGET_SOURCES, "Jobcenterets kvote": JOBCENTER_SOURCE}
    return [{"Mål": name, "Værdi": value, "Kilde": sources[name]} for name, value in values.items()]


def history_table(history: list[DatedTargets], day: date) -> list[dict[str, str]]:
    """The history as a table, newest first, saying which row is in force on `day` and which lie ahead."""
    current = in_force(history, day)
    rows = []
    for row in history:
        t = row.targets
        state = "i kraft" if row == current else ("kommende" if row.valid_from > day else "afløst")
        rows.append({
            "Gyldig fra": fmt.day(row.valid_from),
            "Status": state,
            "Tilgang om året": f"{value_text('intake_min', t.intake_min)}–{value_text('intake_max', t.intake_max)}",
            "Gruppeandel": value_text("group_share", t.group_share),
            "Uger": f"{value_text('weeks_min', t.weeks_min)}–{value_text('weeks_max', t.weeks_max)}",
            "Højst måneder": value_text("max_months", t.max_months),
            "ORS-grænse": value_text("ors_cutoff", t.ors_cutoff),
            "RCI": value_text("rci", t.rci),
            "Jobcenterkvote": value_text("jobcenter_quota", t.jobcenter_quota),
        })
    return rows


# ---------------------------------------------------------------------------------------
# The form: typed text in, values for `services.set_targets` out

TYPED_FIELDS = ("group_share", "ors_cutoff", "rci", "jobcenter_quota")  # typed as text (decimal comma)


def form_values(targets: Targets) -> dict[str, object]:
    """The form's starting values: whole numbers as numbers, the rest as the text a leader would type."""
    values: dict[str, object] = {field: getattr(targets, field) for field in LABELS if field not in TYPED_FIELDS}
    share, quota = targets.group_share, targets.jobcenter_quota
    values["group_share"] = "" if share is None else plain_number(share * 100)
    values["ors_cutoff"] = "" if targets.ors_cutoff is None else plain_number(targets.ors_cutoff)
    values["rci"] = "" if targets.rci is None else plain_number(targets.rci)
    values["jobcenter_quota"] = "" if quota is None else str(quota)
    return values


def _decimal(text: str, field: str) -> float:
    return fmt.parse_decimal(text.strip().removesuffix("%").strip(), field, LABELS[field])


def from_typed(*, group_share: str, ors_cutoff: str, rci: str, jobcenter_quota: str) -> dict[str, object]:
    """The typed fields as `set_targets` takes them: '67,5' % → 0.675; an empty quota is no quota.

    Ranges are the service's to check; this only reads the numbers (decimal comma or point, a '%'
    allowed after the share; the quota, a count, in digits alone).
    """
    if not isinstance(group_share, str) or not group_share.strip():
        raise ValidationError("Skriv målet for gruppeandel i procent, fx 70.", "group_share")
    quota = jobcenter_quota.strip()
    # '1.000' could mean 1 or 1000: a count is typed in plain digits.
    if quota and not (quota.isascii() and quota.isdigit()):
        raise ValidationError(f"{LABELS['jobcenter_quota']} '{quota}' skal være et helt antal henvisninger, "
                              "skrevet med cifre alene, fx 120 (tom: ingen kvote).", "jobcenter_quota")
    return {
        "group_share": _decimal(group_share, "group_share") / 100,
        "ors_cutoff": _decimal(ors_cutoff, "ors_cutoff"),
        "rci": _decimal(rci, "rci"),
        "jobcenter_quota": int(quota) if quota else None,
    }
