"""Linking (串并) and dismissing suggestions: two tips end up under one lead; refusals change nothing."""

import pytest

from campaign.models import AuditEntry
from leads.linking.models import Dismissal, Link
from leads.linking.selectors import related_for_tip
from leads.linking.services import LinkingError, Ref, link_create, link_dismiss, link_dismissal_revoke
from leads.models import Lead, LeadTip
from leads.services import tip_triage
from reports.models import Tip, TipStatus

from .helpers import make_lead, make_tip, refs

pytestmark = pytest.mark.django_db


def pair(campaign_data, **kw):
    a = make_tip(campaign_data, "工地土方被人垄断，电话137-0391-1234。", channel="online", **kw)
    b = make_tip(campaign_data, "车队霸占运输，电话１３７０３９１１２３４。", channel="phone")
    return a, b


def test_linking_two_new_tips_registers_one_lead_with_both(campaign_data, users):
    a, b = pair(campaign_data)
    outcome = link_create(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk))
    assert outcome.link.outcome == Link.Outcome.REGISTERED
    lead = Lead.objects.get(pk=outcome.lead_id)
    assert set(LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True)) == {a.pk, b.pk}
    assert set(Tip.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {
        TipStatus.REGISTERED,
        TipStatus.MERGED,
    }
    assert lead.number in outcome.message
    assert AuditEntry.objects.filter(action="linking.link").count() == 1
    # Each tip now shows the other as linked (same lead), not as a suggestion.
    items = refs(related_for_tip(tip=Tip.objects.get(pk=a.pk), user=users["office"]))
    assert items[("tip", b.pk)].status == "linked"
    assert items[("lead", lead.pk)].status == "linked"


def test_linking_a_new_tip_to_a_tip_on_a_lead_merges_it_into_that_lead(campaign_data, users):
    a, b = pair(campaign_data)
    lead = tip_triage(tip_id=a.pk, action="register", actor=users["office"]).lead
    outcome = link_create(actor=users["office"], source=Ref("tip", b.pk), target=Ref("tip", a.pk))
    assert outcome.link.outcome == Link.Outcome.MERGED
    assert LeadTip.objects.get(tip=b).lead_id == lead.pk
    assert Tip.objects.get(pk=b.pk).status == TipStatus.MERGED


def test_linking_a_tip_to_a_lead_merges_it(campaign_data, users):
    a = make_tip(campaign_data, "电话13703911234的人强揽土方。")
    lead = make_lead(campaign_data, "电话13703911234的团伙。")
    outcome = link_create(actor=users["office"], source=Ref("lead", lead.pk), target=Ref("tip", a.pk))
    assert outcome.link.outcome == Link.Outcome.MERGED
    assert LeadTip.objects.get(tip=a).lead_id == lead.pk


def test_tips_on_different_leads_are_linked_without_moving_them(campaign_data, users):
    a, b = pair(campaign_data)
    lead_a = tip_triage(tip_id=a.pk, action="register", actor=users["office"]).lead
    lead_b = tip_triage(tip_id=b.pk, action="register", actor=users["office"]).lead
    outcome = link_create(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk))
    assert outcome.link.outcome == Link.Outcome.RECORDED
    assert LeadTip.objects.get(tip=a).lead_id == lead_a.pk
    assert LeadTip.objects.get(tip=b).lead_id == lead_b.pk


def test_a_rejected_tip_is_linked_but_not_merged(campaign_data, users):
    a, b = pair(campaign_data)
    tip_triage(tip_id=b.pk, action="reject", actor=users["office"], note="内容不实")
    outcome = link_create(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk))
    assert outcome.link.outcome == Link.Outcome.RECORDED
    assert not LeadTip.objects.exists()


def test_two_tips_without_sector_or_region_cannot_become_a_lead(campaign_data, users):
    a = make_tip(campaign_data, "电话13703911234。", sector=None, region=None)
    b = make_tip(campaign_data, "电话13703911234。", sector=None, region=None)
    with pytest.raises(LinkingError, match="行业领域"):
        link_create(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk))
    assert not Link.objects.exists() and not Lead.objects.exists()


def test_linking_twice_is_harmless(campaign_data, users):
    a, b = pair(campaign_data)
    first = link_create(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk))
    second = link_create(actor=users["office"], source=Ref("tip", b.pk), target=Ref("tip", a.pk))
    assert second.link.pk == first.link.pk
    assert Lead.objects.count() == 1 and Link.objects.count() == 1


@pytest.mark.parametrize("who", ["liaison_housing", "police", "leader"])
def test_only_the_office_links_or_dismisses(campaign_data, users, who):
    a, b = pair(campaign_data)
    for action in (link_create, link_dismiss):
        with pytest.raises(LinkingError) as exc:
            action(actor=users[who], source=Ref("tip", a.pk), target=Ref("tip", b.pk))
        assert exc.value.kind == "forbidden"
    assert not Link.objects.exists() and not Dismissal.objects.exists() and not Lead.objects.exists()


def test_linking_to_a_missing_item_or_to_itself_is_refused(campaign_data, users):
    a, _b = pair(campaign_data)
    for target in (Ref("tip", 999999), Ref("case", 1), Ref("tip", a.pk), Ref("lead", 999999)):
        with pytest.raises(LinkingError) as exc:
            link_create(actor=users["office"], source=Ref("tip", a.pk), target=target)
        assert exc.value.errors
    assert not Link.objects.exists()


def test_a_dismissal_can_be_revoked(campaign_data, users):
    a, b = pair(campaign_data)
    d = link_dismiss(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk), reason="不同人")
    assert link_dismiss(actor=users["office"], source=Ref("tip", b.pk), target=Ref("tip", a.pk)).pk == d.pk
    assert related_for_tip(tip=a, user=users["office"]).items == []
    link_dismissal_revoke(actor=users["office"], dismissal_id=d.pk)
    assert ("tip", b.pk) in refs(related_for_tip(tip=a, user=users["office"]))
    assert AuditEntry.objects.filter(action__startswith="linking.dismiss").count() == 2
