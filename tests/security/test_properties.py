"""Property-based tests (hypothesis) for tracking codes, PINs, masking and the informant validators."""

import datetime as dt
import re
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reports import crypto, validators

# The machine is shared and slow at times: no per-example deadline (a global profile would change other
# modules' tests too, so each test here carries it).
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALPHABET = crypto.TRACKING_ALPHABET
CODE_RE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")

codes = st.text(alphabet=ALPHABET, min_size=12, max_size=12).map(lambda s: f"{s[:4]}-{s[4:8]}-{s[8:]}")
pins = st.text(alphabet="0123456789", min_size=6, max_size=6)


# --- tracking codes ------------------------------------------------------------------------------
def test_alphabet_has_no_characters_people_confuse():
    assert len(set(ALPHABET)) == len(ALPHABET)
    for confusable in "0OD1IL2Z5S8BUV":
        assert confusable not in ALPHABET


@relaxed
@given(st.integers(min_value=0, max_value=50))
def test_new_codes_are_wellformed(_n):
    code = crypto.tracking_code_new()
    assert CODE_RE.match(code)
    assert crypto.tracking_code_is_wellformed(code)
    assert crypto.tracking_code_normalize(code) == code


def test_new_codes_do_not_repeat():
    seen = {crypto.tracking_code_new() for _ in range(20000)}
    assert len(seen) == 20000


@relaxed
@given(codes, st.sampled_from(["", " ", "-", "  ", "\t"]), st.booleans())
def test_what_people_type_normalizes_to_the_code(code, separator, lower):
    typed = code.replace("-", separator)
    if lower:
        typed = typed.lower()
    assert crypto.tracking_code_normalize(f" {typed} ") == code


@pytest.mark.xfail(
    strict=True,
    reason="reported: full-width input (Chinese IME) is dropped by tracking_code_normalize instead of "
    "being folded to ASCII (unicodedata.normalize('NFKC', …) before the regex would fix it)",
)
@relaxed
@given(codes)
def test_full_width_typing_normalizes_to_the_code(code):
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in code)
    assert crypto.tracking_code_normalize(full_width) == code


@relaxed
@given(st.text(max_size=40))
def test_normalize_never_crashes_and_wellformed_means_alphabet_only(raw):
    code = crypto.tracking_code_normalize(raw)
    assert set(code) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
    if crypto.tracking_code_is_wellformed(code):
        assert CODE_RE.match(code)


@relaxed
@given(codes, st.integers(min_value=0, max_value=11), st.sampled_from(sorted(set("0O1IL2Z5S8BUV"))))
def test_a_code_with_a_foreign_character_is_not_wellformed(code, index, bad):
    chars = list(code.replace("-", ""))
    chars[index] = bad
    assert not crypto.tracking_code_is_wellformed("".join(chars))


@pytest.mark.django_db
def test_a_clashing_tracking_code_is_retried_not_lost(campaign_data, monkeypatch):
    from reports import services
    from reports.models import Tip

    first, _pin = services.tip_submit(description="第一件举报：工地强揽土方。")
    fresh = crypto.tracking_code_new()
    generated = iter([first.tracking_code, fresh])
    monkeypatch.setattr(crypto, "tracking_code_new", lambda: next(generated))
    second, pin = services.tip_submit(description="第二件举报：市场欺行霸市。")
    assert second.tracking_code == fresh != first.tracking_code
    assert Tip.objects.filter(tracking_code=first.tracking_code).count() == 1
    assert crypto.pin_verify(tracking_code=fresh, pin=pin, stored=Tip.objects.get(pk=second.pk).pin_hash)


# --- PINs ----------------------------------------------------------------------------------------
@relaxed
@given(st.integers(min_value=0, max_value=50))
def test_new_pins_are_six_digits(_n):
    pin = crypto.pin_new()
    assert re.fullmatch(r"[0-9]{6}", pin)


@relaxed
@given(codes, pins)
def test_pin_hash_verifies_the_right_pin_only(code, pin):
    stored = crypto.pin_hash(tracking_code=code, pin=pin)
    assert stored.startswith("hmac-sha256$") and pin not in stored.removeprefix("hmac-sha256$")
    assert crypto.pin_verify(tracking_code=code, pin=pin, stored=stored)


@relaxed
@given(codes, pins, pins)
def test_a_wrong_pin_never_verifies(code, pin, other):
    assume(pin != other)
    stored = crypto.pin_hash(tracking_code=code, pin=pin)
    assert not crypto.pin_verify(tracking_code=code, pin=other, stored=stored)


