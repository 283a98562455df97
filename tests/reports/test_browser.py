"""The whole path in a real browser: a citizen on a phone reports anonymously with a photo and follows
up; office staff find the tip, reveal a named informant (logged), and message the informant."""

import re

import pytest
from django.contrib.auth.models import Permission

from reports import services
from reports.models import IdentityReveal, Tip

from ..conftest import browser_login
from .conftest import NAMED, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _grant_reveal(users):
    perm = Permission.objects.get(codename="reveal_identity", content_type__app_label="reports")
    users["office"].user_permissions.add(perm)


def test_citizen_reports_with_photo_and_office_answers(new_page, users, tmp_path):
    _grant_reveal(users)
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png_bytes(64, 48))
    description = "夜里有一伙人在沁河河道非法采砂，几十辆大车往外拉沙，村民阻拦被打。"

    # --- citizen on a phone -----------------------------------------------------------------
    phone = new_page("phone")
    phone.goto("/")
    phone.shot("reports-landing")
    phone.get_by_role("link", name="我要举报").first.click()
    phone.wait_for_url("**/report/")
    phone.fill("#id_description", description)
    phone.select_option("#id_sector", "mining")
    phone.select_option("#id_region", "qinyang")
    phone.fill("#id_location", "沁河大桥下游")
    assert phone.locator("[data-named-fields]").is_hidden()  # anonymous by default: no identity fields
    phone.set_input_files("#id_attachments", str(photo))
    phone.shot("reports-submit-filled")
    phone.get_by_role("button", name="提交举报").click()
    phone.wait_for_url("**/report/receipt/")
    phone.shot("reports-receipt")
    code = phone.locator(".code-display").nth(0).inner_text().strip()
    pin = phone.locator(".code-display").nth(1).inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code) and re.fullmatch(r"\d{6}", pin)
    tip = Tip.objects.get(tracking_code=code)
    assert tip.anonymous and tip.attachments.count() == 1

    phone.get_by_role("link", name="查询办理进度").click()
    phone.fill("#id_tracking_code", code.lower().replace("-", ""))
    phone.fill("#id_pin", pin)
    phone.shot("reports-track")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_url("**/track/tip/")
    assert phone.get_by_text("您的举报已收到").first.is_visible()
    phone.shot("reports-track-detail")

    # --- office staff on a desktop -------------------------------------------------------------
    named, _pin = services.tip_submit(
        description="有人放高利贷，暴力催收，把借款人关在仓库里。", anonymous=False, identity=NAMED
    )
    office = new_page("desktop")
    browser_login(office, "office")
    office.goto("/tips/")
    office.shot("reports-register")
    office.fill("#id_q", "非法采砂")
    office.get_by_role("button", name="查询").click()
    office.wait_for_load_state()
    office.shot("reports-register-search")
    office.locator("table.tip-table").get_by_role("link", name=code).click()
    office.wait_for_url(f"**/tips/{tip.pk}/")
    assert office.get_by_text(description).is_visible()
    assert office.get_by_text("匿名举报").is_visible()
    office.shot("reports-tip-anonymous")

    office.fill("#id_body", "您好，请问采砂一般在几点？是否有车辆号牌？")
    office.get_by_role("button", name="发送给举报人").click()
    office.wait_for_load_state()
    assert office.get_by_text("留言已发送").is_visible()

    office.goto(f"/tips/{named.pk}/")
    assert office.get_by_text("139****1234").is_visible()
    assert office.get_by_text("13903911234").count() == 0
    office.get_by_text("查看身份信息").click()
    office.fill("#id_reason", "需电话联系举报人核实借款合同")
    office.shot("reports-reveal-reason")
    office.get_by_role("button", name="确认查看（记录在案）").click()
    office.wait_for_load_state()
    assert office.get_by_text("13903911234").is_visible()
    office.shot("reports-revealed")
    office.goto(f"/tips/{named.pk}/")
    assert office.locator(".reveal-log").get_by_text("需电话联系举报人核实借款合同").is_visible()
    assert office.get_by_text("13903911234").count() == 0
    assert IdentityReveal.objects.filter(tip=named, user=users["office"]).count() == 1
    office.shot("reports-reveal-log")

    # --- the citizen sees the office's message and replies -------------------------------------
    phone.reload()
    assert phone.get_by_text("请问采砂一般在几点").is_visible()
    phone.fill("#id_body", "一般是晚上十一点以后，车牌我拍了照片。")
    phone.get_by_role("button", name="发送").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("留言已发送").is_visible()
    phone.shot("reports-track-replied")


def test_staff_pages_on_phone_and_desktop(new_page, users, campaign_data):
    from reports.demo import seed_reports

    seed_reports()
    tip = Tip.objects.filter(anonymous=False).first()
    for size in ("phone", "desktop"):
        page = new_page(size)
        browser_login(page, "office")
        for path, name in (
            ("/tips/", "register"),
            ("/tips/new/", "entry"),
            (f"/tips/{tip.pk}/", "tip"),
            ("/rewards/", "rewards"),
            ("/publicity/", "publicity"),
            ("/cases/manage/", "cases-manage"),
        ):
            page.goto(path)
            assert page.locator("h1, h4").first.is_visible()
            page.shot(f"reports-staff-{name}")
        public = new_page(size)
        for path, name in (("/report/how/", "howto"), ("/cases/", "cases"), ("/report/", "submit")):
            public.goto(path)
            public.shot(f"reports-public-{name}")
