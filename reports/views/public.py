"""Public pages: how to report, the tip form, the receipt, follow-up with code + PIN, typical cases.

Mobile-first and usable without JavaScript. No client address is stored with a tip; rate limits and
lockouts use keyed digests in Redis and let requests through when Redis is down.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaign.models import Unit

from .. import selectors, services, throttle
from ..forms import FollowupForm, ReplyForm, TipForm
from ..models import PublicStatus, Reward, TipAttachment, TipMessage, TypicalCase
from .common import (
    FOLLOWUP_KEY,
    RECEIPT_KEY,
    apply_errors,
    followup_session_object,
    followup_sign_in,
    limit_request_size,
    wait_message,
)


@require_GET
def howto(request):
    units = Unit.objects.filter(is_active=True, publish_channels=True).order_by("sort_order", "code")
    return render(
        request,
        "reports/public/howto.html",
        {"units": units, "reward_bases": Reward.Basis.choices},
    )


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
                tip, pin = services.tip_submit(
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
            else:
                form.discard_uploads()
                request.session[RECEIPT_KEY] = {
                    "tracking_code": tip.tracking_code,
                    "pin": pin,
                    "received_at": tip.received_at.isoformat(),
                    "attachments": len(data["attachments"]),
                }
                return redirect("reports:receipt")
    form.preserve_uploads()
    return render(request, "reports/public/submit.html", {"form": form}, status=status)


@never_cache
@require_GET
def receipt(request):
    """Shows the code and PIN once: the session copy is removed as the page is rendered."""
    data = request.session.pop(RECEIPT_KEY, None)
    if not data:
        return render(request, "reports/public/receipt_gone.html", status=410)
    from django.utils.dateparse import parse_datetime

    data["received_at"] = parse_datetime(data["received_at"])
    return render(request, "reports/public/receipt.html", {"receipt": data})


# --- follow-up -----------------------------------------------------------------------------------
def _followup_tip(request):
    """The tip this browser session proved it may follow up, or None when the session ran out."""
    return followup_session_object(request, field="tip_id", queryset=selectors.Tip.objects.all())


@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        if _followup_tip(request):
            return redirect("reports:track_detail")
        return render(request, "reports/public/track.html", {"form": FollowupForm()})
    form = FollowupForm(request.POST)
    status = 400
    if form.is_valid():
        tip, status = followup_sign_in(request, form, authenticate=services.tip_authenticate, field="tip_id")
        if tip is not None:
            return redirect("reports:track_detail")
    return render(request, "reports/public/track.html", {"form": form}, status=status)


@never_cache
@limit_request_size
@require_http_methods(["GET", "POST"])
def track_detail(request):
    tip = _followup_tip(request)
    if tip is None:
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
                    services.tip_message_reply(
                        tip_id=tip.pk,
                        body=form.cleaned_data["body"],
                        attachments=form.cleaned_data["attachments"],
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    form.discard_uploads()
                    messages.success(request, _("留言已发送，我们会尽快查看。"))
                    return redirect("reports:track_detail")
        form.preserve_uploads()
    else:
        form = ReplyForm()
    order = [PublicStatus.RECEIVED, PublicStatus.ACCEPTED, PublicStatus.VERIFYING, PublicStatus.CONCLUDED]
    reached = order.index(tip.public_status) if tip.public_status in order else -1
    context = {
        "tip": tip,
        "steps": [(s.value, s.label) for s in order],
        "done_steps": [s.value for s in order[: reached + 1]],
        "status_text": services.PUBLIC_STATUS_TEXT.get(tip.public_status, ""),
        "timeline": selectors.tip_public_timeline(tip),
        "thread": selectors.tip_messages(tip),
        "reward": selectors.tip_reward_public(tip),
        "form": form,
    }
    return render(request, "reports/public/track_detail.html", context, status=status)


@require_POST
def track_end(request):
    request.session.pop(FOLLOWUP_KEY, None)
    messages.info(request, _("已退出查询。"))
    return redirect("reports:track")


@never_cache
@require_GET
def track_attachment(request, attachment_id: int):
    """A file the office sent to the informant; only within a follow-up session for that tip."""
    tip = _followup_tip(request)
    if tip is None:
        raise Http404
    attachment = get_object_or_404(
        TipAttachment,
        pk=attachment_id,
        tip=tip,
        message__direction=TipMessage.Direction.TO_INFORMANT,
    )
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- typical cases -------------------------------------------------------------------------------
@require_GET
def cases(request):
    page = Paginator(selectors.typical_case_list_published(), 10).get_page(request.GET.get("page"))
    return render(request, "reports/public/cases.html", {"page": page})


@require_GET
def case_detail(request, case_id: int):
    case = get_object_or_404(
        TypicalCase.objects.select_related("sector", "region"), pk=case_id, is_published=True
    )
    return render(request, "reports/public/case_detail.html", {"case": case})
