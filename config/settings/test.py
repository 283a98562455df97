"""Tests: real PostgreSQL and Redis (embedded unless DATABASE_URL/REDIS_URL are set), fast hashing."""

from urllib.parse import urlsplit, urlunsplit

from .dev import *  # noqa: F403
from .dev import BASE_DIR, CACHES, REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 — tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A worker process started by a test cannot share locmem's outbox: such a test passes
# TEST_EMAIL_URL=filemail:////absolute/dir (four slashes) to the worker and reads the files.
if env.str("TEST_EMAIL_URL", default=""):
    vars().update(env.email_url("TEST_EMAIL_URL"))

# Tests use their own Redis database, so a run never touches the running portal's cache or queues.
_parts = urlsplit(REDIS_URL)
REDIS_URL = urlunsplit(_parts._replace(path=f"/{env.int('TEST_REDIS_DB', default=9)}"))
CACHES["default"]["LOCATION"] = REDIS_URL
# Fragments cached per process would carry one test's reference data into the next.
CACHES["local"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
REFERENCE_CACHE_SECONDS = 0  # campaign.reference: likewise
CELERY_BROKER_URL = REDIS_URL
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
