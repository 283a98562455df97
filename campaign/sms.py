"""SMS backends, chosen by dotted path in settings.SMS_BACKEND (like Django's email backends).

- `ConsoleBackend` (development default) prints each message; `LocmemBackend` keeps them for tests.
- `FileBackend` appends JSON lines under settings.SMS_FILE_PATH (var/sms/ by default).
- `HttpGatewayBackend` posts JSON to the SMS gateway at SMS_GATEWAY_URL, signed with
  HMAC-SHA256(SMS_GATEWAY_KEY, request body) in the `X-Signature` header (hex). 5xx, 429 and timeouts
  raise `TransientSmsError` (the outbox retries); other 4xx raise `PermanentSmsError` (no retry).

Backends only send; retries, attempts and the outbox row belong to campaign.messaging.
"""

import hashlib
import hmac
import json
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """Sending an SMS failed."""


class TransientSmsError(SmsError):
    """The gateway is busy or unreachable; the same message may succeed later."""


class PermanentSmsError(SmsError):
    """The gateway refused the message; sending it again would fail again."""


class BaseSmsBackend:
    def send(self, *, to: str, body: str, ref: str = "") -> str:
        """Send one message; return the gateway's message id (or "" when it gives none)."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, ref: str = "") -> str:
        with self._lock:
            self.stream.write(f"--- SMS to {to} (ref {ref or '-'}) ---\n{body}\n{'-' * 40}\n")
            self.stream.flush()
        return ""


class FileBackend(BaseSmsBackend):
    """One JSON line per message in <SMS_FILE_PATH>/sms-YYYYMMDD.jsonl (development and tests)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, to: str, body: str, ref: str = "") -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        now = timezone.localtime()
        line = json.dumps({"at": now.isoformat(), "to": to, "body": body, "ref": ref}, ensure_ascii=False)
        # One write of one line in append mode: concurrent workers never interleave inside a line.
        with open(self.path / f"sms-{now:%Y%m%d}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return ""


def sign(key: str, body: bytes) -> str:
    """The gateway signature: hex HMAC-SHA256 of the exact request body."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class HttpGatewayBackend(BaseSmsBackend):
    """POST {"to", "body", "ref", "ts"} as JSON; the gateway answers 2xx (optionally {"id": ...})."""

    def __init__(self, url: str | None = None, key: str | None = None, timeout: float | None = None):
        self.url = url if url is not None else settings.SMS_GATEWAY_URL
        self.key = key if key is not None else settings.SMS_GATEWAY_KEY
        self.timeout = timeout if timeout is not None else settings.SMS_GATEWAY_TIMEOUT
        if not self.url.startswith(("http://", "https://")):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http(s) URL for HttpGatewayBackend")
        if not self.key:
            raise ImproperlyConfigured("SMS_GATEWAY_KEY is required for HttpGatewayBackend")

    def send(self, *, to: str, body: str, ref: str = "") -> str:
        payload = json.dumps(
            {"to": to, "body": body, "ref": ref, "ts": int(timezone.now().timestamp())}, ensure_ascii=False
        ).encode()
        request = urllib.request.Request(  # noqa: S310 — scheme checked in __init__
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Signature": sign(self.key, payload),
                # The gateway may use it to drop a repeat after a timeout whose send did go through.
                "X-Request-Id": ref,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            detail = f"gateway HTTP {exc.code}: {exc.read(500).decode(errors='replace')}"
            if exc.code >= 500 or exc.code in (408, 429):
                raise TransientSmsError(detail) from exc
            raise PermanentSmsError(detail) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientSmsError(f"gateway unreachable: {exc}") from exc
        try:
            return str(json.loads(raw or b"{}").get("id", ""))
        except (ValueError, AttributeError):
            return ""


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


# Messages sent through LocmemBackend, for tests (like django.core.mail.outbox).
outbox: list[dict] = []


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in `campaign.sms.outbox` (tests: override_settings(SMS_BACKEND=...))."""

    def send(self, *, to: str, body: str, ref: str = "") -> str:
        outbox.append({"to": to, "body": body, "ref": ref})
        return ""
