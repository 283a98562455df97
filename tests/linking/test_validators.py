"""Validators: known good and bad values, and property tests (valid numbers pass, any single change fails)."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.linking.validators import (
    PROVINCE_CODES,
    luhn_valid,
    valid_landline,
    valid_mobile,
    valid_plate,
    valid_resident_id,
    valid_uscc,
)

from .generators import USCC_ALPHABET, luhn_complete, resident_id, uscc

PROPERTY = settings(
    database=None, deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
DIGITS = "0123456789"

ids = st.builds(
    lambda province, rest, born, seq: resident_id(province + rest, born, seq),
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(DIGITS, min_size=4, max_size=4),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2015, 12, 31)),
    st.text(DIGITS, min_size=3, max_size=3),
)
org_body = st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
usccs = st.builds(
    lambda body, province, rest, authority, kind: uscc(
        body, region=province + rest, authority=authority, kind=kind
    ),
    org_body,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(DIGITS, min_size=4, max_size=4),
    st.sampled_from("1589ANY"),
    st.sampled_from("1239"),
)
cards = st.builds(
    lambda prefix, body: luhn_complete(prefix + body),
    st.sampled_from(["62", "4", "5", "60", "35"]),
    st.integers(min_value=13, max_value=16).flatmap(lambda n: st.text(DIGITS, min_size=n, max_size=n)),
).filter(lambda c: 16 <= len(c) <= 19)


def _single_substitutions(value: str, alphabet: str):
    for i, original in enumerate(value):
        for replacement in alphabet:
            if replacement != original:
                yield value[:i] + replacement + value[i + 1 :]


@PROPERTY
@given(ids)
def test_generated_resident_ids_are_valid(value):
    assert valid_resident_id(value)


@PROPERTY
@given(ids)
def test_any_single_changed_character_of_a_resident_id_fails(value):
    # MOD 11-2: every weight is non-zero mod 11 and a digit changes by at most 9, so the sum always moves.
    for changed in _single_substitutions(value, DIGITS + "X"):
        assert not valid_resident_id(changed), changed


@PROPERTY
@given(usccs)
def test_generated_credit_codes_are_valid(value):
    assert valid_uscc(value)


@PROPERTY
@given(usccs)
def test_any_single_changed_character_of_a_credit_code_fails(value):
    # MOD 31 with weights 3**i: all non-zero mod the prime 31, so every substitution changes the check.
    for changed in _single_substitutions(value, USCC_ALPHABET):
        assert not valid_uscc(changed), changed


@PROPERTY
@given(cards)
def test_generated_card_numbers_pass_luhn(value):
    assert luhn_valid(value)


@PROPERTY
@given(cards)
def test_any_single_changed_digit_of_a_card_fails_luhn(value):
    for changed in _single_substitutions(value, DIGITS):
        assert not luhn_valid(changed), changed


@pytest.mark.parametrize(
    "value",
    [
        "410802199002301234",  # 30 February
        "990802199001011234",  # no province 99
        "41080219900101123",  # 17 characters
        "4108021990010112345",  # 19 characters
        "41080220990101123X",  # born in 2099
        "41080218990101123X",  # born before 1900
        "41080219900101123A",
        "",
    ],
)
def test_malformed_resident_ids_fail(value):
    assert not valid_resident_id(value)


def test_resident_id_birth_date_is_checked_against_today():
    born_tomorrow = resident_id("410802", date(2031, 1, 2), "001")
    assert not valid_resident_id(born_tomorrow, today=date(2031, 1, 1))
    assert valid_resident_id(born_tomorrow, today=date(2031, 1, 2))


def test_resident_id_accepts_lower_case_x():
    value = next(
        v for v in (resident_id("410821", date(1975, 5, 20), f"{n:03d}") for n in range(1000)) if v[-1] == "X"
    )
    assert valid_resident_id(value.lower())


@pytest.mark.parametrize(
    "value",
    [
        "91410800MA44L7Q3I1",  # I is not in the alphabet
        "91990800MA44L7Q3X1",  # no province 99
        "01410800MA44L7Q3X1",  # registration authority 0 does not exist
        "91410800MA44L7Q3X",  # 17 characters
    ],
)
def test_malformed_credit_codes_fail(value):
    assert not valid_uscc(value)


def test_credit_code_accepts_lower_case():
    assert valid_uscc(uscc("MA44L7Q3").lower())


def test_luhn_known_test_numbers():
    assert luhn_valid("4111111111111111")  # the classic Visa test number
    assert not luhn_valid("4111111111111112")
    assert luhn_valid("6011000990139424")  # Discover test number


def test_luhn_rejects_wrong_lengths_and_non_digits():
    assert not luhn_valid(luhn_complete("411111111111111")[:-2])  # 14 digits
    assert not luhn_valid("4111 1111 1111 1111")
    assert not luhn_valid(
        "４１１１１１１１１１１１１１１１"
    )  # full-width digits are normalised by the extractor, not here


@pytest.mark.parametrize(
    "value", ["13703911234", "+86 137-0391-1234", "0086 13703911234", "8613703911234", "199 3912 6655"]
)
def test_valid_mobiles(value):
    assert valid_mobile(value)


@pytest.mark.parametrize(
    "value", ["12703911234", "1370391123", "137039112345", "23703911234", "+1 13703911234"]
)
def test_invalid_mobiles(value):
    assert not valid_mobile(value)


@pytest.mark.parametrize(
    "value", ["0391-3568123", "03913568123", "010-62345678", "(0391)35681234", "021 6234 5678"]
)
def test_valid_landlines(value):
    assert valid_landline(value)


@pytest.mark.parametrize("value", ["0391-0568123", "3568123", "010-6234567", "0391-356812", "13703911234"])
def test_invalid_landlines(value):
    assert not valid_landline(value)


@pytest.mark.parametrize(
    "value", ["豫H·A1234", "豫H A1234", "豫HA1234", "豫HD12345", "豫H12345F", "豫H1234学", "京AB1234"]
)
def test_valid_plates(value):
    assert valid_plate(value)


@pytest.mark.parametrize(
    "value", ["豫HABC12", "豫H1234", "豫HA12345", "美HA1234", "豫1A1234", "豫HO1234", "豫HA12I4"]
)
def test_invalid_plates(value):
    assert not valid_plate(value)
