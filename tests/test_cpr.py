"""The CPR guard (DESIGN §8): every way of writing a CPR number is caught, ordinary text is not."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from fokus.cpr import looks_like_cpr, refuse_cpr
from fokus.errors import ValidationError

# Every day of a leap year, so 29 February is among them; the two-digit year is drawn apart.
ALL_DAYS = [date(2000, 1, 1) + timedelta(days=n) for n in range(366)]

# What may stand between ddmmyy and nnnn: nothing, a dash (also as Word writes it), a space.
SEPARATORS = ["", "-", " ", "–", "—", "\u2011", "\u2212", " - ", " – ", "\u00a0", "\t"]

# Text without digits (nor ① or ², which NFKC turns into digits).
no_digits = st.characters(codec="utf-8", exclude_categories=["Nd", "Nl", "No", "Cs"])
surrounding = st.text(alphabet=no_digits, max_size=30)


@st.composite
def cpr_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(ddmmyy, nnnn) for a real calendar day, any two-digit year and any serial number."""
    day = draw(st.sampled_from(ALL_DAYS))
    year2 = draw(st.integers(0, 99))
    serial = draw(st.integers(0, 9999))
    return f"{day:%d%m}{year2:02d}", f"{serial:04d}"


@given(number=cpr_numbers(), separator=st.sampled_from(SEPARATORS), before=surrounding, after=surrounding)
@example(number=("290200", "1234"), separator="-", before="", after="")
@example(number=("290201", "1234"), separator="", before="CPR: ", after=".")
@example(number=("010190", "1234"), separator=" – ", before="", after="")  # as Word writes it
@example(number=("311299", "0000"), separator=" ", before="født ", after=" i Faxe")
def test_every_cpr_form_is_caught_wherever_it_stands(
    number: tuple[str, str], separator: str, before: str, after: str
) -> None:
    birth, serial = number
    assert looks_like_cpr(f"{before}{birth}{separator}{serial}{after}")


def test_29_february_is_caught_for_every_two_digit_year() -> None:
    # A CPR number gives only two digits of the year: 290200 may be 1900 (no leap year) or 2000.
    missed = [year2 for year2 in range(100) if not looks_like_cpr(f"2902{year2:02d}-1234")]
    assert missed == []


def test_full_width_digits_are_caught() -> None:
    assert looks_like_cpr("０１０１９０-１２３４")


def _not_a_date(day: int, month: int) -> bool:
    if not 1 <= month <= 12:
        return True
    return not 1 <= day <= calendar.monthrange(2000, month)[1]


@given(
    day=st.integers(0, 99),
    month=st.integers(0, 99),
    year2=st.integers(0, 99),
    serial=st.integers(0, 9999),
    separator=st.sampled_from(SEPARATORS),
)
@example(day=32, month=1, year2=90, serial=1234, separator="-")
@example(day=1, month=13, year2=90, serial=1234, separator="")
@example(day=30, month=2, year2=0, serial=1234, separator="")
@example(day=31, month=4, year2=90, serial=1234, separator=" ")
@example(day=0, month=1, year2=90, serial=1234, separator="-")
def test_ten_digits_that_do_not_start_with_a_date_pass(
    day: int, month: int, year2: int, serial: int, separator: str
) -> None:
    assume(_not_a_date(day, month))
    assert not looks_like_cpr(f"Sag {day:02d}{month:02d}{year2:02d}{separator}{serial:04d} er åben")


@given(st.text(alphabet=no_digits, max_size=200))
def test_text_without_digits_passes(text: str) -> None:
    assert not looks_like_cpr(text)


@given(st.lists(st.integers(0, 99_999), max_size=12), st.sampled_from([" ", ", ", " og ", "/", "; "]))
def test_text_with_numbers_of_at_most_five_digits_passes(numbers: list[int], joiner: str) -> None:
    assert not looks_like_cpr("Borgeren mødte " + joiner.join(str(n) for n in numbers) + " gange.")


danish_phone = st.integers(20_000_000, 99_999_999).map(str)


@given(
    phone=danish_phone,
    style=st.sampled_from(["plain", "pairs", "halves", "+45", "+45 ", "+45 pairs", "0045 ", "(+45) "]),
)
@example(phone="29022000", style="plain")
@example(phone="31129912", style="+45")
def test_danish_phone_numbers_pass(phone: str, style: str) -> None:
    pairs = " ".join(phone[i : i + 2] for i in range(0, 8, 2))
    written = {
        "plain": phone,
        "pairs": pairs,
        "halves": f"{phone[:4]} {phone[4:]}",
        "+45": f"+45{phone}",
        "+45 ": f"+45 {phone}",
        "+45 pairs": f"+45 {pairs}",
        "0045 ": f"0045 {phone}",
        "(+45) ": f"(+45) {phone}",
    }[style]
    assert not looks_like_cpr(f"Ring på tlf. {written} efter kl. 10")


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_dates_pass_in_danish_and_iso_form(day: date) -> None:
    assert not looks_like_cpr(f"Mødet den {day:%d.%m.%Y} blev flyttet til {day.isoformat()}.")
    assert not looks_like_cpr(f"{day:%d-%m-%Y} {day:%d/%m/%Y} {day:%Y%m%d}")


@given(kroner=st.integers(0, 10**12), ore=st.integers(0, 99))
def test_amounts_pass(kroner: int, ore: int) -> None:
    danish = f"{kroner:,}".replace(",", ".")
    assert not looks_like_cpr(f"Udgiften var {danish},{ore:02d} kr. (87,0 mio. kr. i 2019)")


@given(st.integers(0, 999_999), st.sampled_from(["SAG-", "SAG ", "J.nr. ", "Sagsnr. ", "F2026-"]))
def test_case_numbers_pass(number: int, prefix: str) -> None:
    assert not looks_like_cpr(f"{prefix}{number:06d}")


def test_digits_in_a_longer_run_pass() -> None:
    # Eleven or more digits are no CPR number (an account number, an EAN, a long case number).
    assert not looks_like_cpr("0101901234567")
    assert not looks_like_cpr("90101901234")


def test_refuse_cpr_raises_a_danish_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        refuse_cpr("Borger 010190-1234", "citizen_ref", "Borgerens reference")
    assert caught.value.field == "citizen_ref"
    assert "Borgerens reference ligner et CPR-nummer" in caught.value.message
    assert "sagsnummeret eller en lokal kode" in caught.value.message


@pytest.mark.parametrize("text", [None, "", "SAG-123456", "Tlf. 20 30 40 50"])
def test_refuse_cpr_lets_ordinary_text_through(text: str | None) -> None:
    refuse_cpr(text, "note", "Noten")
