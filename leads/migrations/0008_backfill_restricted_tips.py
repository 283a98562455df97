"""Tips behind a lead that was restricted before reports.Tip.restricted existed get the flag (issue 11)."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def backfill(apps, schema_editor):
    Tip = apps.get_model("reports", "Tip")
    LeadTip = apps.get_model("leads", "LeadTip")
    behind = LeadTip.objects.filter(lead__restricted=True)
    # One statement each way, both driven by the few restricted rows (never a pass over every tip).
    Tip.objects.filter(pk__in=behind.values("tip_id"), restricted=False).update(restricted=True)
    Tip.objects.filter(restricted=True).exclude(Exists(behind.filter(tip=OuterRef("pk")))).update(
        restricted=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0007_lean_assignment_indexes"),
        ("reports", "0005_tip_restricted"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
