"""parse_byte_size: human-written byte quantities such as ``2GB`` or ``512 MiB``."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdapt.domain.sizes import parse_byte_size

UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "M": 1000**2,
    "MB": 1000**2,
    "G": 1000**3,
    "GB": 1000**3,
    "T": 1000**4,
    "TB": 1000**4,
    "Ki": 1024,
    "KiB": 1024,
    "Mi": 1024**2,
    "MiB": 1024**2,
    "Gi": 1024**3,
    "GiB": 1024**3,
    "Ti": 1024**4,
    "TiB": 1024**4,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2GB", 2_000_000_000),
        ("1GiB", 1_073_741_824),
        ("512 MiB", 512 * 1024**2),
        ("1.5g", 1_500_000_000),
        ("  8gb  ", 8_000_000_000),
        ("100", 100),
        ("100b", 100),
        ("0", 0),
        ("3 KiB", 3072),
        ("2tib", 2 * 1024**4),
        ("0.5k", 500),
    ],
)
def test_parses_strings(text, expected):
    assert parse_byte_size(text) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (1, 1), (4096, 4096), (2.0, 2), (7.9, 7)])
def test_numbers_are_bytes(value, expected):
    result = parse_byte_size(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "bad",
    ["two", "5XB", -1, -0.5, True, False, "", "GB", "-1GB", "1,5GB", "1.2.3MB", "5 G B"],
    ids=repr,
)
def test_bad_inputs_raise_value_error_naming_the_input(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        parse_byte_size(bad)


def test_unknown_unit_is_named():
    with pytest.raises(ValueError, match="unknown size unit 'XB'"):
        parse_byte_size("5XB")


def test_infinity_is_rejected_with_value_error():
    with pytest.raises(ValueError, match="inf"):
        parse_byte_size(float("inf"))


def test_nan_is_rejected_naming_the_input():
    with pytest.raises(ValueError, match=re.escape(repr(float("nan")))):
        parse_byte_size(float("nan"))


def test_decimal_fraction_is_not_truncated():
    assert parse_byte_size("1.001KB") == 1001


def test_large_integer_string_is_exact():
    assert parse_byte_size(str(2**53 + 1)) == 2**53 + 1


@given(n=st.integers(min_value=0, max_value=1000), unit=st.sampled_from(sorted(UNITS)))
def test_integer_amounts_in_every_unit(n, unit):
    expected = n * UNITS[unit]
    assert parse_byte_size(f"{n}{unit}") == expected
    assert parse_byte_size(f"{n} {unit.lower()}") == expected
    assert parse_byte_size(f"{n}{unit.upper()}") == expected


@given(n=st.integers(min_value=0, max_value=2**53))
def test_plain_integers_round_trip(n):
    assert parse_byte_size(n) == n
    assert parse_byte_size(str(n)) == n


@given(n=st.integers(max_value=-1))
def test_negative_integers_rejected(n):
    with pytest.raises(ValueError, match="negative"):
        parse_byte_size(n)
