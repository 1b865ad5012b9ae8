"""A group session typed as one grid: who came, and the ORS of everyone present.

Each row is one member of the group: a "present" tick and the four ORS items as typed text
("7,5" or "7.5", whatever the browser's language). `read_grid` turns the grid into what
`services.record_group_session` takes, or refuses it with a Danish message that names the
citizen and the item, so the page can show it beside the row and keep everything typed. The
error's field (`cell_field`) is "<course id>" for a row and "<course id>:<item>" for one cell,
as `services.record_group_session` names them too.

Rules of the grid:
- a present member's row may be left empty: that citizen gave no ORS this time;
- a row that is begun must be finished: all four items, or none;
- numbers beside a member who is not ticked as present are an error, not silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fokus import codes, fmt
from fokus.errors import ValidationError


@dataclass(frozen=True)
class GridRow:
    course_id: int
    citizen_ref: str
    present: bool
    items: Mapping[str, str] = field(default_factory=dict)  # ORS item code → the text typed


@dataclass(frozen=True)
class SessionEntry:
    present_course_ids: list[int]
    scores: dict[int, dict[str, int]]  # course id → ORS items in whole tenths


def cell_field(course_id: int, item: str | None = None) -> str:
    """The `field` of an error about one row (or one cell) of the grid."""
    return f"{course_id}" if item is None else f"{course_id}:{item}"


def _read_row(row: GridRow) -> dict[str, int] | None:
    typed = {item: (row.items.get(item) or "").strip() for item in codes.ORS_ITEMS}
    if not any(typed.values()):
        return None
    if not row.present:
        raise ValidationError(
            f"Borger {row.citizen_ref} er ikke markeret som fremmødt, men har ORS-tal: "
            "sæt flueben ved fremmødt, eller slet tallene.",
            cell_field(row.course_id),
        )
    missing = [codes.ORS_ITEMS[item] for item, text in typed.items() if not text]
    if missing:
        raise ValidationError(
            f"ORS for borger {row.citizen_ref}: udfyld også {', '.join(missing)} – alle fire tal, "
            "eller lad rækken stå tom.",
            cell_field(row.course_id, next(item for item, text in typed.items() if not text)),
        )
    return {
        item: fmt.parse_score_item(
            text, cell_field(row.course_id, item), f"ORS for borger {row.citizen_ref}, {codes.ORS_ITEMS[item]}"
        )
        for item, text in typed.items()
    }


def read_grid(rows: Sequence[GridRow]) -> SessionEntry:
    """Attendance and ORS scores from the grid; the first bad row stops it (nothing is saved)."""
    scores: dict[int, dict[str, int]] = {}
    for row in rows:
        items = _read_row(row)
        if items is not None:
            scores[row.course_id] = items
    return SessionEntry([row.course_id for row in rows if row.present], scores)
