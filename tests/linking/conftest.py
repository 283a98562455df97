"""Fixtures for the linking tests: private media per test, an empty cache (repeat targets are cached)."""

import contextlib

import pytest


@pytest.fixture(autouse=True)
def _linking_state(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with contextlib.suppress(Exception):
        from django.core.cache import cache

        cache.clear()
    yield
