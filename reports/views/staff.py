"""Staff pages: the register, staff entry, the tip page (reveal, messages, attachments), rewards,
publicity records and typical-case management. Every page checks the role; tips out of scope are 404."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaign.access import role_required
from campaign.audit import client_ip
from campaign.models import Unit
from campaign.roles import Role

from .. import access, crypto, panels, selectors, services
from ..filters import TipFilter
from ..forms import (
    PublicityForm,
    RevealForm,
    RewardDecideForm,
    RewardPayForm,
    RewardProposeForm,
    StaffMessageForm,
    StaffTipForm,
    TypicalCaseForm,
)
from ..models import Reward, Tip, TipAttachment, TipStatus, TypicalCase
from .common import apply_errors, limit_request_size

ENTRY_RECEIPT_KEY = "reports_entry_receipt"
# A text search looks at the last month first, then everywhere (selectors.tip_page).
SEARCH_WINDOWS = (dt.timedelta(days=30),)


# --- register ------------------------------------------------------------------------------------
@never_cache
@role_required(*access.REGISTER_ROLES)
@require_GET
def register(request):
    base = (
        selectors.tip_list_visible_to(request.user)
        .select_related("sector", "region", "unit")
        .defer("identity_encrypted", "pin_hash", "routing_proposal")
    )
    tip_filter = TipFilter(request.GET or None, queryset=base, request=request)
    qs = tip_filter.qs if tip_filter.is_bound and tip_filter.is_valid() else base
    if tip_filter.is_bound and not tip_filter.is_valid():
        qs = base.none()
    sort = request.GET.get("sort", "-received_at")
    cursor = request.GET.get("cursor", "")
    if request.GET.get("q", "").strip() and not qs.query.is_empty():
        # A text search counts first (exact up to 200: the trigram bitmap, cheap for a rare word). A word
        # matching more is common: its newest matches are found by walking the last month by date, which
        # is bounded, instead of fetching and sorting every match as the planner (underestimating common
        # words) would do.
        count, exact = selectors.tip_count(qs, exact_up_to=200)
        page = selectors.tip_page(
            qs, sort=sort, cursor=cursor, size=50, windows=() if exact else SEARCH_WINDOWS
        )
    else:
        page = selectors.tip_page(qs, sort=sort, cursor=cursor, size=50)
        if page["next"] is None and page["previous"] is None:
            count, exact = len(page["items"]), True  # everything is on this page
        else:
            # Exact up to 2,000 rows; beyond that "many" or the planner's estimate.
            count, exact = selectors.tip_count(qs, exact_up_to=2000)
    params = request.GET.copy()
    params.pop("cursor", None)

    def link(cursor):
        if not cursor:
            return None
        p = params.copy()
        p["cursor"] = cursor
        return f"?{p.urlencode()}"

    sort_params = params.copy()
    sort_params["sort"] = "received_at" if sort == "-received_at" else "-received_at"
    context = {
        "filter": tip_filter,
        "tips": page["items"],
        "next_url": link(page["next"]),
        "prev_url": link(page["previous"]),
        "count": count,
        "count_exact": exact,
        "sort": sort,
        "sort_url": f"?{sort_params.urlencode()}",
        "filtered": any(v for k, v in request.GET.items() if k not in ("cursor", "sort")),
        "filter_key": params.urlencode(),  # the query without its cursor: the cached filter form's key
        "more_filtered": any(v for k, v in request.GET.items() if k not in ("cursor", "sort", "q")),
        "can_enter": request.user.role in access.ENTRY_ROLES,
    }
    return render(request, "reports/staff/register.html", context)


# --- staff entry ---------------------------------------------------------------------------------
@never_cache
@limit_request_size
@role_required(*access.ENTRY_ROLES)
@require_http_methods(["GET", "POST"])
def entry(request):
    if request.method == "GET":
        return render(request, "reports/staff/entry.html", {"form": StaffTipForm()})
    form = StaffTipForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            tip, pin = services.tip_submit(
                description=data["description"],
                channel=data["channel"],
                sector=data["sector"],
                region=data["region"],
                location=data["location"],
                accused=data["accused"],
                occurred_at=data["occurred_at"],
                anonymous=data["anonymous"],
                identity=form.identity(),
                attachments=data["attachments"],
                received_at=data["received_at"],
                original_reference=data["original_reference"],
                created_by=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form.discard_uploads()
            request.session[ENTRY_RECEIPT_KEY] = {"tip_id": tip.pk, "pin": pin}
            return redirect("reports:entry_receipt", tip_id=tip.pk)
    form.preserve_uploads()
    return render(request, "reports/staff/entry.html", {"form": form}, status=400)


@never_cache
@role_required(*access.ENTRY_ROLES)
@require_GET
def entry_receipt(request, tip_id: int):
    tip = _visible_tip(request, tip_id)
    data = request.session.get(ENTRY_RECEIPT_KEY)
    pin = None
    if data and data.get("tip_id") == tip.pk:
        pin = data["pin"]
        del request.session[ENTRY_RECEIPT_KEY]
    return render(request, "reports/staff/entry_receipt.html", {"tip": tip, "pin": pin})


# --- tip page ------------------------------------------------------------------------------------
def _visible_tip(request, tip_id: int) -> Tip:
    try:
        return selectors.tip_get_visible(user=request.user, tip_id=tip_id)
    except Tip.DoesNotExist:
        raise Http404


def _tip_context(request, tip: Tip, **extra) -> dict:
    user = request.user
    can_message = access.can_message(user)
    context = {
        "tip": tip,
        "attachments": list(tip.attachments.filter(message__isnull=True)),
        "events": list(tip.events.select_related("actor").order_by("at", "id")),
        "can_reveal": access.can_reveal_identity(user) and bool(tip.identity_encrypted),
        "can_message": can_message,
        "thread": selectors.tip_messages(tip) if can_message else [],
        "reveals": list(tip.identity_reveals.select_related("user")[:20])
        if user.role in (Role.OFFICE,)
        else [],
        "rewards": list(tip.rewards.all()) if user.role in access.REWARD_ROLES else [],
        "can_propose_reward": user.role == Role.OFFICE
        and tip.status in (TipStatus.REGISTERED, TipStatus.MERGED)
        and not any(r.status != Reward.Status.REJECTED for r in tip.rewards.all()),
        "extra_panels": panels.panels_for(request, tip),
        "reveal_form": RevealForm(),
        "message_form": StaffMessageForm() if can_message else None,
    }
    context.update(extra)
    return context


@never_cache
@role_required(*access.REGISTER_ROLES)
@require_GET
def tip_detail(request, tip_id: int):
    tip = _visible_tip(request, tip_id)
    if tip.unread_replies and access.can_message(request.user):
        services.tip_messages_mark_read(tip_id=tip.pk, actor=request.user)
    return render(request, "reports/staff/tip_detail.html", _tip_context(request, tip))


@never_cache
@role_required(Role.OFFICE)
@require_POST
def tip_reveal(request, tip_id: int):
    """Shows the identity in this one response only; a reload shows the masked form again."""
    tip = _visible_tip(request, tip_id)
    if not access.can_reveal_identity(request.user):
        raise PermissionDenied
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            identity = services.tip_identity_reveal(
                tip_id=tip.pk, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            tip.refresh_from_db()
            return render(
                request,
                "reports/staff/tip_detail.html",
                _tip_context(request, tip, revealed=identity, revealed_reason=form.cleaned_data["reason"]),
            )
    return render(
        request, "reports/staff/tip_detail.html", _tip_context(request, tip, reveal_form=form), status=400
    )


@never_cache
@limit_request_size
@role_required(*access.MESSAGE_ROLES)
@require_POST
def tip_message(request, tip_id: int):
    tip = _visible_tip(request, tip_id)
    form = StaffMessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.tip_message_send(
                tip_id=tip.pk,
                actor=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form.discard_uploads()
            messages.success(request, _("留言已发送，举报人凭查询码可以看到。"))
            return redirect(reverse("reports:tip_detail", args=[tip.pk]) + "#thread")
    form.preserve_uploads()
    return render(
        request, "reports/staff/tip_detail.html", _tip_context(request, tip, message_form=form), status=400
    )


@never_cache
@role_required(*access.REGISTER_ROLES)
@require_GET
def attachment_download(request, attachment_id: int):
    """Staff download: scoped like the tip, always a download (never rendered inline), always audited."""
    attachment = get_object_or_404(TipAttachment.objects.select_related("tip"), pk=attachment_id)
    if not selectors.tip_list_visible_to(request.user).filter(pk=attachment.tip_id).exists():
        raise Http404
    if attachment.message_id and not access.can_message(request.user):
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404
    services.attachment_download_record(attachment=attachment, actor=request.user, ip=client_ip(request))
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name)
    response["Content-Type"] = attachment.content_type or "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- rewards -------------------------------------------------------------------------------------
@never_cache
@role_required(*access.REWARD_ROLES)
@require_GET
def rewards(request):
    status = request.GET.get("status", "")
    if status not in Reward.Status.values:
        status = ""
    page = Paginator(selectors.reward_list(status=status, user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reports/staff/rewards.html",
        {
            "page": page,
            "status": status,
            "statuses": Reward.Status.choices,
            "can_decide": access.can_decide_reward(request.user),
        },
    )


@never_cache
@role_required(Role.OFFICE)
@require_http_methods(["GET", "POST"])
def reward_propose(request, tip_id: int):
    tip = _visible_tip(request, tip_id)
    form = RewardProposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        first_tip_id = None
        if data["first_tip_code"]:
            code = crypto.tracking_code_normalize(data["first_tip_code"])
            first = selectors.tip_list_visible_to(request.user).filter(tracking_code=code).only("pk").first()
            if first is None:
                form.add_error("first_tip_code", _("没有这个查询码的举报。"))
            else:
                first_tip_id = first.pk
        if form.is_valid():
            try:
                reward = services.reward_propose(
                    tip_id=tip.pk,
                    actor=request.user,
                    amount=data["amount"],
                    basis=data["basis"],
                    lead_result=data["lead_result"],
                    basis_note=data["basis_note"],
                    first_tip_id=first_tip_id,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("奖励申请已提交，等待领导审批。"))
                return redirect("reports:reward_detail", reward_id=reward.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "reports/staff/reward_propose.html", {"tip": tip, "form": form}, status=status)


def _reward_context(request, reward, **extra):
    context = {
        "reward": reward,
        "can_decide": access.can_decide_reward(request.user)
        and reward.status == Reward.Status.PROPOSED
        and reward.proposed_by_id != request.user.pk,
        "can_pay": request.user.role == Role.OFFICE and reward.status == Reward.Status.APPROVED,
        "decide_form": RewardDecideForm(),
        "pay_form": RewardPayForm(),
    }
    context.update(extra)
    return context


def _get_reward(request, reward_id):
    """A reward for a tip the user may see; one behind a restricted lead outside their circle is a 404."""
    return get_object_or_404(
        Reward.objects.filter(tip__in=selectors.tip_list_visible_to(request.user)).select_related(
            "tip", "first_tip", "proposed_by", "decided_by", "paid_recorded_by"
        ),
        pk=reward_id,
    )


@never_cache
@role_required(*access.REWARD_ROLES)
@require_GET
def reward_detail(request, reward_id: int):
    return render(
        request, "reports/staff/reward_detail.html", _reward_context(request, _get_reward(request, reward_id))
    )


@never_cache
@role_required(*access.REWARD_ROLES)
@require_POST
def reward_decide(request, reward_id: int):
    reward = _get_reward(request, reward_id)
    form = RewardDecideForm(request.POST)
    if form.is_valid():
        try:
            services.reward_decide(
                reward_id=reward.pk,
                actor=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("审批意见已记录。"))
            return redirect("reports:reward_detail", reward_id=reward.pk)
    return render(
        request,
        "reports/staff/reward_detail.html",
        _reward_context(request, reward, decide_form=form),
        status=400,
    )


@never_cache
@role_required(Role.OFFICE)
@require_POST
def reward_pay(request, reward_id: int):
    reward = _get_reward(request, reward_id)
    form = RewardPayForm(request.POST)
    if form.is_valid():
        try:
            services.reward_record_payment(
                reward_id=reward.pk,
                actor=request.user,
                paid_on=form.cleaned_data["paid_on"],
                method=form.cleaned_data["payment_method"],
                reference=form.cleaned_data["payment_reference"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("发放情况已登记。"))
            return redirect("reports:reward_detail", reward_id=reward.pk)
    return render(
        request,
        "reports/staff/reward_detail.html",
        _reward_context(request, reward, pay_form=form),
        status=400,
    )


# --- publicity -----------------------------------------------------------------------------------
@never_cache
@role_required(*access.PUBLICITY_ROLES)
@require_http_methods(["GET", "POST"])
def publicity(request):
    user = request.user
    can_record = user.role != Role.LEADER
    form = PublicityForm(request.POST or None, user=user) if can_record else None
    status = 200
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.publicity_record(actor=user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("宣传发动记录已保存。"))
                return redirect("reports:publicity")
        status = 400
    qs = selectors.publicity_list_visible_to(user)
    unit_code = request.GET.get("unit", "")
    if unit_code and user.role in (Role.OFFICE, Role.LEADER):
        qs = qs.filter(unit__code=unit_code)
    page = Paginator(qs.order_by("-held_on", "-id"), 30).get_page(request.GET.get("page"))
    units = Unit.objects.filter(is_active=True) if user.role in (Role.OFFICE, Role.LEADER) else []
    return render(
        request,
        "reports/staff/publicity.html",
        {"form": form, "page": page, "units": units, "unit_code": unit_code},
        status=status,
    )


# --- typical cases -------------------------------------------------------------------------------
@never_cache
@role_required(*access.CASE_ROLES)
@require_GET
def cases_manage(request):
    page = Paginator(
        TypicalCase.objects.select_related("sector", "region").order_by("-updated_at"), 30
    ).get_page(request.GET.get("page"))
    return render(request, "reports/staff/cases_manage.html", {"page": page})


@never_cache
@role_required(*access.CASE_ROLES)
@require_http_methods(["GET", "POST"])
def case_edit(request, case_id: int | None = None):
    case = get_object_or_404(TypicalCase, pk=case_id) if case_id else None
    form = TypicalCaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.typical_case_save(actor=request.user, case_id=case_id, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("典型案例已保存。"))
            return redirect("reports:case_edit", case_id=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "reports/staff/case_edit.html", {"form": form, "case": case}, status=status)


@role_required(*access.CASE_ROLES)
@require_POST
def case_publish(request, case_id: int):
    publish = request.POST.get("publish") == "1"
    get_object_or_404(TypicalCase, pk=case_id)
    services.typical_case_publish(case_id=case_id, actor=request.user, publish=publish)
    messages.success(request, _("已发布到公开网站。") if publish else _("已从公开网站撤下。"))
    return redirect("reports:case_edit", case_id=case_id)
