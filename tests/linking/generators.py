"""Independent generators of valid identifiers for the corpus and the property tests.

Deliberately not using leads.linking's own check-digit helpers, so a shared mistake cannot hide.
"""

from datetime import date

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(region: str, born: date, sequence: str) -> str:
    """An 18-digit resident ID with its GB 11643 check character."""
    body = f"{region}{born:%Y%m%d}{sequence}"
    assert len(body) == 17 and body.isdigit()
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _org_code(body8: str) -> str:
    """GB 11714 organisation code: eight characters and a check character."""
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body8]
    check = 11 - sum(v * w for v, w in zip(values, ORG_WEIGHTS, strict=True)) % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def uscc(body8: str, *, region: str = "410800", authority: str = "9", kind: str = "1") -> str:
    """A unified social credit code around an organisation code body (digits and letters without I O S V Z)."""
    first17 = authority + kind + region + _org_code(body8)
    assert all(c in USCC_ALPHABET for c in first17), first17
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


def luhn_complete(partial: str) -> str:
    """`partial` plus the Luhn digit that makes it valid."""
    total = 0
    for i, c in enumerate(reversed(partial)):
        d = int(c)
        if i % 2 == 0:  # these become the odd positions once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return partial + str((10 - total % 10) % 10)


def luhn_invalid(partial: str) -> str:
    """`partial` plus a last digit that fails the Luhn check."""
    valid = luhn_complete(partial)
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def grouped(value: str, sizes: list[int], sep: str = " ") -> str:
    """137039112 → "137 0391 12" style formatting."""
    parts, pos = [], 0
    for size in sizes:
        parts.append(value[pos : pos + size])
        pos += size
    if pos < len(value):
        parts.append(value[pos:])
    return sep.join(parts)


def full_width(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)
