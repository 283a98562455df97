"""Re-encrypting stored secrets under the newest identity key, in batches, while the portal runs.

settings.IDENTITY_ENCRYPTION_KEYS is a list: the first key encrypts, every key decrypts (MultiFernet).
Rotation is therefore: prepend a new key and deploy it to every web and worker process (from then on new
tokens use it and old ones still open), run `manage.py rotate_identity_key` (this module), check that a
`--dry-run` finds nothing left, then drop the old key (docs/security.md).

Which fields hold such tokens: by convention every model field named `*_encrypted` (Tip.identity_encrypted,
transfer's ZoneKeyPair.private_key_encrypted), plus any field an app registers with `register()` from its
AppConfig.ready(). Discovery by name means a higher app's field is rotated without this (lower) app
importing it.

The run walks each table by primary key (keyset, never OFFSET), takes each batch's rows with
`SELECT … FOR UPDATE SKIP LOCKED` in a short transaction, and rewrites only tokens the newest key cannot
already open, so it is idempotent: a second run changes nothing, and a run that was stopped simply
continues (the checkpoint in the cache skips what was done; without it the rerun re-checks and skips).
Rows another transaction held during their batch are retried at the end with a waiting lock.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

from campaign.audit import audit_record

from . import crypto

log = logging.getLogger(__name__)

FIELD_SUFFIX = "_encrypted"
CHECKPOINT_TTL = 14 * 24 * 3600
_REGISTERED: set[tuple[str, str]] = set()


def register(model_label: str, field_name: str) -> None:
    """Declare a field holding tokens under the identity keys whose name does not end in `_encrypted`."""
    _REGISTERED.add((model_label, field_name))


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) whose values are Fernet tokens under IDENTITY_ENCRYPTION_KEYS."""
    found: dict[tuple[str, str], tuple[type[models.Model], str]] = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if f.name.endswith(FIELD_SUFFIX) and isinstance(f, models.CharField | models.TextField):
                found[(model._meta.label, f.name)] = (model, f.name)
    for label, name in _REGISTERED:
        found[(label, name)] = (apps.get_model(label), name)
    return [found[k] for k in sorted(found)]


