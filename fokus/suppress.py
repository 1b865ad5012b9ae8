"""Small counts hidden (DESIGN §7): for the meeting screen, reports and anything that leaves the unit.

The rule, as plain functions on plain numbers (no Streamlit), so the committee report uses the
same one as the screen:

- a count of 1–4 is shown as "<5"; 0 stays 0;
- a share, mean or change computed from 1–4 cases is hidden. A share is also hidden when its
  part, or what is left of the whole besides it, is 1–4: with the whole shown, the share would
  give that small count away (3 individual of 50 starts is 94 % in a group);
- in a breakdown whose total is shown, when exactly one cell is hidden the next smallest cell
  above 0 is hidden too, so the total minus the shown cells does not give the hidden one away.
  That second cell may be large: it says "skjult", never "<5", which would be untrue. (When no
  such cell is left, the total is the hidden cell itself and is 1–4, so it is hidden already.)

`None` for a statistic means nothing to compute it from, as everywhere in fokus; a `Cell` says
whether it was hidden, and the text to show.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from fokus import fmt

SMALL = range(1, 5)  # 1–4
SMALL_TEXT = "<5"  # a count of 1–4
HIDDEN_TEXT = "skjult"  # a larger cell hidden so that a total does not reveal a small one
TOO_FEW_TEXT = "for få"  # a share, mean or change from too few cases to show

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Cell:
    value: float | None  # what may be shown (None: hidden, or nothing to compute from)
    text: str  # how to show it, Danish
    hidden: bool = False


def is_small(count: int) -> bool:
    return count in SMALL


def count(n: int) -> Cell:
    """A count: 1–4 → "<5", anything else as it is (0 stays 0)."""
    if is_small(n):
        return Cell(None, SMALL_TEXT, hidden=True)
    return Cell(n, fmt.integer(n))


def statistic(value: float | None, cases: int, text: Callable[[float | None], str]) -> Cell:
    """A mean, median or change over `cases`: hidden when they are 1–4; `text` formats it."""
    if is_small(cases):
        return Cell(None, TOO_FEW_TEXT, hidden=True)
    return Cell(value, text(value))


def share(part: int, whole: int, decimals: int = 0) -> Cell:
    """part / whole as a percentage, hidden when the part, the whole or the rest is 1–4."""
    if any(is_small(n) for n in (part, whole, whole - part)):
        return Cell(None, TOO_FEW_TEXT, hidden=True)
    value = part / whole if whole else None
    return Cell(value, fmt.percent(value, decimals))


def breakdown(counts: Mapping[K, int], *, total_shown: bool = True) -> dict[K, Cell]:
    """The cells of a breakdown, in the given order, with small ones hidden and, where one alone
    is hidden and the total is shown, the next smallest cell above 0 hidden too (the first of
    equal ones)."""
    cells = {key: count(n) for key, n in counts.items()}
    hidden = [key for key, cell in cells.items() if cell.hidden]
    if total_shown and len(hidden) == 1:
        candidates = [key for key, n in counts.items() if n > 0 and key not in hidden]
        if candidates:
            smallest = min(candidates, key=lambda key: counts[key])
            cells[smallest] = Cell(None, HIDDEN_TEXT, hidden=True)
    return cells


def breakdown_shares(counts: Mapping[K, int], cells: Mapping[K, Cell], decimals: int = 0) -> dict[K, Cell]:
    """Each cell's share of the total: hidden where the cell is hidden or the total is 1–4."""
    whole = sum(counts.values())
    found: dict[K, Cell] = {}
    for key, n in counts.items():
        if cells[key].hidden or is_small(whole):
            found[key] = Cell(None, TOO_FEW_TEXT, hidden=True)
        else:
            value = n / whole if whole else None
            found[key] = Cell(value, fmt.percent(value, decimals))
    return found


def combined_share(counts: Mapping[K, int], cells: Mapping[K, Cell], keys: Collection[K], decimals: int = 0) -> Cell:
    """The share of the total in `keys` together (e.g. "§ 85 or another SEL measure"), from a
    breakdown already hidden by `breakdown`: hidden by `share`'s rule, and also when some but not
    all of `keys` are hidden, as the sum less the shown ones would give the hidden ones away."""
    hidden = [key for key in keys if cells[key].hidden]
    if hidden and len(hidden) < len(keys):
        return Cell(None, TOO_FEW_TEXT, hidden=True)
    return share(sum(counts[key] for key in keys), sum(counts.values()), decimals)
