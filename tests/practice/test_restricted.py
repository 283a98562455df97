"""限制知悉范围: the office marks a lead restricted; then only its creator, current and past handlers, office
leaders and discipline inspection see it. Another office user is refused the page and finds it in no list,
count, search or export."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone

from campaign.models import Notification, User
from campaign.roles import Role
from leads.models import Lead
from leads.workflow import TransitionError

from .helpers import registered, step

pytestmark = pytest.mark.django_db

SECRET = "反映某部门工作人员为涉恶团伙通风报信"


@pytest.fixture
def outsider(units):
    """An office user who never handled the lead."""
    return User.objects.create(
        username="office2", role=Role.OFFICE, unit=units["office"], display_name="旁人"
    )


@pytest.fixture
def restricted(users, sectors, regions):
    lead = registered(
        users,
        sectors,
        regions,
        now=timezone.now(),
        actor="office_leader",
        summary=SECRET,
        restricted=True,
        source=None,
    )
    from leads.models import LeadSource

    Lead.objects.filter(pk=lead.pk).update(source=LeadSource.objects.get(code="central_inspection"))
    lead.refresh_from_db()
    return lead


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


def test_outsider_gets_404_on_the_page_and_in_the_api(restricted, outsider, outsider_client, api_client):
    assert outsider_client.get(reverse("leads:detail", args=[restricted.pk])).status_code == 404
    assert outsider_client.get(reverse("leads:print", args=[restricted.pk])).status_code == 404
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/v1/leads/{restricted.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/leads/{restricted.pk}/timeline/").status_code == 404
    response = api_client.post(
        f"/api/v1/leads/{restricted.pk}/transition/", {"action": "reopen"}, format="json"
    )
    assert response.status_code == 404


def test_outsider_lists_and_searches_without_it(
    restricted, users, sectors, regions, outsider_client, api_client, outsider
):
    other = registered(users, sectors, regions, now=timezone.now(), summary="某市场强收管理费。")
    page = outsider_client.get(reverse("leads:list")).content.decode()
    assert other.number in page and restricted.number not in page
    link = f'href="{reverse("leads:detail", args=[restricted.pk])}"'
    for q in (restricted.number, "通风报信"):
        page = outsider_client.get(reverse("leads:list"), {"q": q}).content.decode()
        assert link not in page and "共 0 条" in page  # (the search box echoes the number back)
    api_client.force_authenticate(outsider)
    body = api_client.get("/api/v1/leads/", {"q": "通风报信"}).json()
    assert body["count"] == 0
    body = api_client.get("/api/v1/leads/", {"number": restricted.number}).json()
    assert body["count"] == 0
    # The leader who registered it finds it.
    api_client.force_authenticate(users["office_leader"])
    assert api_client.get("/api/v1/leads/", {"q": "通风报信"}).json()["count"] == 1


def test_outsider_counts_do_not_include_it(restricted, users, outsider, outsider_client, api_client):
    api_client.force_authenticate(outsider)
    counts = api_client.get("/api/v1/leads/counts/").json()
    assert counts["total"] == 0
    assert {s["code"]: s["count"] for s in counts["by_source"]}["central_inspection"] == 0
    assert sum(counts["by_light"].values()) == 0
    page = outsider_client.get(reverse("leads:list")).content.decode()
    assert 'data-source="central_inspection">中央督导组转办 <span class="count">0</span>' in page
    api_client.force_authenticate(users["office_leader"])
    counts = api_client.get("/api/v1/leads/counts/").json()
    assert counts["total"] == 1 and counts["by_status"] == {"assigned": 1}
    # Light counts for dashboards honour the same circle when asked for a user.
    from leads.selectors import light_counts

    assert light_counts(user=outsider) == {}
    assert sum(light_counts(user=users["office_leader"])[restricted.assignments.get().unit_id].values()) == 2


def test_outsider_export_leaves_it_out(restricted, users, sectors, regions, outsider_client, client):
    from openpyxl import load_workbook

    other = registered(users, sectors, regions, now=timezone.now(), summary="某市场强收管理费。")
    response = outsider_client.post(reverse("leads:export"), {})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    numbers = [r[0] for r in rows[1:]]
    assert numbers == [other.number]
    assert all(SECRET not in (r[4] or "") for r in rows)
    # Filtered by a search for it: still nothing.
    response = outsider_client.post(reverse("leads:export"), {"q": "通风报信"})
    assert len(list(load_workbook(io.BytesIO(response.content)).active.iter_rows())) == 1
    client.force_login(users["office_leader"])
    response = client.post(reverse("leads:export"), {"q": "通风报信"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [restricted.number]


def test_the_circle_sees_it(restricted, users, outsider):
    from leads.selectors import lead_list_visible_to

    for username in ("office_leader", "discipline", "liaison_housing", "unit_head_housing"):
        assert lead_list_visible_to(users[username]).filter(pk=restricted.pk).exists(), username
    for username in ("office", "leader", "police", "liaison_transport"):
        assert not lead_list_visible_to(users[username]).filter(pk=restricted.pk).exists(), username
    # An office user who handles it joins the circle (a past handler stays in it).
    step(users, restricted, "assign", "office_leader", now=timezone.now(), units=["transport"])
    assert not lead_list_visible_to(outsider).filter(pk=restricted.pk).exists()
    assert lead_list_visible_to(users["liaison_transport"]).filter(pk=restricted.pk).exists()


def test_office_marks_a_lead_restricted_in_the_portal_and_only_a_leader_lifts_it(
    users, sectors, regions, client_as, outsider
):
    from leads.selectors import lead_list_visible_to

    lead = registered(users, sectors, regions, now=timezone.now(), actor="office")
    assert lead_list_visible_to(outsider).filter(pk=lead.pk).exists()
    client = client_as("office")
    url = reverse("leads:detail", args=[lead.pk])
    response = client.post(url, {"action": "restrict", "version": lead.version, "note": ""})
    assert response.status_code == 400 and "请填写限制知悉范围的理由。" in response.content.decode()
    response = client.post(
        url, {"action": "restrict", "version": lead.version, "note": "涉及公职人员。"}, follow=True
    )
    assert "已限制知悉范围" in response.content.decode()
    lead.refresh_from_db()
    assert lead.restricted
    assert not lead_list_visible_to(outsider).filter(pk=lead.pk).exists()
    assert lead_list_visible_to(users["office"]).filter(pk=lead.pk).exists()  # the one who restricted it
    from campaign.models import AuditEntry

    assert AuditEntry.objects.filter(action="lead_restrict", target_id=str(lead.pk)).exists()
    with pytest.raises(TransitionError) as exc:
        step(users, lead, "unrestrict", "office", now=timezone.now(), note="不再需要。")
    assert exc.value.message == "只有办领导可以取消限制知悉范围。"
    step(users, lead, "unrestrict", "office_leader", now=timezone.now(), note="不再需要。")
    assert lead_list_visible_to(outsider).filter(pk=lead.pk).exists()


def test_notices_about_a_restricted_lead_reach_only_its_circle(restricted, users, outsider):
    step(users, restricted, "send_back", "liaison_housing", now=timezone.now(), note="不属于本单位职责。")
    told = set(Notification.objects.filter(kind="lead_send_back").values_list("user__username", flat=True))
    assert "office_leader" in told and "office2" not in told and "office" not in told


def test_outsider_review_and_callback_lists_leave_it_out(restricted, outsider_client):
    Lead.objects.filter(pk=restricted.pk).update(review_pending=True, repeat_count=2)
    assert restricted.number not in outsider_client.get(reverse("leads:reviews")).content.decode()
    # Merging a tip into it by number: "does not exist", the same answer as for a number never issued.
    from .helpers import make_tip

    tip = make_tip()
    response = outsider_client.post(
        reverse("leads:triage_tip", args=[tip.pk]),
        {"triage_action": "merge", "merge-lead_number": restricted.number},
    )
    assert response.status_code == 400 and "线索编号不存在。" in response.content.decode()
