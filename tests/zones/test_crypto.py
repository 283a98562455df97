"""Sealing, request signatures and bundle files refuse anything altered, replayed or stale."""

import time

import pytest

from transfer import crypto


@pytest.fixture(autouse=True)
def _key(settings):
    settings.ZONE_TRANSFER_KEY = "k" * 40


def test_sealed_payload_opens_only_with_the_private_key():
    private, public = crypto.keypair_new()
    other_private, _ = crypto.keypair_new()
    sealed = crypto.seal({"description": "某砂场强占河道"}, public_key=public)
    assert "砂场".encode() not in sealed
    assert crypto.unseal(sealed, private_key=private) == {"description": "某砂场强占河道"}
    with pytest.raises(crypto.SealError):
        crypto.unseal(sealed, private_key=other_private)


def test_altered_sealed_payload_is_refused():
    private, public = crypto.keypair_new()
    sealed = bytearray(crypto.seal({"a": 1}, public_key=public))
    sealed[-5] ^= 1
    with pytest.raises(crypto.SealError):
        crypto.unseal(bytes(sealed), private_key=private)


def test_signed_request_verifies_and_altered_body_does_not():
    headers = crypto.sign_request("POST", "/zone-transfer/v1/pull/", b'{"limit":5}')
    nonce = crypto.verify_request(
        method="POST", path="/zone-transfer/v1/pull/", body=b'{"limit":5}', headers=headers
    )
    assert nonce == headers[crypto.HEADER_NONCE]
    with pytest.raises(crypto.SignatureError, match="bad signature"):
        crypto.verify_request(
            method="POST", path="/zone-transfer/v1/pull/", body=b'{"limit":500}', headers=headers
        )
    with pytest.raises(crypto.SignatureError, match="bad signature"):
        crypto.verify_request(
            method="POST", path="/zone-transfer/v1/ack/", body=b'{"limit":5}', headers=headers
        )


def test_request_signed_with_another_key_is_refused(settings):
    headers = crypto.sign_request("POST", "/p/", b"{}")
    settings.ZONE_TRANSFER_KEY = "x" * 40
    with pytest.raises(crypto.SignatureError):
        crypto.verify_request(method="POST", path="/p/", body=b"{}", headers=headers)


def test_request_outside_the_replay_window_is_refused(monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)
    headers = crypto.sign_request("POST", "/p/", b"{}")
    monkeypatch.setattr(time, "time", real)
    with pytest.raises(crypto.SignatureError, match="replay window"):
        crypto.verify_request(method="POST", path="/p/", body=b"{}", headers=headers)


def test_answer_is_bound_to_its_request():
    signature = crypto.sign_response(request_nonce="n1", status=200, body=b"{}")
    crypto.verify_response(request_nonce="n1", status=200, body=b"{}", signature=signature)
    with pytest.raises(crypto.SignatureError):
        crypto.verify_response(request_nonce="n2", status=200, body=b"{}", signature=signature)
    with pytest.raises(crypto.SignatureError):
        crypto.verify_response(request_nonce="n1", status=200, body=b'{"x":1}', signature=signature)


def test_bundle_round_trip_and_tampering():
    data = crypto.bundle_pack({"direction": "to_public", "tips": ["举报"]})
    assert "举报".encode() not in data
    assert crypto.bundle_unpack(data)["tips"] == ["举报"]
    broken = bytearray(data)
    broken[len(crypto.BUNDLE_MAGIC) + 10] ^= 1
    with pytest.raises(crypto.SignatureError):
        crypto.bundle_unpack(bytes(broken))
    with pytest.raises(crypto.SignatureError):
        crypto.bundle_unpack(b"not a bundle")


def test_short_transfer_key_stops_with_a_message(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.ZONE_TRANSFER_KEY = "short"
    with pytest.raises(ImproperlyConfigured, match="ZONE_TRANSFER_KEY"):
        crypto.sign_request("POST", "/p/", b"")
