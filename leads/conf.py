"""Lead rules that the office may tune: read from settings.LEADS, with the defaults of GLOSSARY.md."""

from django.conf import settings

DEFAULTS = {
    # Verification time when no DeadlinePolicy row matches (working days; ≈ 30 calendar days).
    "DEFAULT_DEADLINE_DAYS": 20,
    # Time given again when the office returns a result for re-verification.
    "REVERIFY_DEADLINE_DAYS": 10,
    # Extensions: how many per assignment, and the most working days one may add.
    "EXTENSION_MAX_COUNT": 1,
    "EXTENSION_MAX_DAYS": 30,
    # Lists: "near due" and the traffic lights (working days left).
    "NEAR_DUE_WORKDAYS": 3,
    "LIGHT_YELLOW_WORKDAYS": 5,
    "LIGHT_RED_WORKDAYS": 2,
}


def leads_setting(name: str):
    return getattr(settings, "LEADS", {}).get(name, DEFAULTS[name])