@relaxed
@given(codes, codes, pins)
def test_a_pin_hash_is_bound_to_its_code(code, other_code, pin):
    assume(code != other_code)
    stored = crypto.pin_hash(tracking_code=code, pin=pin)
    assert not crypto.pin_verify(tracking_code=other_code, pin=pin, stored=stored)


# Stored hashes come from the database and are ASCII (hmac.compare_digest refuses other str input).
@relaxed
@given(
    codes,
    st.one_of(st.none(), st.just(""), st.text(max_size=20)),
    st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=127), max_size=80)),
)
def test_pin_verify_rejects_junk_without_crashing(code, pin, stored):
    assume(stored != crypto.pin_hash(tracking_code=code, pin=pin or ""))
    assert crypto.pin_verify(tracking_code=code, pin=pin, stored=stored) is False


@relaxed
@given(codes, pins)
def test_pin_hash_depends_on_the_key(code, pin):
    from django.test import override_settings

    stored = crypto.pin_hash(tracking_code=code, pin=pin)
    with override_settings(PIN_HASH_KEY="another-key"):
        assert crypto.pin_hash(tracking_code=code, pin=pin) != stored


def test_pin_comparison_is_constant_time(monkeypatch):
    """pin_verify compares digests with hmac.compare_digest, never ==."""
    import hmac

    calls = []
    original = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or original(a, b))
    stored = crypto.pin_hash(tracking_code="3479-ACEF-GHJK", pin="123456")
    assert crypto.pin_verify(tracking_code="3479-ACEF-GHJK", pin="123456", stored=stored)
    assert calls


# --- phone numbers -------------------------------------------------------------------------------
mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
landlines = st.builds(
    lambda area, dash, number: f"0{area}{dash}{number}",
    st.text(alphabet="0123456789", min_size=2, max_size=3),
    st.sampled_from(["", "-"]),
    st.text(alphabet="0123456789", min_size=7, max_size=8),
)


@relaxed
@given(mobiles, st.sampled_from(["", "+86", "+86 "]), st.sampled_from(["", " "]))
def test_valid_mobiles_are_accepted_and_normalized(mobile, prefix, gap):
    typed = prefix + (mobile[:3] + gap + mobile[3:7] + gap + mobile[7:])
    assert validators.validate_phone(typed) == mobile


@relaxed
@given(landlines)
def test_valid_landlines_are_accepted(number):
    assert validators.validate_phone(number) == number


@relaxed
@given(st.text(max_size=30))
def test_phone_validator_accepts_only_what_the_patterns_allow(raw):
    try:
        phone = validators.validate_phone(raw)
    except ValidationError as exc:
        assert exc.code == "phone"
        return
    assert validators.MOBILE_RE.match(phone) or validators.LANDLINE_RE.match(phone)


@pytest.mark.xfail(
    strict=True,
    reason="reported: validate_phone's \\d matches non-ASCII digits (full-width, Arabic-Indic), so e.g. "
    "'13９０３９１１２３４' is accepted and stored as typed; use [0-9] (or re.ASCII) or fold to ASCII first",
)
@relaxed
@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=9, max_size=9), st.sampled_from("3456789"))
def test_accepted_phones_are_ascii_digits(rest, second):
    try:
        phone = validators.validate_phone(f"1{second}{rest}")
    except ValidationError:
        return
    assert phone.isascii()


@relaxed
@given(mobiles)
def test_masked_phone_hides_the_middle_digits(mobile):
    masked = crypto.mask_phone(mobile)
    assert masked == f"{mobile[:3]}****{mobile[-4:]}"
    assert len(re.sub(r"\D", "", masked)) == 7


# --- resident ID numbers -------------------------------------------------------------------------
def _check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, validators.ID_WEIGHTS, strict=True))
    return validators.ID_CHECK[total % 11]


birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))
regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
sequences = st.text(alphabet="0123456789", min_size=3, max_size=3)


@st.composite
def id_numbers(draw):
    first17 = f"{draw(regions)}{draw(birth_dates):%Y%m%d}{draw(sequences)}"
    return first17 + _check_digit(first17)


@relaxed
@given(id_numbers(), st.booleans())
def test_valid_id_numbers_are_accepted_upper_case(number, lower):
    typed = number.lower() if lower else number
    assert validators.validate_id_number(f" {typed} ") == number


@relaxed
@given(id_numbers(), st.sampled_from("0123456789X"))
def test_a_wrong_check_digit_is_refused(number, other):
    assume(other != number[-1])
    with pytest.raises(ValidationError) as exc:
        validators.validate_id_number(number[:-1] + other)
    assert exc.value.code == "id_check"


