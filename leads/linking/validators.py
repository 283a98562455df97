"""Validators for the identifiers found in tips: resident IDs, credit codes, bank cards, phones, plates.

Pure Python, no Django: the extractor, forms, imports and the backfill command all share these.
Each validator takes a string and answers True/False; none raises on malformed input.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "PROVINCE_CODES",
    "PLATE_PROVINCES",
    "USCC_ALPHABET",
    "luhn_check_digit",
    "luhn_valid",
    "resident_id_check_char",
    "uscc_check_char",
    "valid_landline",
    "valid_mobile",
    "valid_plate",
    "valid_resident_id",
    "valid_uscc",
]

# GB/T 2260 province-level codes (71 Taiwan, 81/82 Hong Kong/Macau, 83 residence permits for them).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)  # fmt: skip

# ISO 7064 MOD 11-2 as used by GB 11643: weight of position i is 2**(17-i) mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"\d{17}[\dX]")

# GB 32100-2015: 31 characters, no I O Z S V; weights 3**i mod 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Registration authority (1 机构编制 … 9 市场监管, A 军队, N 农业, Y 其他) and organisation type.
_USCC_RE = re.compile(r"[1-9ANY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}")

_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# 010 and 02x are the only three-digit area codes; every other one has four digits. Local numbers never
# start with 0 or 1.
_LANDLINE_RE = re.compile(r"0(?:10|2\d|[3-9]\d\d)[2-9]\d{6,7}")
_PHONE_JUNK = re.compile(r"[\s\-().·]")

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_RE = re.compile(
    rf"([{PLATE_PROVINCES}])([A-HJ-Z])"
    r"(?:([0-9A-HJ-NP-Z]{5})|([DF][0-9A-HJ-NP-Z]\d{4}|\d{5}[DF])|([0-9A-HJ-NP-Z]{4}[挂学警港澳领试超]))"
)
_PLATE_JUNK = re.compile(r"[\s·\-.]")


def resident_id_check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of a resident ID."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_resident_id(s: str, *, today: date | None = None) -> bool:
    """An 18-character resident ID: known province, real birth date not in the future, MOD 11-2 check.

    A lower-case x is accepted as the check character (forms and spreadsheets often have it).
    """
    s = s.strip().upper()
    if len(s) != 18 or not _ID_RE.fullmatch(s) or s[:2] not in PROVINCE_CODES:
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > (today or date.today()):
        return False
    return resident_id_check_char(s[:17]) == s[17]


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def valid_uscc(s: str) -> bool:
    """A unified social credit code (统一社会信用代码): structure, region and MOD 31 check character."""
    s = s.strip().upper()
    if len(s) != 18 or not _USCC_RE.fullmatch(s) or s[2:4] not in PROVINCE_CODES:
        return False
    return uscc_check_char(s[:17]) == s[17]


def _luhn_sum(digits: str) -> int:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total


def luhn_check_digit(partial: str) -> str:
    """The Luhn digit to append to `partial` (all digits)."""
    return str((10 - _luhn_sum(partial + "0") % 10) % 10)


def luhn_valid(s: str, *, min_length: int = 16, max_length: int = 19) -> bool:
    """A bank card number: 16–19 digits (by default) passing the Luhn check."""
    s = s.strip()
    if not (min_length <= len(s) <= max_length) or not s.isascii() or not s.isdigit():
        return False
    return _luhn_sum(s) % 10 == 0


def _phone_digits(s: str) -> str:
    digits = _PHONE_JUNK.sub("", s.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    return digits


def valid_mobile(s: str) -> bool:
    """A mainland mobile number 1[3-9]xxxxxxxxx, after dropping spaces, dashes and a +86/0086/86 prefix."""
    digits = _phone_digits(s)
    for prefix in ("0086", "86"):
        if len(digits) == len(prefix) + 11 and digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    return bool(_MOBILE_RE.fullmatch(digits))


def valid_landline(s: str) -> bool:
    """A mainland landline with area code: 010/02x + 8 digits or 0xxx + 7–8 digits (0391-3568123)."""
    digits = _phone_digits(s)
    if not _LANDLINE_RE.fullmatch(digits):
        return False
    # Three-digit area codes (010, 02x) always go with eight-digit local numbers.
    return len(digits) == 11 if digits[1] in "12" else True


def valid_plate(s: str) -> bool:
    """A civil vehicle plate: province + letter + 5 characters, 6 for new energy (豫H·A1234, 豫HD12345).

    Ordinary serials use at most two letters (no I or O). Separators (· space - .) are ignored.
    """
    s = _PLATE_JUNK.sub("", s.strip()).upper()
    m = _PLATE_RE.fullmatch(s)
    if not m:
        return False
    ordinary = m.group(3)
    if ordinary is not None:
        return sum(c.isalpha() for c in ordinary) <= 2
    return True
