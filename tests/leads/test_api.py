"""The lead API: scoped list/detail, filters, transitions with readable errors, timeline, triage, budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadStatus
from reports.models import TipStatus

from .factories import act, build, make_tip, register, sign_off, submit

pytestmark = pytest.mark.django_db


def _transport_only(users, sectors, regions):
    return register(users, sectors, regions, units=["transport"], sector="transport", region="macun")


def _shared(users, sectors, regions):
    return register(users, sectors, regions, units=["housing", "transport"])


def test_lead_json_has_the_contract_fields(api_as, users, sectors, regions):
    tip = make_tip(sector=sectors["construction"], region=regions["xiuwu"])
    lead = register(users, sectors, regions, units=["housing", "transport"], tip_ids=[tip.pk])
    body = api_as("office").get(f"/api/v1/leads/{lead.pk}/").json()
    for key in (
        "id",
        "number",
        "status",
        "unit",
        "units",
        "sector",
        "region",
        "deadline",
        "tips",
        "allowed_actions",
        "version",
    ):
        assert key in body, key
    assert body["unit"] == "housing"
    assert body["units"] == ["housing", "transport"]
    assert (body["sector"], body["region"], body["status"]) == ("construction", "xiuwu", "assigned")
    assert body["tips"] == [tip.pk]
    assert "assign" in body["allowed_actions"] and "accept" not in body["allowed_actions"]
    assert [a["unit"] for a in body["assignments"]] == ["housing", "transport"]


def test_allowed_actions_are_per_user(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    assert api_as("liaison_housing").get(f"/api/v1/leads/{lead.pk}/").json()["allowed_actions"] == [
        "accept",
        "send_back",
    ]
    assert api_as("leader").get(f"/api/v1/leads/{lead.pk}/").json()["allowed_actions"] == []
    assert api_as("unit_head_housing").get(f"/api/v1/leads/{lead.pk}/").json()["allowed_actions"] == []


def test_list_is_paginated_and_filtered_by_field_names(api_as, users, sectors, regions):
    shared = _shared(users, sectors, regions)
    transport = _transport_only(users, sectors, regions)
    act(users, transport, "accept", "liaison_transport")
    registered = register(users, sectors, regions, sector="mining", region="wenxian")
    client = api_as("office")
    body = client.get("/api/v1/leads/").json()
    assert set(body) >= {"count", "next", "previous", "results"} and body["count"] == 3

    def ids(query):
        return {r["id"] for r in client.get(f"/api/v1/leads/?{query}").json()["results"]}

    assert ids("status=assigned") == {shared.pk}
    assert ids("status=assigned&status=verifying") == {shared.pk, transport.pk}
    assert ids("unit=housing") == {shared.pk}
    assert ids("unit=transport") == {shared.pk, transport.pk}
    assert ids("sector=mining") == {registered.pk}
    assert ids("region=macun") == {transport.pk}
    assert ids("region=jiaozuo") == {shared.pk, transport.pk, registered.pk}
    assert ids("status=assigned&unit=housing") == {shared.pk}
    assert ids("overdue=true") == set()
    Lead.objects.filter(pk=transport.pk).update(deadline="2020-01-01T00:00:00Z")
    assert ids("overdue=true") == {transport.pk}
    assert ids(f"q={transport.number}") == {transport.pk}


def test_unknown_filter_value_is_a_readable_400(api_as, users, sectors, regions):
    response = api_as("office").get("/api/v1/leads/?unit=nope&status=bogus")
    assert response.status_code == 400
    body = response.json()
    assert "unit" in body["errors"] and "status" in body["errors"]


def test_liaison_gets_404_for_another_units_lead(api_as, users, sectors, regions):
    lead = _transport_only(users, sectors, regions)
    client = api_as("liaison_housing")
    assert client.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert client.get(f"/api/v1/leads/{lead.pk}/timeline/").status_code == 404
    response = client.post(f"/api/v1/leads/{lead.pk}/transition/", {"action": "accept"}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到。"
    assert client.get("/api/v1/leads/").json()["count"] == 0
    assert client.get("/api/v1/leads/99999/").status_code == 404  # the same answer as for a missing lead


def test_discipline_sees_only_referred_leads(api_as, users, sectors, regions):
    lead = build("verified", users, sectors, regions)
    other = _shared(users, sectors, regions)
    client = api_as("discipline")
    assert client.get("/api/v1/leads/").json()["count"] == 0
    act(users, lead, "close", "office", disposition="discipline_referral")
    assert [r["id"] for r in client.get("/api/v1/leads/").json()["results"]] == [lead.pk]
    assert client.get(f"/api/v1/leads/{other.pk}/").status_code == 404


def test_transition_happy_path_returns_the_new_state(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    response = api_as("liaison_housing").post(
        f"/api/v1/leads/{lead.pk}/transition/", {"action": "accept", "version": lead.version}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "verifying" and body["version"] == lead.version + 1
    # Signed for: report back, put the result to the unit head; submitting waits for the sign-off.
    assert {"report_first", "request_sign_off"} <= set(body["allowed_actions"])
    assert "submit_result" not in body["allowed_actions"]


def test_transition_missing_reason_is_400_with_field_errors(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    response = api_as("liaison_housing").post(
        f"/api/v1/leads/{lead.pk}/transition/", {"action": "send_back"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "请填写退单理由。", "errors": {"note": ["请填写退单理由。"]}}
    assert Lead.objects.get(pk=lead.pk).version == lead.version


def test_transition_by_a_role_that_may_not_is_403_readable(api_as, users, sectors, regions):
    lead = build("verified", users, sectors, regions)
    response = api_as("leader").post(
        f"/api/v1/leads/{lead.pk}/transition/", {"action": "close", "disposition": "no_action"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "领导无权执行“办结”。"


def test_transition_in_the_wrong_state_is_409_with_the_current_lead(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    response = api_as("office").post(
        f"/api/v1/leads/{lead.pk}/transition/", {"action": "close", "disposition": "no_action"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "线索当前状态为“已分办”，不能执行“办结”。"
    assert body["lead"]["status"] == "assigned"


def test_stale_version_is_409_with_the_current_state(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    seen = lead.version
    act(users, lead, "accept", "liaison_housing")
    response = api_as("office").post(
        f"/api/v1/leads/{lead.pk}/transition/",
        {"action": "assign", "units": ["market"], "version": seen},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert "已被他人更新" in body["detail"]
    assert body["current_version"] == seen + 1
    assert body["lead"]["status"] == "verifying" and body["lead"]["version"] == seen + 1
    assert Lead.objects.get(pk=lead.pk).assignments.count() == 2


def test_unknown_action_is_a_400_naming_the_field(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    response = api_as("office").post(
        f"/api/v1/leads/{lead.pk}/transition/", {"action": "explode"}, format="json"
    )
    assert response.status_code == 400
    assert "action" in response.json()["errors"]


def test_submit_result_with_attachment_over_multipart(api_as, users, sectors, regions, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    lead = _shared(users, sectors, regions)
    act(users, lead, "accept", "liaison_housing")
    sign_off(users, lead, "liaison_housing", result="partly", findings="部分属实。")
    png = SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    response = api_as("liaison_housing").post(
        f"/api/v1/leads/{lead.pk}/transition/",
        {"action": "submit_result", "result": "partly", "findings": "部分属实。", "attachments": [png]},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    timeline = api_as("liaison_housing").get(f"/api/v1/leads/{lead.pk}/timeline/").json()
    submitted = [e for e in timeline["results"] if e["action"] == "submit_result"][0]
    assert submitted["attachments"][0]["name"] == "照片.png"
    # The co-unit sees that housing answered, not what it found.
    other = api_as("liaison_transport").get(f"/api/v1/leads/{lead.pk}/").json()
    housing = [a for a in other["assignments"] if a["unit"] == "housing"][0]
    assert housing["status"] == "submitted" and housing["findings"] is None


def test_timeline_lists_who_when_from_to_note(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    act(users, lead, "send_back", "liaison_transport", note="不属于本单位职责。")
    body = api_as("office").get(f"/api/v1/leads/{lead.pk}/timeline/").json()
    assert body["count"] == 3
    last = body["results"][-1]
    assert (last["action"], last["action_label"], last["actor"], last["unit"], last["note"]) == (
        "send_back",
        "退单",
        "罗斌",
        "transport",
        "不属于本单位职责。",
    )
    assert (last["from_status"], last["to_status"]) == ("assigned", "assigned")


def test_register_directly_through_the_api(api_as, users, sectors, regions):
    response = api_as("police").post(
        "/api/v1/leads/",
        {
            "sector": "transport",
            "region": "macun",
            "summary": "110接警：客运站有人强拉乘客。",
            "source": "police_110",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "registered"
    bad = api_as("police").post("/api/v1/leads/", {"sector": "nope", "region": "macun"}, format="json")
    assert bad.status_code == 400 and {"summary"} <= set(bad.json()["errors"])
    assert api_as("liaison_housing").post("/api/v1/leads/", {}, format="json").status_code == 403


# --- triage endpoint -----------------------------------------------------------------------------
def test_triage_register_with_proposal(api_as, users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    response = api_as("office").post(
        f"/api/v1/tips/{tip.pk}/triage/", {"action": "register", "use_proposal": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tip"]["status"] == "registered"
    assert body["lead"]["units"] == ["transport"] and body["lead"]["tips"] == [tip.pk]
    again = api_as("office").post(
        f"/api/v1/tips/{tip.pk}/triage/", {"action": "reject", "note": "x"}, format="json"
    )
    assert again.status_code == 409 and "已研判" in again.json()["detail"]


def test_triage_reject_needs_reason_and_merge_needs_lead(api_as, users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    client = api_as("office")
    response = client.post(f"/api/v1/tips/{tip.pk}/triage/", {"action": "reject"}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"note": ["请填写不予受理的理由。"]}
    response = client.post(f"/api/v1/tips/{tip.pk}/triage/", {"action": "merge"}, format="json")
    assert response.status_code == 400 and "lead" in response.json()["errors"]
    response = client.post(f"/api/v1/tips/{tip.pk}/triage/", {}, format="json")
    assert response.status_code == 400 and "action" in response.json()["errors"]
    lead = _transport_only(users, sectors, regions)
    response = client.post(
        f"/api/v1/tips/{tip.pk}/triage/", {"decision": "merge", "lead": lead.pk}, format="json"
    )
    assert response.status_code == 200 and response.json()["tip"]["status"] == TipStatus.MERGED


def test_triage_is_office_only(api_as, users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    for username in ("liaison_housing", "leader", "discipline"):
        response = api_as(username).post(
            f"/api/v1/tips/{tip.pk}/triage/", {"action": "reject", "note": "x"}, format="json"
        )
        assert response.status_code == 403
    assert (
        api_as("office")
        .post("/api/v1/tips/999999/triage/", {"action": "reject", "note": "x"}, format="json")
        .status_code
        == 404
    )


def test_routing_endpoints_explain_the_proposal(api_as, users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    [p] = api_as("office").get(f"/api/v1/tips/{tip.pk}/routing/").json()
    assert p["unit"] == "transport" and "交通运输" in p["reason"]
    lead = _transport_only(users, sectors, regions)
    assert api_as("office").get(f"/api/v1/leads/{lead.pk}/routing/").json()[0]["unit"] == "transport"


# --- query budgets -------------------------------------------------------------------------------
def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("username", ["office", "liaison_housing", "leader"])
def test_list_endpoint_queries_do_not_grow_with_rows(
    api_as, users, sectors, regions, username, django_assert_max_num_queries
):
    client = api_as(username)
    for _ in range(2):
        lead = _shared(users, sectors, regions)
        act(users, lead, "accept", "liaison_housing")
    few = _count_queries(client, "/api/v1/leads/")
    for i in range(8):
        lead = _shared(users, sectors, regions)
        if i % 2:
            act(users, lead, "accept", "liaison_housing")
            submit(users, lead, "liaison_housing")
    many = _count_queries(client, "/api/v1/leads/")
    assert few == many
    with django_assert_max_num_queries(8):
        client.get("/api/v1/leads/")


def test_timeline_endpoint_queries_do_not_grow_with_events(api_as, users, sectors, regions):
    lead = _shared(users, sectors, regions)
    client = api_as("office")
    few = _count_queries(client, f"/api/v1/leads/{lead.pk}/timeline/")
    act(users, lead, "accept", "liaison_housing")
    act(users, lead, "accept", "liaison_transport")
    submit(users, lead, "liaison_housing")
    assert _count_queries(client, f"/api/v1/leads/{lead.pk}/timeline/") == few


def test_lead_status_values_in_json_are_codes(api_as, users, sectors, regions):
    lead = build("closed", users, sectors, regions)
    body = api_as("office").get(f"/api/v1/leads/{lead.pk}/").json()
    assert body["status"] == LeadStatus.CLOSED and body["status_label"] == "办结"
    assert body["disposition"] == "no_action" and body["allowed_actions"] == ["reopen", "restrict"]
