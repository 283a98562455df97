"""Seed the working-day calendar, enable pg_trgm, and make the audit table append-only in the database.

UPDATE and DELETE are refused by a trigger whatever the application does; TRUNCATE stays possible for the
table owner (test-database flushes, a restore drill), which no application code path uses.
"""

from django.db import migrations


def seed_calendar(apps, schema_editor):
    import datetime as dt

    import chinese_calendar

    CalendarDay = apps.get_model("campaign", "CalendarDay")
    CalendarYear = apps.get_model("campaign", "CalendarYear")
    years = sorted({d.year for d in chinese_calendar.holidays})
    rows = []
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year:
            workday = chinese_calendar.is_workday(day)
            if workday != (day.weekday() < 5):
                name = chinese_calendar.get_holiday_detail(day)[1] or ""
                rows.append(CalendarDay(date=day, is_workday=workday, note=name))
            day += dt.timedelta(days=1)
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source="chinese-calendar") for y in years], ignore_conflicts=True
    )


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION campaign_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER campaign_auditentry_append_only
    BEFORE UPDATE OR DELETE ON campaign_auditentry
    FOR EACH ROW EXECUTE FUNCTION campaign_audit_append_only();
"""

APPEND_ONLY_REVERSE = """
DROP TRIGGER IF EXISTS campaign_auditentry_append_only ON campaign_auditentry;
DROP FUNCTION IF EXISTS campaign_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("campaign", "0001_initial")]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm", migrations.RunSQL.noop),
        migrations.RunPython(seed_calendar, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_REVERSE),
    ]
