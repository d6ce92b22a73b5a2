"""Amounts in Chinese capital numerals (大写) and names masked for a public notice."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.identity import mask_name
from disburse.printing.capitals import DIGITS, MAX_FEN, capitals

AMOUNTS = st.integers(min_value=0, max_value=MAX_FEN)
SMALL = st.integers(min_value=0, max_value=10**9)
_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
_WELL_FORMED = re.compile(
    r"^([零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+元)?([壹贰叁肆伍陆柒捌玖]角)?(零?[壹贰叁肆伍陆柒捌玖]分|整)$"
)


def read_capitals(text: str) -> int:
    """The amount in fen that a cashier reads from the words (independent of the writer)."""
    yuan_text, _, cents_text = text.partition("元") if "元" in text else ("", "", text)
    total = wan = section = number = 0
    for char in yuan_text:
        if char in DIGITS:
            number = DIGITS.index(char)
        elif char in _UNITS:
            section += number * _UNITS[char]
            number = 0
        elif char == "万":
            wan = (section + number) * 10**4
            section = number = 0
        elif char == "亿":
            total = (total + wan + section + number) * 10**8
            wan = section = number = 0
    fen = (total + wan + section + number) * 100
    for digit, unit in re.findall(r"([壹贰叁肆伍陆柒捌玖])([角分])", cents_text):
        fen += DIGITS.index(digit) * (10 if unit == "角" else 1)
    return fen


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (5, "伍分"),
        (50, "伍角整"),
        (55, "伍角伍分"),
        (100, "壹元整"),
        (1_000, "壹拾元整"),
        (1_005, "壹拾元零伍分"),
        (1_050, "壹拾元伍角整"),
        (1_234_567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
        (100_000_005, "壹佰万元零伍分"),
        (140_902, "壹仟肆佰零玖元零贰分"),
        (168_032, "壹仟陆佰捌拾元叁角贰分"),
        (10_010_000, "壹拾万零壹佰元整"),
        (10_001_000_000, "壹亿零壹万元整"),
        (10_000_100_000, "壹亿零壹仟元整"),
        (123_450_000_000_000, "壹万贰仟叁佰肆拾伍亿元整"),
        (MAX_FEN, "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_known_amounts_are_written_as_banks_write_them(fen: int, words: str) -> None:
    assert capitals(fen) == words


@given(AMOUNTS)
def test_capitals_read_back_to_the_amount(fen: int) -> None:
    assert read_capitals(capitals(fen)) == fen


@given(SMALL)
def test_small_amounts_read_back_too(fen: int) -> None:
    assert read_capitals(capitals(fen)) == fen


@given(AMOUNTS)
def test_capitals_are_well_formed(fen: int) -> None:
    """One 零 for a run of zeros, none first or before 元; 整 only without 分."""
    words = capitals(fen)
    assert _WELL_FORMED.fullmatch(words), words
    assert "零零" not in words
    assert fen == 0 or not words.startswith("零")
    assert "零元" not in words or fen == 0
    assert "零万" not in words
    assert "零亿" not in words
    assert words.endswith("分") == (fen % 10 != 0)


@given(st.integers(min_value=1, max_value=MAX_FEN // 100))
def test_whole_yuan_end_with_yuan_zheng(yuan: int) -> None:
    assert capitals(yuan * 100).endswith("元整")


@given(st.integers(min_value=1, max_value=MAX_FEN // 100), st.integers(1, 9))
def test_fen_without_jiao_take_a_zero(yuan: int, fen: int) -> None:
    assert capitals(yuan * 100 + fen).endswith(f"元零{DIGITS[fen]}分")


@pytest.mark.parametrize("bad", [-1, MAX_FEN + 1])
def test_amounts_out_of_range_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="amount in capitals"):
        capitals(bad)


def test_only_whole_fen_are_written() -> None:
    with pytest.raises(TypeError):
        capitals(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        capitals(True)  # noqa: FBT003 - a bool is not an amount


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小明", "欧**明"),
        ("阿依古丽·买买提", "阿******提"),
        ("王", "*"),
    ],
)
def test_names_keep_their_first_and_last_character_on_a_notice(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@given(st.text(min_size=3, max_size=64))
def test_a_masked_name_hides_every_middle_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0]
    assert masked[-1] == name[-1]
    assert set(masked[1:-1]) == {"*"}
