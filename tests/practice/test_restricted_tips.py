"""限制知悉范围 reaches the tips: a tip behind a restricted lead is seen only by the lead's circle (creator,
current and past handlers, office leaders). Another office user finds it in no register page, search,
count, API answer, export or related-items panel, and opening it is a 404; lifting the restriction brings it
back. Reports owns the flag (Tip.restricted), leads sets it through reports.services.tip_set_restricted."""

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaign.models import User
from campaign.roles import Role
from dashboard import exports
from leads.services import tip_triage
from reports.models import Tip, TipEvent
from reports.selectors import tip_list_visible_to
from reports.services import tip_set_restricted

from .helpers import make_tip, registered, step

pytestmark = pytest.mark.django_db

SECRET = "反映某派出所民警为涉恶团伙通风报信"


@pytest.fixture
def outsider(units):
    """An office user who never handled the lead."""
    return User.objects.create(
        username="office2", role=Role.OFFICE, unit=units["office"], display_name="旁人"
    )


@pytest.fixture
def behind(users, sectors, regions):
    """A tip registered as a lead by `office` (creator and handler), then restricted by that user."""
    tip = make_tip(
        sector=sectors["construction"], region=regions["xiuwu"], description=SECRET, accused="某民警"
    )
    other = make_tip(
        sector=sectors["construction"], region=regions["xiuwu"], description="某市场强收管理费。"
    )
    lead = registered(users, sectors, regions, now=timezone.now(), actor="office", tip_ids=[tip.pk])
    assert not Tip.objects.get(pk=tip.pk).restricted
    step(users, lead, "restrict", "office", now=timezone.now(), note="涉及公职人员。")
    tip.refresh_from_db()
    return {"tip": tip, "other": other, "lead": lead}


def visible(user, tip) -> bool:
    return tip_list_visible_to(user).filter(pk=tip.pk).exists()


def test_restricting_the_lead_marks_its_tips_with_an_internal_timeline_entry(behind):
    tip = behind["tip"]
    assert tip.restricted
    event = TipEvent.objects.get(tip=tip, kind="restricted")
    assert (
        not event.public and event.note == "涉及公职人员。" and event.data == {"lead": behind["lead"].number}
    )
    assert not Tip.objects.get(pk=behind["other"].pk).restricted


def test_the_circle_sees_the_tip_and_nobody_else(behind, users, outsider):
    tip = behind["tip"]
    for username in ("office", "office_leader", "liaison_housing", "unit_head_housing"):
        assert visible(users[username], tip), username
    for user in (outsider, users["police"], users["leader"], users["liaison_transport"]):
        assert not visible(user, tip), user.username
    # Everyone still sees the unrestricted tip (within their role's scope).
    assert visible(outsider, behind["other"]) and visible(users["police"], behind["other"])
    # A user who handles the lead joins the circle, and stays in it as a past handler.
    step(users, behind["lead"], "assign", "office_leader", now=timezone.now(), units=["transport"])
    assert not visible(outsider, tip)
    assert not visible(users["liaison_transport"], tip)  # the tip is the housing unit's, not transport's
    lead = step(users, behind["lead"], "unrestrict", "office_leader", now=timezone.now(), note="已办结。")
    step(users, lead, "restrict", "office_leader", now=timezone.now(), note="重新限制。")
    assert visible(users["office"], tip) and visible(users["office_leader"], tip)


def test_outsider_pages_leave_it_out(behind, outsider, client, users):
    tip = behind["tip"]
    client.force_login(outsider)
    assert client.get(reverse("reports:tip_detail", args=[tip.pk])).status_code == 404
    assert client.get(reverse("leads:triage_tip", args=[tip.pk])).status_code == 404
    page = client.get(reverse("reports:register")).content.decode()
    assert behind["other"].tracking_code in page and tip.tracking_code not in page and SECRET not in page
    link = f'href="{reverse("reports:tip_detail", args=[tip.pk])}"'
    for params in ({"q": "通风报信"}, {"q": tip.tracking_code}, {"q": "某民警"}):
        page = client.get(reverse("reports:register"), params).content.decode()
        # (the search box echoes the query back, so the code itself may appear there)
        assert link not in page and SECRET not in page, params
    # The handler who restricted it still finds it, by search too.
    client.force_login(users["office"])
    page = client.get(reverse("reports:tip_detail", args=[tip.pk]))
    assert page.status_code == 200 and "限制知悉范围" in page.content.decode()  # the circle sees why
    page = client.get(reverse("reports:register"), {"q": "通风报信"}).content.decode()
    assert tip.tracking_code in page


