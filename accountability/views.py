"""Accountability pages: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from campaign.access import role_required
from campaign.audit import audit_record, client_ip
from campaign.models import Unit
from campaign.roles import Role
from leads.models import Lead

from . import assessments, backtracking, drafting, selectors
from .documents import PdfUnavailable, render_fragment, render_html, render_pdf
from .forms import (
    ActionForm,
    AdjustForm,
    BacktrackCellForm,
    BacktrackLeadForm,
    DecisionForm,
    ItemFormSet,
    NoteForm,
    PeriodForm,
    ReportForm,
    TalkRecordForm,
    TaskForm,
    TaskReportForm,
    TaskReviewForm,
)
from .models import (
    Action,
    ActionKind,
    ActionSource,
    ActionStatus,
    Assessment,
    PeriodKind,
    RectificationEvidence,
    TaskStatus,
    UnitTaskAttachment,
)
from .services import (
    action_propose,
    action_transition,
    action_update_draft,
    unit_task_assign,
    unit_task_report,
    unit_task_review,
)
from .workflow import STEPS, WorkflowError, may_have_items, step_label

ACTION_ROLES = tuple(selectors.ACTION_ROLES)
OFFICE = (Role.OFFICE,)


def _apply_errors(form, exc: WorkflowError) -> None:
    """Put a service's field errors next to the form's fields (the rest at the top of the form)."""
    placed = False
    for field, msgs in (exc.errors or {}).items():
        name = field if field in form.fields else None
        for msg in msgs:
            form.add_error(name, msg)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _page(request, qs, size: int = 30):
    return Paginator(qs, size).get_page(request.GET.get("page"))


# --- actions -------------------------------------------------------------------------------------
@role_required(*ACTION_ROLES)
def action_list(request):
    qs = selectors.action_list_visible_to(request.user)
    f = {k: request.GET.get(k, "") for k in ("kind", "status", "unit", "source")}
    if f["kind"] in ActionKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["status"] in ActionStatus.values:
        qs = qs.filter(status=f["status"])
    if f["source"] in ActionSource.values:
        qs = qs.filter(source=f["source"])
    if f["unit"]:
        qs = qs.filter(units__code=f["unit"]).distinct()
    page = _page(request, selectors.action_list_with_related(qs).order_by("-created_at", "-id"))
    return render(
        request,
        "accountability/action_list.html",
        {
            "page": page,
            "f": f,
            "kinds": ActionKind.choices,
            "statuses": ActionStatus.choices,
            "sources": ActionSource.choices,
            "units": Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.OFFICE),
        },
    )


@role_required(Role.OFFICE, Role.LEADER, Role.ADMIN)
def proposal_list(request):
    page = _page(request, selectors.action_list_with_related(selectors.proposal_queue()))
    return render(request, "accountability/proposal_list.html", {"page": page})


def _lead_ids(numbers: list[str]) -> tuple[list[int], list[str]]:
    found = dict(Lead.objects.filter(number__in=numbers).values_list("number", "pk"))
    return [found[n] for n in numbers if n in found], [n for n in numbers if n not in found]


@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def action_new(request):
    form = ActionForm(request.POST or None, initial={"kind": request.GET.get("kind", ActionKind.NOTICE)})
    if request.method == "POST" and form.is_valid():
        lead_ids, missing = _lead_ids(form.lead_numbers())
        if missing:
            form.add_error("leads", _("线索 %(numbers)s 不存在。") % {"numbers": "、".join(missing)})
        else:
            try:
                action = action_propose(
                    kind=form.cleaned_data["kind"],
                    units=list(form.cleaned_data["units"]),
                    reasons=form.cleaned_data["reasons"],
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    leads=lead_ids,
                    source=ActionSource.MANUAL,
                    actor=request.user,
                    notify_office=False,
                )
            except WorkflowError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("已创建草稿，请补充整改事项等内容后确认印发。"))
                return redirect("accountability:action-edit", pk=action.pk)
    return render(request, "accountability/action_new.html", {"form": form})


def _get_action(request, pk: int) -> Action:
    try:
        return selectors.action_get_visible(request.user, pk)
    except Action.DoesNotExist:
        raise Http404


@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def action_edit(request, pk: int):
    """Edit a draft (kind, units, wording, items) and, with the second button, issue it at once."""
    action = _get_action(request, pk)
    if action.status != ActionStatus.DRAFT:
        messages.info(request, _("该措施已不是草稿，不能再修改。"))
        return redirect("accountability:action-detail", pk=pk)
    items = list(action.items.order_by("seq"))
    initial = {
        "kind": action.kind,
        "units": list(action.units.all()),
        "title": action.title,
        "addressees": action.addressees,
        "reasons": action.reasons,
        "body": action.body,
        "leads": " ".join(action.leads.order_by("number").values_list("number", flat=True)),
        "cc": action.cc,
        "talk_at": timezone.localtime(action.talk_at).strftime("%Y-%m-%dT%H:%M") if action.talk_at else None,
        "talk_place": action.talk_place,
    }
    item_initial = [{"description": i.description, "deadline_days": i.deadline_days} for i in items]
    if request.method == "POST":
        form = ActionForm(request.POST, initial=initial)
        formset = ItemFormSet(request.POST, prefix="items", initial=item_initial)
        if form.is_valid() and formset.is_valid():
            lead_ids, missing = _lead_ids(form.lead_numbers())
            if missing:
                form.add_error("leads", _("线索 %(numbers)s 不存在。") % {"numbers": "、".join(missing)})
            else:
                rows = [
                    {
                        "description": f.cleaned_data.get("description", ""),
                        "deadline_days": f.cleaned_data.get("deadline_days"),
                    }
                    for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
                talk_at = form.cleaned_data.get("talk_at")
                try:
                    action_update_draft(
                        action_id=action.pk,
                        actor=request.user,
                        expected_version=request.POST.get("version") or None,
                        kind=form.cleaned_data["kind"],
                        units=list(form.cleaned_data["units"]),
                        title=form.cleaned_data["title"]
                        or drafting.default_title(
                            form.cleaned_data["kind"], list(form.cleaned_data["units"])
                        ),
                        addressees=form.cleaned_data["addressees"],
                        reasons=form.cleaned_data["reasons"],
                        body=form.cleaned_data["body"],
                        leads=lead_ids,
                        items=rows if may_have_items(form.cleaned_data["kind"]) else [],
                        cc=form.cleaned_data["cc"],
                        talk_at=talk_at,
                        talk_place=form.cleaned_data["talk_place"],
                    )
                    if "issue" in request.POST:
                        action_transition(
                            action_id=action.pk, step="issue", actor=request.user, ip=client_ip(request)
                        )
                except WorkflowError as exc:
                    _apply_errors(form, exc)
                else:
                    action.refresh_from_db()
                    if action.status == ActionStatus.DRAFT:
                        messages.success(request, _("草稿已保存。"))
                    else:
                        messages.success(
                            request, _("已印发，发文字号 %(number)s。") % {"number": action.doc_number}
                        )
                    return redirect("accountability:action-detail", pk=pk)
    else:
        form = ActionForm(initial=initial)
        formset = ItemFormSet(
            prefix="items", initial=item_initial or [{}, {}] if may_have_items(action.kind) else []
        )
    return render(
        request,
        "accountability/action_edit.html",
        {
            "action": action,
            "form": form,
            "formset": formset,
            "rectifying_kinds": ["talk", "supervision", "listed_supervision", "rectification"],
        },
    )


EVENT_LABELS = {
    "propose": _lazy("生成问责建议"),
    "propose_more": _lazy("并入超期线索"),
    "edit": _lazy("修改草稿"),
    "item_overdue": _lazy("整改事项逾期"),
}

STEP_FORMS = {
    "dismiss": NoteForm,
    "close": NoteForm,
    "report": ReportForm,
    "accept_item": DecisionForm,
    "reject_item": DecisionForm,
    "record_talk": TalkRecordForm,
}


@role_required(*ACTION_ROLES)
@require_http_methods(["GET", "POST"])
def action_detail(request, pk: int):
    action = _get_action(request, pk)
    failed: dict = {}
    if request.method == "POST":
        step = request.POST.get("step", "")
        form_class = STEP_FORMS.get(step, NoteForm)
        form = form_class(request.POST)
        if step not in STEPS or step == "mark_overdue":
            form.add_error(None, _("未知操作。"))
        elif form.is_valid():
            try:
                action_transition(
                    action_id=action.pk,
                    step=step,
                    actor=request.user,
                    note=form.cleaned_data.get("note", ""),
                    expected_version=request.POST.get("version") or None,
                    item=form.cleaned_data.get("item"),
                    body=form.cleaned_data.get("body", ""),
                    talk_record=form.cleaned_data.get("talk_record", ""),
                    evidence=request.FILES.getlist("evidence"),
                    ip=client_ip(request),
                )
            except WorkflowError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("已%(step)s。") % {"step": STEPS[step].label})
                return redirect("accountability:action-detail", pk=pk)
        failed = {"step": step, "form": form, "item": request.POST.get("item")}
        action = _get_action(request, pk)
    detail = selectors.action_detail(action)
    allowed = selectors.action_allowed(action, request.user, items=detail["items"], units=detail["units"])
    can_act_on = {}
    from .workflow import item_error

    for item in detail["items"]:
        can_act_on[item.pk] = [
            name
            for name in ("report", "accept_item", "reject_item")
            if name in allowed and item_error(name, item, request.user) is None
        ]
        item.steps = can_act_on[item.pk]
    for event in detail["events"]:
        event.label = EVENT_LABELS.get(event.name) or step_label(event.name)
        event.to_status_label = (
            ActionStatus(event.to_status).label if event.to_status in ActionStatus.values else ""
        )
    document = drafting.action_document(action)
    return render(
        request,
        "accountability/action_detail.html",
        {
            "action": action,
            **detail,
            "allowed": allowed,
            "steps": STEPS,
            "failed": failed,
            "document_html": render_fragment(document),
            "is_unit_user": request.user.role in (Role.LIAISON, Role.UNIT_HEAD),
        },
        status=400 if failed else 200,
    )


@role_required(*ACTION_ROLES)
def action_document(request, pk: int):
    """The official document as a printable page (GB/T 9704 layout); ?record=1 for a talk record."""
    action = _get_action(request, pk)
    record = request.GET.get("record") == "1" and action.kind == ActionKind.TALK
    doc = drafting.action_document(action, record=record)
    toolbar = {
        "back": reverse("accountability:action-detail", args=[pk]),
        "pdf": reverse("accountability:action-pdf", args=[pk]) + ("?record=1" if record else ""),
    }
    return HttpResponse(render_html(doc, request=request, toolbar=toolbar))


@role_required(*ACTION_ROLES)
def action_pdf(request, pk: int):
    action = _get_action(request, pk)
    record = request.GET.get("record") == "1" and action.kind == ActionKind.TALK
    try:
        pdf = render_pdf(drafting.action_document(action, record=record))
    except PdfUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("accountability:action-document", pk=pk)
    name = (action.doc_number or f"draft-{action.pk}") + ("-约谈记录" if record else "")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}.pdf"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@role_required(*ACTION_ROLES)
def evidence_download(request, pk: int):
    evidence = get_object_or_404(RectificationEvidence.objects.select_related("report__item"), pk=pk)
    _get_action(request, evidence.report.item.action_id)  # 404 when the action is out of scope
    audit_record(
        actor=request.user, action="accountability.evidence_download", target=evidence, ip=client_ip(request)
    )
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.name,
        content_type=evidence.content_type,
    )


@role_required(Role.LIAISON, Role.UNIT_HEAD)
def rectification_list(request):
    """My unit's rectification: open items to report on, and the actions against the unit."""
    items = list(selectors.rectification_items_for_unit(request.user.unit_id))
    now = timezone.now()
    for item in items:
        item.late = item.is_overdue(now)
    actions = selectors.action_list_with_related(
        selectors.action_list_visible_to(request.user).order_by("-issued_at", "-id")
    )[:50]
    return render(request, "accountability/rectification_list.html", {"items": items, "actions": actions})


