"""Backtracking reports (责任倒查): who held a lead when, and what was missed earlier in a sector × region.

For one lead (or a closed criminal case, which is a lead closed as 刑事立案): every unit that held it,
from the Assignment, ExtensionRequest and LeadEvent rows — when it was assigned, signed for, its
deadlines and extensions, the overdue spans, send-backs, returns for re-verification, and who concluded
"unsubstantiated" on what findings.

For a sector × region: the leads there that were substantiated or closed with action, each with the
earlier tips and leads about the same people or companies that were closed without action — matched
on the accused text with pg_trgm similarity (the linking feature's entity table will sharpen this).

Both export as rows (CSV / Excel) through `lead_rows` and `cell_rows`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.models import Region, Sector
from campaign.workdays import workdays_between
from leads.models import (
    Assignment,
    AssignmentStatus,
    Disposition,
    ExtensionRequest,
    Lead,
    LeadStatus,
    Result,
)
from reports.models import Tip, TipStatus

from .models import Action

CLOSED_WITH_ACTION = (
    Disposition.CRIMINAL_CASE,
    Disposition.ADMINISTRATIVE_PENALTY,
    Disposition.DISCIPLINE_REFERRAL,
)
FOUND = (Result.SUBSTANTIATED, Result.PARTLY)
NOT_FOUND = (Result.UNSUBSTANTIATED, Result.CANNOT_VERIFY)


@dataclass
class Holding:
    """One unit's time with a lead."""

    assignment: Assignment
    start: dt.datetime
    end: dt.datetime | None
    original_deadline: dt.datetime
    extensions: list[ExtensionRequest]
    overdue_from: dt.datetime | None = None
    overdue_to: dt.datetime | None = None
    overdue_days: int = 0
    overdue_workdays: int = 0
    ongoing: bool = False
    outcome: str = ""

    @property
    def unit(self):
        return self.assignment.unit

    @property
    def held_days(self) -> int:
        end = self.end or timezone.now()
        return max((end - self.start).days, 0)


@dataclass
class LeadBacktrack:
    lead: Lead
    holdings: list[Holding]
    unsubstantiated: list[dict]
    events: list
    actions: list[Action]
    total_overdue_workdays: int = 0
    notes: list[str] = field(default_factory=list)


def _outcome(a: Assignment) -> str:
    if a.status == AssignmentStatus.SENT_BACK:
        return _("退单")
    if a.status == AssignmentStatus.WITHDRAWN:
        return _("已改派")
    if a.status == AssignmentStatus.SUBMITTED:
        return _("已反馈：%(result)s") % {"result": a.get_result_display()}
    if a.status == AssignmentStatus.ACCEPTED:
        return _("核查中")
    return _("待签收")


def lead_backtrack(lead: Lead, *, now: dt.datetime | None = None) -> LeadBacktrack:
    now = now or timezone.now()
    assignments = list(
        Assignment.objects.filter(lead=lead)
        .select_related("unit", "assigned_by", "accepted_by", "submitted_by")
        .order_by("assigned_at", "id")
    )
    extensions: dict[int, list[ExtensionRequest]] = {}
    for ext in (
        ExtensionRequest.objects.filter(assignment__lead=lead)
        .select_related("requested_by", "decided_by")
        .order_by("requested_at", "id")
    ):
        extensions.setdefault(ext.assignment_id, []).append(ext)
    holdings = []
    for a in assignments:
        exts = extensions.get(a.pk, [])
        approved = [e for e in exts if e.status == ExtensionRequest.Status.APPROVED]
        original = approved[0].old_deadline if approved else a.deadline
        if a.status == AssignmentStatus.SUBMITTED:
            end = a.submitted_at
        elif a.status == AssignmentStatus.SENT_BACK:
            end = a.sent_back_at
        elif a.status == AssignmentStatus.WITHDRAWN:
            end = a.closed_at
        else:
            end = None
        h = Holding(
            assignment=a,
            start=a.assigned_at,
            end=end,
            original_deadline=original,
            extensions=exts,
            ongoing=end is None,
            outcome=_outcome(a),
        )
        stop = end or now
        if stop > a.deadline:
            h.overdue_from, h.overdue_to = a.deadline, stop
            h.overdue_days = (stop - a.deadline).days
            h.overdue_workdays = max(workdays_between(a.deadline, stop), 0)
        holdings.append(h)
    unsubstantiated = [
        {
            "who": a.submitted_by,
            "unit": a.unit,
            "when": a.submitted_at,
            "result": a.get_result_display(),
            "findings": a.findings,
            "level": _("承办单位结论"),
        }
        for a in assignments
        if a.result in NOT_FOUND and a.submitted_at
    ]
    if lead.status == LeadStatus.CLOSED and lead.result in NOT_FOUND:
        unsubstantiated.append(
            {
                "who": lead.closed_by,
                "unit": None,
                "when": lead.closed_at,
                "result": lead.get_result_display(),
                "findings": lead.closing_note,
                "level": _("办结审核"),
            }
        )
    events = list(lead.events.select_related("actor", "assignment__unit").order_by("at", "id"))
    actions = list(Action.objects.filter(leads=lead).order_by("created_at"))
    result = LeadBacktrack(
        lead=lead,
        holdings=holdings,
        unsubstantiated=unsubstantiated,
        events=events,
        actions=actions,
        total_overdue_workdays=sum(h.overdue_workdays for h in holdings),
    )
    return result


