"""Rate limits and PIN lockouts in the cache (Redis). An outage degrades them; it never fails a request.

Client keys are keyed digests of the address, so neither Redis nor the database ever holds an IP.
"""

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from . import conf
from .crypto import keyed_digest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused and how long the client should wait."""

    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def client_key(request) -> str:
    """A keyed digest of the client address. Behind a reverse proxy, settings.CLIENT_IP_HEADER names the
    header the proxy overwrites (as for login lockouts); otherwise every client would share one limit."""
    addr = ""
    if request is not None:
        header = getattr(settings, "CLIENT_IP_HEADER", "")
        forwarded = request.META.get(header, "") if header else ""
        addr = forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    return keyed_digest(addr or "unknown", "client")


def _safe(default, func, *args):
    try:
        return func(*args)
    except Exception:  # any cache outage: connection refused, timeout, bad reply
        log.warning("reports throttle: cache unavailable, allowing the request", exc_info=True)
        return default


def _hit(key: str, limit: int, window: int) -> Refusal | None:
    now = time.time()
    cache.add(f"{key}:exp", now + window, window)
    cache.add(key, 0, window)
    count = cache.incr(key)
    if count > limit:
        expires = cache.get(f"{key}:exp") or now + window
        return Refusal(retry_after=max(1, int(expires - now)))
    return None


def rate_limit(bucket: str, request) -> Refusal | None:
    """Count one request of `bucket` ("submit" or "followup") for this client; a Refusal when over limit."""
    limit, window = conf.get(f"TIP_{bucket.upper()}_RATE")
    return _safe(None, _hit, f"reports:rate:{bucket}:{client_key(request)}", limit, window)


# --- PIN lockout ---------------------------------------------------------------------------------
def _lock_keys(tracking_code: str, client: str) -> list[str]:
    return [f"reports:pinlock:code:{keyed_digest(tracking_code, 'code')}", f"reports:pinlock:client:{client}"]


def _locked(keys: list[str]) -> Refusal | None:
    now = time.time()
    until = max((u for u in cache.get_many(keys).values() if u), default=0)
    return Refusal(retry_after=max(1, int(until - now))) if until > now else None


def pin_locked(tracking_code: str, request) -> Refusal | None:
    return _safe(None, _locked, _lock_keys(tracking_code, client_key(request)))


def _fail(keys: list[str]) -> tuple[int, Refusal | None]:
    max_failures = conf.get("TIP_PIN_MAX_FAILURES")
    window = conf.get("TIP_PIN_FAILURE_WINDOW")
    lock_seconds = conf.get("TIP_PIN_LOCK_SECONDS")
    worst = 0
    for lock_key in keys:
        key = lock_key.replace("pinlock", "pinfail")
        cache.add(key, 0, window)
        worst = max(worst, cache.incr(key))
    if worst >= max_failures:
        until = time.time() + lock_seconds
        for lock_key in keys:
            cache.set(lock_key, until, lock_seconds)
            cache.delete(lock_key.replace("pinlock", "pinfail"))
        return 0, Refusal(retry_after=lock_seconds)
    return max_failures - worst, None


def pin_failed(tracking_code: str, request) -> tuple[int | None, Refusal | None]:
    """Count a wrong PIN for the code and the client: (attempts left, Refusal once locked)."""
    return _safe((None, None), _fail, _lock_keys(tracking_code, client_key(request)))


def pin_succeeded(tracking_code: str, request) -> None:
    code_key = _lock_keys(tracking_code, client_key(request))[0]
    _safe(None, cache.delete, code_key.replace("pinlock", "pinfail"))
