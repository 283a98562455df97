"""Identity key rotation: batches, no downtime, resumable, idempotent, audited."""

import threading
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from campaign.models import AuditEntry
from reports import crypto, keyrotation
from reports.keyrotation import encrypted_fields, identity_key_rotate, key_fingerprint
from reports.models import Tip

IDENTITY = {"name": "李建华", "phone": "13903911234", "id_number": "41080219780512003X"}


@pytest.fixture
def make_tips(db):
    """make_tips(n) -> ids of n named tips (plus one anonymous tip that has nothing to rotate)."""

    def make(n: int) -> list[int]:
        start = Tip.objects.count()
        tips = [
            Tip(
                tracking_code=f"ROT{start + i:06d}",
                pin_hash="x",
                description="工地强揽土方",
                anonymous=False,
                identity_encrypted=crypto.encrypt_identity({**IDENTITY, "name": f"举报人{i}"}),
                identity_masked={"name": "举*"},
                received_at="2026-01-05T10:00:00+08:00",
            )
            for i in range(n)
        ]
        Tip.objects.bulk_create(tips)
        Tip.objects.create(
            tracking_code=f"ANO{start:06d}",
            pin_hash="x",
            description="匿名",
            received_at="2026-01-05T10:00:00+08:00",
        )
        return [t.pk for t in tips]

    return make


@pytest.fixture
def new_key(settings):
    """new_key() prepends a fresh key (step 1 of the procedure) and returns (new key, old keys)."""

    def prepend():
        old = list(settings.IDENTITY_ENCRYPTION_KEYS)
        key = Fernet.generate_key().decode()
        settings.IDENTITY_ENCRYPTION_KEYS = [key, *old]
        return key, old

    return prepend


