"""End to end: a leader opens the dashboard, changes a filter, sees the charts update, downloads Excel."""

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from ..conftest import browser_login


def _period(world) -> str:
    return f"period=custom&date_from={world['d'](20).isoformat()}&date_to={world['today'].isoformat()}"


def _rendered(page, selector: str) -> str:
    # (wait_for_function would evaluate a string: the page's CSP forbids that, rightly)
    expect(page.locator(selector)).to_have_attribute("data-rendered", re.compile(r"^\d+$"))
    return page.locator(selector).get_attribute("data-rendered")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_leader_filters_the_dashboard_and_downloads_an_excel_export(world, new_page, tmp_path):
    page = new_page("desktop")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, "leader")
    page.goto(f"/dashboard/?{_period(world)}")
    assert page.locator('[data-kpi="tips-period"]').inner_text() == "6"
    first = _rendered(page, "#chart-stages")
    assert page.locator("#chart-stages canvas").count() == 1
    page.shot("dashboard-overview")

    # Changing the region reloads the numbers and redraws the charts without leaving the page.
    page.select_option("#id_region", "xiuwu")
    expect(page.locator('[data-kpi="tips-period"]')).to_have_text("2")
    # The swapped-in chart element has no data-rendered until it is drawn: wait for a new number.
    expect(page.locator("#chart-stages")).not_to_have_attribute("data-rendered", first)
    assert _rendered(page, "#chart-stages") != first
    expect(page.locator("#chart-stages canvas")).to_have_count(1)
    assert "region=xiuwu" in page.url
    assert page.locator('[data-kpi="leads-registered"]').inner_text() == "3"

    with page.expect_download() as download:
        page.click('[data-export="xlsx"]')
    assert download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path)["总览"]
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["所选时段举报"] == 2
    assert values["本期登记线索"] == 3
    assert any("地区：修武县" in str(row[0]) for row in sheet.iter_rows(values_only=True) if row and row[0])

    page.goto(f"/dashboard/matrix/?{_period(world)}")
    _rendered(page, "#chart-matrix")
    assert page.locator("td.cell-blind, td.cell-empty").count() == 132 - 2
    page.shot("dashboard-matrix")
    page.goto(f"/dashboard/channels/?{_period(world)}")
    _rendered(page, "#chart-channels")
    page.shot("dashboard-channels")
    page.goto(f"/dashboard/units/?{_period(world)}")
    _rendered(page, "#chart-units")
    page.shot("dashboard-units")
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_on_a_phone(world, new_page):
    page = new_page("phone")
    browser_login(page, "leader")
    page.goto(f"/dashboard/?{_period(world)}")
    _rendered(page, "#chart-results")
    # Nothing wider than the screen except the tables' own scroll areas.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    page.shot("dashboard-overview")
    page.goto(f"/dashboard/matrix/?{_period(world)}")
    _rendered(page, "#chart-matrix")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.shot("dashboard-matrix")
    page.goto(f"/dashboard/units/?{_period(world)}")
    _rendered(page, "#chart-units")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.shot("dashboard-units")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_custom_period_waits_for_both_dates(world, new_page):
    page = new_page("desktop")
    browser_login(page, "leader")
    page.goto("/dashboard/channels/")
    _rendered(page, "#chart-channels")
    page.select_option("#id_period", "custom")
    # No request with half a period: the date fields appear, no error yet.
    assert page.locator("#id_date_from").is_visible()
    assert page.locator(".invalid-feedback").count() == 0
    page.fill("#id_date_from", world["d"](20).isoformat())
    page.fill("#id_date_to", world["today"].isoformat())
    page.locator("#id_date_to").dispatch_event("change")
    expect(page.locator('[data-kpi="channels-total"]')).to_have_text("6")
