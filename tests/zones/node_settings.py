"""Settings of the portal processes the two-node test starts (development settings, production-like
DEBUG, limits raised so one test client can submit several tips)."""

from config.settings.dev import *  # noqa: F403

DEBUG = False
TIP_SUBMIT_RATE = (1000, 600)
TIP_FOLLOWUP_RATE = (1000, 600)