def _under(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except Exception:
        return False
    return True


def test_every_encrypted_field_is_found_including_other_apps():
    found = {f"{m._meta.label}.{name}" for m, name in encrypted_fields()}
    assert "reports.Tip.identity_encrypted" in found
    assert "transfer.ZoneKeyPair.private_key_encrypted" in found


def test_rotation_reencrypts_everything_under_the_new_key(make_tips, new_key, settings):
    ids = make_tips(7)
    key, _old = new_key()
    before = dict(Tip.objects.filter(pk__in=ids).values_list("pk", "identity_encrypted"))

    report = identity_key_rotate(batch_size=3)

    tip_counts = next(f for f in report.fields if f.field == "reports.Tip.identity_encrypted")
    assert (tip_counts.scanned, tip_counts.rotated, tip_counts.current, tip_counts.batches) == (7, 7, 0, 3)
    assert report.key == key_fingerprint(key)
    settings.IDENTITY_ENCRYPTION_KEYS = [key]  # the old key removed (step 4)
    for pk, token in Tip.objects.filter(pk__in=ids).values_list("pk", "identity_encrypted"):
        assert token != before[pk] and _under(key, token)
        assert crypto.decrypt_identity(token)["phone"] == "13903911234"
    audit = AuditEntry.objects.get(action="identity_key.rotate")
    assert audit.data["rotated"] == 7 and audit.data["key"] == key_fingerprint(key)
    assert key not in str(audit.data)


def test_second_run_changes_nothing(make_tips, new_key):
    ids = make_tips(4)
    new_key()
    identity_key_rotate(batch_size=10)
    tokens = list(Tip.objects.filter(pk__in=ids).order_by("pk").values_list("identity_encrypted", flat=True))
    again = identity_key_rotate(batch_size=10, restart=True)
    tip_counts = next(f for f in again.fields if f.field == "reports.Tip.identity_encrypted")
    assert again.rotated == 0 and tip_counts.current == 4
    assert (
        list(Tip.objects.filter(pk__in=ids).order_by("pk").values_list("identity_encrypted", flat=True))
        == tokens
    )


def test_dry_run_counts_and_writes_only_the_audit_row(make_tips, new_key):
    ids = make_tips(5)
    new_key()
    tokens = set(Tip.objects.filter(pk__in=ids).values_list("identity_encrypted", flat=True))
    report = identity_key_rotate(dry_run=True, batch_size=2)
    assert report.rotated == 5
    assert set(Tip.objects.filter(pk__in=ids).values_list("identity_encrypted", flat=True)) == tokens
    assert AuditEntry.objects.filter(action="identity_key.rotate_dry_run").count() == 1
    assert not AuditEntry.objects.filter(action="identity_key.rotate").exists()


def test_old_key_still_decrypts_during_the_run(make_tips, new_key):
    """No downtime: between batches, rows not yet rotated and rows rotated both open."""
    ids = make_tips(6)
    new_key()
    seen = []

    class Probe:
        def write(self, _line):
            seen.append(
                [
                    crypto.decrypt_identity(t)["name"]
                    for t in Tip.objects.filter(pk__in=ids).values_list("identity_encrypted", flat=True)
                ]
            )

    identity_key_rotate(batch_size=2, stdout=Probe())
    assert len(seen) >= 3 and all(len(names) == 6 for names in seen)


def test_interrupted_run_is_audited_and_resumes_where_it_stopped(make_tips, new_key):
    ids = make_tips(9)
    key, _old = new_key()

    class StopAfterTwoBatches:
        calls = 0

        def write(self, _line):
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        identity_key_rotate(batch_size=3, stdout=StopAfterTwoBatches())
    stopped = AuditEntry.objects.get(action="identity_key.rotate")
    assert stopped.data["interrupted"] is True and stopped.data["rotated"] == 6
    tokens = dict(Tip.objects.filter(pk__in=ids).values_list("pk", "identity_encrypted"))
    assert sum(_under(key, t) for t in tokens.values()) == 6

    resumed = identity_key_rotate(batch_size=3)
    tip_counts = next(f for f in resumed.fields if f.field == "reports.Tip.identity_encrypted")
    assert tip_counts.resumed_after == sorted(ids)[5]
    assert tip_counts.rotated == 3 and tip_counts.scanned == 3  # the anonymous tip has nothing to rotate
    assert all(
        _under(key, t) for t in Tip.objects.filter(pk__in=ids).values_list("identity_encrypted", flat=True)
    )


def test_undecryptable_tokens_are_reported_and_the_rest_rotated(make_tips, new_key):
    ids = make_tips(3)
    key, _ = new_key()
    stranger = Fernet(Fernet.generate_key()).encrypt(b'{"name": "x"}').decode()
    Tip.objects.filter(pk=ids[1]).update(identity_encrypted=stranger)
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("rotate_identity_key", "--batch-size", "2", stdout=out)
    assert "cannot be decrypted" in str(exc.value) and str(ids[1]) in str(exc.value)
    assert _under(key, Tip.objects.get(pk=ids[0]).identity_encrypted)
    assert _under(key, Tip.objects.get(pk=ids[2]).identity_encrypted)


def test_command_prints_counts_and_dry_run_then_reports_nothing_left(make_tips, new_key):
    make_tips(3)
    new_key()
    out = StringIO()
    call_command("rotate_identity_key", "--dry-run", stdout=out)
    assert "3 of 3 tokens would be re-encrypted" in out.getvalue()
    out = StringIO()
    call_command("rotate_identity_key", "--batch-size", "2", stdout=out)
    assert "reports.Tip.identity_encrypted: scanned=3 rotated=3" in out.getvalue()
    out = StringIO()
    call_command("rotate_identity_key", "--dry-run", "--quiet-batches", stdout=out)
    assert "0 of 3 tokens would be re-encrypted" in out.getvalue()


def test_zone_private_key_is_rotated_too(db, new_key, settings):
    from transfer import keys

    pair = keys.zone_key_generate()
    private = keys.zone_private_key(pair.key_id)
    key, _old = new_key()
    identity_key_rotate()
    settings.IDENTITY_ENCRYPTION_KEYS = [key]
    assert keys.zone_private_key(pair.key_id) == private


def test_register_adds_a_field_not_named_by_convention():
    keyrotation.register("reports.Tip", "description")
    try:
        assert ("reports.Tip", "description") in {(m._meta.label, n) for m, n in encrypted_fields()}
    finally:
        keyrotation._REGISTERED.discard(("reports.Tip", "description"))


@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_a_running_transaction_are_retried_not_missed(make_tips, new_key):
    ids = make_tips(4)
    key, _ = new_key()
    held = threading.Event()
    release = threading.Event()

    def hold_row():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("SELECT id FROM reports_tip WHERE id = %s FOR UPDATE", [ids[1]])
                held.set()
                release.wait(10)
                cur.execute("COMMIT")
        finally:
            other.close()

    worker = threading.Thread(target=hold_row)
    worker.start()
    assert held.wait(10)
    threading.Timer(0.5, release.set).start()
    report = identity_key_rotate(batch_size=10, restart=True)
    worker.join()
    tip_counts = next(f for f in report.fields if f.field == "reports.Tip.identity_encrypted")
    assert tip_counts.retried_locked == 1 and tip_counts.rotated == 4
    assert all(
        _under(key, t) for t in Tip.objects.filter(pk__in=ids).values_list("identity_encrypted", flat=True)
    )
    assert connection.in_atomic_block is False and transaction.get_autocommit()
