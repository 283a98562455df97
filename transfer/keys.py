"""The internal zone's sealing keys (generate, rotate, open) and the public node's copy of the public half.

The private key never leaves the internal database, where it is encrypted with the identity key
(IDENTITY_ENCRYPTION_KEYS), so a database backup alone does not open sealed submissions either.
Retired keys are kept: submissions sealed to them before a rotation may still be waiting.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaign.audit import audit_record
from reports import crypto as reports_crypto

from . import conf, crypto
from .models import SealingKey, ZoneKeyPair


class ZoneKeyError(Exception):
    """A key operation that cannot be done as asked (message in Chinese)."""


class SealingUnavailable(Exception):
    """The public node has no key to seal to: it refuses submissions rather than store them readable."""


# --- internal side -------------------------------------------------------------------------------
@transaction.atomic
def zone_key_generate() -> ZoneKeyPair:
    """The first key pair of an internal zone. Refuses when one exists (rotate instead)."""
    if ZoneKeyPair.objects.select_for_update().filter(is_current=True).exists():
        raise ZoneKeyError("已有当前密钥；如需更换，请使用 zone_keys rotate。")
    return _create_current()


@transaction.atomic
def zone_key_rotate() -> ZoneKeyPair:
    """A new current key pair; the old one is retired but kept to open what was sealed to it."""
    ZoneKeyPair.objects.select_for_update().filter(is_current=True).update(
        is_current=False, retired_at=timezone.now()
    )
    return _create_current()


def _create_current() -> ZoneKeyPair:
    private, public = crypto.keypair_new()
    pair = ZoneKeyPair.objects.create(
        key_id=crypto.key_id(public),
        public_key=public,
        private_key_encrypted=reports_crypto.fernet().encrypt(private.encode()).decode(),
        is_current=True,
    )
    audit_record(actor=None, action="zone_key.create", target=pair, data={"key_id": pair.key_id})
    return pair


def zone_key_current() -> ZoneKeyPair | None:
    return ZoneKeyPair.objects.filter(is_current=True).first()


def zone_private_key(key_id: str) -> str | None:
    pair = ZoneKeyPair.objects.filter(key_id=key_id).first()
    if pair is None:
        return None
    return reports_crypto.fernet().decrypt(pair.private_key_encrypted.encode()).decode()


# --- public node ---------------------------------------------------------------------------------
@transaction.atomic
def sealing_key_install(*, public_key: str) -> SealingKey:
    """Make `public_key` the one new submissions are sealed to (from a transfer, a bundle or by hand)."""
    if not crypto.public_key_valid(public_key):
        raise ZoneKeyError("公钥格式不正确（应为 32 字节的 base64）。")
    kid = crypto.key_id(public_key)
    current = SealingKey.objects.select_for_update().filter(is_current=True).first()
    if current is not None and current.key_id == kid:
        return current
    SealingKey.objects.filter(is_current=True).update(is_current=False)
    key, _ = SealingKey.objects.update_or_create(
        key_id=kid, defaults={"public_key": public_key, "is_current": True}
    )
    return key


def sealing_key_current() -> SealingKey:
    """The key to seal to; the environment's ZONE_SEAL_PUBLIC_KEY bootstraps a node before its first transfer."""
    key = SealingKey.objects.filter(is_current=True).first()
    if key is not None:
        return key
    configured = conf.get("ZONE_SEAL_PUBLIC_KEY")
    if configured:
        return sealing_key_install(public_key=configured)
    raise SealingUnavailable(
        "公开区还没有内网区的公钥：请在内网区执行 zone_keys show-public，将结果设为 ZONE_SEAL_PUBLIC_KEY，"
        "或先执行一次数据交换。"
    )
