"""DESIGN §7's small-count rule, on hand-worked cases."""

from __future__ import annotations

import pytest

from fokus import fmt, suppress
from fokus.suppress import HIDDEN_TEXT, SMALL_TEXT, TOO_FEW_TEXT, Cell


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (1234, "1.234")])
def test_a_count_of_one_to_four_is_shown_as_under_five_and_zero_stays_zero(n: int, text: str) -> None:
    cell = suppress.count(n)
    assert cell.text == text
    assert cell.hidden == (1 <= n <= 4)
    assert cell.value == (None if cell.hidden else n)


def test_a_mean_or_change_from_one_to_four_cases_is_hidden() -> None:
    assert suppress.statistic(35.2, 4, fmt.signed_percent) == Cell(None, TOO_FEW_TEXT, hidden=True)
    assert suppress.statistic(35.2, 5, fmt.signed_percent) == Cell(35.2, "+35,2 %")
    assert suppress.statistic(None, 0, fmt.signed_percent) == Cell(None, "–")  # nothing to compute from


def test_a_share_is_hidden_when_its_part_its_whole_or_the_rest_is_one_to_four() -> None:
    assert suppress.share(3, 4).hidden  # 4 starts
    assert suppress.share(3, 50).hidden  # 3 in a group: shows 6 %, i.e. 3 of the 50 shown
    assert suppress.share(47, 50).hidden  # 3 individual: 94 % gives them away
    assert suppress.share(35, 50) == Cell(0.7, "70 %")
    assert suppress.share(0, 50) == Cell(0.0, "0 %")
    assert suppress.share(50, 50) == Cell(1.0, "100 %")
    assert suppress.share(0, 0) == Cell(None, "–")


def test_in_a_breakdown_with_its_total_a_lone_hidden_cell_takes_the_next_smallest_with_it() -> None:
    # 30 + 3 + 12 + 0 = 45 shown as a total: 3 alone hidden would be 45 − 30 − 12 − 0.
    cells = suppress.breakdown({"none": 30, "sel85": 3, "job": 12, "education": 0})
    assert {key: cell.text for key, cell in cells.items()} == {
        "none": "30", "sel85": SMALL_TEXT, "job": HIDDEN_TEXT, "education": "0"}
    assert [key for key, cell in cells.items() if cell.hidden] == ["sel85", "job"]


def test_two_hidden_cells_need_nothing_more_and_without_a_shown_total_nothing_more_is_hidden() -> None:
    two = suppress.breakdown({"a": 2, "b": 1, "c": 9, "d": 20})
    assert [cell.text for cell in two.values()] == [SMALL_TEXT, SMALL_TEXT, "9", "20"]
    alone = suppress.breakdown({"a": 2, "c": 9, "d": 20}, total_shown=False)
    assert [cell.text for cell in alone.values()] == [SMALL_TEXT, "9", "20"]


def test_of_equal_next_smallest_cells_the_first_is_hidden() -> None:
    cells = suppress.breakdown({"a": 7, "b": 7, "c": 4})
    assert [cell.text for cell in cells.values()] == [HIDDEN_TEXT, "7", SMALL_TEXT]


def test_a_lone_small_cell_with_only_zeros_beside_it_leaves_a_total_that_is_hidden_itself() -> None:
    counts = {"a": 0, "b": 3, "c": 0}
    assert [cell.text for cell in suppress.breakdown(counts).values()] == ["0", SMALL_TEXT, "0"]
    assert suppress.count(sum(counts.values())).text == SMALL_TEXT


def test_shares_of_a_breakdown_are_hidden_with_their_cells_and_all_when_the_total_is_small() -> None:
    counts = {"none": 30, "sel85": 3, "job": 12, "education": 0}
    shares = suppress.breakdown_shares(counts, suppress.breakdown(counts))
    assert {key: cell.text for key, cell in shares.items()} == {
        "none": "67 %", "sel85": TOO_FEW_TEXT, "job": TOO_FEW_TEXT, "education": "0 %"}  # 30/45 = 66,7 %
    small = {"a": 2, "b": 1}
    assert all(cell.hidden for cell in suppress.breakdown_shares(small, suppress.breakdown(small)).values())


def test_a_share_of_several_cells_is_hidden_when_some_but_not_all_of_them_are_hidden() -> None:
    # sel85 3 (hidden), job 8 (the next smallest, hidden), other_sel 10 shown: 13 of 51 would give 3 away.
    counts = {"none": 30, "sel85": 3, "other_sel": 10, "job": 8}
    cells = suppress.breakdown(counts)
    assert suppress.combined_share(counts, cells, ("sel85", "other_sel")).hidden
    counts = {"none": 30, "sel85": 6, "other_sel": 10, "job": 8}
    assert suppress.combined_share(counts, suppress.breakdown(counts), ("sel85", "other_sel")) == Cell(
        16 / 54, "30 %")
