"""The public pages that touch tip data, in their sealed form for a public node: the tip form, follow-up
with code + PIN, and the reply box. Same forms, templates, limits and messages as reports.views.public;
only where the data goes differs (sealed submissions and receipts instead of tips). The receipt page,
"end follow-up", how-to-report and typical cases are the reports app's own views.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from reports import throttle
from reports.forms import FollowupForm, ReplyForm, TipForm
from reports.models import PublicStatus
from reports.services import PUBLIC_STATUS_TEXT
from reports.views.common import (
    RECEIPT_KEY,
    apply_errors,
    followup_session_object,
    followup_sign_in,
    limit_request_size,
    wait_message,
)

from . import keys, public
from .models import PublishedEntry, Receipt
from .views import UNAVAILABLE


@never_cache
@limit_request_size
@require_http_methods(["GET", "POST"])
def submit(request):
    if request.method == "GET":
        return render(request, "reports/public/submit.html", {"form": TipForm()})
    form = TipForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        refusal = throttle.rate_limit("submit", request)
        if refusal:
            form.add_error(None, wait_message(refusal))
            status = 429
        else:
            data = form.cleaned_data
            try:
                receipt, pin = public.sealed_tip_submit(
                    description=data["description"],
                    sector=data["sector"],
                    region=data["region"],
                    location=data["location"],
                    accused=data["accused"],
                    occurred_at=data["occurred_at"],
                    anonymous=data["anonymous"],
                    identity=form.identity(),
                    attachments=data["attachments"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            except keys.SealingUnavailable:
                form.add_error(None, str(UNAVAILABLE))
                status = 503
            else:
                form.discard_uploads()
                request.session[RECEIPT_KEY] = {
                    "tracking_code": receipt.tracking_code,
                    "pin": pin,
                    "received_at": receipt.received_at.isoformat(),
                    "attachments": len(data["attachments"]),
                }
                return redirect("reports:receipt")
    form.preserve_uploads()
    return render(request, "reports/public/submit.html", {"form": form}, status=status)


def _followup_receipt(request) -> Receipt | None:
    return followup_session_object(request, field="receipt_id", queryset=Receipt.objects.all())


@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        if _followup_receipt(request):
            return redirect("reports:track_detail")
        return render(request, "reports/public/track.html", {"form": FollowupForm()})
    form = FollowupForm(request.POST)
    status = 400
    if form.is_valid():
        receipt, status = followup_sign_in(
            request, form, authenticate=public.receipt_authenticate, field="receipt_id"
        )
        if receipt is not None:
            return redirect("reports:track_detail")
    return render(request, "reports/public/track.html", {"form": form}, status=status)


@never_cache
@limit_request_size
@require_http_methods(["GET", "POST"])
def track_detail(request):
    receipt = _followup_receipt(request)
    if receipt is None:
        messages.info(request, _("为保护您的信息，查询已超时，请重新输入查询码和查询密码。"))
        return redirect("reports:track")
    status = 200
    if request.method == "POST":
        form = ReplyForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            refusal = throttle.rate_limit("followup", request)
            if refusal:
                form.add_error(None, wait_message(refusal))
                status = 429
            else:
                try:
                    public.sealed_reply_submit(
                        receipt_id=receipt.pk,
                        body=form.cleaned_data["body"],
                        attachments=form.cleaned_data["attachments"],
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                except keys.SealingUnavailable:
                    form.add_error(None, str(UNAVAILABLE))
                    status = 503
                else:
                    form.discard_uploads()
                    messages.success(request, _("留言已发送，我们会尽快查看。"))
                    return redirect("reports:track_detail")
        form.preserve_uploads()
    else:
        form = ReplyForm()
    order = [PublicStatus.RECEIVED, PublicStatus.ACCEPTED, PublicStatus.VERIFYING, PublicStatus.CONCLUDED]
    reached = order.index(receipt.public_status) if receipt.public_status in order else -1
    entries = public.receipt_thread(receipt)
    context = {
        "tip": receipt,
        "steps": [(s.value, s.label) for s in order],
        "done_steps": [s.value for s in order[: reached + 1]],
        "status_text": PUBLIC_STATUS_TEXT.get(receipt.public_status, ""),
        "timeline": [e for e in entries if e.kind == PublishedEntry.Kind.EVENT],
        "thread": [e for e in entries if e.kind != PublishedEntry.Kind.EVENT],
        "reward": {"status": receipt.reward_status} if receipt.reward_status else None,
        "form": form,
    }
    return render(request, "reports/public/track_detail.html", context, status=status)


def no_files_here(request, *args, **kwargs):
    """Files the office attaches to messages stay on the internal side."""
    raise Http404


VIEWS = {"submit": submit, "track": track, "track_detail": track_detail, "track_attachment": no_files_here}
