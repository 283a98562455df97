"""Dashboard pages: who may open them, filters and their errors, the numbers on the page, query budgets."""

import pytest
from django.urls import reverse

from accountability.models import Action
from campaign.models import AuditEntry

pytestmark = pytest.mark.django_db

PAGES = [
    "dashboard:overview",
    "dashboard:channels",
    "dashboard:matrix",
    "dashboard:units",
    "dashboard:reports",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("username", ["leader", "office", "admin"])
def test_leaders_office_and_admin_open_every_dashboard_page(world, client_as, page, username):
    response = client_as(username).get(reverse(page))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert b"<script>" not in response.content  # data goes in json_script blocks, code in static files


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("username", ["liaison_housing", "unit_head_housing", "police", "discipline"])
def test_unit_roles_police_and_discipline_are_refused(world, client_as, page, username):
    assert client_as(username).get(reverse(page)).status_code == 403


def test_anonymous_is_sent_to_login(world, client):
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_overview_shows_the_numbers_of_the_period(world, client_as):
    d = world["d"]
    response = client_as("leader").get(
        reverse("dashboard:overview"),
        {"period": "custom", "date_from": d(20).isoformat(), "date_to": world["today"].isoformat()},
    )
    html = response.content.decode()
    assert 'data-kpi="tips-period">6<' in html
    # The leader is not an office leader: the restricted lead is left out of the counts (and it says so).
    assert 'data-kpi="leads-registered">8<' in html
    assert 'data-kpi="leads-found">2<' in html
    assert 'data-kpi="leads-closed-unsubstantiated">1<' in html
    assert "不含限制知悉范围的线索" in html
    assert 'id="chart-data-stages"' in html and 'id="chart-data-results"' in html


def test_office_leader_counts_restricted_leads(world, client_as):
    d = world["d"]
    html = (
        client_as("office_leader")
        .get(
            reverse("dashboard:overview"),
            {"period": "custom", "date_from": d(20).isoformat(), "date_to": world["today"].isoformat()},
        )
        .content.decode()
    )
    assert 'data-kpi="leads-registered">9<' in html
    assert "不含限制知悉范围的线索" not in html


def test_region_filter_changes_the_numbers(world, client_as):
    d = world["d"]
    params = {"period": "custom", "date_from": d(20).isoformat(), "date_to": world["today"].isoformat()}
    client = client_as("office")
    html = client.get(reverse("dashboard:overview"), {**params, "region": "xiuwu"}).content.decode()
    assert 'data-kpi="tips-period">2<' in html
    assert 'data-kpi="leads-registered">3<' in html


def test_bad_filters_are_refused_with_messages_next_to_the_fields(world, client_as):
    client = client_as("leader")
    response = client.get(
        reverse("dashboard:overview"),
        {"period": "custom", "date_from": "2026-05-10", "date_to": "2026-05-01"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "结束日期不能早于开始日期" in html and 'id="id_date_to-error"' in html
    response = client.get(reverse("dashboard:matrix"), {"region": "atlantis", "channel": "pigeon"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_region-error"' in html and 'id="id_channel-error"' in html
    response = client.get(reverse("dashboard:units"), {"period": "custom"})
    assert response.status_code == 400
    assert "自定义时段请填写开始日期" in response.content.decode()


def test_default_period_is_the_current_phase_and_the_form_shows_it(world, client_as):
    from dashboard.filters import current_phase

    phase = current_phase(world["today"])
    html = client_as("leader").get(reverse("dashboard:overview")).content.decode()
    if phase is None:
        assert '<option value="month" selected>' in html
    else:
        assert '<option value="phase" selected>' in html
        assert f'<option value="{phase.pk}" selected>' in html


def test_matrix_page_marks_blind_cells(world, client_as):
    d = world["d"]
    html = (
        client_as("leader")
        .get(
            reverse("dashboard:matrix"),
            {"period": "custom", "date_from": d(20).isoformat(), "date_to": world["today"].isoformat()},
        )
        .content.decode()
    )
    assert 'data-cell="construction:jiefang" data-found="1"' in html
    assert 'class="text-center num cell-blind" data-cell="construction:xiuwu"' in html
    assert 'class="text-center num cell-empty" data-cell="fishing:macun"' in html
    # Leaders read; only the office turns a blind spot into a proposal.
    assert "生成问责建议" not in html


def test_units_page_links_to_the_drill_down(world, client_as):
    html = client_as("leader").get(reverse("dashboard:units")).content.decode()
    assert reverse("dashboard:unit", args=["housing"]) in html


def test_drill_down_shows_only_what_the_viewer_may_see(world, client_as):
    d = world["d"]
    params = {"period": "custom", "date_from": d(20).isoformat(), "date_to": world["today"].isoformat()}
    url = reverse("dashboard:unit", args=["natural_resources"])
    office = client_as("office").get(url, params).content.decode()
    restricted = world["leads"]["restricted"].number
    assert world["leads"]["not_accepted"].number in office
    assert restricted not in office
    assert client_as("liaison_natural_resources").get(url, params).status_code == 403
    assert client_as("office").get(reverse("dashboard:unit", args=["nowhere"])).status_code == 404


@pytest.mark.parametrize(
    "page", ["dashboard:overview", "dashboard:channels", "dashboard:matrix", "dashboard:units"]
)
def test_pages_cost_a_bounded_number_of_queries(world, client_as, page, django_assert_max_num_queries):
    client = client_as("office")
    client.get(reverse(page))  # warm the per-process caches (calendar, navigation)
    with django_assert_max_num_queries(30):
        assert client.get(reverse(page)).status_code == 200


def test_htmx_filter_request_returns_the_dashboard_part(world, client_as):
    response = client_as("leader").get(
        reverse("dashboard:channels"), {"region": "xiuwu"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="dash-main"' in response.content.decode()


def test_home_panels(world, client_as):
    leader_home = client_as("leader").get(reverse("home")).content.decode()
    assert "驾驶舱摘要" in leader_home
    liaison_home = client_as("liaison_housing").get(reverse("home")).content.decode()
    assert "本单位办理情况" in liaison_home
    assert "驾驶舱摘要" not in liaison_home


# --- blind spot → accountability proposal ---------------------------------------------------------------------
def _propose(client, world, sector="fishing", region="macun"):
    d = world["d"]
    return client.post(
        reverse("dashboard:propose"),
        {
            "sector": sector,
            "region": region,
            "period": "custom",
            "date_from": d(20).isoformat(),
            "date_to": world["today"].isoformat(),
            "next": reverse("dashboard:matrix"),
        },
    )


def test_office_turns_a_blind_spot_into_one_draft_proposal(world, client_as):
    client = client_as("office")
    response = _propose(client, world)
    assert response.status_code == 302
    action = Action.objects.get(source="blind_spot")
    assert action.status == "draft" and action.kind == "supervision"
    assert list(action.units.values_list("code", flat=True)) == ["agriculture"]  # fishing's regulator
    assert "渔业捕捞" in action.reasons and "马村区" in action.reasons
    _propose(client, world)
    assert Action.objects.filter(source="blind_spot").count() == 1  # a second click proposes nothing new


def test_a_cell_with_a_found_lead_is_no_blind_spot(world, client_as):
    response = _propose(client_as("office"), world, sector="construction", region="jiefang")
    assert response.status_code == 302
    assert not Action.objects.exists()


def test_leaders_cannot_propose(world, client_as):
    assert _propose(client_as("leader"), world).status_code == 403
    assert _propose(client_as("liaison_housing"), world).status_code == 403
    assert not Action.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="export").exists()
