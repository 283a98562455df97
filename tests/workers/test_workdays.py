"""Working-day deadlines across the 2026 Mid-Autumn and National Day holidays and their make-up weekends.

2026: Sep 20 (Sunday) and Oct 10 (Saturday) are working days; Sep 25 (Friday, Mid-Autumn) and
Oct 1–7 (National Day) are not. The escalation cutoffs must agree with workdays_between / add_workdays.
"""

import datetime as dt

import chinese_calendar
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign import workdays
from leads.escalation import not_accepted_cutoff, overdue_cutoff, reminder_cutoff

pytestmark = pytest.mark.usefixtures("calendar")


def at(day: str, hm: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{hm}"))


def end_of(day: str) -> dt.datetime:
    return at(day, "23:59:59")


def test_calendar_knows_the_2026_holidays_and_make_up_days():
    assert workdays.is_workday(dt.date(2026, 9, 20))  # Sunday, make-up working day
    assert workdays.is_workday(dt.date(2026, 10, 10))  # Saturday, make-up working day
    assert not workdays.is_workday(dt.date(2026, 9, 25))  # Friday, Mid-Autumn Festival
    for day in range(1, 8):
        assert not workdays.is_workday(dt.date(2026, 10, day))  # National Day
    assert not workdays.is_workday(dt.date(2026, 10, 11))  # an ordinary Sunday


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        ("2026-09-18", 1, "2026-09-20"),  # Friday + 1: the make-up Sunday
        ("2026-09-24", 1, "2026-09-28"),  # Thursday + 1: Mid-Autumn Friday and the weekend skipped
        ("2026-09-30", 1, "2026-10-08"),  # the whole National Day week skipped
        ("2026-09-30", 3, "2026-10-10"),  # … and the make-up Saturday counted
        ("2026-09-29", 5, "2026-10-12"),
        ("2026-09-15", 20, "2026-10-19"),
    ],
)
def test_add_workdays_across_holidays_and_make_up_weekends(start, days, deadline):
    assert workdays.add_workdays(at(start), days) == end_of(deadline)


def test_the_make_up_saturday_counts_as_a_day_overdue():
    assert workdays.workdays_between(end_of("2026-10-09"), at("2026-10-10")) == 1
    assert workdays.workdays_between(end_of("2026-10-09"), at("2026-10-11")) == 1  # ordinary Sunday
    assert workdays.workdays_between(end_of("2026-09-30"), at("2026-10-08")) == 1


def _oracle_add(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


DAYS = st.dates(min_value=dt.date(2026, 8, 15), max_value=dt.date(2026, 11, 15))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=DAYS, n=st.integers(min_value=1, max_value=30))
def test_add_workdays_matches_the_official_calendar(start, n):
    got = workdays.add_workdays(at(start.isoformat(), "15:30"), n)
    assert got == end_of(_oracle_add(start, n).isoformat())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deadline_day=DAYS, today=DAYS, hour=st.integers(0, 23), n=st.integers(min_value=1, max_value=20))
def test_overdue_cutoff_agrees_with_workdays_between(deadline_day, today, hour, n):
    deadline = end_of(deadline_day.isoformat())
    now = at(today.isoformat(), f"{hour:02d}:17")
    fires = deadline < overdue_cutoff(now, n)
    assert fires == (deadline < now and workdays.workdays_between(deadline, now) >= n)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deadline_day=DAYS, today=DAYS, hour=st.integers(0, 23), n=st.integers(min_value=1, max_value=5))
def test_reminder_cutoff_agrees_with_workdays_between(deadline_day, today, hour, n):
    deadline = end_of(deadline_day.isoformat())
    now = at(today.isoformat(), f"{hour:02d}:17")
    fires = now <= deadline < reminder_cutoff(now, n)
    assert fires == (deadline >= now and workdays.workdays_between(now, deadline) <= n)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assigned=DAYS, today=DAYS, hour=st.integers(0, 23), n=st.integers(min_value=1, max_value=5))
def test_not_accepted_cutoff_agrees_with_the_sign_for_window(assigned, today, hour, n):
    assigned_at = at(assigned.isoformat(), "16:45")
    now = at(today.isoformat(), f"{hour:02d}:17")
    fires = assigned_at < not_accepted_cutoff(now, n)
    assert fires == (workdays.add_workdays(assigned_at, n) < now)


def test_supervision_waits_for_the_seventh_working_day_not_the_weekend_before():
    deadline = end_of("2026-10-09")  # Friday after National Day
    # Overdue working days: Oct 10 (make-up Saturday), 12, 13, 14, 15, 16 → six by the weekend; the
    # seventh is Monday Oct 19.
    assert not deadline < overdue_cutoff(at("2026-10-17"), 7)
    assert not deadline < overdue_cutoff(at("2026-10-18"), 7)
    assert deadline < overdue_cutoff(at("2026-10-19", "00:05"), 7)


def test_subtract_workdays_on_a_weekend_counts_only_working_days():
    cutoff = workdays.subtract_workdays(at("2026-10-17"), 7)  # Saturday
    assert workdays.workdays_between(cutoff, at("2026-10-17")) >= 7
    # The same cutoff as on the Friday before and on the Sunday after: a weekend adds no working day.
    assert cutoff == workdays.subtract_workdays(at("2026-10-16", "23:00"), 7)
    assert cutoff == workdays.subtract_workdays(at("2026-10-18"), 7)
    assert workdays.subtract_workdays(at("2026-10-19"), 7) > cutoff


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deadline_day=DAYS, today=DAYS, hour=st.integers(0, 23), n=st.integers(min_value=1, max_value=9))
def test_subtract_workdays_agrees_with_counting_working_days(deadline_day, today, hour, n):
    deadline = end_of(deadline_day.isoformat())
    now = at(today.isoformat(), f"{hour:02d}:17")
    cutoff = workdays.subtract_workdays(now, n)
    assert (deadline <= cutoff) == (workdays.workdays_between(deadline, now) >= n)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deadline_day=DAYS, today=DAYS, hour=st.integers(0, 23), n=st.integers(min_value=1, max_value=5))
def test_sign_for_escalate_cutoff_agrees_with_adding_working_days(deadline_day, today, hour, n):
    from leads.practice_sweep import sign_for_escalate_cutoff

    deadline = end_of(deadline_day.isoformat())
    now = at(today.isoformat(), f"{hour:02d}:17")
    fires = deadline < sign_for_escalate_cutoff(now, n)
    assert fires == (now > workdays.add_workdays(deadline, n))
