"""Seed the lead sources (线索来源) of GLOSSARY.md and the default verification deadlines per priority."""

from django.db import migrations

SOURCES = [
    ("central_inspection", "中央督导组转办"),
    ("provincial_office", "省扫黑办转办"),
    ("platform_12337", "12337下发"),
    ("city_office", "市扫黑办转办"),
    ("unit_investigation", "成员单位摸排"),
    ("public_report", "群众举报"),
    ("petition", "信访"),
    ("police_110", "110警情"),
    ("media", "媒体曝光"),
    ("other", "其他"),
]

# Working days for verification by priority, for any sector; the office adds sector rows in the admin.
DEADLINES = [("normal", 20, "一般线索约30个自然日"), ("high", 10, "重要线索"), ("urgent", 5, "紧急线索")]


def seed(apps, schema_editor):
    LeadSource = apps.get_model("leads", "LeadSource")
    DeadlinePolicy = apps.get_model("leads", "DeadlinePolicy")
    for i, (code, name) in enumerate(SOURCES, start=1):
        LeadSource.objects.get_or_create(code=code, defaults={"name": name, "sort_order": i})
    for priority, days, note in DEADLINES:
        DeadlinePolicy.objects.get_or_create(
            sector=None, priority=priority, defaults={"days": days, "note": note}
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
