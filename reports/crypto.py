"""Informant protection: identity encryption at rest, keyed PIN hashes, tracking codes, masking.

Identity is one Fernet token (JSON inside) made with the first key of settings.IDENTITY_ENCRYPTION_KEYS;
every key in the list decrypts, so rotation is: prepend a new key, run `manage.py rotate_identity_key`
(reports/keyrotation.py, built on `fernet()` and `rotate_token()`), then drop the old key.
PINs are HMAC-SHA256 under settings.PIN_HASH_KEY, bound to the tracking code, compared in constant time.
"""

import hashlib
import hmac
import json
import re
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# No 0/O/D, 1/I/L, 2/Z, 5/S, 8/B, U/V: what is left survives handwriting and being read aloud.
TRACKING_ALPHABET = "34679ACEFGHJKMNPQRTWXY"
TRACKING_GROUPS = 3
TRACKING_GROUP_LEN = 4  # 12 characters from 22: about 53 bits, far beyond guessing behind a PIN lockout
PIN_LENGTH = 6

IDENTITY_FIELDS = ("name", "phone", "id_number", "address", "contact")


class IdentityDecryptError(Exception):
    """The token was made with a key that is no longer configured, or was tampered with."""


# --- keys ----------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("IDENTITY_ENCRYPTION_KEYS is empty: informant identity cannot be stored.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.IDENTITY_ENCRYPTION_KEYS))


def _pin_key() -> bytes:
    key = settings.PIN_HASH_KEY
    if not key:
        raise ImproperlyConfigured("PIN_HASH_KEY is empty: follow-up PINs cannot be hashed.")
    return key.encode()


# --- identity ------------------------------------------------------------------------------------
def encrypt_identity(identity: dict) -> str:
    """Encrypt the identity fields that have a value; returns "" when there is nothing to protect."""
    clean = {k: str(v).strip() for k, v in identity.items() if k in IDENTITY_FIELDS and v and str(v).strip()}
    if not clean:
        return ""
    payload = json.dumps(clean, ensure_ascii=False, sort_keys=True).encode()
    return fernet().encrypt(payload).decode()


def decrypt_identity(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise IdentityDecryptError("identity token cannot be decrypted with the configured keys") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt one token under the newest key (unchanged content; empty stays empty)."""
    if not token:
        return token
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise IdentityDecryptError("identity token cannot be decrypted with the configured keys") from exc


def token_uses_primary_key(token: str) -> bool:
    """True when the newest key can already decrypt the token (nothing to rotate)."""
    if not token:
        return True
    primary = Fernet(settings.IDENTITY_ENCRYPTION_KEYS[0].encode())
    try:
        primary.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


# --- masking -------------------------------------------------------------------------------------
def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****" if value else ""


def mask_name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    return value[0] + "*" * max(1, min(len(value) - 1, 3))


def mask_id_number(value: str) -> str:
    value = (value or "").strip()
    if len(value) < 8:
        return "****" if value else ""
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_text(value: str, keep: int = 3) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    return value[:keep] + "****"


def mask_identity(identity: dict) -> dict:
    """The forms shown before a reveal: enough to tell informants apart, not enough to identify one."""
    masked = {
        "name": mask_name(identity.get("name", "")),
        "phone": mask_phone(identity.get("phone", "")),
        "id_number": mask_id_number(identity.get("id_number", "")),
        "address": mask_text(identity.get("address", "")),
        "contact": mask_text(identity.get("contact", ""), keep=2),
    }
    return {k: v for k, v in masked.items() if v}


# --- tracking code and PIN -----------------------------------------------------------------------
def tracking_code_new() -> str:
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_GROUPS * TRACKING_GROUP_LEN))
    return "-".join(chars[i : i + TRACKING_GROUP_LEN] for i in range(0, len(chars), TRACKING_GROUP_LEN))


def tracking_code_normalize(raw: str) -> str:
    """Accept what people type (lower case, spaces, no dashes) and return the canonical grouped form."""
    chars = re.sub(r"[^0-9A-Z]", "", (raw or "").upper())
    return "-".join(chars[i : i + TRACKING_GROUP_LEN] for i in range(0, len(chars), TRACKING_GROUP_LEN))


def tracking_code_is_wellformed(code: str) -> bool:
    chars = code.replace("-", "")
    return len(chars) == TRACKING_GROUPS * TRACKING_GROUP_LEN and all(c in TRACKING_ALPHABET for c in chars)


def pin_new() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))


def pin_hash(*, tracking_code: str, pin: str) -> str:
    """Keyed hash bound to the code, so one leaked hash table says nothing without the key."""
    message = f"{tracking_code}:{pin}".encode()
    return "hmac-sha256$" + hmac.new(_pin_key(), message, hashlib.sha256).hexdigest()


def pin_verify(*, tracking_code: str, pin: str, stored: str) -> bool:
    return hmac.compare_digest(pin_hash(tracking_code=tracking_code, pin=pin or ""), stored or "")


def keyed_digest(value: str, purpose: str) -> str:
    """A keyed, non-reversible digest for lookups and rate-limit keys (client addresses are never stored)."""
    return hmac.new(_pin_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