def test_outsider_api_leaves_it_out(behind, outsider, api_client, users):
    tip = behind["tip"]
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/v1/tips/{tip.pk}/").status_code == 404
    body = api_client.get("/api/v1/tips/").json()
    codes = [row["tracking_code"] for row in body["results"]]
    assert codes == [behind["other"].tracking_code] and body["count"] == 1
    assert api_client.get("/api/v1/tips/", {"q": "通风报信"}).json()["count"] == 0
    # Triage and routing of the tip (leads' tip endpoints): as if it did not exist.
    assert (
        api_client.post(f"/api/v1/tips/{tip.pk}/triage/", {"action": "reject"}, format="json").status_code
        == 404
    )
    assert api_client.get(f"/api/v1/tips/{tip.pk}/routing/").status_code == 404
    api_client.force_authenticate(users["office_leader"])
    assert api_client.get(f"/api/v1/tips/{tip.pk}/").status_code == 200
    assert api_client.get("/api/v1/tips/", {"q": "通风报信"}).json()["count"] == 1


def _export(user, fmt: str = "xlsx", **params) -> list[list]:
    job = exports.export_job_create(user=user, kind="reports.tips", params=params, fmt=fmt)
    exports.export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error if hasattr(job, "error") else job.status
    path = exports.export_path(job)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    return [list(r) for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]