# --- assessments ---------------------------------------------------------------------------------
def _period_from(request) -> tuple[str, dt.date]:
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    kind, day = PeriodKind.QUARTER, today
    if form.is_valid():
        kind = form.cleaned_data.get("period_kind") or PeriodKind.QUARTER
        year = form.cleaned_data.get("year") or today.year
        quarter = form.cleaned_data.get("quarter") or (
            (today.month - 1) // 3 + 1 if year == today.year else 4
        )
        day = dt.date(year, 1, 1) if kind == PeriodKind.YEAR else dt.date(year, quarter * 3 - 2, 1)
    return kind, day


@role_required(*selectors.ASSESSMENT_ROLES)
@require_http_methods(["GET", "POST"])
def assessment_list(request):
    kind, day = _period_from(request)
    start, end = assessments.period_bounds(kind, day)
    if request.method == "POST":
        if request.user.role != Role.OFFICE:
            raise Http404
        rows = assessments.assessments_compute(kind=kind, day=day)
        audit_record(
            actor=request.user,
            action="accountability.assessments_compute",
            data={"kind": kind, "start": start.isoformat(), "units": len(rows)},
            ip=client_ip(request),
        )
        messages.success(request, _("已按最新数据重新计算 %(n)s 个单位的考核结果。") % {"n": len(rows)})
        return redirect(f"{reverse('accountability:assessments')}?{request.GET.urlencode()}")
    rows = list(
        selectors.assessment_list_visible_to(request.user)
        .filter(period_kind=kind, period_start=start)
        .order_by("rank", "unit__sort_order")
    )
    for r in rows:
        detail = (r.metrics or {}).get("detail", {})
        r.scores = [detail.get(key, {}).get("score", "") for key, _label in _indicator_labels()]
    today = timezone.localdate()
    return render(
        request,
        "accountability/assessment_list.html",
        {
            "rows": rows,
            "kind": kind,
            "start": start,
            "end": end,
            "label": Assessment(period_kind=kind, period_start=start).period_label,
            "years": list(range(today.year, today.year - 4, -1)),
            "year": start.year,
            "quarter": (start.month - 1) // 3 + 1,
            "indicators": _indicator_labels(),
        },
    )


