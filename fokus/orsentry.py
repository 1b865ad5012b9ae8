"""What the ORS page needs besides the services: typed items read, the next session, the chart's table.

Items are typed as text and read here (DESIGN §7: a decimal comma or point, whatever the
browser's language), never by the widget; the services check the range again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from fokus import codes, fmt, ors
from fokus.errors import ValidationError
from fokus.queries import CitizenHit, OrsRow, SrsRow

TABLE_COLUMNS = ("Session", "Dato", *codes.ORS_ITEMS.values(), "Total", "Ændring fra første", "Vurdering")


def parse_items(texts: Mapping[str, object], names: Mapping[str, str]) -> dict[str, int]:
    """Typed items ('7,5', '7.5', '10') → whole tenths, keyed like `names`; the first bad one is refused."""
    items: dict[str, int] = {}
    for name, label in names.items():
        text = texts.get(name)
        if text is None or (isinstance(text, str) and not text.strip()):
            raise ValidationError(f"Skriv et tal fra 0 til 10 ved {label}.", name)
        items[name] = fmt.parse_score_item(text if isinstance(text, str | int | float) else str(text), name, label)
    return items


def next_session_no(session_numbers: Sequence[int]) -> int:
    """The session number a new measurement most likely has: one after the highest so far."""
    return max(session_numbers, default=0) + 1


def course_of(hit: CitizenHit) -> int | None:
    """The course a score for this citizen goes to: the open one, else the latest."""
    return hit.open_course_id if hit.open_course_id is not None else hit.latest_course_id


def chosen_hit(hits: Sequence[CitizenHit], text: str) -> CitizenHit | None:
    """The citizen a search names without asking: an exact reference (any case), or the only hit."""
    exact = [hit for hit in hits if hit.ref.lower() == text.strip().lower()]
    if len(exact) == 1:
        return exact[0]
    return hits[0] if len(hits) == 1 else None


def course_table(scores: Sequence[OrsRow], rci_points: float) -> pd.DataFrame:
    """One row per measurement, in measurement order: items and total in points, the change
    from the first and whether it is reliable (`fokus.ors.reliable_change`)."""
    rows = []
    first = scores[0].total if scores else 0
    for index, score in enumerate(scores):
        change = "first" if index == 0 else ors.reliable_change(first, score.total, rci_points)
        rows.append([
            score.session_no, score.date, *(score.items[name] / 10 for name in codes.ORS_ITEMS),
            score.total / 10, (score.total - first) / 10, codes.ORS_CHANGES[change],
        ])
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def srs_table(scores: Sequence[SrsRow]) -> pd.DataFrame:
    """One row per SRS measurement: items and total in points."""
    return pd.DataFrame(
        [[score.session_no, score.date, *(score.items[name] / 10 for name in codes.SRS_ITEMS), score.total / 10,
          "ja" if score.group_session else "nej"] for score in scores],
        columns=["Session", "Dato", *codes.SRS_ITEMS.values(), "Total", "Gruppesession"],
    )


def chart_alt(ref: str, scores: Sequence[OrsRow], cutoff: float, rci_points: float) -> str:
    """The chart in words, for screen readers."""
    if not scores:
        return f"Ingen ORS-målinger for {ref} endnu."
    first, last = scores[0], scores[-1]
    return (
        f"ORS-total for {ref} over {len(scores)} målinger, fra {fmt.tenths(first.total)} "
        f"({fmt.day(first.date)}) til {fmt.tenths(last.total)} ({fmt.day(last.date)}); klinisk grænse "
        f"{fmt.number(cutoff, 1)}, pålidelig ændring {fmt.number(rci_points, 1)} point."
    )
