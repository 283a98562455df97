"""Fixtures for the zone tests: a transfer key, and one database playing both sides for service tests."""

import pytest

TRANSFER_KEY = "a" * 24 + "-zone-transfer-test-key-0123456789"


@pytest.fixture
def zone_settings(settings, tmp_path):
    settings.ZONE_TRANSFER_KEY = TRANSFER_KEY
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TIP_SUBMIT_RATE = (1000, 600)
    settings.TIP_FOLLOWUP_RATE = (1000, 600)
    return settings


@pytest.fixture
def sealing(zone_settings, db):
    """The internal key pair, and its public half installed as the public node's sealing key."""
    from transfer import keys

    pair = keys.zone_key_generate()
    keys.sealing_key_install(public_key=pair.public_key)
    return pair
