"""Retention: identity and attachments of tips concluded more than RETENTION_YEARS ago are purged."""

import datetime as dt
import struct
import zlib
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaign.models import AuditEntry
from reports import crypto, services
from reports.models import PublicStatus, Reward, Tip, TipAttachment, TipEvent, TipStatus
from reports.retention import PURGED_TEXT, retention_cutoff, tips_purge_expired
from reports.uploads import check_upload

NAMED = {"name": "李建华", "phone": "13903911234", "id_number": "41080219780512003X"}


def _png() -> bytes:
    raw = b"".join(b"\x00" + b"\xcc\x22\x22" * 4 for _ in range(4))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_tip(campaign_data):
    """make_tip(concluded_years_ago=6, files=1, named=True, status=...) -> Tip, through the real service."""

    def make(*, concluded_years_ago=None, files=0, named=True, public_status=PublicStatus.CONCLUDED, at=None):
        uploads = [
            check_upload(SimpleUploadedFile(f"现场{i}.png", _png(), "image/png")) for i in range(files)
        ]
        tip, _pin = services.tip_submit(
            description="有人在工地强揽土方，殴打司机，垄断运输。",
            anonymous=not named,
            identity=NAMED if named else None,
            attachments=uploads,
        )
        if concluded_years_ago is not None or at is not None:
            when = at or timezone.now() - dt.timedelta(days=round(365.25 * concluded_years_ago))
            fields = {"public_status": public_status}
            if public_status == PublicStatus.CONCLUDED:
                fields["concluded_at"] = when
            else:
                fields.update(triaged_at=when, status=TipStatus.REJECTED)
            Tip.objects.filter(pk=tip.pk).update(**fields)
        return Tip.objects.get(pk=tip.pk)

    return make


def test_purge_removes_identity_and_attachments_but_keeps_the_case(make_tip):
    tip = make_tip(concluded_years_ago=6, files=2)
    names = list(tip.attachments.values_list("file", flat=True))
    assert all(default_storage.exists(n) for n in names)

    report = tips_purge_expired()

    assert report.tips == 1 and report.identities == 1 and report.attachments == 2
    tip.refresh_from_db()
    assert tip.identity_encrypted == ""
    assert tip.identity_masked == {"name": PURGED_TEXT, "phone": PURGED_TEXT, "id_number": PURGED_TEXT}
    assert tip.identity_purged_at is not None
    assert tip.description == "有人在工地强揽土方，殴打司机，垄断运输。"
    assert tip.public_status == PublicStatus.CONCLUDED and tip.tracking_code
    assert not TipAttachment.objects.filter(tip=tip).exists()
    assert not any(default_storage.exists(n) for n in names)
    event = TipEvent.objects.get(tip=tip, kind="retention_purge")
    assert event.data["attachments"] == 2 and event.data["identity"] is True and not event.public
    audit = AuditEntry.objects.get(action="retention.purge")
    assert audit.data["tip_ids"] == [tip.pk] and audit.data["attachments"] == 2
    assert audit.data["tracking_codes"] == [tip.tracking_code]


def test_recent_open_and_unconcluded_tips_are_left_alone(make_tip):
    recent = make_tip(concluded_years_ago=4, files=1)
    open_tip = make_tip(files=1)
    verifying = make_tip(concluded_years_ago=7, public_status=PublicStatus.VERIFYING)
    assert tips_purge_expired().tips == 0
    for tip in (recent, open_tip, verifying):
        fresh = Tip.objects.get(pk=tip.pk)
        assert crypto.decrypt_identity(fresh.identity_encrypted) == NAMED
        assert fresh.identity_purged_at is None
    assert TipAttachment.objects.count() == 2
    assert not AuditEntry.objects.filter(action="retention.purge").exists()


def test_tips_not_accepted_long_ago_are_purged_too(make_tip):
    tip = make_tip(concluded_years_ago=6, public_status=PublicStatus.NOT_ACCEPTED)
    assert tips_purge_expired().tip_ids == [tip.pk]
    assert Tip.objects.get(pk=tip.pk).identity_encrypted == ""


def test_anonymous_tip_loses_its_attachments_and_keeps_an_empty_identity(make_tip):
    tip = make_tip(concluded_years_ago=6, files=1, named=False)
    report = tips_purge_expired()
    assert report.tips == 1 and report.identities == 0 and report.attachments == 1
    tip.refresh_from_db()
    assert tip.identity_masked == {} and tip.anonymous and tip.identity_purged_at


