"""Key monitoring (重点监控): flags, alerts to the flagging unit at once, the flag shown on the item."""

import datetime as dt

import pytest
from django.utils import timezone

from campaign.models import Notification
from leads.linking.models import ImportedCase, WatchFlag, WatchHit
from leads.linking.selectors import related_for_tip
from leads.linking.services import (
    LinkingError,
    entities_index_case,
    entities_index_tip,
    watch_flag_create,
    watch_flag_lift,
)
from reports.models import Tip

from .helpers import make_lead, make_tip

pytestmark = pytest.mark.django_db


def in_a_year():
    return timezone.localdate() + dt.timedelta(days=365)


def flag(users, who="liaison_housing", kind="phone", value="137-0391-1234", reason="涉黑团伙骨干使用的号码"):
    return watch_flag_create(actor=users[who], kind=kind, value=value, reason=reason, ends_on=in_a_year())


def alerts(user):
    return Notification.objects.filter(user=user, kind="watch_hit")


def test_a_new_tip_mentioning_a_watched_phone_alerts_the_flagging_unit_once(campaign_data, users):
    f = flag(users)
    assert f.value == "13703911234" and f.unit.code == "housing"
    tip = make_tip(campaign_data, "车队的人打电话１３７ ０３９１ １２３４威胁司机。")
    for who in ("liaison_housing", "unit_head_housing"):
        note = alerts(users[who]).get()
        assert tip.tracking_code in note.title and "137****1234" in note.title
        assert note.url == f"/linking/watch/{f.pk}/"
    assert not alerts(users["liaison_transport"]).exists()
    assert not alerts(users["office"]).exists()
    entities_index_tip(tip_id=tip.pk)  # a redelivered task
    assert alerts(users["liaison_housing"]).count() == 1
    assert WatchHit.objects.get().matched == "１３７ ０３９１ １２３４"


def test_the_flag_shows_on_the_item_with_the_reason_for_its_own_unit_only(campaign_data, users, units):
    flag(users)
    tip = make_tip(campaign_data, "电话13703911234的人威胁司机。")
    office_view = related_for_tip(tip=tip, user=users["office"]).flags
    assert [v.display for v in office_view] == ["137****1234"] and office_view[0].show_reason
    Tip.objects.filter(pk=tip.pk).update(unit=units["transport"])
    tip.refresh_from_db()
    other_unit = related_for_tip(tip=tip, user=users["liaison_transport"]).flags
    assert len(other_unit) == 1 and not other_unit[0].show_reason


def test_a_lifted_or_expired_flag_alerts_nobody(campaign_data, users):
    lifted = flag(users)
    watch_flag_lift(flag_id=lifted.pk, actor=users["liaison_housing"])
    expired = flag(users, value="13803911234")
    WatchFlag.objects.filter(pk=expired.pk).update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    make_tip(campaign_data, "电话13703911234和13803911234的人威胁司机。")
    assert not WatchHit.objects.exists() and not Notification.objects.filter(kind="watch_hit").exists()


def test_places_persons_and_companies_match_how_people_write_them(campaign_data, users):
    place = flag(users, who="office", kind="place", value="民主路 菜市场", reason="强收摊位费集中地")
    person = flag(users, who="police", kind="person", value="马建国", reason="在逃人员")
    company = flag(users, kind="company", value="焦作市宏达建筑工程有限公司", reason="涉嫌强揽工程")
    tip = make_tip(
        campaign_data,
        "河南省焦作市宏达建筑工程有限责任公司的人在民主路菜市场收钱，带头的是马建国。",
        location="解放区民主路菜市场",
    )
    hits = {h.flag_id for h in WatchHit.objects.filter(item_kind="tip", item_id=tip.pk)}
    assert hits == {place.pk, person.pk, company.pk}
    assert alerts(users["office"]).count() == 1
    assert alerts(users["police"]).count() == 1


def test_new_leads_and_imported_cases_alert_too(campaign_data, users):
    f = flag(users)
    lead = make_lead(campaign_data, "团伙成员使用电话13703911234。")
    case = ImportedCase.objects.create(
        kind="security",
        case_number="治安〔2025〕9号",
        title="寻衅滋事",
        description="电话13703911234",
        row_hash="-",
    )
    entities_index_case(case_id=case.pk)
    labels = set(WatchHit.objects.filter(flag=f).values_list("item_label", flat=True))
    assert labels == {lead.number, case.case_number}
    assert alerts(users["liaison_housing"]).count() == 2


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        ("phone", "12345", "value"),
        ("person", " ", "value"),
        ("rocket", "x", "kind"),
        ("place", "路", "value"),
    ],
)
def test_a_bad_flag_names_the_field_and_stores_nothing(users, kind, value, field):
    with pytest.raises(LinkingError) as exc:
        watch_flag_create(actor=users["office"], kind=kind, value=value, reason="理由", ends_on=in_a_year())
    assert field in exc.value.errors
    assert not WatchFlag.objects.exists()


def test_a_flag_needs_a_reason_and_a_future_end_date(users):
    with pytest.raises(LinkingError) as exc:
        watch_flag_create(
            actor=users["office"],
            kind="phone",
            value="13703911234",
            reason=" ",
            ends_on=timezone.localdate() - dt.timedelta(days=1),
        )
    assert set(exc.value.errors) == {"reason", "ends_on"}
    assert not WatchFlag.objects.exists()


def test_only_the_flagging_unit_or_the_office_lifts_a_flag(users):
    f = flag(users)
    with pytest.raises(LinkingError):
        watch_flag_lift(flag_id=f.pk, actor=users["liaison_transport"])
    watch_flag_lift(flag_id=f.pk, actor=users["office"])
    f.refresh_from_db()
    assert f.lifted_at is not None and f.lifted_by == users["office"]
