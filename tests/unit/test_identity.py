"""Resident identity numbers (GB 11643): validation, normalisation and masking."""

from __future__ import annotations

import calendar
import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.errors import InvalidInputError
from disburse.domain.identity import (
    birth_date,
    check_digit,
    mask_resident_id,
    normalise_resident_id,
)
from disburse.domain.regions import PROVINCE_CODES

PROVINCES = sorted(PROVINCE_CODES)
UNKNOWN_PROVINCES = sorted({f"{n:02d}" for n in range(100)} - PROVINCE_CODES)
ID_CHARACTERS = string.digits + "X"
BIRTH_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))
KNOWN_PROVINCES = st.sampled_from(PROVINCES)
BIRTH_DATE_TEXTS = BIRTH_DATES.map(lambda d: f"{d:%Y%m%d}")


def digits(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=string.digits, min_size=size, max_size=size)


@st.composite
def first_seventeen(
    draw: st.DrawFn,
    provinces: st.SearchStrategy[str] = KNOWN_PROVINCES,
    born: st.SearchStrategy[str] = BIRTH_DATE_TEXTS,
) -> str:
    """Address code (province + 4 digits), birth date (8) and serial (3)."""
    return draw(provinces) + draw(digits(4)) + draw(born) + draw(digits(3))


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


VALID_IDS = first_seventeen().map(with_check)


@st.composite
def ids_ending_in_x(draw: st.DrawFn) -> str:
    """A valid ID whose check character is X (the last two serial digits are searched)."""
    first15 = draw(first_seventeen())[:15]
    start = draw(st.integers(0, 99))
    for step in range(100):
        candidate = f"{first15}{(start + step) % 100:02d}"
        if check_digit(candidate) == "X":
            return candidate + "X"
    raise AssertionError("positions 16-17 reach every residue mod 11")  # pragma: no cover


def assert_rejected(raw: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        normalise_resident_id(raw)
    assert caught.value.rule_id == "ID-RESIDENT"
    assert caught.value.field == "resident_id"


@given(st.sampled_from(PROVINCES), digits(4), BIRTH_DATES, digits(3))
def test_seventeen_digits_with_a_known_province_and_a_real_birth_date_plus_check_digit_validate(
    province: str, area: str, born: date, serial: str
) -> None:
    resident_id = with_check(f"{province}{area}{born:%Y%m%d}{serial}")

    assert normalise_resident_id(resident_id) == resident_id
    assert birth_date(resident_id) == born


@given(VALID_IDS, st.integers(min_value=0, max_value=17), st.data())
def test_changing_any_single_character_of_a_valid_id_is_rejected(
    resident_id: str, position: int, data: st.DataObject
) -> None:
    original = resident_id[position]
    replacement = data.draw(st.sampled_from([c for c in ID_CHARACTERS if c != original]))
    altered = resident_id[:position] + replacement + resident_id[position + 1 :]

    assert_rejected(altered)


@given(ids_ending_in_x())
def test_a_lower_case_x_check_character_is_accepted_and_normalised_to_upper_case(
    resident_id: str,
) -> None:
    lower = resident_id[:17] + "x"

    assert normalise_resident_id(lower) == resident_id


@given(VALID_IDS, st.text(alphabet=" \t", max_size=3), st.text(alphabet=" \t", max_size=3))
def test_surrounding_whitespace_is_ignored(resident_id: str, before: str, after: str) -> None:
    assert normalise_resident_id(f"{before}{resident_id}{after}") == resident_id


@given(VALID_IDS)
def test_masking_keeps_the_first_four_and_last_four_characters_in_eighteen(
    resident_id: str,
) -> None:
    masked = mask_resident_id(resident_id)

    assert len(masked) == 18
    assert masked[:4] == resident_id[:4]
    assert masked[-4:] == resident_id[-4:]
    assert masked[4:14] == "*" * 10


def test_a_masked_id_reads_like_the_domain_brief_example() -> None:
    assert mask_resident_id("220102198001011234") == "2201**********1234"


@given(st.text(alphabet=string.digits + "Xx", max_size=30).filter(lambda s: len(s) != 18))
def test_an_id_of_the_wrong_length_is_rejected(raw: str) -> None:
    assert_rejected(raw)


@given(
    VALID_IDS,
    st.integers(min_value=0, max_value=17),
    st.sampled_from([c for c in string.ascii_letters + "-_./*" if c not in "xX"]),
)
def test_an_id_with_a_letter_or_symbol_other_than_a_final_x_is_rejected(
    resident_id: str, position: int, intruder: str
) -> None:
    assert_rejected(resident_id[:position] + intruder + resident_id[position + 1 :])


@given(first_seventeen(provinces=st.sampled_from(UNKNOWN_PROVINCES)).map(with_check))
def test_an_id_whose_address_code_names_no_province_is_rejected(resident_id: str) -> None:
    assert_rejected(resident_id)


def _yyyymmdd(year: int, month: int, day: int) -> str:
    return f"{year:04d}{month:02d}{day:02d}"


IMPOSSIBLE_DATES = st.one_of(
    # month 00 or 13-99
    st.builds(
        _yyyymmdd,
        st.integers(1900, 2024),
        st.one_of(st.just(0), st.integers(13, 99)),
        st.integers(1, 28),
    ),
    # day 00
    st.builds(_yyyymmdd, st.integers(1900, 2024), st.integers(1, 12), st.just(0)),
    # a day past the end of its month (29 February only in non-leap years)
    st.integers(1900, 2024).flatmap(
        lambda year: st.integers(1, 12).flatmap(
            lambda month: st.integers(calendar.monthrange(year, month)[1] + 1, 99).map(
                lambda day: _yyyymmdd(year, month, day)
            )
        )
    ),
    # born before 1900
    st.builds(_yyyymmdd, st.integers(0, 1899), st.integers(1, 12), st.integers(1, 28)),
)


@given(first_seventeen(born=IMPOSSIBLE_DATES).map(with_check))
def test_an_id_whose_birth_date_is_impossible_or_before_1900_is_rejected(resident_id: str) -> None:
    assert_rejected(resident_id)


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@given(first_seventeen())
def test_full_width_digits_fold_to_the_same_resident_id(first17: str) -> None:
    """A spreadsheet's full-width ID must not become a second person."""
    resident_id = first17 + check_digit(first17)
    assert normalise_resident_id(resident_id.translate(FULL_WIDTH)) == resident_id


@pytest.mark.parametrize("digit", ["٢", "२"])
def test_digits_of_other_scripts_are_rejected(digit: str) -> None:
    """Arabic-Indic and Devanagari digits are not resident-ID digits."""
    valid = "220221198005170077"
    with pytest.raises(InvalidInputError) as caught:
        normalise_resident_id(valid[:3] + digit + valid[4:])
    assert caught.value.rule_id == "ID-RESIDENT"
