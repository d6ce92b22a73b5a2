"""Money in integer fen, proration by attendance, and calendar months."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.errors import InvalidInputError
from disburse.domain.money import MAX_FEN, check_amount, prorate, yuan
from disburse.domain.months import Month, add_months

AMOUNTS = st.integers(min_value=0, max_value=10**12)
DENOMINATORS = st.integers(min_value=1, max_value=31)
MONTHS = st.builds(Month, st.integers(1900, 9999), st.integers(1, 12))
MID_MONTHS = st.builds(Month, st.integers(2000, 8000), st.integers(1, 12))
SHIFTS = st.integers(min_value=-1_200, max_value=1_200)
DAYS = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))


@st.composite
def attendance(draw: st.DrawFn) -> tuple[int, int]:
    """``(days_worked, days_required)`` with ``0 <= worked <= required``."""
    required = draw(DENOMINATORS)
    return draw(st.integers(0, required)), required


# -- prorate --------------------------------------------------------------------------------


@given(AMOUNTS, DENOMINATORS)
def test_full_attendance_prorates_to_the_whole_amount(amount: int, days: int) -> None:
    assert prorate(amount, days, days) == amount


@given(AMOUNTS, DENOMINATORS)
def test_no_attendance_prorates_to_zero(amount: int, days: int) -> None:
    assert prorate(amount, 0, days) == 0


@given(AMOUNTS, st.data())
def test_proration_never_decreases_as_more_days_are_worked(
    amount: int, data: st.DataObject
) -> None:
    required = data.draw(DENOMINATORS)
    fewer = data.draw(st.integers(0, required))
    more = data.draw(st.integers(fewer, required))

    assert prorate(amount, fewer, required) <= prorate(amount, more, required)


@given(AMOUNTS, attendance())
def test_a_prorated_amount_is_whole_fen_between_zero_and_the_amount(
    amount: int, days: tuple[int, int]
) -> None:
    result = prorate(amount, *days)

    assert type(result) is int
    assert 0 <= result <= amount


@given(AMOUNTS, attendance())
def test_proration_rounds_the_exact_share_half_up_to_the_fen(
    amount: int, days: tuple[int, int]
) -> None:
    worked, required = days
    exact = Fraction(amount * worked, required)

    assert prorate(amount, worked, required) == int(exact + Fraction(1, 2))


@pytest.mark.parametrize(
    ("amount", "worked", "required", "expected"),
    [
        (150_000, 20, 22, 136_364),  # 136363.63... rounds up
        (1, 1, 2, 1),  # exactly half rounds up
        (1, 1, 3, 0),  # a third of a fen rounds down
        (100, 1, 3, 33),
        (200, 2, 3, 133),  # 133.33 rounds down
    ],
)
def test_proration_examples(amount: int, worked: int, required: int, expected: int) -> None:
    assert prorate(amount, worked, required) == expected


@pytest.mark.parametrize(
    ("amount", "worked", "required"),
    [(100, 1, 0), (100, 3, 2), (100, -1, 2), (-100, 1, 2)],
)
def test_proration_refuses_impossible_attendance_or_negative_amounts(
    amount: int, worked: int, required: int
) -> None:
    with pytest.raises(ValueError, match="prorate needs"):
        prorate(amount, worked, required)


# -- check_amount and yuan ------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10**15))
def test_a_positive_whole_number_of_fen_is_an_amount(amount: int) -> None:
    assert check_amount(amount) == amount


def test_zero_fen_is_an_amount_only_where_zero_is_allowed() -> None:
    assert check_amount(0, allow_zero=True) == 0
    with pytest.raises(InvalidInputError) as caught:
        check_amount(0)
    assert caught.value.rule_id == "MONEY-FEN"


@given(st.integers(max_value=-1), st.booleans())
def test_a_negative_amount_is_refused(amount: int, allow_zero: bool) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_amount(amount, allow_zero=allow_zero)
    assert caught.value.rule_id == "MONEY-FEN"
    assert caught.value.field == "amount_fen"


@given(st.booleans(), st.booleans())
def test_a_boolean_is_not_an_amount(value: bool, allow_zero: bool) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_amount(value, allow_zero=allow_zero)
    assert caught.value.rule_id == "MONEY-FEN"


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.integers().map(str),
    )
)
def test_floats_decimals_and_strings_are_not_amounts(value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_amount(cast("int", value), field="stipend_fen")
    assert caught.value.rule_id == "MONEY-FEN"
    assert caught.value.field == "stipend_fen"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_shows_fen_as_yuan_with_two_decimals(amount: int) -> None:
    text = yuan(amount)

    assert re.fullmatch(r"-?\d+\.\d{2}", text)
    assert Decimal(text) * 100 == amount


# -- Month ----------------------------------------------------------------------------------


@given(MONTHS)
def test_a_month_reads_back_from_its_yyyy_mm_text(month: Month) -> None:
    text = str(month)

    assert re.fullmatch(r"\d{4}-\d{2}", text)
    assert Month.parse(text) == month


@given(MID_MONTHS, SHIFTS)
def test_moving_a_month_forward_then_back_by_the_same_count_returns_to_it(
    month: Month, shift: int
) -> None:
    assert month.plus(shift).plus(-shift) == month


@given(MID_MONTHS, SHIFTS)
def test_moving_a_month_by_n_moves_it_by_n_calendar_months(month: Month, shift: int) -> None:
    moved = month.plus(shift)

    assert (moved.year * 12 + moved.month) - (month.year * 12 + month.month) == shift


@given(MONTHS, MONTHS)
def test_months_order_as_year_then_month_and_as_their_text(first: Month, second: Month) -> None:
    assert (first < second) == ((first.year, first.month) < (second.year, second.month))
    assert (first < second) == (str(first) < str(second))


@given(st.builds(Month, st.integers(1900, 9998), st.integers(1, 12)))
def test_the_next_month_is_the_month_one_later(month: Month) -> None:
    assert month.next() == month.plus(1)


@given(st.builds(Month, st.integers(1900, 9998), st.integers(1, 12)))
def test_the_last_day_of_a_month_is_the_day_before_the_next_months_first_day(
    month: Month,
) -> None:
    assert month.last_day == month.next().first_day - timedelta(days=1)
    assert Month.of(month.last_day) == month
    assert month.first_day.day == 1


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9998, 12, 31)))
def test_the_month_of_a_day_contains_that_day(day: date) -> None:
    month = Month.of(day)

    assert month.first_day <= day <= month.last_day


@pytest.mark.parametrize(
    "text", ["2024-13", "2024-00", "2024-1", "24-01", "2024/01", "", "1899-12"]
)
def test_a_malformed_month_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Month.parse(text, field="period")
    assert caught.value.rule_id == "MONTH-FORMAT"
    assert caught.value.field == "period"


# -- add_months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 8, 31), 1, date(2024, 9, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 1, 15), 12, date(2025, 1, 15)),
        (date(2024, 12, 31), 1, date(2025, 1, 31)),
    ],
)
def test_adding_months_keeps_the_day_clamped_to_the_target_months_end(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@given(DAYS, st.integers(min_value=-600, max_value=600))
def test_adding_months_lands_in_the_target_month_on_the_same_or_its_last_day(
    day: date, months: int
) -> None:
    target = Month.of(day).plus(months)
    result = add_months(day, months)

    assert Month.of(result) == target
    assert result.day == min(day.day, target.last_day.day)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 28)), st.integers(-600, 600))
def test_adding_and_subtracting_months_is_an_identity_for_days_up_to_the_28th(
    day: date, months: int
) -> None:
    day = day.replace(day=min(day.day, 28))

    assert add_months(add_months(day, months), -months) == day


def test_amounts_stop_at_ten_trillion_yuan_so_every_sum_fits_64_bits() -> None:
    assert check_amount(MAX_FEN) == MAX_FEN
    with pytest.raises(InvalidInputError, match="MONEY-FEN"):
        check_amount(MAX_FEN + 1)
    assert MAX_FEN * 9000 < 2**63  # thousands of full funds still sum within a BIGINT
