"""Writes for campaign reference data."""

import datetime as dt

from django.db import transaction

from . import workdays
from .models import CalendarDay, CalendarYear, PublicityActivity


@transaction.atomic
def calendar_seed_from_package(*, years: list[int] | None = None) -> int:
    """Load holidays and make-up working days from `chinese-calendar` for the years it knows. Idempotent."""
    import chinese_calendar

    known = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    years = [y for y in (years or known) if y in known]
    rows = 0
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year:
            weekday = day.weekday() < 5
            workday = chinese_calendar.is_workday(day)
            if workday != weekday:
                name = chinese_calendar.get_holiday_detail(day)[1] or ""
                CalendarDay.objects.update_or_create(
                    date=day, defaults={"is_workday": workday, "note": _holiday_name(name, workday)}
                )
                rows += 1
            day += dt.timedelta(days=1)
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "chinese-calendar"})
    transaction.on_commit(workdays.clear_cache)
    return rows


_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _holiday_name(name: str, workday: bool) -> str:
    zh = _HOLIDAY_ZH.get(name, name)
    return f"{zh}调休上班" if workday else zh


@transaction.atomic
def publicity_record(
    *, unit, held_on, kind: str, place: str = "", reach: int = 0, description: str = "", actor
) -> PublicityActivity:
    return PublicityActivity.objects.create(
        unit=unit,
        held_on=held_on,
        kind=kind,
        place=place,
        reach=reach,
        description=description,
        created_by=actor,
    )
