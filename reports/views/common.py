"""Helpers shared by the public and staff views."""

from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

# Session keys of the public pages (the sealed public zone uses the same ones).
RECEIPT_KEY = "reports_receipt"
FOLLOWUP_KEY = "reports_followup"


def request_size_limit():
    """The largest body a tip form may send: every attachment at its limit plus room for the text."""
    return settings.ATTACHMENT_MAX_TOTAL_BYTES + 2 * 1024 * 1024


def limit_request_size(view):
    """Refuse an oversized body before Django reads it, with a page that says what to do."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > request_size_limit():
                return render(
                    request,
                    "reports/too_large.html",
                    {"limit_mb": request_size_limit() // 2**20},
                    status=413,
                )
        return view(request, *args, **kwargs)

    return wrapped


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's field-keyed ValidationError onto the form, next to the fields it names."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def wait_message(refusal) -> str:
    return _("操作过于频繁，请 %(minutes)d 分钟后再试。") % {"minutes": refusal.minutes}


def locked_message(refusal) -> str:
    """The follow-up lockout message, shared by the public pages, the API and the public zone."""
    return _("查询密码错误次数过多，该查询码已被暂时锁定。请 %(minutes)d 分钟后再试。") % {
        "minutes": refusal.minutes
    }
