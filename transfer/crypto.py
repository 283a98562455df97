"""Cryptography of the zones: sealing to the internal zone's key, signed requests, sealed bundle files.

- Sealing: libsodium sealed boxes (X25519 + XSalsa20-Poly1305, an ephemeral sender key per message).
  The public node holds only the internal zone's public key, so it cannot open what it stores.
- Requests between the zones: HMAC-SHA256 under a key derived from ZONE_TRANSFER_KEY over method, path,
  timestamp, nonce and the body's SHA-256; answers are signed too, bound to the request's nonce, so an
  answer can be neither altered nor replayed to another request.
- Bundle files (air-gapped sites): JSON, encrypted with a secret box under another derived key, then
  signed over the whole file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import zlib

from django.core.exceptions import ImproperlyConfigured
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

from . import conf

SEAL_VERSION = b"PZS1"
BUNDLE_MAGIC = b"PORTAL-ZONE-BUNDLE/1\n"
HEADER_TIMESTAMP = "X-Zone-Timestamp"
HEADER_NONCE = "X-Zone-Nonce"
HEADER_SIGNATURE = "X-Zone-Signature"


class SealError(Exception):
    """A sealed payload that cannot be opened: wrong key, or altered on the way."""


class SignatureError(Exception):
    """A request, answer or bundle whose signature, timestamp or nonce is not acceptable."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


# --- sealing -------------------------------------------------------------------------------------
def keypair_new() -> tuple[str, str]:
    """(private, public), both base64."""
    key = PrivateKey.generate()
    return b64(bytes(key)), b64(bytes(key.public_key))


def key_id(public_key: str) -> str:
    return hashlib.sha256(unb64(public_key)).hexdigest()[:16]


def public_key_valid(public_key: str) -> bool:
    try:
        return len(unb64(public_key)) == 32
    except ValueError:
        return False


def seal(payload: dict, *, public_key: str) -> bytes:
    """Compress and seal a JSON payload to the internal zone's public key."""
    raw = zlib.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    return SEAL_VERSION + SealedBox(PublicKey(unb64(public_key))).encrypt(raw)


def unseal(sealed: bytes, *, private_key: str) -> dict:
    if not sealed.startswith(SEAL_VERSION):
        raise SealError("unknown sealed format")
    try:
        raw = SealedBox(PrivateKey(unb64(private_key))).decrypt(bytes(sealed[len(SEAL_VERSION) :]))
        return json.loads(zlib.decompress(raw))
    except (CryptoError, zlib.error, ValueError) as exc:
        raise SealError("sealed payload cannot be opened (wrong key or altered)") from exc


# --- shared key ----------------------------------------------------------------------------------
def _derived(purpose: bytes) -> bytes:
    secret = conf.get("ZONE_TRANSFER_KEY")
    if not secret or len(secret) < 32:
        raise ImproperlyConfigured(
            "ZONE_TRANSFER_KEY 未设置或太短（至少 32 个字符；两个区使用同一个值）。"
            '生成：python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return hmac.new(secret.encode(), b"portal-zone-transfer/" + purpose, hashlib.sha256).digest()


def _mac(purpose: bytes, message: bytes) -> str:
    return hmac.new(_derived(purpose), message, hashlib.sha256).hexdigest()


# --- signed requests -----------------------------------------------------------------------------
def _request_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign_request(method: str, path: str, body: bytes) -> dict[str, str]:
    """Headers for one request: a fresh nonce each time, so the same body sent twice is two requests."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    signature = _mac(b"request", _request_message(method, path, timestamp, nonce, body))
    return {HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce, HEADER_SIGNATURE: signature}


def verify_request(*, method: str, path: str, body: bytes, headers) -> str:
    """Check signature and timestamp; returns the nonce (the caller refuses one it has seen before)."""
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    if not (timestamp.isdigit() and len(nonce) == 32 and signature):
        raise SignatureError("missing or malformed signature headers")
    expected = _mac(b"request", _request_message(method, path, timestamp, nonce, body))
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("bad signature")
    skew = abs(time.time() - int(timestamp))
    if skew > conf.get("ZONE_REPLAY_WINDOW_SECONDS"):
        raise SignatureError(f"timestamp outside the replay window ({int(skew)} s)")
    return nonce


def sign_response(*, request_nonce: str, status: int, body: bytes) -> str:
    message = "\n".join(["response", request_nonce, str(status), hashlib.sha256(body).hexdigest()])
    return _mac(b"response", message.encode())


def verify_response(*, request_nonce: str, status: int, body: bytes, signature: str) -> None:
    expected = sign_response(request_nonce=request_nonce, status=status, body=body)
    if not signature or not hmac.compare_digest(expected, signature):
        raise SignatureError("answer signature does not match (altered or not from the public node)")


# --- bundle files --------------------------------------------------------------------------------
def bundle_pack(payload: dict) -> bytes:
    """Encrypt then sign: magic line, ciphertext, newline, hex signature over both."""
    body = zlib.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    ciphertext = SecretBox(_derived(b"bundle-encryption")).encrypt(body)
    signed = BUNDLE_MAGIC + b64(bytes(ciphertext)).encode()
    return signed + b"\n" + _mac(b"bundle-signature", signed).encode() + b"\n"


def bundle_unpack(data: bytes) -> dict:
    if not data.startswith(BUNDLE_MAGIC):
        raise SignatureError("not a transfer bundle")
    try:
        signed, signature = data.rstrip(b"\n").rsplit(b"\n", 1)
    except ValueError:
        raise SignatureError("bundle has no signature")
    if not hmac.compare_digest(_mac(b"bundle-signature", signed).encode(), signature):
        raise SignatureError("bundle signature does not match (altered, or made with another key)")
    try:
        body = SecretBox(_derived(b"bundle-encryption")).decrypt(unb64(signed[len(BUNDLE_MAGIC) :].decode()))
        return json.loads(zlib.decompress(body))
    except (CryptoError, zlib.error, ValueError) as exc:
        raise SignatureError("bundle cannot be decrypted") from exc
