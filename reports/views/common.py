"""Helpers shared by the public and staff views."""

import time
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


# --- follow-up with code + PIN: the portal's tips and the sealed public zone's receipts -------------
def _followup_seconds() -> int:
    from .. import conf

    return conf.get("TIP_FOLLOWUP_SESSION_SECONDS")


def followup_session_object(request, *, field: str, queryset):
    """The object (a tip, or a receipt in the public zone) this browser session proved it may follow up,
    or None when the session ran out; each visit extends the session's time."""
    state = request.session.get(FOLLOWUP_KEY)
    if not state or state.get("until", 0) < time.time() or field not in state:
        request.session.pop(FOLLOWUP_KEY, None)
        return None
    obj = queryset.filter(pk=state[field]).first()
    if obj is None:
        return None
    state["until"] = time.time() + _followup_seconds()
    request.session[FOLLOWUP_KEY] = state
    return obj


def followup_sign_in(request, form, *, authenticate, field: str) -> tuple[object | None, int]:
    """Check a valid FollowupForm's code + PIN with `authenticate(tracking_code=, pin=)` behind the
    lockout and the rate limit. Returns (the object, 200) with a fresh session key remembering it under
    `field`, or (None, 400/429) with the reason on the form."""
    from .. import throttle

    code, pin = form.cleaned_data["tracking_code"], form.cleaned_data["pin"]
    refusal = throttle.pin_locked(code, request) or throttle.rate_limit("followup", request)
    if refusal:
        form.add_error(None, locked_message(refusal))
        return None, 429
    obj = authenticate(tracking_code=code, pin=pin)
    if obj is not None:
        throttle.pin_succeeded(code, request)
        request.session.cycle_key()
        request.session[FOLLOWUP_KEY] = {field: obj.pk, "until": time.time() + _followup_seconds()}
        return obj, 200
    left, locked = throttle.pin_failed(code, request)
    if locked:
        form.add_error(None, locked_message(locked))
        return None, 429
    if left is not None:
        form.add_error(
            "pin",
            _("查询码或查询密码不正确。再输错 %(left)d 次，该查询码将被暂时锁定。") % {"left": left},
        )
    else:
        form.add_error("pin", _("查询码或查询密码不正确。"))
    return None, 400