def key_fingerprint(key: str) -> str:
    """A short digest naming a key in logs and audit rows; says nothing about the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass
class FieldCounts:
    """What one run did to one field."""

    field: str
    scanned: int = 0
    rotated: int = 0
    current: int = 0
    undecryptable: int = 0
    retried_locked: int = 0
    batches: int = 0
    last_id: int = 0
    resumed_after: int = 0
    undecryptable_ids: list[int] = field(default_factory=list)


@dataclass
class RotationReport:
    """The whole run: per-field counts and the key every token now uses."""

    key: str
    dry_run: bool
    fields: list[FieldCounts] = field(default_factory=list)
    interrupted: bool = False

    @property
    def rotated(self) -> int:
        return sum(f.rotated for f in self.fields)

    @property
    def scanned(self) -> int:
        return sum(f.scanned for f in self.fields)

    @property
    def undecryptable(self) -> int:
        return sum(f.undecryptable for f in self.fields)

    def as_data(self) -> dict:
        return {
            "key": self.key,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "scanned": self.scanned,
            "rotated": self.rotated,
            "undecryptable": self.undecryptable,
            "fields": [asdict(f) | {"undecryptable_ids": f.undecryptable_ids[:50]} for f in self.fields],
        }


class _Rotator:
    """Decides per token: already under the newest key, re-encrypt, or cannot be opened at all."""

    def __init__(self):
        keys = list(settings.IDENTITY_ENCRYPTION_KEYS)
        if not keys:
            raise ImproperlyConfigured("IDENTITY_ENCRYPTION_KEYS is empty: nothing can be rotated.")
        self.primary = Fernet(keys[0].encode())
        self.fingerprint = key_fingerprint(keys[0])
        self.multi = crypto.fernet()

    def classify(self, token: str) -> tuple[str, str | None]:
        """("current", None) | ("rotate", new token) | ("undecryptable", None)."""
        raw = token.encode()
        try:
            self.primary.decrypt(raw)
            return "current", None
        except InvalidToken:
            pass
        try:
            return "rotate", self.multi.rotate(raw).decode()
        except InvalidToken:
            return "undecryptable", None


def _checkpoint_key(fingerprint: str, label: str, name: str) -> str:
    return f"keyrotation:{fingerprint}:{label}.{name}"


def _checkpoint_get(key: str) -> int:
    try:
        return int(cache.get(key) or 0)
    except Exception:  # noqa: BLE001 — without the cache a rerun re-checks every row, which is still correct
        log.warning("key rotation checkpoint unavailable; starting from the first row")
        return 0


def _checkpoint_set(key: str, value: int) -> None:
    try:
        cache.set(key, value, CHECKPOINT_TTL)
    except Exception:  # noqa: BLE001 — see _checkpoint_get
        log.warning("key rotation checkpoint not saved")


def _rotate_rows(
    model, name: str, ids: list[int], rotator: _Rotator, counts: FieldCounts, *, dry_run: bool, wait: bool
) -> list[int]:
    """Lock and rewrite the rows `ids` in one short transaction; returns the ids another transaction held."""
    with transaction.atomic():
        qs = model._base_manager.filter(pk__in=ids).order_by("pk").only("pk", name)
        rows = list(qs.select_for_update() if wait else qs.select_for_update(skip_locked=True))
        changed = []
        for row in rows:
            token = getattr(row, name) or ""
            if not token:
                continue
            counts.scanned += 1
            verdict, new_token = rotator.classify(token)
            if verdict == "current":
                counts.current += 1
            elif verdict == "undecryptable":
                counts.undecryptable += 1
                counts.undecryptable_ids.append(row.pk)
            else:
                counts.rotated += 1
                setattr(row, name, new_token)
                changed.append(row)
        if changed and not dry_run:
            # bulk_update bypasses save(): no version bump or auto_now, the content is the same.
            model._base_manager.bulk_update(changed, [name])
    got = {row.pk for row in rows}
    return [pk for pk in ids if pk not in got]


def _rotate_field(
    model,
    name: str,
    rotator: _Rotator,
    counts: FieldCounts,
    *,
    batch_size: int,
    dry_run: bool,
    restart: bool,
    stdout,
) -> None:
    """Walk one field's table; `counts` is filled as it goes, so a stopped run still reports its work."""
    label = model._meta.label
    checkpoint = _checkpoint_key(rotator.fingerprint, label, name)
    last_id = 0 if (restart or dry_run) else _checkpoint_get(checkpoint)
    counts.resumed_after = last_id
    manager = model._base_manager
    pending = manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
    held: list[int] = []
    while True:
        ids = list(pending.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        held += _rotate_rows(model, name, ids, rotator, counts, dry_run=dry_run, wait=False)
        counts.batches += 1
        last_id = counts.last_id = ids[-1]
        if not dry_run:
            # Never past a row still waiting for its retry, so a run stopped before the retry misses none.
            _checkpoint_set(checkpoint, (min(held) - 1) if held else last_id)
        if stdout is not None:
            stdout.write(
                f"{counts.field}: batch {counts.batches}, up to id {last_id}: "
                f"{counts.rotated} re-encrypted, {counts.current} already current"
            )
    # Rows someone else held during their batch: once more, waiting for each (short) lock this time.
    for start in range(0, len(held), batch_size):
        chunk = held[start : start + batch_size]
        counts.retried_locked += len(chunk)
        _rotate_rows(model, name, chunk, rotator, counts, dry_run=dry_run, wait=True)
    if held and not dry_run:
        _checkpoint_set(checkpoint, last_id)


def identity_key_rotate(
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    restart: bool = False,
    actor=None,
    stdout=None,
) -> RotationReport:
    """Re-encrypt every stored token under IDENTITY_ENCRYPTION_KEYS[0]; one audit row per run.

    dry_run counts what would change and writes nothing but the audit row: after a real run it must
    report 0 to re-encrypt before the old key is removed.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    rotator = _Rotator()
    report = RotationReport(key=rotator.fingerprint, dry_run=dry_run)
    try:
        for model, name in encrypted_fields():
            counts = FieldCounts(field=f"{model._meta.label}.{name}")
            report.fields.append(counts)
            _rotate_field(
                model,
                name,
                rotator,
                counts,
                batch_size=batch_size,
                dry_run=dry_run,
                restart=restart,
                stdout=stdout,
            )
    except BaseException:
        report.interrupted = True
        raise
    finally:
        audit_record(
            actor=actor,
            action="identity_key.rotate_dry_run" if dry_run else "identity_key.rotate",
            data=report.as_data(),
        )
    return report
