"""Local development: embedded servers by default, console mail, fixed development keys."""

from .base import *  # noqa: F403
from .base import EMBEDDED_SERVICES, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: F405
# A fixed development key keeps demo identities readable across restarts; production must set its own.
IDENTITY_ENCRYPTION_KEYS = IDENTITY_ENCRYPTION_KEYS or ["ZGV2LWlkZW50aXR5LWtleS0wMTIzNDU2Nzg5YWJjZGU="]  # noqa: F405
PIN_HASH_KEY = PIN_HASH_KEY or "dev-pin-hash-key"  # noqa: F405
ALLOWED_HOSTS = ["*"]

if EMBEDDED_SERVICES:
    from scripts import devservices

    devservices.ensure_started()

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 — whitenoise warns about a missing root
