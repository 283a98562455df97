"""Lead pages. Thin: every list starts from `lead_list_visible_to`, every change goes through the services."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from campaign.access import role_required
from campaign.audit import audit_record, client_ip
from campaign.models import Unit
from campaign.roles import Role
from reports.models import Tip, TipStatus
from reports.selectors import tip_list_visible_to

from . import selectors
from .conf import leads_setting
from .filters import LeadFilter
from .forms import (
    ACTION_FORMS,
    LeadRegisterForm,
    TipDuplicateForm,
    TipMergeForm,
    TipRejectForm,
    TriageBulkForm,
)
from .models import LeadAttachment
from .routing import routing_proposals_from_payload, routing_propose_for_tip, routing_rules_load
from .services import lead_register, lead_transition, tip_triage, tip_triage_bulk
from .workflow import ACTIONS, TransitionError, VersionConflict

PAGE_SIZE = 50
ALL_ROLES = tuple(Role.values)
OFFICE = (Role.OFFICE,)

SUCCESS = {
    "assign": gettext_lazy("已派单。"),
    "accept": gettext_lazy("已签收，请按期完成核查。"),
    "send_back": gettext_lazy("已退单，等待市扫黑办处理。"),
    "request_extension": gettext_lazy("延期申请已提交，等待市扫黑办审批。"),
    "approve_extension": gettext_lazy("已同意延期。"),
    "refuse_extension": gettext_lazy("已不同意延期。"),
    "submit_result": gettext_lazy("核查结果已提交。"),
    "return_for_reverification": gettext_lazy("已退回重查。"),
    "reassign": gettext_lazy("已改派。"),
    "close": gettext_lazy("线索已办结。"),
    "reopen": gettext_lazy("线索已重新启动。"),
    "merge": gettext_lazy("举报已并入该线索。"),
    "report_first": gettext_lazy("首次回告已报送。"),
    "report_stage": gettext_lazy("阶段回告已报送。"),
    "request_stage_report": gettext_lazy("已要求承办单位报送阶段回告。"),
    "request_sign_off": gettext_lazy("已提请第一责任人签字背书。"),
    "sign_off": gettext_lazy("已签字背书。"),
    "decline_sign_off": gettext_lazy("已退回联络员修改。"),
    "accept_send_back": gettext_lazy("已同意退单并改派。"),
    "refuse_send_back": gettext_lazy("已不同意退单，原单位继续办理。"),
    "sign_off_closure": gettext_lazy("办领导已签字背书。"),
    "review_escalate": gettext_lazy("已提级办理。"),
    "review_confirm": gettext_lazy("已维持原结论。"),
    "restrict": gettext_lazy("已限制知悉范围。"),
    "unrestrict": gettext_lazy("已取消限制知悉范围。"),
}


def _page(request, qs, size: int = PAGE_SIZE):
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _querystring(request, drop=("page",)) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


# --- lists ---------------------------------------------------------------------------------------
@never_cache
@role_required(*ALL_ROLES)
def lead_list(request):
    """The lead register (线索台账), filtered with the same FilterSet as the API."""
    base = selectors.lead_list_visible_to(request.user)
    filterset = LeadFilter(request.GET or None, queryset=base.order_by("-created_at", "-id"))
    qs = filterset.qs if filterset.is_bound else filterset.queryset
    page = _page(request, selectors.lead_list_with_related(qs))
    # Counts per source for what the other filters select (线索来源统计); a click narrows to that source.
    source_params = request.GET.copy()
    source_params.pop("source", None)
    source_params.pop("page", None)
    source_filter = LeadFilter(source_params or None, queryset=base)
    sources = selectors.source_counts(source_filter.qs if source_filter.is_bound else base)
    return render(
        request,
        "leads/lead_list.html",
        {
            "filter": filterset,
            "page": page,
            "querystring": _querystring(request),
            "source_querystring": source_params.urlencode(),
            "sources": sources,
            "lights": request.GET.getlist("light"),
            "now": timezone.now(),
        },
    )


ASSIGNMENT_SORTS = {"light": ("deadline", "id"), "-assigned_at": ("-assigned_at", "-id")}


def _assignments_by_light(request, qs, now):
    """?light=red&light=black keeps those lights (ranges on the indexed deadline); ?sort=light (default:
    black, red, yellow, green) or -assigned_at (newest assignments first)."""
    lights = [v for v in request.GET.getlist("light") if v in selectors.LIGHTS]
    if lights:
        cond = Q()
        for light in lights:
            cond |= selectors.light_q(light, now)
        qs = qs.filter(cond)
    sort = request.GET.get("sort", "light")
    return qs.order_by(*ASSIGNMENT_SORTS.get(sort, ASSIGNMENT_SORTS["light"])), lights, sort


LIGHT_LABELS = {
    "black": gettext_lazy("超期"),
    "red": gettext_lazy("红灯"),
    "yellow": gettext_lazy("黄灯"),
    "green": gettext_lazy("绿灯"),
}


def _light_context(request, user, lights, sort, now) -> dict:
    counts = selectors.light_counts([user.unit_id], now=now, user=user).get(user.unit_id, {})
    keep = request.GET.copy()
    for key in ("light", "page"):
        keep.pop(key, None)
    base = keep.urlencode()
    return {
        "lights": lights,
        "sort": sort,
        "light_items": [
            {
                "key": key,
                "label": LIGHT_LABELS[key],
                "count": counts.get(key, 0),
                "active": key in lights,
                "url": "?" + "&".join(p for p in (base, f"light={key}") if p),
            }
            for key in ("black", "red", "yellow", "green")
        ],
        "all_url": "?" + base,
        "querystring": _querystring(request),
    }


@never_cache
@role_required(Role.LIAISON)
def workspace(request):
    """The liaison's workspace: my unit's assignments by deadline; overdue in red, not yet signed for flagged."""
    now = timezone.now()
    include_done = request.GET.get("done") == "1"
    qs, lights, sort = _assignments_by_light(
        request, selectors.assignment_list_for_unit(user=request.user, include_done=include_done), now
    )
    return render(
        request,
        "leads/workspace.html",
        {
            "page": _page(request, qs),
            "include_done": include_done,
            "counts": selectors.workspace_counts(request.user, now),
            "now": now,
            **_light_context(request, request.user, lights, sort, now),
        },
    )


@never_cache
@role_required(Role.UNIT_HEAD, Role.LIAISON)
def unit_due(request):
    """The unit head's list: the unit's overdue and near-due assignments, and results waiting for sign-off."""
    now = timezone.now()
    # Overdue and near due by default; a chosen light looks at all the unit's open assignments, so the
    # counts on the light buttons are what a click shows.
    if request.GET.getlist("light"):
        base = selectors.assignment_list_open(unit_id=request.user.unit_id)
    else:
        base = selectors.assignment_list_due(unit_id=request.user.unit_id, now=now)
    qs, lights, sort = _assignments_by_light(request, base, now)
    return render(
        request,
        "leads/unit_due.html",
        {
            "page": _page(request, qs),
            "counts": selectors.workspace_counts(request.user, now),
            "now": now,
            "near_due_days": leads_setting("NEAR_DUE_WORKDAYS"),
            "signoffs": selectors.assignment_list_signoff(user=request.user)[:PAGE_SIZE]
            if request.user.role == Role.UNIT_HEAD
            else [],
            **_light_context(request, request.user, lights, sort, now),
        },
    )


@never_cache
@role_required(*OFFICE)
def review(request):
    """The office review queue: results to review, extension requests, send-backs."""
    queue = selectors.review_queue(request.user)
    return render(
        request,
        "leads/review.html",
        {
            "verified": _page(request, queue["verified"]),
            "extensions": queue["extensions"][:PAGE_SIZE],
            "sent_back": queue["sent_back"][:PAGE_SIZE],
            "partial": queue["partial"][:PAGE_SIZE],
            "now": timezone.now(),
        },
    )


@never_cache
@role_required(Role.DISCIPLINE, Role.OFFICE, Role.LEADER)
def referred(request):
    """Leads referred to discipline inspection (移送纪委监委)."""
    page = _page(request, selectors.lead_list_referred(request.user))
    return render(request, "leads/referred.html", {"page": page, "now": timezone.now()})


# --- one lead ------------------------------------------------------------------------------------
def _action_forms(lead, user, assignments, bound=None):
    """The forms for the actions the user may take now, in table order; `bound` replaces one with errors."""
    forms = []
    bound_name = bound.data.get("action") if bound is not None else None
    for name in selectors.lead_allowed_actions(lead, user):
        if name == bound_name:
            form = bound
        else:
            form = ACTION_FORMS[name](
                initial={"action": name, "version": lead.version},
                lead=lead,
                assignments=assignments,
                user=user,
            )
        forms.append({"name": name, "action": ACTIONS[name], "form": form})
    return forms


def _lead_context(request, lead, bound=None, conflict: str = ""):
    user = request.user
    assignments = lead.assignment_list
    rows = []
    now = timezone.now()
    files: dict[int, list] = {}
    for att in LeadAttachment.objects.filter(lead=lead).order_by("uploaded_at", "id"):
        files.setdefault(att.assignment_id, []).append(att)
    for a in assignments:
        rows.append(
            {
                "a": a,
                "findings_visible": selectors.can_see_findings(user, a),
                "light": selectors.traffic_light(a.deadline, now) if a.is_open else "",
                "days_left": selectors.workdays_left(a.deadline, now) if a.is_open else None,
                "mine": a.unit_id == user.unit_id and user.role in (Role.LIAISON, Role.UNIT_HEAD),
                "files": files.get(a.pk, []),
                "sign_for_late": a.status == "assigned"
                and a.accept_deadline is not None
                and a.accept_deadline < now,
                "first_report_late": a.status == "accepted"
                and a.first_report_at is None
                and a.first_report_due is not None
                and a.first_report_due < now,
                "can_send_back_until": a.send_back_until
                if a.status in ("assigned", "accepted") and not a.send_back_refused
                else None,
            }
        )
    events = list(selectors.lead_timeline(lead))
    for e in events:
        e.hidden_details = bool(e.assignment_id) and not selectors.can_see_findings(user, e.assignment)
    tips = list(
        Tip.objects.filter(lead_link__lead=lead).select_related("sector", "region").order_by("received_at")
    )
    return {
        "lead": lead,
        "rows": rows,
        "signoffs": selectors.lead_signoffs(lead),
        "report_backs": [
            r for r in selectors.lead_report_backs(lead) if selectors.can_see_findings(user, r.assignment)
        ],
        "stage_requests": list(
            lead.stage_requests.filter(status="pending").select_related("assignment__unit").order_by("due_at")
        ),
        "repeats": list(lead.repeat_reports.select_related("tip").order_by("-created_at")[:20])
        if user.role in (Role.OFFICE, Role.LEADER, Role.ADMIN, Role.DISCIPLINE)
        else [],
        "events": events,
        "tips": tips if user.role in (Role.OFFICE, Role.POLICE, Role.LEADER, Role.ADMIN) else [],
        "tip_count": len(tips),
        "action_forms": _action_forms(lead, user, assignments, bound),
        "conflict": conflict,
        "now": now,
    }


@never_cache
@role_required(*ALL_ROLES)
@require_http_methods(["GET", "POST"])
def lead_detail(request, pk: int):
    lead = selectors.lead_get_visible(request.user, pk)
    if request.method == "GET":
        return render(request, "leads/lead_detail.html", _lead_context(request, lead))
    name = request.POST.get("action", "")
    form_class = ACTION_FORMS.get(name)
    if form_class is None:
        messages.error(request, _("未知操作。"))
        return redirect("leads:detail", pk=lead.pk)
    form = form_class(
        request.POST, request.FILES, lead=lead, assignments=lead.assignment_list, user=request.user
    )
    if not form.is_valid():
        return render(request, "leads/lead_detail.html", _lead_context(request, lead, bound=form), status=400)
    fields = dict(form.cleaned_data)
    fields.pop("action")
    version = fields.pop("version")
    note = fields.pop("note", "")
    if "units" in fields:
        fields["units"] = list(fields["units"])
    if "attachments" in fields and not fields["attachments"]:
        fields.pop("attachments")
    for key in ("assignment", "extension", "days"):
        if fields.get(key) in (None, ""):
            fields.pop(key, None)
    try:
        if name == "merge":
            fields["tips"] = _tip_ids_from_codes(fields.get("tips", ""))
        lead_transition(
            lead_id=lead.pk, action=name, actor=request.user, note=note, expected_version=version, **fields
        )
    except VersionConflict as exc:
        lead = selectors.lead_get_visible(request.user, pk)
        return render(
            request, "leads/lead_detail.html", _lead_context(request, lead, conflict=exc.message), status=409
        )
    except TransitionError as exc:
        for field, errors in exc.errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        if not exc.errors:
            form.add_error(None, exc.message)
        status = 409 if exc.kind == "state" else 403 if exc.kind == "forbidden" else 400
        return render(
            request, "leads/lead_detail.html", _lead_context(request, lead, bound=form), status=status
        )
    messages.success(request, SUCCESS.get(name, _("操作成功。")))
    return redirect("leads:detail", pk=lead.pk)


def _tip_ids_from_codes(text: str) -> list[int]:
    codes = [c for c in (text or "").replace(",", " ").replace("，", " ").split() if c]
    found = dict(Tip.objects.filter(tracking_code__in=codes).values_list("tracking_code", "pk"))
    missing = [c for c in codes if c not in found]
    if missing:
        raise TransitionError.field("tips", _("查询码不存在：%(codes)s") % {"codes": "、".join(missing)})
    return list(found.values())


@never_cache
@role_required(*ALL_ROLES)
def attachment_download(request, pk: int, attachment_id: int):
    """Attachments are served only to users who see the lead (and the unit's findings), and logged."""
    lead = selectors.lead_get_visible(request.user, pk)
    att = get_object_or_404(LeadAttachment.objects.select_related("assignment"), pk=attachment_id, lead=lead)
    if att.assignment_id and not selectors.can_see_findings(request.user, att.assignment):
        raise Http404
    audit_record(
        actor=request.user,
        action="lead_attachment_download",
        target=att,
        data={"lead": lead.number, "name": att.name},
        ip=client_ip(request),
    )
    response = FileResponse(
        att.file.open("rb"), as_attachment=True, filename=att.name, content_type=att.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- registration and triage ---------------------------------------------------------------------
@never_cache
@role_required(Role.OFFICE, Role.POLICE)
def lead_new(request):
    """Direct registration (公安统一受理, or the office's own lead), optionally assigned at once."""
    form = LeadRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead = lead_register(
                actor=request.user,
                sector=data["sector"],
                region=data["region"],
                summary=data["summary"],
                accused=data["accused"],
                priority=data["priority"],
                source=data["source"],
                origin_reference=data["origin_reference"],
                restricted=data["restricted"],
                units=list(data["units"]) if request.user.role == Role.OFFICE else [],
                days=data["days"],
                note=data["note"],
            )
        except TransitionError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("已登记线索 %(number)s。") % {"number": lead.number})
            if selectors.lead_list_visible_to(request.user).filter(pk=lead.pk).exists():
                return redirect("leads:detail", pk=lead.pk)
            return redirect("leads:list")
    if request.user.role != Role.OFFICE:
        del form.fields["units"]
        del form.fields["days"]
    return render(request, "leads/lead_new.html", {"form": form}, status=400 if form.errors else 200)


def _proposals_for(tips: list[Tip]) -> dict[int, list]:
    """Routing proposals per tip: the worker's stored proposal when there is one, else computed now."""
    rules = routing_rules_load()
    units = {u.code: u for u in Unit.objects.all()}
    out = {}
    for tip in tips:
        stored = routing_proposals_from_payload(tip.routing_proposal, units) if tip.routing_proposal else []
        out[tip.pk] = stored or routing_propose_for_tip(tip, rules)
    return out


@never_cache
@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def triage(request):
    """Office triage: new tips with routing proposals; bulk register / merge / reject."""
    page = _page(request, selectors.tip_list_for_triage())
    tips = list(page.object_list)
    proposals = _proposals_for(tips)
    bulk = TriageBulkForm(tip_ids=[t.pk for t in tips])
    if request.method == "POST":
        tip_ids = [int(t) for t in request.POST.getlist("tips") if t.isdigit()]
        bulk = TriageBulkForm(request.POST, tip_ids=tip_ids)
        if bulk.is_valid():
            data = bulk.cleaned_data
            lead_id = None
            if data["bulk_action"] == "merge":
                lead = (
                    selectors.lead_list_visible_to(request.user)
                    .filter(number=data["lead_number"].strip())
                    .first()
                )
                if lead is None:
                    bulk.add_error("lead_number", _("线索编号不存在。"))
                lead_id = lead.pk if lead else None
            if not bulk.errors:
                chosen = list(
                    Tip.objects.filter(pk__in=data["tips"]).select_related("sector__lead_unit", "region")
                )
                try:
                    done, errors = tip_triage_bulk(
                        tip_ids=data["tips"],
                        action=data["bulk_action"],
                        actor=request.user,
                        note=data["note"],
                        lead_id=lead_id,
                        proposals=_proposals_for(chosen),
                    )
                except TransitionError as exc:
                    bulk.add_error(None, exc.message)
                else:
                    if done:
                        messages.success(request, _("已处理 %(n)s 条举报。") % {"n": len(done)})
                    for error in errors.values():
                        messages.error(request, error)
                    return redirect(request.get_full_path())
    rows = [{"tip": t, "proposals": proposals[t.pk]} for t in tips]
    return render(
        request,
        "leads/triage.html",
        {"page": page, "rows": rows, "bulk": bulk},
        status=400 if bulk.errors else 200,
    )


@never_cache
@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def triage_tip(request, tip_id: int):
    """One tip's triage: register (with the proposed units ticked), merge, mark duplicate, reject."""
    visible = tip_list_visible_to(request.user)
    tip = get_object_or_404(visible.select_related("sector", "sector__lead_unit", "region"), pk=tip_id)
    proposals = _proposals_for([tip])[tip.pk]
    initial = {
        "summary": tip.description,
        "accused": tip.accused,
        "sector": tip.sector.code if tip.sector_id else None,
        "region": tip.region.code if tip.region_id else None,
        "units": [p.unit.code for p in proposals],
        "source": "public_report",
    }
    forms = {
        "register": LeadRegisterForm(initial=initial, prefix="register"),
        "merge": TipMergeForm(prefix="merge"),
        "duplicate": TipDuplicateForm(prefix="duplicate"),
        "reject": TipRejectForm(prefix="reject"),
    }
    active = request.POST.get("triage_action", "") if request.method == "POST" else ""
    if request.method == "POST" and active in forms:
        form = type(forms[active])(request.POST, prefix=active)
        forms[active] = form
        if form.is_valid() and tip.status == TipStatus.NEW:
            lead_result = _triage_submit(request, tip, active, form, proposals)
            if lead_result is not None:
                return lead_result
        elif tip.status != TipStatus.NEW:
            form.add_error(
                None, _("该举报已研判（%(status)s），不能重复处理。") % {"status": tip.get_status_display()}
            )
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render(
        request,
        "leads/triage_tip.html",
        {"tip": tip, "proposals": proposals, "forms": forms, "active": active or "register"},
        status=status,
    )


def _triage_submit(request, tip, action, form, proposals):
    data = form.cleaned_data
    kwargs = {"note": data.get("note", "")}
    if action == "register":
        kwargs.update(
            sector=data["sector"],
            region=data["region"],
            summary=data["summary"],
            accused=data["accused"],
            priority=data["priority"],
            source=data["source"],
            origin_reference=data["origin_reference"],
            restricted=data["restricted"],
            units=list(data["units"]),
            days=data["days"],
            reasons={p.unit.code: p.reason for p in proposals},
        )
    elif action == "merge":
        lead = selectors.lead_list_visible_to(request.user).filter(number=data["lead_number"].strip()).first()
        if lead is None:
            form.add_error("lead_number", _("线索编号不存在。"))
            return None
        kwargs["lead_id"] = lead.pk
    elif action == "duplicate":
        original = (
            tip_list_visible_to(request.user).filter(tracking_code=data["duplicate_of"].strip()).first()
        )
        if original is None:
            form.add_error("duplicate_of", _("查询码不存在。"))
            return None
        kwargs["duplicate_of_id"] = original.pk
    try:
        outcome = tip_triage(tip_id=tip.pk, action=action, actor=request.user, **kwargs)
    except (TransitionError, VersionConflict) as exc:
        for field, errors in getattr(exc, "errors", {}).items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        if not getattr(exc, "errors", None):
            form.add_error(None, exc.message)
        return None
    if outcome.lead is not None:
        messages.success(
            request,
            _("举报 %(code)s 已处理，线索 %(number)s。")
            % {"code": tip.tracking_code, "number": outcome.lead.number},
        )
        return redirect(reverse("leads:detail", args=[outcome.lead.pk]))
    messages.success(request, _("举报 %(code)s 已处理。") % {"code": tip.tracking_code})
    return redirect("leads:triage")
