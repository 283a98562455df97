"""Limits of the reports app, each overridable by a setting of the same name (tests lower them)."""

from django.conf import settings

DEFAULTS = {
    "TIP_DESCRIPTION_MAX": 10000,
    "TIP_MESSAGE_MAX": 3000,
    # Per client, per window (seconds): public submissions, and follow-up checks and replies.
    "TIP_SUBMIT_RATE": (5, 600),
    "TIP_FOLLOWUP_RATE": (30, 600),
    # Wrong PINs: this many within the window locks the code (and the client) for TIP_PIN_LOCK_SECONDS.
    "TIP_PIN_MAX_FAILURES": 5,
    "TIP_PIN_FAILURE_WINDOW": 900,
    "TIP_PIN_LOCK_SECONDS": 900,
    # How long a follow-up stays open in the browser session after code + PIN were accepted.
    "TIP_FOLLOWUP_SESSION_SECONDS": 900,
    # Uploads kept between a refused submission and its corrected resubmission.
    "TIP_UPLOAD_STASH_SECONDS": 2 * 3600,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
