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
    # --- case-handling practice (issue 11) ---
    # 签收: working days to sign for when no DeadlinePolicy row gives accept_days.
    "SIGN_FOR_WORKDAYS": 1,
    # Where the verification clock starts: "assignment" (派单) or "signing" (签收). With "signing" the
    # deadline shown before signing assumes signing on the last allowed day, and a late signer gains
    # nothing: the clock then starts when the sign-for time ran out.
    "CLOCK_STARTS_AT": "assignment",
    # Not signed for in time: a reminder to the liaisons (with SMS) at once, then the unit head and the
    # office this many working days later; the escalation sweep's 排而不查 flag and deadline ladder follow.
    "SIGN_FOR_ESCALATE_WORKDAYS": 1,
    # 退单: a unit may send an assignment back within this many working days of the assignment.
    "SEND_BACK_WORKDAYS": 2,
    # 回告: the first report-back within N working days of signing; stage reports when the office asks,
    # due within STAGE_REPORT_WORKDAYS unless the office says otherwise.
    "FIRST_REPORT_WORKDAYS": 5,
    "STAGE_REPORT_WORKDAYS": 3,
    # 签字背书: a unit's result needs its head's sign-off before submission; closing as 查否 needs an
    # office leader's.
    "REQUIRE_UNIT_SIGN_OFF": True,
    "REQUIRE_LEADER_SIGN_OFF_UNSUBSTANTIATED": True,
    # 回访: each month this share of the previous month's closed leads from named informants (at least
    # CALLBACK_MIN, at most CALLBACK_MAX) is drawn for a call-back.
    "CALLBACK_RATE": 0.2,
    "CALLBACK_MIN": 5,
    "CALLBACK_MAX": 100,
    # 短信: sign-for prompts to liaisons; feedback to named informants who agreed to SMS.
    "SMS_SIGN_FOR": True,
    "SMS_INFORMANT_FEEDBACK": True,
    # Practice sweep batches (bounded, re-runnable).
    "SWEEP_BATCH": 1000,
    "SWEEP_MAX_BATCHES": 50,
    # 评查: entity kinds that tie a new tip to a lead closed as 查否.
    "REPEAT_KINDS": ("phone", "id_number", "uscc", "bank_card", "plate", "company"),
}


def leads_setting(name: str):
    return getattr(settings, "LEADS", {}).get(name, DEFAULTS[name])
