"""Working-day arithmetic on the Chinese calendar: weekends off, public holidays off, make-up weekends on.

The office maintains CalendarDay rows per year (seeded from the `chinese-calendar` package). The set of
exceptions is small (a few dozen a year), so it is cached in-process and refreshed when rows change.
"""

import datetime as dt
import logging
import time

from django.utils import timezone

logger = logging.getLogger(__name__)


_CACHE_SECONDS = 300
_cache: dict[str, object] = {}


def _exceptions() -> tuple[dict[dt.date, bool], frozenset[int]]:
    # Refreshed every few minutes so an admin's edit reaches every web and worker process.
    if _cache and time.monotonic() - _cache["at"] < _CACHE_SECONDS:  # type: ignore[operator]
        return _cache["value"]  # type: ignore[return-value]
    from .models import CalendarDay, CalendarYear

    days = dict(CalendarDay.objects.values_list("date", "is_workday"))
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    _cache.update(at=time.monotonic(), value=(days, years))
    return days, years


def clear_cache() -> None:
    _cache.clear()


def is_workday(day: dt.date) -> bool:
    days, _years = _exceptions()
    if day in days:
        return days[day]
    return day.weekday() < 5


def _check_year(day: dt.date) -> None:
    # A year the office has not entered yet counts weekends only; deadlines keep working, and the
    # office home page warns (calendar_missing_years) so the year gets entered before it starts.
    _days, years = _exceptions()
    if years and day.year not in years:
        logger.warning("calendar year %s not maintained; counting weekends only", day.year)


def calendar_missing_years(today: dt.date) -> list[int]:
    """This year and next, where the office has not entered holidays yet."""
    _days, years = _exceptions()
    return [y for y in (today.year, today.year + 1) if y not in years]


def add_workdays(start: dt.datetime, days: int) -> dt.datetime:
    """The moment `days` working days after `start`: the end (23:59:59 local) of the Nth working day.

    A deadline counted from a Friday afternoon with 1 working day falls at the end of Monday.
    """
    local = timezone.localtime(start)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    _check_year(day)
    end = dt.datetime.combine(day, dt.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


def subtract_workdays(moment: dt.datetime, days: int) -> dt.datetime:
    """The latest deadline that is at least `days` working days overdue at `moment`.

    A deadline D is N working days overdue at T when N working days have passed after D's day, T's own
    day counted only when it is a working day (the same count as workdays_between(D, T) >= N); used to
    turn "7 working days overdue" into one indexed comparison (`deadline <= cutoff`). A weekend `moment`
    adds nothing: on a Saturday the cutoff is the same as on the Friday before, end of day.
    """
    if days <= 0:
        return moment
    day = timezone.localtime(moment).date()
    remaining = days
    while True:
        if is_workday(day):
            remaining -= 1
            if remaining == 0:
                break
        day -= dt.timedelta(days=1)
    # `day` is the N-th working day back from `moment` (its own day included when a working day):
    # deadlines on any earlier day have N working days after them.
    end = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


def workdays_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole working days from start's day (exclusive) to end's day (inclusive); negative if end < start."""
    a, b = timezone.localtime(start).date(), timezone.localtime(end).date()
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    count = 0
    day = a
    while day < b:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return sign * count