@relaxed
@given(regions, st.dates(min_value=dt.date(2031, 1, 1), max_value=dt.date(2099, 12, 31)), sequences)
def test_a_birth_date_in_the_future_is_refused(region, born, seq):
    first17 = f"{region}{born:%Y%m%d}{seq}"
    with pytest.raises(ValidationError) as exc:
        validators.validate_id_number(first17 + _check_digit(first17))
    assert exc.value.code == "id_birth"


@relaxed
@given(st.text(max_size=25))
def test_id_validator_never_crashes_on_junk(raw):
    try:
        number = validators.validate_id_number(raw)
    except ValidationError as exc:
        assert exc.code in {"id_format", "id_birth", "id_check"}
        return
    assert len(number) == 18 and number[:17].isdigit()


@pytest.mark.xfail(
    strict=True,
    reason="reported: validate_id_number's \\d and int() accept full-width digits (an IME in full-width "
    "mode) before an ASCII check character, so the number is stored in full-width form and never "
    "matches the ASCII one in linking; use [0-9] (or re.ASCII) or fold to ASCII first",
)
@relaxed
@given(id_numbers())
def test_accepted_id_numbers_are_ascii(number):
    # Full-width digits with an ASCII check character (the last one is often typed apart, or is X).
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number[:17]) + number[17]
    try:
        accepted = validators.validate_id_number(full_width)
    except ValidationError:
        return
    assert accepted.isascii()


@relaxed
@given(id_numbers())
def test_masked_id_number_keeps_only_the_ends(number):
    masked = crypto.mask_id_number(number)
    assert masked == number[:3] + "*" * 11 + number[-4:]


# --- identity as a whole -------------------------------------------------------------------------
identity_values = st.one_of(st.just(""), st.text(max_size=120), mobiles, id_numbers())
identities = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(("name", "phone", "id_number", "address", "contact"), identity_values),
)


@relaxed
@given(identities, st.booleans())
def test_identity_validation_either_cleans_or_names_the_fields(identity, anonymous):
    try:
        clean = validators.validate_identity(anonymous=anonymous, identity=identity)
    except ValidationError as exc:
        fields = set(exc.message_dict)
        assert fields <= {
            "anonymous",
            "reporter_name",
            "reporter_phone",
            "reporter_id_number",
            "reporter_address",
            "reporter_contact",
        }
        assert all(exc.message_dict[f] for f in fields)
        return
    if anonymous:
        assert clean == {}
    else:
        assert clean and set(clean) <= set(identity)
        assert all(v == v.strip() and v for v in clean.values())


@relaxed
@given(identities.filter(lambda d: any((v or "").strip() for v in d.values())))
def test_anonymous_with_identity_is_refused(identity):
    with pytest.raises(ValidationError) as exc:
        validators.validate_identity(anonymous=True, identity=identity)
    assert "anonymous" in exc.value.message_dict


@relaxed
@given(st.fixed_dictionaries({"name": st.text(min_size=1, max_size=100).filter(str.strip), "phone": mobiles}))
def test_identity_round_trips_through_encryption(identity):
    clean = validators.validate_identity(anonymous=False, identity=identity)
    token = crypto.encrypt_identity(clean)
    assert identity["phone"] not in token
    assert crypto.decrypt_identity(token) == clean
    masked = crypto.mask_identity(clean)
    assert identity["phone"] not in str(masked)


# --- free text -----------------------------------------------------------------------------------
@relaxed
@given(st.text(max_size=200))
def test_description_is_stripped_or_refused(raw):
    try:
        text = validators.validate_description(raw)
    except ValidationError as exc:
        assert exc.code == "required" and not raw.strip()
        return
    assert text == raw.strip() and text


def test_description_limit_counts_characters_not_bytes(settings):
    settings.TIP_DESCRIPTION_MAX = 10
    assert validators.validate_description("扫" * 10) == "扫" * 10
    with pytest.raises(ValidationError) as exc:
        validators.validate_description("扫" * 11)
    assert exc.value.code == "max_length"


@relaxed
@given(
    st.text(alphabet=st.characters(categories=["Lo", "Nd", "Zs", "Po"], exclude_characters="*"), max_size=30)
)
def test_masking_never_returns_the_whole_name(name):
    name = unicodedata.normalize("NFC", name).strip()
    masked = crypto.mask_name(name)
    if len(name) >= 2:
        assert masked != name and masked[0] == name[0] and "*" in masked