def test_outsider_exports_leave_it_out(behind, outsider, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tip = behind["tip"]
    for fmt in ("xlsx", "csv"):
        rows = _export(outsider, fmt)
        text = repr(rows)
        assert behind["other"].tracking_code in text and tip.tracking_code not in text and SECRET not in text
        assert tip.tracking_code not in repr(_export(outsider, fmt, q="通风报信"))
    assert tip.tracking_code in repr(_export(users["office_leader"], q="通风报信"))


def test_unrestricting_brings_it_back(behind, users, outsider, api_client):
    tip = behind["tip"]
    step(users, behind["lead"], "unrestrict", "office_leader", now=timezone.now(), note="不再需要。")
    tip.refresh_from_db()
    assert not tip.restricted
    assert TipEvent.objects.filter(tip=tip, kind="unrestricted").count() == 1
    assert visible(outsider, tip) and visible(users["police"], tip)
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/v1/tips/{tip.pk}/").status_code == 200


def test_registering_restricted_from_a_tip_and_merging_into_a_restricted_lead(
    users, sectors, regions, outsider
):
    first = make_tip(sector=sectors["construction"], region=regions["xiuwu"], description=SECRET)
    outcome = tip_triage(tip_id=first.pk, action="register", actor=users["office_leader"], restricted=True)
    first.refresh_from_db()
    assert outcome.lead.restricted and first.restricted
    assert not visible(outsider, first) and visible(users["office_leader"], first)
    # A later tip merged into it leaves the register for outsiders as well.
    later = make_tip(sector=sectors["construction"], region=regions["xiuwu"], description="又一件：" + SECRET)
    assert visible(outsider, later)
    tip_triage(tip_id=later.pk, action="merge", actor=users["office_leader"], lead_id=outcome.lead.pk)
    later.refresh_from_db()
    assert later.restricted and not visible(outsider, later)
    # Merging into an unrestricted lead leaves a tip unmarked.
    plain = registered(users, sectors, regions, now=timezone.now())
    third = make_tip(sector=sectors["construction"], region=regions["xiuwu"])
    tip_triage(tip_id=third.pk, action="merge", actor=users["office"], lead_id=plain.pk)
    assert not Tip.objects.get(pk=third.pk).restricted


def test_linking_a_new_tip_with_a_restricted_one_merges_and_marks_it(behind, users, outsider):
    from leads.linking.services import Ref, link_create

    new = make_tip(description="同一件事：" + SECRET)
    outcome = link_create(
        actor=users["office"], source=Ref("tip", new.pk), target=Ref("tip", behind["tip"].pk)
    )
    assert outcome.lead_id == behind["lead"].pk
    new.refresh_from_db()
    assert new.restricted and not visible(outsider, new)
    # An outsider cannot link to it: "does not exist".
    from leads.linking.services import LinkingError

    with pytest.raises(LinkingError):
        link_create(
            actor=outsider, source=Ref("tip", behind["other"].pk), target=Ref("tip", behind["tip"].pk)
        )


def test_related_items_do_not_show_it_to_outsiders(users, sectors, regions, outsider, campaign_data):
    from leads.linking.selectors import related_for_tip

    from ..linking.helpers import make_tip as indexed_tip
    from ..linking.helpers import refs

    hidden = indexed_tip(campaign_data, "工地土方被人垄断，带头的电话137-0391-1234，有民警通风报信。")
    lead = tip_triage(tip_id=hidden.pk, action="register", actor=users["office_leader"], restricted=True).lead
    assert lead.restricted
    seen = indexed_tip(
        campaign_data, "渣土车队霸占运输，联系人电话：１３７０３９１１２３４", region="shanyang"
    )
    assert ("tip", hidden.pk) in refs(related_for_tip(tip=seen, user=users["office_leader"]))
    assert ("tip", hidden.pk) not in refs(related_for_tip(tip=seen, user=outsider))
    assert ("lead", lead.pk) not in refs(related_for_tip(tip=seen, user=outsider))


def test_the_mark_follows_the_leads_when_a_tip_changes_hands(behind, users, sectors, regions):
    """The reports service only changes what differs; leads recomputes from every lead a tip is behind."""
    from leads.models import LeadTip
    from leads.practice import tips_restriction_sync

    tip, lead = behind["tip"], behind["lead"]
    assert tips_restriction_sync(lead=lead, actor=users["office"]) == 0  # already right: nothing written
    # Moved (by hand, as an admin correction would) to an unrestricted lead: the sync lifts the mark.
    plain = registered(users, sectors, regions, now=timezone.now())
    LeadTip.objects.filter(tip=tip).update(lead=plain)
    assert tips_restriction_sync(lead=plain, actor=users["office"]) == 1
    assert not Tip.objects.get(pk=tip.pk).restricted


def test_the_reports_service_refuses_bad_input_and_changes_nothing(behind):
    tip = behind["other"]
    with pytest.raises(ValidationError) as exc:
        tip_set_restricted(tip_ids=["x"], restricted=True)
    assert "tip_ids" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        tip_set_restricted(tip_ids=[tip.pk], restricted="yes")
    assert "restricted" in exc.value.message_dict
    assert not Tip.objects.get(pk=tip.pk).restricted
    assert tip_set_restricted(tip_ids=[], restricted=True) == 0
    assert tip_set_restricted(tip_ids=[tip.pk, tip.pk], restricted=True) == 1
    assert tip_set_restricted(tip_ids=[tip.pk], restricted=True) == 0  # no second timeline entry
    assert TipEvent.objects.filter(tip=tip, kind="restricted").count() == 1


def test_the_data_migration_marks_tips_of_leads_restricted_before_the_flag(behind, users):
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("leads.migrations.0008_backfill_restricted_tips").backfill
    Tip.objects.filter(pk=behind["tip"].pk).update(restricted=False)
    Tip.objects.filter(pk=behind["other"].pk).update(restricted=True)  # a stale mark is lifted too
    backfill(apps, None)
    assert Tip.objects.get(pk=behind["tip"].pk).restricted
    assert not Tip.objects.get(pk=behind["other"].pk).restricted


def test_rewards_for_it_are_out_of_outsiders_lists(behind, users, outsider, client):
    from decimal import Decimal

    from reports.models import Reward

    tip = behind["tip"]
    reward = Reward.objects.create(
        tip=tip,
        first_tip=tip,
        amount=Decimal("5000"),
        basis=Reward.Basis.IMPORTANT,
        lead_result=Reward.LeadResult.SUBSTANTIATED,
        proposed_by=users["office"],
    )
    client.force_login(outsider)
    assert tip.tracking_code not in client.get(reverse("reports:rewards")).content.decode()
    assert client.get(reverse("reports:reward_detail", args=[reward.pk])).status_code == 404
    response = client.post(reverse("reports:reward_decide", args=[reward.pk]), {"approve": "1"})
    assert response.status_code == 404
    client.force_login(users["office_leader"])
    assert tip.tracking_code in client.get(reverse("reports:rewards")).content.decode()
    assert client.get(reverse("reports:reward_detail", args=[reward.pk])).status_code == 200


def test_informant_replies_on_it_reach_only_the_circle(behind, users, outsider):
    from campaign.models import Notification
    from reports.selectors import tip_unread_reply_count
    from reports.services import tip_message_reply

    tip = behind["tip"]
    tip_message_reply(tip_id=tip.pk, body="补充一下情况。")
    told = set(Notification.objects.filter(kind="tip_reply").values_list("user__username", flat=True))
    assert {"office", "office_leader"} <= told and "office2" not in told
    assert tip_unread_reply_count(outsider) == 0
    assert tip_unread_reply_count(users["office"]) == 1 and tip_unread_reply_count() == 1
    # An ordinary tip's reply still reaches every office user.
    tip_message_reply(tip_id=behind["other"].pk, body="还有一件事。")
    assert Notification.objects.filter(kind="tip_reply", user=outsider).count() == 1