def _dt(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


LEAD_HEADER = [
    "线索编号",
    "承办单位",
    "派单时间",
    "签收时间",
    "原办理期限",
    "最终办理期限",
    "延期",
    "结束时间",
    "办理结果",
    "超期起",
    "超期止",
    "超期天数",
    "超期工作日",
    "退回重查次数",
    "核查结论",
    "反馈人",
    "核查情况",
]


def lead_rows(bt: LeadBacktrack) -> list[list]:
    rows = []
    for h in bt.holdings:
        a = h.assignment
        ext = "；".join(
            f"{_dt(e.requested_at)} 申请{e.days}个工作日 {e.get_status_display()}" for e in h.extensions
        )
        rows.append(
            [
                bt.lead.number,
                a.unit.name,
                _dt(a.assigned_at),
                _dt(a.accepted_at),
                _dt(h.original_deadline),
                _dt(a.deadline),
                ext,
                _dt(h.end) or _("仍在办理"),
                h.outcome,
                _dt(h.overdue_from),
                _dt(h.overdue_to) if not h.ongoing else (_("至今") if h.overdue_from else ""),
                h.overdue_days,
                h.overdue_workdays,
                a.returned_count,
                a.get_result_display() if a.result else "",
                str(a.submitted_by or ""),
                a.findings,
            ]
        )
    return rows


@dataclass
class CellFinding:
    lead: Lead
    earlier_leads: list[Lead]
    earlier_tips: list[Tip]


def _regions(region: Region) -> list[int]:
    ids = [region.pk]
    if region.level == Region.Level.CITY:
        ids += list(Region.objects.filter(parent=region).values_list("pk", flat=True))
    return ids


def cell_backtrack(
    *,
    sector: Sector,
    region: Region,
    since: dt.date | None = None,
    until: dt.date | None = None,
    threshold: float = 0.3,
    limit: int = 100,
) -> list[CellFinding]:
    """Leads found or acted on in the sector × region, with earlier matters about the same accused
    that were closed without action (leads: 不予处理 or 查否/无法核实; tips: 不予受理 or joined to such a lead)."""
    subjects = Lead.objects.filter(sector=sector, region_id__in=_regions(region)).filter(
        Q(result__in=FOUND) | Q(disposition__in=CLOSED_WITH_ACTION)
    )
    if since:
        subjects = subjects.filter(created_at__date__gte=since)
    if until:
        subjects = subjects.filter(created_at__date__lte=until)
    subjects = subjects.exclude(accused="").order_by("-created_at")[:limit]
    closed_without_action = Q(status=LeadStatus.CLOSED) & (
        Q(disposition=Disposition.NO_ACTION) | Q(result__in=NOT_FOUND)
    )
    findings = []
    for lead in subjects:
        text = lead.accused
        earlier = list(
            Lead.objects.filter(closed_without_action, created_at__lt=lead.created_at)
            .exclude(pk=lead.pk)
            .exclude(accused="")
            .annotate(similarity=TrigramSimilarity("accused", text))
            .filter(similarity__gte=threshold)
            .select_related("sector", "region", "closed_by")
            .order_by("-similarity", "-created_at")[:20]
        )
        tips = list(
            Tip.objects.filter(received_at__lt=lead.created_at)
            .filter(
                Q(status=TipStatus.REJECTED)
                | Q(
                    lead_link__lead__status=LeadStatus.CLOSED,
                    lead_link__lead__disposition=Disposition.NO_ACTION,
                )
                | Q(lead_link__lead__status=LeadStatus.CLOSED, lead_link__lead__result__in=NOT_FOUND)
            )
            .exclude(lead_link__lead=lead)
            .exclude(accused="")
            .annotate(similarity=TrigramSimilarity("accused", text))
            .filter(similarity__gte=threshold)
            .order_by("-similarity", "-received_at")[:20]
        )
        if earlier or tips:
            findings.append(CellFinding(lead=lead, earlier_leads=earlier, earlier_tips=tips))
    return findings


CELL_HEADER = [
    "线索编号",
    "涉及人员/单位",
    "核查结论",
    "办结方式",
    "此前类型",
    "此前编号",
    "此前涉及人员/单位",
    "相似度",
    "此前处理",
    "时间",
]


def cell_rows(findings: list[CellFinding]) -> list[list]:
    rows = []
    for f in findings:
        base = [f.lead.number, f.lead.accused, f.lead.get_result_display(), f.lead.get_disposition_display()]
        for e in f.earlier_leads:
            rows.append(
                base
                + [
                    _("线索"),
                    e.number,
                    e.accused,
                    f"{e.similarity:.2f}",
                    f"{e.get_result_display()} / {e.get_disposition_display()}",
                    _dt(e.closed_at),
                ]
            )
        for t in f.earlier_tips:
            rows.append(
                base
                + [
                    _("举报"),
                    t.tracking_code,
                    t.accused,
                    f"{t.similarity:.2f}",
                    t.get_status_display(),
                    _dt(t.received_at),
                ]
            )
    return rows


def to_csv(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        # Cells starting with = + - @ would run as formulas in a spreadsheet.
        writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(title: str, header: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([f"'{c}" if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
    for column in ws.columns:
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.6), 60)
        for c in column[1:]:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
