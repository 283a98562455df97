"""Accountability rules the office may tune: read from settings.ACCOUNTABILITY over these defaults.

The document-number prefix (机关代字) is settings.CAMPAIGN["DOC_NUMBER_PREFIX"]; each kind adds its own
short code so that numbers of different kinds never collide (焦扫黑办督〔2026〕3号, 焦扫黑办通〔2026〕3号).
"""

from decimal import Decimal

from django.conf import settings

DEFAULTS = {
    # Document series per kind: a suffix to the campaign's prefix. Kinds sharing a suffix share a sequence.
    "DOC_SERIES_SUFFIX": {
        "notice": "通",
        "talk": "谈",
        "supervision": "督",
        "listed_supervision": "督",
        "rectification": "改",
        "veto": "",
        "referral": "移",
    },
    # The red header (发文机关标志), signature and printer of every document.
    "ISSUER_FULL_NAME": "焦作市扫黑除恶专项斗争领导小组办公室",
    "ISSUER_SHORT_NAME": "焦作市扫黑办",
    "HEADER_SUFFIX": "文件",
    "DEFAULT_CC": "市纪委监委，市委组织部",
    # Rectification: working days given per item unless the office sets its own.
    "RECTIFY_DEFAULT_DAYS": 20,
    # An overdue rectification proposes a notice (通报) this many working days after it went overdue.
    "RECTIFY_ESCALATE_DAYS": 5,
    # Unit tasks: overdue notifies the unit; this many working days later it escalates to office leaders.
    "TASK_ESCALATE_DAYS": 5,
    # The sweep's batch size (rows locked per transaction) and its batches per run.
    "SWEEP_BATCH": 200,
    "SWEEP_MAX_BATCHES": 20,
    # An assignment not signed for within this many working days counts as "not accepted in time".
    "ACCEPT_WORKDAYS": 3,
    # Assessment weights (points out of 100) and the deductions per counted item.
    "ASSESSMENT": {
        "weights": {
            "on_time": Decimal("30"),
            "returned": Decimal("15"),
            "handled": Decimal("20"),
            "publicity": Decimal("10"),
            "acceptance": Decimal("10"),
            "rectification": Decimal("10"),
            "tasks": Decimal("5"),
        },
        "deduct_not_accepted": Decimal("2"),
        "deduct_open_rectification": Decimal("1"),
        "deduct_overdue_rectification": Decimal("3"),
        "deduct_overdue_task": Decimal("2.5"),
        "publicity_target_per_quarter": 3,
        "grades": [("excellent", Decimal("90")), ("good", Decimal("75")), ("pass", Decimal("60"))],
        # Unit kinds that are assessed (the office itself is not).
        "unit_kinds": ["police", "department", "judicial", "discipline", "county"],
    },
}


def acc_setting(name: str):
    value = getattr(settings, "ACCOUNTABILITY", {}).get(name)
    if value is None:
        return DEFAULTS[name]
    if isinstance(value, dict) and isinstance(DEFAULTS[name], dict):
        merged = {**DEFAULTS[name], **value}
        return merged
    return value


def doc_prefix() -> str:
    return getattr(settings, "CAMPAIGN", {}).get("DOC_NUMBER_PREFIX", "焦扫黑办")


def doc_series(kind: str) -> str:
    return doc_prefix() + acc_setting("DOC_SERIES_SUFFIX").get(kind, "")
