import pytest

# Accounts the shared demo users lack, so every unit a test assigns can sign for, report back and have
# its head sign off (issue 11: a result is submitted only after its unit head's sign-off).
EXTRA_USERS = [
    ("liaison_police", "liaison", "police", "孟凡"),
    ("unit_head_natural_resources", "unit_head", "natural_resources", "周建"),
    ("unit_head_market", "unit_head", "market", "吴敏"),
    ("unit_head_police", "unit_head", "police", "赵刚"),
]


@pytest.fixture
def campaign_data(campaign_data):
    """The shared reference data, plus what the leads migrations seed (lead sources, default deadlines):
    a transactional test's flush removes migration data, so it is put back here."""
    from campaign.models import User
    from leads.models import DeadlinePolicy
    from leads.services import lead_sources_ensure

    lead_sources_ensure()
    for priority, days in (("normal", 20), ("high", 10), ("urgent", 5)):
        DeadlinePolicy.objects.get_or_create(sector=None, priority=priority, defaults={"days": days})
    units = campaign_data["units"]
    for username, role, unit, name in EXTRA_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "unit": units[unit],
                "display_name": name,
                "email": f"{username}@saohei.local",
            },
        )
        if created:
            user.set_password("demo-pass-2026")
            user.save(update_fields=["password"])
        campaign_data["users"][username] = user
    return campaign_data
