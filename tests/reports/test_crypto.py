"""Tracking codes, PINs and identity encryption."""

import re

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from reports import crypto
from reports.models import Tip

from .conftest import NAMED

pytestmark = pytest.mark.django_db


def test_tracking_code_is_grouped_and_uses_no_lookalike_characters():
    codes = {crypto.tracking_code_new() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        assert not set(code.replace("-", "")) & set("01OILSZB258UVD")
        assert crypto.tracking_code_is_wellformed(code)


def test_tracking_code_input_is_normalized():
    code = crypto.tracking_code_new()
    typed = code.replace("-", " ").lower()
    assert crypto.tracking_code_normalize(typed) == code


def test_pin_hash_is_keyed_bound_to_code_and_verified(settings):
    stored = crypto.pin_hash(tracking_code="AAAA-BBBB-CCCC", pin="123456")
    assert "123456" not in stored
    assert crypto.pin_verify(tracking_code="AAAA-BBBB-CCCC", pin="123456", stored=stored)
    assert not crypto.pin_verify(tracking_code="AAAA-BBBB-CCCC", pin="123457", stored=stored)
    assert not crypto.pin_verify(tracking_code="AAAA-BBBB-CCCD", pin="123456", stored=stored)
    settings.PIN_HASH_KEY = "another-key"
    assert not crypto.pin_verify(tracking_code="AAAA-BBBB-CCCC", pin="123456", stored=stored)


def test_identity_round_trip_and_masks():
    token = crypto.encrypt_identity(NAMED)
    assert "李建华" not in token and "13903911234" not in token
    assert crypto.decrypt_identity(token) == NAMED
    masked = crypto.mask_identity(NAMED)
    assert masked["phone"] == "139****1234"
    assert masked["name"] == "李**"
    assert masked["id_number"].startswith("410") and masked["id_number"].endswith("003X")
    assert "19780512" not in masked["id_number"]


def test_database_holds_no_plaintext_identity(make_tip):
    tip, _pin = make_tip(anonymous=False, identity=NAMED)
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM reports_tip WHERE id = %s", [tip.pk])
        row = " ".join(str(v) for v in cur.fetchone())
    for secret in ("李建华", "13903911234", "41080219780512003X", "民主路18号"):
        assert secret not in row
    assert crypto.decrypt_identity(Tip.objects.get(pk=tip.pk).identity_encrypted)["phone"] == "13903911234"


def test_rotate_token_moves_a_token_to_the_newest_key(settings):
    old_token = crypto.encrypt_identity(NAMED)
    new_key = Fernet.generate_key().decode()
    settings.IDENTITY_ENCRYPTION_KEYS = [new_key, *settings.IDENTITY_ENCRYPTION_KEYS]
    assert not crypto.token_uses_primary_key(old_token)
    token = crypto.rotate_token(old_token)
    assert token != old_token and crypto.token_uses_primary_key(token)
    settings.IDENTITY_ENCRYPTION_KEYS = [new_key]  # the old key retired
    assert crypto.decrypt_identity(token) == NAMED
    with pytest.raises(crypto.IdentityDecryptError):
        crypto.decrypt_identity(old_token)