def test_a_reward_still_to_be_paid_holds_the_identity(make_tip, users):
    tip = make_tip(concluded_years_ago=6)
    reward = Reward.objects.create(
        tip=tip,
        first_tip=tip,
        amount="2000.00",
        basis=Reward.Basis.GENERAL,
        lead_result=Reward.LeadResult.SUBSTANTIATED,
        proposed_by=users["office"],
        status=Reward.Status.APPROVED,
    )
    assert tips_purge_expired().tips == 0
    Reward.objects.filter(pk=reward.pk).update(status=Reward.Status.PAID)
    assert tips_purge_expired().tip_ids == [tip.pk]


def test_purge_twice_purges_once(make_tip):
    tip = make_tip(concluded_years_ago=6, files=1)
    assert tips_purge_expired().tips == 1
    again = tips_purge_expired()
    assert again.tips == 0 and again.batches == 0
    assert TipEvent.objects.filter(tip=tip, kind="retention_purge").count() == 1
    assert AuditEntry.objects.filter(action="retention.purge").count() == 1


def test_purge_runs_in_bounded_batches_with_one_audit_row_each(make_tip):
    tips = [make_tip(concluded_years_ago=6) for _ in range(5)]
    first = tips_purge_expired(batch_size=2, max_batches=2)
    assert first.tips == 4 and first.batches == 2
    assert AuditEntry.objects.filter(action="retention.purge").count() == 2
    rest = tips_purge_expired(batch_size=2)
    assert rest.tip_ids == [tips[-1].pk]
    assert Tip.objects.filter(identity_purged_at__isnull=True).count() == 0


def test_dry_run_counts_and_changes_nothing(make_tip):
    make_tip(concluded_years_ago=6, files=2)
    make_tip(concluded_years_ago=6, named=False)
    report = tips_purge_expired(dry_run=True)
    assert (report.tips, report.identities, report.attachments) == (2, 1, 2)
    assert Tip.objects.filter(identity_purged_at__isnull=False).count() == 0
    assert TipAttachment.objects.count() == 2
    assert not AuditEntry.objects.filter(action="retention.purge").exists()


def test_retention_years_comes_from_the_setting(settings, make_tip):
    tip = make_tip(concluded_years_ago=3)
    assert tips_purge_expired().tips == 0
    settings.RETENTION_YEARS = 2
    assert tips_purge_expired().tip_ids == [tip.pk]


def test_cutoff_is_calendar_years_and_survives_leap_day():
    leap = dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
    assert retention_cutoff(now=leap, years=5) == dt.datetime(2023, 2, 28, 12, tzinfo=dt.UTC)
    assert retention_cutoff(now=leap, years=4) == dt.datetime(2024, 2, 29, 12, tzinfo=dt.UTC)


def test_staff_page_and_api_show_the_purge_and_offer_no_reveal(make_tip, client_as, users):
    perm = Permission.objects.get(codename="reveal_identity", content_type__app_label="reports")
    users["office"].user_permissions.add(perm)
    tip = make_tip(concluded_years_ago=6, files=1)
    tips_purge_expired()
    client = client_as("office")
    page = client.get(reverse("reports:tip_detail", args=[tip.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert PURGED_TEXT in html and "13903911234" not in html and "139****1234" not in html
    assert reverse("reports:tip_reveal", args=[tip.pk]) not in html
    api = client.get(f"/api/v1/tips/{tip.pk}/")
    assert api.status_code == 200 and api.json()["reporter"]["phone"] == PURGED_TEXT
    reveal = client.post(
        f"/api/v1/tips/{tip.pk}/reveal-reporter/", {"reason": "核实举报人身份以便发放奖励"}, format="json"
    )
    assert reveal.status_code == 400
    assert not AuditEntry.objects.filter(action="tip.identity_reveal").exists()


def test_command_reports_counts(make_tip):
    make_tip(concluded_years_ago=6, files=1)
    out = StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    assert "would purge 1 tips" in out.getvalue()
    out = StringIO()
    call_command("purge_expired", stdout=out)
    assert "purged 1 tips" in out.getvalue() and "1 attachments" in out.getvalue()


def test_daily_purge_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == "reports.tasks_retention.purge_expired"
    from config.celery import app

    app.loader.import_default_modules()
    assert "reports.tasks_retention.purge_expired" in app.tasks


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_purge(make_tip, celery_worker_process, settings):
    from tests.conftest import wait_for

    tip = make_tip(concluded_years_ago=6, files=1)
    celery_worker_process(queues="default")  # its MEDIA_ROOT differs: this checks the rows only
    from reports.tasks_retention import purge_expired

    purge_expired.delay()
    wait_for(lambda: Tip.objects.filter(pk=tip.pk, identity_purged_at__isnull=False).exists(), timeout=60)
    assert not TipAttachment.objects.filter(tip_id=tip.pk).exists()
