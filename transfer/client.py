"""The internal side's half of the transfer: it starts every exchange with the public node.

One run (`transfer_sync`): pull sealed submissions, import each in its own transaction, acknowledge what
is committed (the public node then deletes it), and push published status, messages and the current
sealing key. Every request is signed, every answer is checked against the request it answers. A run
cut anywhere is simply repeated: imports are keyed by submission id, pushes are upserts.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.db import connection

from . import conf, crypto, internal
from .models import TransferLog
from .public import transfer_log, transfer_log_prune

ADVISORY_LOCK = 0x5A0E7A  # one transfer run at a time per internal database
PREFIX = "/zone-transfer/v1/"


class TransferError(Exception):
    """The public node could not be reached, or refused, or answered with something we refuse."""


def _ssl_context():
    if not conf.get("ZONE_TLS_VERIFY"):
        return ssl._create_unverified_context()  # noqa: S323 — lab loopback only, documented
    ca = conf.get("ZONE_TLS_CA_FILE")
    return ssl.create_default_context(cafile=ca or None)


def call(action: str, payload: dict, *, base_url: str | None = None) -> dict:
    """POST one signed request to the public node and return its verified JSON answer."""
    base = (base_url or conf.get("ZONE_PUBLIC_URL")).rstrip("/")
    if not base:
        raise TransferError("ZONE_PUBLIC_URL 未设置：内网区不知道公开区的地址。")
    url = f"{base}{PREFIX}{action}/"
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = crypto.sign_request("POST", urlsplit(url).path, body)
    request = urllib.request.Request(  # noqa: S310 — the URL comes from settings, http(s) only
        url, data=body, method="POST", headers={**headers, "Content-Type": "application/json"}
    )
    if not url.startswith(("http://", "https://")):
        raise TransferError("ZONE_PUBLIC_URL 必须以 https:// 开头（实验环境可用 http://127.0.0.1）。")
    context = _ssl_context() if url.startswith("https:") else None
    timeout = conf.get("ZONE_TRANSFER_TIMEOUT")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:  # noqa: S310 — scheme checked
            status, raw, signature = resp.status, resp.read(), resp.headers.get(crypto.HEADER_SIGNATURE, "")
    except urllib.error.HTTPError as exc:
        raw = exc.read()[:500]
        raise TransferError(f"公开区拒绝了 {action} 请求（HTTP {exc.code}）：{raw.decode(errors='replace')}")
    except (urllib.error.URLError, OSError) as exc:
        raise TransferError(f"无法连接公开区（{action}）：{exc}")
    try:
        crypto.verify_response(
            request_nonce=headers[crypto.HEADER_NONCE], status=status, body=raw, signature=signature
        )
    except crypto.SignatureError as exc:
        transfer_log(action=TransferLog.Action.REFUSED, ok=False, endpoint=action, reason=str(exc))
        raise TransferError(f"公开区的应答未通过签名校验（{action}）：{exc}")
    return json.loads(raw)


@contextlib.contextmanager
def _run_lock():
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        got = cur.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def transfer_sync(*, base_url: str | None = None, time_budget: float = 50.0) -> dict:
    """One exchange with the public node (the beat task runs it every minute). Returns counts."""
    counts = {"imported": 0, "duplicate": 0, "refused": 0, "acked": 0, "published": 0, "waiting": 0}
    started = time.monotonic()
    with _run_lock() as got:
        if not got:
            return {**counts, "skipped": 1}
        try:
            _pull(counts, base_url, started, time_budget)
            _push(counts, base_url, started, time_budget)
        except TransferError as exc:
            transfer_log(action=TransferLog.Action.SYNC, ok=False, error=str(exc), **counts)
            raise
    transfer_log(action=TransferLog.Action.SYNC, **counts)
    transfer_log_prune()
    return counts


def _pull(counts: dict, base_url, started: float, budget: float) -> None:
    skip: list[str] = []  # refused in this run: not asked for again until the next run
    while time.monotonic() - started < budget:
        answer = call("pull", {"limit": conf.get("ZONE_TRANSFER_BATCH"), "skip": skip}, base_url=base_url)
        counts["waiting"] = answer.get("waiting", 0)
        batch = answer.get("submissions", [])
        if not batch:
            return
        done = []
        for envelope in batch:
            try:
                status = internal.submission_import(envelope=envelope)
            except internal.ImportRefused as exc:
                counts["refused"] += 1
                skip.append(str(envelope.get("id")))
                transfer_log(
                    action=TransferLog.Action.REFUSED,
                    ok=False,
                    **internal.refused_for_review(envelope=envelope, reason=str(exc)),
                )
                continue
            counts[status] += 1
            done.append(envelope["id"])
        if done:
            counts["acked"] += call("ack", {"ids": done}, base_url=base_url).get("deleted", 0)
        counts["waiting"] = max(0, counts["waiting"] - len(done))


def _push(counts: dict, base_url, started: float, budget: float) -> None:
    first = True
    while first or time.monotonic() - started < budget:
        payload, marks = internal.publications_collect()
        if not marks and not first:
            return
        call("push", payload, base_url=base_url)  # sent even when empty: it carries the current key
        internal.publications_delivered(marks=marks)
        counts["published"] += len(marks)
        first = False
        if not marks:
            return
