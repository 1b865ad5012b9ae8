"""The group session grid: attendance and everyone's ORS, read from what was typed."""

from __future__ import annotations

import pytest

from fokus.errors import ValidationError
from fokus.session_grid import GridRow, read_grid

FULL = {"individual": "7,5", "interpersonal": "6.0", "social": "4", "overall": " 5,5 "}


def test_decimal_comma_and_point_both_become_whole_tenths() -> None:
    entry = read_grid([GridRow(1, "B-1", True, FULL)])
    assert entry.present_course_ids == [1]
    assert entry.scores == {1: {"individual": 75, "interpersonal": 60, "social": 40, "overall": 55}}


def test_a_present_member_may_give_no_ors_and_an_absent_one_is_not_present() -> None:
    entry = read_grid([GridRow(1, "B-1", True, {}), GridRow(2, "B-2", False, {}), GridRow(3, "B-3", True, FULL)])
    assert entry.present_course_ids == [1, 3]
    assert list(entry.scores) == [3]


@pytest.mark.parametrize(
    ("items", "present", "words", "field"),
    [
        ({**FULL, "social": "11"}, True, ["B-7", "Socialt", "0 til 10"], "7:social"),
        ({**FULL, "interpersonal": "7,55"}, True, ["B-7", "Nære relationer", "én decimal"], "7:interpersonal"),
        ({**FULL, "overall": "fem"}, True, ["B-7", "Generelt", "ikke et tal"], "7:overall"),
        ({**FULL, "individual": "-1"}, True, ["B-7", "Individuelt", "0 til 10"], "7:individual"),
        ({"individual": "5", "overall": "6"}, True, ["B-7", "Nære relationer, Socialt", "alle fire"],
         "7:interpersonal"),
        (FULL, False, ["B-7", "ikke markeret som fremmødt"], "7"),
    ],
)
def test_a_bad_row_is_refused_naming_the_citizen_and_the_item(
    items: dict[str, str], present: bool, words: list[str], field: str
) -> None:
    rows = [GridRow(1, "B-1", True, FULL), GridRow(7, "B-7", present, items)]
    with pytest.raises(ValidationError) as caught:
        read_grid(rows)
    for word in words:
        assert word in caught.value.message
    assert caught.value.field == field