def _indicator_labels() -> list[tuple[str, str]]:
    return [
        ("on_time", _("按期核查")),
        ("returned", _("退回重查")),
        ("handled", _("办理线索")),
        ("acceptance", _("按时签收")),
        ("publicity", _("宣传发动")),
        ("rectification", _("问题整改")),
        ("tasks", _("工作任务")),
    ]


@role_required(*selectors.ASSESSMENT_ROLES)
@require_http_methods(["GET", "POST"])
def assessment_detail(request, pk: int):
    row = get_object_or_404(selectors.assessment_list_visible_to(request.user), pk=pk)
    form = AdjustForm(initial={"adjustment": row.adjustment, "reason": ""})
    if request.method == "POST":
        if request.user.role != Role.OFFICE:
            raise Http404
        form = AdjustForm(request.POST)
        if form.is_valid():
            try:
                assessments.assessment_adjust(
                    assessment_id=row.pk,
                    actor=request.user,
                    adjustment=form.cleaned_data["adjustment"],
                    reason=form.cleaned_data["reason"],
                    ip=client_ip(request),
                )
            except WorkflowError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("考核结果已调整。"))
                return redirect("accountability:assessment-detail", pk=pk)
    metrics = row.metrics or {}
    raw, detail = metrics.get("raw", {}), metrics.get("detail", {})
    explain = {
        "on_time": _("应办结 %(due)s 件，按期反馈 %(on_time)s 件") % raw if raw else "",
        "returned": _("被退回重查 %(returned)s 件") % raw if raw else "",
        "handled": _("办理线索 %(handled)s 条，预期 %(expected)s 条") % raw if raw else "",
        "acceptance": _("未按时签收 %(not_accepted)s 件") % raw if raw else "",
        "publicity": _("开展宣传活动 %(publicity)s 次，目标 %(publicity_target)s 次") % raw if raw else "",
        "rectification": _("未完成整改 %(open_rectifications)s 项，逾期 %(overdue_rectifications)s 项") % raw
        if raw
        else "",
        "tasks": _("逾期工作任务 %(overdue_tasks)s 项") % raw if raw else "",
    }
    lines = [
        {"key": key, "label": label, "explain": explain.get(key, ""), **detail.get(key, {})}
        for key, label in _indicator_labels()
    ]
    return render(
        request,
        "accountability/assessment_detail.html",
        {
            "row": row,
            "lines": lines,
            "form": form,
            "adjustments": list(row.adjustments.select_related("actor")),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- backtracking --------------------------------------------------------------------------------
def _export(request, *, name: str, header: list[str], rows: list[list], fmt: str, target=None):
    audit_record(
        actor=request.user,
        action="accountability.backtrack_export",
        target=target,
        data={"format": fmt, "rows": len(rows), "name": name},
        ip=client_ip(request),
    )
    if fmt == "xlsx":
        body = backtracking.to_xlsx(name, header, rows)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, ctype = backtracking.to_csv(header, rows), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}.{fmt}"
    return response


@role_required(*selectors.BACKTRACK_ROLES)
def backtrack_index(request):
    lead_form = BacktrackLeadForm(request.GET if "number" in request.GET else None)
    if lead_form.is_bound and lead_form.is_valid():
        lead = Lead.objects.filter(number=lead_form.cleaned_data["number"].strip()).first()
        if lead:
            return redirect("accountability:backtrack-lead", pk=lead.pk)
        lead_form.add_error("number", _("没有编号为该号码的线索。"))
    cell_form = BacktrackCellForm(request.GET if "sector" in request.GET else None)
    findings = None
    if cell_form.is_bound and cell_form.is_valid():
        c = cell_form.cleaned_data
        findings = backtracking.cell_backtrack(
            sector=c["sector"], region=c["region"], since=c["since"], until=c["until"]
        )
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx"):
            return _export(
                request,
                name=f"责任倒查-{c['sector'].name}-{c['region'].name}",
                header=backtracking.CELL_HEADER,
                rows=backtracking.cell_rows(findings),
                fmt=fmt,
            )
    return render(
        request,
        "accountability/backtrack_index.html",
        {
            "lead_form": lead_form,
            "cell_form": cell_form,
            "findings": findings,
            "query": request.GET.urlencode(),
        },
    )


@role_required(*selectors.BACKTRACK_ROLES)
def backtrack_lead(request, pk: int):
    from leads.selectors import lead_list_visible_to

    lead = get_object_or_404(
        lead_list_visible_to(request.user).select_related("sector", "region", "closed_by"), pk=pk
    )
    bt = backtracking.lead_backtrack(lead)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _export(
            request,
            name=f"责任倒查-{lead.number}",
            header=backtracking.LEAD_HEADER,
            rows=backtracking.lead_rows(bt),
            fmt=fmt,
            target=lead,
        )
    return render(request, "accountability/backtrack_lead.html", {"bt": bt, "lead": lead})


# --- unit tasks ----------------------------------------------------------------------------------
TASK_EVENT_LABELS = {
    "assign": _lazy("交办"),
    "report": _lazy("报告进展"),
    "final_report": _lazy("申请报结"),
    "accept": _lazy("审核通过"),
    "return": _lazy("退回"),
    "overdue": _lazy("逾期提醒"),
    "escalated": _lazy("逾期提级督办"),
}


@role_required(*selectors.TASK_ROLES)
def task_list(request):
    qs = selectors.unit_task_list_visible_to(request.user)
    status = request.GET.get("status", "")
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    elif status == "overdue":
        qs = qs.filter(overdue_at__isnull=False, status__in=["assigned", "in_progress"])
    page = _page(request, qs.order_by("deadline", "id"))
    now = timezone.now()
    for task in page.object_list:
        task.late = task.is_overdue(now)
    return render(
        request,
        "accountability/task_list.html",
        {"page": page, "status": status, "statuses": TaskStatus.choices},
    )


@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def task_new(request):
    form = TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        try:
            tasks = unit_task_assign(
                actor=request.user,
                units=list(c["units"]),
                title=c["title"],
                description=c["description"],
                phase=c["phase"],
                deadline_days=c["deadline_days"] if not c["deadline"] else None,
                deadline=c["deadline"],
            )
        except WorkflowError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已向 %(n)s 个单位交办任务。") % {"n": len(tasks)})
            return redirect("accountability:tasks")
    return render(request, "accountability/task_new.html", {"form": form}, status=400 if form.errors else 200)


@role_required(*selectors.TASK_ROLES)
@require_http_methods(["GET", "POST"])
def task_detail(request, pk: int):
    task = get_object_or_404(selectors.unit_task_list_visible_to(request.user), pk=pk)
    report_form = TaskReportForm(initial={"progress": task.progress})
    review_form = TaskReviewForm()
    failed = False
    if request.method == "POST":
        try:
            if request.POST.get("step") == "report":
                report_form = TaskReportForm(request.POST)
                if report_form.is_valid():
                    c = report_form.cleaned_data
                    unit_task_report(
                        task_id=task.pk,
                        actor=request.user,
                        body=c["body"],
                        progress=c["progress"],
                        is_final=c["is_final"],
                        files=request.FILES.getlist("attachments"),
                    )
                    messages.success(request, _("进展情况已报送。"))
                    return redirect("accountability:task-detail", pk=pk)
            elif request.POST.get("step") == "review":
                review_form = TaskReviewForm(request.POST)
                if review_form.is_valid():
                    unit_task_review(
                        task_id=task.pk,
                        actor=request.user,
                        accept=review_form.cleaned_data["decision"] == "accept",
                        note=review_form.cleaned_data["note"],
                    )
                    messages.success(request, _("已审核。"))
                    return redirect("accountability:task-detail", pk=pk)
        except WorkflowError as exc:
            if exc.kind == "forbidden":
                raise Http404
            _apply_errors(report_form if request.POST.get("step") == "report" else review_form, exc)
        failed = True
    reports = list(task.reports.select_related("submitted_by").prefetch_related("attachments"))
    events = list(task.events.select_related("actor"))
    for event in events:
        event.label = TASK_EVENT_LABELS.get(event.name, event.name)
    return render(
        request,
        "accountability/task_detail.html",
        {
            "task": task,
            "reports": reports,
            "events": events,
            "report_form": report_form,
            "review_form": review_form,
            "can_report": request.user.role in (Role.LIAISON, Role.UNIT_HEAD)
            and task.status in ("assigned", "in_progress"),
            "can_review": request.user.role == Role.OFFICE and task.status == TaskStatus.SUBMITTED,
            "late": task.is_overdue(),
        },
        status=400 if failed else 200,
    )


@role_required(*selectors.TASK_ROLES)
def task_attachment(request, pk: int):
    att = get_object_or_404(UnitTaskAttachment.objects.select_related("report__task"), pk=pk)
    get_object_or_404(selectors.unit_task_list_visible_to(request.user), pk=att.report.task_id)
    return FileResponse(
        att.file.open("rb"), as_attachment=True, filename=att.name, content_type=att.content_type
    )


@role_required(*OFFICE)
@require_POST
def proposal_blind_spot(request):
    """The dashboards' one-click proposal for a blind spot: a draft notice for the sector's regulating unit."""
    from campaign.models import Region, Sector

    sector = Sector.objects.filter(code=request.POST.get("sector", "")).select_related("lead_unit").first()
    region = Region.objects.filter(code=request.POST.get("region", "")).first()
    if sector is None or region is None:
        messages.error(request, _("请选择行业领域和地区。"))
        return redirect(request.POST.get("next") or "accountability:proposals")
    period = (request.POST.get("period") or "").strip()[:40]
    reasons = _(
        "%(period)s%(region)s%(sector)s领域未发现涉黑涉恶线索，存在监管盲区，%(unit)s行业监管职责落实不到位。"
    ) % {
        "period": period,
        "region": region.name,
        "sector": sector.name,
        "unit": sector.lead_unit.short_name or sector.lead_unit.name,
    }
    action = action_propose(
        kind=ActionKind.NOTICE,
        units=[sector.lead_unit],
        reasons=reasons,
        source=ActionSource.BLIND_SPOT,
        actor=request.user,
        dedupe_key=f"blind-spot:{sector.code}:{region.code}:{period}",
        notify_office=False,
    )
    messages.success(request, _("已生成问责建议草稿。"))
    return redirect("accountability:action-edit", pk=action.pk)
