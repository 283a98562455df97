"""Linking pages. Thin: visibility comes from the owners' selectors, writes go through the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from campaign.access import role_required

from . import access, graph, imports, selectors
from .conf import linking_setting
from .forms import MappingForm, PairForm, UploadForm, WatchFlagForm
from .models import (
    CaseImport,
    CaseKind,
    Dismissal,
    Entity,
    EntityKind,
    ImportedCase,
    ItemKind,
    Link,
)
from .services import (
    CASE,
    WATCH_KINDS,
    LinkingError,
    Ref,
    link_create,
    link_dismiss,
    link_dismissal_revoke,
    pair_filter,
    watch_flag_create,
    watch_flag_lift,
)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _style(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if getattr(widget, "input_type", "") == "select" else "form-control"
        widget.attrs.setdefault("class", css)


# --- related panel and page ----------------------------------------------------------------------
def _subject(request, kind: str, pk: int):
    if kind == ItemKind.TIP:
        return selectors.tip_for_related(user=request.user, tip_id=pk)
    return selectors.lead_for_related(user=request.user, lead_id=pk)


def _related(request, kind: str, obj):
    if kind == ItemKind.TIP:
        return selectors.related_for_tip(tip=obj, user=request.user)
    return selectors.related_for_lead(lead=obj, user=request.user)


def _related_context(request, kind: str, obj, *, notice: str = "", notice_level: str = "success") -> dict:
    related = _related(request, kind, obj)
    subject_url = reverse("reports:tip_detail" if kind == ItemKind.TIP else "leads:detail", args=[obj.pk])
    base = reverse(f"linking:{kind}_related", args=[obj.pk])
    return {
        "related": related,
        "subject": obj,
        "subject_kind": kind,
        "subject_code": obj.tracking_code if kind == ItemKind.TIP else obj.number,
        "subject_url": subject_url,
        "container_id": f"related-{kind}-{obj.pk}",
        "related_url": base,
        "link_url": reverse(f"linking:{kind}_link", args=[obj.pk]),
        "dismiss_url": reverse(f"linking:{kind}_dismiss", args=[obj.pk]),
        "graph_url": reverse("linking:lead_graph", args=[obj.pk]) if kind == ItemKind.LEAD else "",
        "notice": notice,
        "notice_level": notice_level,
        "min_similarity": linking_setting("SIMILARITY_MIN"),
    }


@never_cache
@require_GET
@role_required(*access.RELATED_ROLES)
def related(request, kind: str, pk: int):
    """The related panel: a fragment for htmx (the tip and lead pages load it), a full page otherwise."""
    obj = _subject(request, kind, pk)
    context = _related_context(request, kind, obj)
    if _is_htmx(request) or request.GET.get("fragment"):
        return render(request, "linking/partials/related.html", context)
    if access.can_link(request.user):
        context["dismissals"] = list(
            Dismissal.objects.filter(pair_filter(Ref(kind, obj.pk))).select_related("dismissed_by")[:100]
        )
        context["dismissal_labels"] = selectors.ref_labels(
            {
                Ref(d.b_kind, d.b_id) if (d.a_kind, d.a_id) == (kind, obj.pk) else Ref(d.a_kind, d.a_id)
                for d in context["dismissals"]
            }
        )
        for d in context["dismissals"]:
            other = Ref(d.b_kind, d.b_id) if (d.a_kind, d.a_id) == (kind, obj.pk) else Ref(d.a_kind, d.a_id)
            d.other_label = context["dismissal_labels"].get(other, other.key())
            d.other_kind = ItemKind(other.kind).label
    return render(request, "linking/related_page.html", context)


def _pair_action(request, kind: str, pk: int, action: str):
    obj = _subject(request, kind, pk)
    form = PairForm(request.POST)
    outcome_message, level, refresh = "", "success", False
    if not form.is_valid():
        outcome_message, level = _("请求无效：%(fields)s。") % {"fields": "、".join(form.errors)}, "danger"
    else:
        source = Ref(kind, obj.pk)
        target = Ref(form.cleaned_data["kind"], form.cleaned_data["id"])
        try:
            if action == "link":
                outcome = link_create(
                    actor=request.user, source=source, target=target, note=form.cleaned_data["note"]
                )
                outcome_message = outcome.message
                refresh = outcome.link.outcome in (Link.Outcome.REGISTERED, Link.Outcome.MERGED)
            else:
                link_dismiss(
                    actor=request.user, source=source, target=target, reason=form.cleaned_data["note"]
                )
                outcome_message = _("已排除该建议，以后不再提示。")
        except LinkingError as exc:
            outcome_message, level = exc.message, "danger"
            if exc.kind == "forbidden":
                return HttpResponse(exc.message, status=403)
    if _is_htmx(request):
        if refresh:
            # The tip (or lead) itself changed: reload the page so its status and lead show.
            messages.success(request, outcome_message)
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        obj = _subject(request, kind, pk)
        context = _related_context(request, kind, obj, notice=outcome_message, notice_level=level)
        # 200 even for a refusal: htmx swaps only successful responses, and the notice says what went wrong.
        return render(request, "linking/partials/related.html", context)
    (messages.success if level == "success" else messages.error)(request, outcome_message)
    return redirect(f"linking:{kind}_related", pk=pk)


@never_cache
@require_POST
@role_required(*access.LINK_ROLES)
def link(request, kind: str, pk: int):
    return _pair_action(request, kind, pk, "link")


@never_cache
@require_POST
@role_required(*access.LINK_ROLES)
def dismiss(request, kind: str, pk: int):
    return _pair_action(request, kind, pk, "dismiss")


@never_cache
@require_POST
@role_required(*access.LINK_ROLES)
def dismissal_revoke(request, kind: str, pk: int, dismissal_id: int):
    _subject(request, kind, pk)
    try:
        link_dismissal_revoke(actor=request.user, dismissal_id=dismissal_id)
        messages.success(request, _("已恢复该关联建议。"))
    except LinkingError as exc:
        messages.error(request, exc.message)
    return redirect(f"linking:{kind}_related", pk=pk)


# --- graph ---------------------------------------------------------------------------------------
@never_cache
@require_GET
@role_required(*access.RELATED_ROLES)
def lead_graph(request, pk: int):
    lead = selectors.lead_for_related(user=request.user, lead_id=pk)
    data = graph.graph_for_lead(lead=lead, user=request.user)
    return render(request, "linking/graph.html", {"lead": lead, "graph": data})


# --- key monitoring ------------------------------------------------------------------------------
@never_cache
@role_required(*access.WATCH_ROLES)
def watch(request):
    can_edit = request.user.role in access.WATCH_EDIT_ROLES and request.user.unit_id is not None
    form = WatchFlagForm(request.POST or None, initial=_watch_initial(request))
    _style(form)
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if form.is_valid():
            try:
                flag = watch_flag_create(actor=request.user, **form.cleaned_data)
            except LinkingError as exc:
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, _("已列入重点监控：%(label)s。") % {"label": flag.label})
                return redirect("linking:watch")
    state = request.GET.get("state", "active")
    flags = Paginator(selectors.watch_list(request.user, state=state), 50).get_page(request.GET.get("page"))
    for flag in flags:
        flag.display = selectors.watch_display(flag)
        flag.show_reason = request.user.role in access.WATCH_ALL_ROLES or flag.unit_id == request.user.unit_id
    return render(
        request,
        "linking/watch.html",
        {"form": form, "flags": flags, "state": state, "can_edit": can_edit},
        status=400 if form.errors else 200,
    )


def _watch_initial(request) -> dict:
    """Prefill from an entity page (?entity=id), for roles that read entities."""
    entity_id = request.GET.get("entity", "")
    if entity_id.isdigit() and request.user.role in access.ANALYSIS_ROLES:
        entity = Entity.objects.filter(pk=int(entity_id)).first()
        if entity and entity.kind in (k.value for k in WATCH_KINDS):
            return {"kind": entity.kind, "value": entity.value}
    return {}


@never_cache
@role_required(*access.WATCH_ROLES)
def watch_detail(request, pk: int):
    flag = get_object_or_404(selectors.watch_list_visible_to(request.user), pk=pk)
    flag.display = selectors.watch_display(flag)
    hits = selectors.watch_hits(request.user, flag)
    can_lift = (
        flag.lifted_at is None
        and (request.user.role == "office" or (request.user.unit_id and request.user.unit_id == flag.unit_id))
        and request.user.role in access.WATCH_EDIT_ROLES
    )
    return render(request, "linking/watch_detail.html", {"flag": flag, "hits": hits, "can_lift": can_lift})


@never_cache
@require_POST
@role_required(*access.WATCH_EDIT_ROLES)
def watch_lift(request, pk: int):
    flag = get_object_or_404(selectors.watch_list_visible_to(request.user), pk=pk)
    try:
        watch_flag_lift(flag_id=flag.pk, actor=request.user)
        messages.success(request, _("已解除重点监控。"))
    except LinkingError as exc:
        messages.error(request, exc.message)
    return redirect("linking:watch_detail", pk=pk)


# --- repeat targets and entities ------------------------------------------------------------------
@never_cache
@require_GET
@role_required(*access.ANALYSIS_ROLES)
def repeat(request):
    kind = request.GET.get("kind", "")
    spread_only = request.GET.get("all") != "1"
    rows = selectors.repeat_targets(kind=kind, spread_only=spread_only)
    kinds = [(k, EntityKind(k).label) for k in EntityKind.values if k != EntityKind.PLACE]
    return render(
        request,
        "linking/repeat.html",
        {"rows": rows, "kind": kind, "kinds": kinds, "spread_only": spread_only},
    )


@never_cache
@require_GET
@role_required(*access.ANALYSIS_ROLES)
def entity_detail(request, pk: int):
    entity = get_object_or_404(Entity, pk=pk)
    shown = selectors.entity_display(entity.kind, entity.value)
    items = selectors.entity_mentions(request.user, entity)
    flags = list(
        selectors.watch_list(request.user, state="active").filter(kind=entity.kind, value=entity.value)
    )
    return render(
        request,
        "linking/entity.html",
        {
            "entity": entity,
            "shown": shown,
            "items": items,
            "flags": flags,
            "can_flag": request.user.role in access.WATCH_EDIT_ROLES,
        },
    )


# --- cases and imports ---------------------------------------------------------------------------
@never_cache
@require_GET
@role_required(*access.CASE_ROLES)
def cases(request):
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "")
    page = Paginator(selectors.case_list(kind=kind, q=q), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "linking/cases.html",
        {
            "page": page,
            "kind": kind,
            "q": q,
            "kinds": CaseKind.choices,
            "can_import": request.user.role in access.IMPORT_ROLES,
        },
    )


@never_cache
@require_GET
@role_required(*access.CASE_ROLES)
def case_detail(request, pk: int):
    case = get_object_or_404(ImportedCase.objects.select_related("region", "sector", "batch"), pk=pk)
    entities = list(
        Entity.objects.filter(mentions__case=case).order_by("kind", "value").values("pk", "kind", "value")
    )
    for e in entities:
        e["shown"] = selectors.entity_display(e["kind"], e["value"])
        e["kind_label"] = EntityKind(e["kind"]).label
    flags = selectors.flags_for_item(request.user, Ref(CASE, case.pk))
    return render(request, "linking/case_detail.html", {"case": case, "entities": entities, "flags": flags})


@never_cache
@role_required(*access.IMPORT_ROLES)
def imports_list(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    _style(form)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.case_import_upload(
                actor=request.user,
                name=upload.name,
                data=upload.read(),
                default_kind=form.cleaned_data["default_kind"],
            )
        except LinkingError as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            return redirect("linking:import_detail", pk=batch.pk)
    batches = Paginator(
        CaseImport.objects.select_related("created_by").order_by("-created_at", "-id"), 30
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "linking/imports.html",
        {"form": form, "batches": batches},
        status=400 if form.errors else 200,
    )


def _mapping_form(batch: CaseImport, data=None) -> MappingForm:
    initial = {name: "" if index is None else str(index) for name, index in (batch.mapping or {}).items()}
    initial["default_kind"] = batch.default_kind
    form = MappingForm(data, headers=batch.headers, initial=initial)
    _style(form)
    return form


def _import_context(batch: CaseImport, form=None) -> dict:
    return {
        "batch": batch,
        "form": form or _mapping_form(batch),
        "fields": imports.field_choices(),
        "preview": imports.preview_rows(batch),
        "mapped": {name: batch.headers[i] for name, i in (batch.mapping or {}).items() if i is not None},
        "can_map": batch.status
        in (CaseImport.Status.UPLOADED, CaseImport.Status.INVALID, CaseImport.Status.VALID),
    }


@never_cache
@role_required(*access.IMPORT_ROLES)
def import_detail(request, pk: int):
    batch = get_object_or_404(CaseImport, pk=pk)
    form = None
    if request.method == "POST":
        form = _mapping_form(batch, request.POST)
        if form.is_valid():
            try:
                batch = imports.case_import_set_mapping(
                    import_id=batch.pk,
                    actor=request.user,
                    mapping=form.mapping(),
                    default_kind=form.cleaned_data["default_kind"],
                )
            except LinkingError as exc:
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                if imports.runs_in_request(batch):
                    imports.case_import_validate(import_id=batch.pk)
                return redirect("linking:import_detail", pk=batch.pk)
        batch.refresh_from_db()
    return render(
        request,
        "linking/import_detail.html",
        _import_context(batch, form),
        status=400 if form and form.errors else 200,
    )


@never_cache
@require_GET
@role_required(*access.IMPORT_ROLES)
def import_progress(request, pk: int):
    """Polled by the import page while a worker validates or imports (htmx; JSON for scripts)."""
    batch = get_object_or_404(CaseImport, pk=pk)
    if "application/json" in request.headers.get("Accept", "") and not _is_htmx(request):
        from django.http import JsonResponse

        return JsonResponse(
            {
                "status": batch.status,
                "processed": batch.processed_rows,
                "total": batch.total_rows,
                "percent": batch.percent,
                "problems": batch.problem_count,
            }
        )
    response = render(request, "linking/partials/import_progress.html", {"batch": batch})
    if not batch.is_running and _is_htmx(request):
        # Finished: load the whole page once, with the report or the result.
        response["HX-Refresh"] = "true"
    return response


@never_cache
@require_POST
@role_required(*access.IMPORT_ROLES)
def import_confirm(request, pk: int):
    batch = get_object_or_404(CaseImport, pk=pk)
    try:
        batch = imports.case_import_confirm(import_id=batch.pk, actor=request.user)
    except LinkingError as exc:
        messages.error(request, exc.message)
        return redirect("linking:import_detail", pk=pk)
    if imports.runs_in_request(batch):
        batch = imports.case_import_run(import_id=batch.pk)
        if batch.status == CaseImport.Status.DONE:
            messages.success(request, _("导入完成。"))
        else:
            messages.error(request, batch.error)
    return redirect("linking:import_detail", pk=pk)


@never_cache
@require_POST
@role_required(*access.IMPORT_ROLES)
def import_retry(request, pk: int):
    batch = get_object_or_404(CaseImport, pk=pk)
    try:
        batch = imports.case_import_retry(import_id=batch.pk, actor=request.user)
    except LinkingError as exc:
        messages.error(request, exc.message)
        return redirect("linking:import_detail", pk=pk)
    if imports.runs_in_request(batch):
        imports.case_import_run(import_id=batch.pk)
    return redirect("linking:import_detail", pk=pk)
