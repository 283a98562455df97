"""The permission matrix (campaign/permission_matrix.py) against every URL pattern and every role.

The static tests fail when a URL (or an HTTP method a view accepts) has no row, or a row names no URL:
a new endpoint cannot ship without saying who may use it. The walk asks every URL as every role, on the
demo data (the seeders `seed_demo` runs), and compares each answer with the table. Every request runs
in a savepoint that is rolled back, so each one meets the same data whatever ran before it.

PERMISSION_MATRIX_DUMP=path writes the answers actually seen as table rows (for drafting new rows).
"""

from __future__ import annotations

import copy
import fnmatch
import inspect
import io
import os
import re
import traceback
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.views.generic import RedirectView

from campaign import permission_matrix as pm

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROLE_USERS = {
    "office": "office",
    "police": "police",
    "liaison": "liaison_housing",
    "unit_head": "unit_head_housing",
    "leader": "leader",
    "discipline": "discipline",
    "admin": "admin",
}
OWN_UNIT, OTHER_UNIT = "housing", "transport"


# --- the URLconf ---------------------------------------------------------------------------------
@dataclass
class Entry:
    """One URL pattern: its key in the table (URL name, or `route:<route>` when unnamed)."""

    key: str
    route: str
    callback: object
    params: tuple[str, ...]
    methods: tuple[str, ...]
    name: str | None

    def build(self, kwargs: dict) -> str:
        if self.name:
            return reverse(self.name, kwargs=kwargs)
        path = self.route
        for key, value in kwargs.items():
            path = re.sub(rf"<(?:\w+:)?{key}>|\(\?P<{key}>[^)]*\)", str(value), path)
        return "/" + path.lstrip("^").rstrip("$")


def _params(pattern) -> tuple[str, ...]:
    if isinstance(pattern, RoutePattern):
        return tuple(pattern.converters)
    return tuple(pattern.regex.groupindex)


# The admin's own views take forms (POST) on these pages; its other pages only show.
ADMIN_FORM_VIEWS = re.compile(
    r"^admin:(.+_(add|change|delete|changelist)|login|logout|password_change|auth_user_password_change)$"
)


def _declared_methods(callback) -> tuple[str, ...]:
    """The methods a view accepts: DRF actions and views, Django class views, require_http_methods;
    for a plain function view, GET, and POST when its code reads a POST."""
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(m for m in HTTP_METHODS if m.lower() in actions)
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None and issubclass(cls, RedirectView):
        return ("GET",)  # the admin's old-style object URLs: every method gets the same redirect
    if cls is not None:
        return tuple(m for m in HTTP_METHODS if hasattr(cls, m.lower()))
    func = callback
    while True:
        try:
            allowed = inspect.getclosurevars(func).nonlocals.get("request_method_list")
        except (TypeError, ValueError):
            allowed = None
        if allowed:
            return tuple(m for m in HTTP_METHODS if m in allowed)
        if getattr(func, "__wrapped__", None) is None:
            break
        func = func.__wrapped__
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        source = ""
    return ("GET", "POST") if re.search(r"\bPOST\b", source) else ("GET",)


def url_entries() -> list[Entry]:
    out: list[Entry] = []

    def walk(patterns, prefix: str, namespaces: tuple[str, ...], params: tuple[str, ...]):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = namespaces + ((p.namespace,) if p.namespace else ())
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns, params + _params(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = ":".join((*namespaces, p.name)) if p.name else None
                methods = _declared_methods(p.callback)
                if name and name.startswith("admin:"):
                    methods = ("GET", "POST") if ADMIN_FORM_VIEWS.match(name) else ("GET",)
                yield Entry(
                    key=name or f"route:{route}",
                    route=route,
                    callback=p.callback,
                    params=params + _params(p.pattern),
                    methods=methods,
                    name=name,
                )

    out.extend(walk(get_resolver().url_patterns, "", (), ()))
    return out


def rule_for(key: str, method: str, rules: list[pm.Rule]) -> pm.Rule | None:
    exact = [r for r in rules if r.key == key and r.method == method]
    if exact:
        return exact[0]
    globs = [r for r in rules if r.is_glob and r.method == method and fnmatch.fnmatchcase(key, r.key)]
    # The most specific glob wins (the longest pattern).
    return max(globs, key=lambda r: len(r.key.replace("*", ""))) if globs else None


def _is_admin(key: str) -> bool:
    """Django admin URLs: the walk finds their objects itself, from the model each URL belongs to."""
    return key.startswith(("admin:", "route:admin/"))


def coverage_problems(rules: list[pm.Rule], entries: list[Entry]) -> list[str]:
    """Every URL name has a row for each method it accepts (at least one), every row names a URL."""
    problems = []
    keys = {e.key for e in entries}
    for entry in entries:
        for method in entry.methods:
            if rule_for(entry.key, method, rules) is None:
                problems.append(f"missing rule for URL name {entry.key} {method} ({entry.route})")
        for rule in rules:
            if rule.key == entry.key and rule.method not in entry.methods:
                problems.append(f"rule {rule.key} {rule.method}: the view does not accept {rule.method}")
    for rule in rules:
        if rule.is_glob:
            if not any(fnmatch.fnmatchcase(k, rule.key) for k in keys):
                problems.append(f"rule {rule.key} {rule.method} matches no URL")
        elif rule.key not in keys:
            problems.append(f"rule {rule.key} {rule.method} names no URL")
    for rule in rules:
        if rule.is_glob:
            continue
        glob = rule_for(rule.key, rule.method, [r for r in rules if r.is_glob])
        if glob is not None and glob.answers == rule.answers:
            problems.append(f"rule {rule.key} {rule.method} repeats what {glob.key} says: remove it")
    seen = defaultdict(int)
    for rule in rules:
        seen[(rule.key, rule.method)] += 1
    problems += [f"rule {k} {m} appears {n} times" for (k, m), n in seen.items() if n > 1]
    for entry in entries:
        for method in HTTP_METHODS:
            rule = rule_for(entry.key, method, rules)
            if rule is not None and entry.params and not rule.obj and not _is_admin(entry.key):
                problems.append(f"rule {rule.key} {method} needs obj= for its parameters {entry.params}")
    return problems


# --- static checks (fast) ------------------------------------------------------------------------
def test_every_url_and_method_has_a_rule_and_every_rule_a_url():
    problems = coverage_problems(pm.RULES, url_entries())
    assert not problems, "\n".join(problems)


def test_removing_a_rule_fails_the_check():
    """Without a row a URL is uncovered (static check) or falls to a glob that answers otherwise (walk)."""
    entries = url_entries()
    exact = [r for r in pm.RULES if not r.is_glob]
    overriding = [r for r in exact if rule_for(r.key, r.method, [g for g in pm.RULES if g.is_glob])]
    for victim in (exact[0], exact[len(exact) // 2], exact[-1], *overriding[:2]):
        remaining = [r for r in pm.RULES if r is not victim]
        fallback = rule_for(victim.key, victim.method, remaining)
        if fallback is None:
            problems = coverage_problems(remaining, entries)
            assert f"missing rule for URL name {victim.key} {victim.method}" in "\n".join(problems)
        else:
            assert fallback.answers != victim.answers, f"removing {victim.key} changes nothing"
    for glob in (r for r in pm.RULES if r.is_glob):
        remaining = [r for r in pm.RULES if r is not glob]
        assert any(p.startswith("missing rule") for p in coverage_problems(remaining, entries)), glob.key


def test_a_new_url_without_a_rule_fails_the_check():
    extra = Entry(
        key="reports:brand_new",
        route="tips/brand-new/",
        callback=lambda request: None,
        params=(),
        methods=("GET",),
        name=None,
    )
    problems = coverage_problems(pm.RULES, [*url_entries(), extra])
    assert "missing rule for URL name reports:brand_new GET (tips/brand-new/)" in problems


def test_every_row_has_an_answer_for_every_role():
    for rule in pm.RULES:
        assert set(rule.answers) == set(pm.ROLES)
        for role, value in rule.answers.items():
            values = value if isinstance(value, tuple) else (value,)
            assert all(v in (200, 302, 403, 404, 405) for v in values), (rule.key, role, value)
            assert not isinstance(value, tuple) or role in pm.UNIT_SCOPED or rule.obj, (rule.key, role)


# --- the demo world ------------------------------------------------------------------------------
def _file(name: str = "证据.pdf") -> ContentFile:
    return ContentFile(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", name=name)


class World:
    """Objects of each kind from the demo data: (own unit's, another unit's), or per user."""

    def __init__(self):
        from campaign.models import Unit, User

        self.users = {u.username: u for u in User.objects.all()}
        self.own = Unit.objects.get(code=OWN_UNIT)
        self.other = Unit.objects.get(code=OTHER_UNIT)
        self.office = self.users["office"]
        self._cache: dict[str, tuple[dict, dict]] = {}

    # unit-scoped kinds: (own unit's kwargs, other unit's kwargs)
    def pair(self, kind: str) -> tuple[dict, dict]:
        if kind not in self._cache:
            finder = getattr(self, f"_k_{kind}", None)
            if finder is None:
                raise LookupError(f"the walk does not know object kind {kind!r}")
            with transaction.atomic():  # a failed lookup must not break the module's transaction
                self._cache[kind] = finder()
        return self._cache[kind]

    def kwargs(self, kind: str, *, user, other: bool) -> dict:
        per_user = getattr(self, f"_u_{kind}", None)
        if per_user is not None:
            with transaction.atomic():
                return per_user(user=user, other=other)
        own, foreign = self.pair(kind)
        return foreign if other else own

    # --- reports
    def _tip_for(self, unit):
        from reports.models import Tip

        tip = Tip.objects.filter(unit=unit).order_by("pk").first()
        if tip is None:
            tip = Tip.objects.filter(unit__isnull=True).exclude(status="new").order_by("pk").first()
            Tip.objects.filter(pk=tip.pk).update(unit=unit)
        return tip

    def _k_tip(self):
        return {"tip_id": self._tip_for(self.own).pk}, {"tip_id": self._tip_for(self.other).pk}

    def _k_tip_pk(self):
        own, other = self._k_tip()
        return {"pk": own["tip_id"]}, {"pk": other["tip_id"]}

    def _k_tip_new(self):
        from reports.models import Tip

        tip = Tip.objects.filter(status="new").order_by("pk").first()
        return {"tip_id": tip.pk}, {"tip_id": tip.pk}

    def _attachment_for(self, tip):
        from reports.models import TipAttachment

        att = tip.attachments.order_by("pk").first()
        if att is None:
            att = TipAttachment(tip=tip, original_name="现场.pdf", content_type="application/pdf", size=10)
            att.file.save("x", _file(), save=False)
            att.sha256 = "0" * 64
            att.save()
        return att

    def _k_tip_attachment(self):
        own, other = (self._tip_for(u) for u in (self.own, self.other))
        return (
            {"attachment_id": self._attachment_for(own).pk},
            {"attachment_id": self._attachment_for(other).pk},
        )

    def _k_reward(self):
        from reports.models import Reward

        reward = Reward.objects.order_by("pk").first()
        return {"reward_id": reward.pk}, {"reward_id": reward.pk}

    def _k_case(self):
        from reports.models import TypicalCase

        case = TypicalCase.objects.filter(is_published=True).order_by("pk").first()
        return {"case_id": case.pk}, {"case_id": case.pk}

    # --- leads
    def _lead_for(self, unit, avoid):
        from leads.models import Assignment, Lead

        qs = (
            Lead.objects.filter(assignments__unit=unit, restricted=False, discipline_referred=False)
            .exclude(pk__in=Assignment.objects.filter(unit=avoid).values("lead_id"))
            .exclude(created_by__role="police")
            .order_by("pk")
        )
        lead = qs.first()
        assert lead is not None, f"the demo data has no lead of {unit.code} alone"
        return lead

    def _k_lead(self):
        return (
            {"pk": self._lead_for(self.own, self.other).pk},
            {"pk": self._lead_for(self.other, self.own).pk},
        )

    def _lead_attachment(self, lead):
        from leads.models import LeadAttachment

        att = lead.attachments.order_by("pk").first()
        if att is None:
            att = LeadAttachment(lead=lead, name="核查报告.pdf", content_type="application/pdf", size=10)
            att.file.save("x", _file(), save=False)
            att.sha256 = "0" * 64
            for f in LeadAttachment._meta.concrete_fields:
                if f.name == "uploaded_by":
                    att.uploaded_by = self.office
            att.save()
        return {"pk": lead.pk, "attachment_id": att.pk}

    def _k_lead_attachment(self):
        own, other = (self._lead_for(a, b) for a, b in ((self.own, self.other), (self.other, self.own)))
        return self._lead_attachment(own), self._lead_attachment(other)

    def _k_callback(self):
        from leads.models import CallBack

        callback = CallBack.objects.order_by("pk").first()
        assert callback is not None, "the demo data has no call-back"
        return {"pk": callback.pk}, {"pk": callback.pk}

    def _k_bulletin(self):
        from leads.models import Bulletin

        bulletin = Bulletin.objects.order_by("pk").first()
        assert bulletin is not None, "the demo data has no weekly bulletin"
        return {"pk": bulletin.pk}, {"pk": bulletin.pk}

    # --- accountability
    def _action_for(self, unit, avoid):
        from accountability.models import Action

        action = (
            Action.objects.filter(units=unit)
            .exclude(units=avoid)
            .exclude(status="draft")
            .order_by("pk")
            .first()
        ) or Action.objects.filter(units=unit).exclude(units=avoid).order_by("pk").first()
        assert action is not None, f"the demo data has no accountability action for {unit.code}"
        return action

    def _k_action(self):
        return (
            {"pk": self._action_for(self.own, self.other).pk},
            {"pk": self._action_for(self.other, self.own).pk},
        )

    def _evidence_for(self, action, unit):
        from accountability.models import RectificationEvidence, RectificationItem, RectificationReport

        evidence = RectificationEvidence.objects.filter(report__item__action=action).order_by("pk").first()
        if evidence is None:
            item = action.items.order_by("pk").first() or RectificationItem.objects.create(
                action=action, seq=99, description="整改", deadline_days=10
            )
            report = RectificationReport.objects.create(
                item=item, unit=unit, body="已整改", submitted_by=self.office
            )
            evidence = RectificationEvidence(
                report=report,
                name="整改.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                uploaded_by=self.office,
            )
            evidence.file.save("x", _file(), save=False)
            evidence.save()
        return {"pk": evidence.pk}

    def _k_evidence(self):
        return (
            self._evidence_for(self._action_for(self.own, self.other), self.own),
            self._evidence_for(self._action_for(self.other, self.own), self.other),
        )

    def _k_assessment(self):
        from accountability.models import Assessment

        own = Assessment.objects.filter(unit=self.own).order_by("pk").first()
        other = Assessment.objects.filter(unit=self.other).order_by("pk").first()
        return {"pk": own.pk}, {"pk": other.pk}

    def _task_for(self, unit):
        from accountability.models import UnitTask

        task = UnitTask.objects.filter(unit=unit).order_by("pk").first()
        assert task is not None, f"the demo data has no unit task for {unit.code}"
        return task

    def _k_task(self):
        return {"pk": self._task_for(self.own).pk}, {"pk": self._task_for(self.other).pk}

    def _task_attachment(self, task):
        from accountability.models import UnitTaskAttachment, UnitTaskReport

        att = UnitTaskAttachment.objects.filter(report__task=task).order_by("pk").first()
        if att is None:
            report = task.reports.order_by("pk").first() or UnitTaskReport.objects.create(
                task=task, body="进展", progress=50, submitted_by=self.office
            )
            att = UnitTaskAttachment(
                report=report,
                name="进展.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                uploaded_by=self.office,
            )
            att.file.save("x", _file(), save=False)
            att.save()
        return {"pk": att.pk}

    def _k_task_attachment(self):
        return self._task_attachment(self._task_for(self.own)), self._task_attachment(
            self._task_for(self.other)
        )

    # --- dashboard
    def _k_unit_code(self):
        return {"code": self.own.code}, {"code": self.other.code}

    def _k_export_view(self):
        return {"view": "units", "fmt": "csv"}, {"view": "units", "fmt": "csv"}

    def _u_export_job(self, *, user, other: bool):
        from dashboard.models import ExportJob

        owner = self.users["leader"] if (other or user is None) else user
        if owner.username == "leader" and other and user is not None and user.username == "leader":
            owner = self.office
        job, _ = ExportJob.objects.get_or_create(
            owner=owner, kind="dashboard.units", defaults={"title": "单位排名", "fmt": "csv"}
        )
        return {"job_id": job.pk}

    # --- linking
    def _dismissal_for(self, kind: str, pk: int):
        from leads.linking.models import Dismissal

        d = (
            Dismissal.objects.filter(a_kind=kind, a_id=pk).first()
            or Dismissal.objects.filter(b_kind=kind, b_id=pk).first()
        )
        if d is None:
            d = Dismissal.objects.create(
                a_kind=kind, a_id=pk, b_kind="case", b_id=0, dismissed_by=self.office
            )
        return {"pk": pk, "dismissal_id": d.pk}

    def _k_tip_dismissal(self):
        own, other = self._k_tip_pk()
        return self._dismissal_for("tip", own["pk"]), self._dismissal_for("tip", other["pk"])

    def _k_lead_dismissal(self):
        own, other = self._k_lead()
        return self._dismissal_for("lead", own["pk"]), self._dismissal_for("lead", other["pk"])

    def _k_watch(self):
        import datetime as dt

        from leads.linking.models import WatchFlag

        def flag(unit):
            found = WatchFlag.objects.filter(unit=unit).order_by("pk").first()
            return found or WatchFlag.objects.create(
                kind="phone",
                value="13903911234",
                label="监控",
                reason="测试",
                unit=unit,
                ends_on=dt.date(2099, 1, 1),
                created_by=self.office,
            )

        return {"pk": flag(self.own).pk}, {"pk": flag(self.other).pk}

    def _k_entity(self):
        from leads.linking.models import Entity

        entity = Entity.objects.order_by("pk").first() or Entity.objects.create(
            kind="phone", value="13903911234", key="13903911234"
        )
        return {"pk": entity.pk}, {"pk": entity.pk}

    def _k_linked_case(self):
        from leads.linking.models import ImportedCase

        case = ImportedCase.objects.order_by("pk").first()
        return {"pk": case.pk}, {"pk": case.pk}

    def _k_case_import(self):
        from leads.linking.models import CaseImport

        imp = CaseImport.objects.order_by("pk").first()
        if imp is None:
            imp = CaseImport(
                created_by=self.office,
                original_name="cases.csv",
                size=10,
                sha256="0" * 64,
                file_format="csv",
                default_kind="criminal",
            )
            imp.file.save("cases.csv", _file("cases.csv"), save=False)
            imp.save()
        return {"pk": imp.pk}, {"pk": imp.pk}

    # --- campaign
    def _u_notification(self, *, user, other: bool):
        from campaign.models import Notification

        owner = self.users["leader"] if (other or user is None) else user
        if other and user is not None and user.username == "leader":
            owner = self.office
        note = Notification.objects.filter(user=owner).order_by("pk").first() or Notification.objects.create(
            user=owner, kind="test", title="测试通知"
        )
        return {"pk": note.pk}

    def _u_user_session(self, *, user, other: bool):
        from campaign.models import UserSession

        owner = self.users["leader"] if (other or user is None) else user
        if other and user is not None and user.username == "leader":
            owner = self.office
        session = UserSession.objects.filter(user=owner).order_by("pk").first() or UserSession.objects.create(
            user=owner, session_key=f"matrix-{owner.pk:034d}"
        )
        return {"pk": session.pk}

    def _k_region_code(self):
        return {"code": "jiefang"}, {"code": "jiefang"}

    def _k_sector_code(self):
        return {"code": "construction"}, {"code": "construction"}

    def _k_admin_app(self):
        return {"app_label": "reports"}, {"app_label": "reports"}

    def _k_admin_catch_all(self):
        return {"url": "no-such-page/"}, {"url": "no-such-page/"}

    def admin_object(self, entry: Entry) -> dict:
        """`object_id` for an admin URL, from the model the URL belongs to (an existing row)."""
        from django.contrib.contenttypes.models import ContentType

        if "content_type_id" in entry.params:  # "view on site"
            tip = self._tip_for(self.own)
            return {"content_type_id": ContentType.objects.get_for_model(tip).pk, "object_id": tip.pk}
        for model in admin.site._registry:
            if entry.route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
                obj = model._default_manager.order_by("pk").first()
                name = "object_id" if "object_id" in entry.params else "id"
                return {name: obj.pk if obj is not None else 0}
        raise LookupError(entry.key)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, seeded once for the module inside a transaction that is rolled back at the end."""
    from campaign import demo

    _ = get_resolver().url_patterns  # modules loaded with the URL map register seeders too (bulletins)
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("matrix-media"))
    media.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with redirect_stdout(io.StringIO()):
                for _order, _name, seeder in demo.seeders():
                    if os.environ.get("PERMISSION_MATRIX_DUMP"):
                        try:  # drafting works on whatever the seeders manage
                            with transaction.atomic():
                                seeder()
                        except Exception:  # noqa: S112
                            traceback.print_exc()
                            continue
                    else:
                        seeder()
            yield World()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            media.disable()


# --- asking --------------------------------------------------------------------------------------
def _login_paths() -> set[str]:
    return {reverse(n) for n in ("login", "login-otp", "login-enrol", "admin:login")}


def outcome(response) -> int:
    """The table's vocabulary for one response (see campaign/permission_matrix.py)."""
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        return pm.LOGIN if urlsplit(response["Location"]).path in _login_paths() else pm.OK
    if 200 <= code < 300 or code in (400, 409, 410, 422):
        return pm.OK
    return code


class Asker:
    """One logged-in test client per role; every request in a savepoint that is rolled back."""

    def __init__(self, world: World):
        self.world = world
        self.clients: dict[str, Client] = {}
        for role in pm.ROLES:
            client = Client(raise_request_exception=False)
            if role != "anonymous":
                client.force_login(world.users[ROLE_USERS[role]])
            self.clients[role] = client

    def user(self, role: str):
        return None if role == "anonymous" else self.world.users[ROLE_USERS[role]]

    def kwargs_for(self, entry: Entry, rule: pm.Rule, role: str, *, other: bool) -> dict:
        if not entry.params:
            return {}
        if _is_admin(entry.key):
            if "object_id" in entry.params or "id" in entry.params:
                return self.world.admin_object(entry)
            if "app_label" in entry.params:
                return self.world.pair("admin_app")[0]
            if "url" in entry.params:
                return self.world.pair("admin_catch_all")[0]
        if not rule.obj:
            raise LookupError(f"rule {rule.key} {rule.method} needs obj= for {entry.params}")
        return self.world.kwargs(rule.obj, user=self.user(role), other=other)

    def ask(self, entry: Entry, rule: pm.Rule, role: str, *, other: bool = False) -> tuple[int, str]:
        url = entry.build(self.kwargs_for(entry, rule, role, other=other))
        client = self.clients[role]
        cache.clear()  # throttles and lockouts count across requests; each question starts afresh
        # Logging out, logging in or changing the password replaces the session cookie; the database
        # side is rolled back below, so the cookie jar goes back too.
        jar = copy.deepcopy(client.cookies)
        with transaction.atomic():
            method = rule.method.lower()
            if rule.method == "GET":
                response = client.get(url)
            elif url.startswith("/api/"):
                response = getattr(client, method)(url, data="{}", content_type="application/json")
            else:
                response = getattr(client, method)(url, data={})
            transaction.set_rollback(True)
        client.cookies = jar
        detail = ""
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            detail = (
                "".join(traceback.format_exception(*exc))
                if exc
                else response.content[:500].decode(errors="replace")
            )
        return outcome(response), f"{rule.method} {url}" + (f"\n{detail}" if detail else "")


# Drafting only (PERMISSION_MATRIX_DUMP): the object kind a URL parameter most likely names.
DRAFT_OBJ = {
    "tip_id": "tip",
    "attachment_id": "tip_attachment",
    "reward_id": "reward",
    "case_id": "case",
    "code": "unit_code",
    "job_id": "export_job",
    "view": "export_view",
    "dismissal_id": "lead_dismissal",
    "pk": "lead",
}


def _questions(entries: list[Entry], *, draft: bool = False):
    """(entry, rule, role, other_unit) for every URL, method with a rule, role and scope variant."""
    for entry in entries:
        for method in entry.methods:
            rule = rule_for(entry.key, method, pm.RULES)
            if rule is None and draft:
                obj = next((DRAFT_OBJ[p] for p in entry.params if p in DRAFT_OBJ), "")
                rule = pm.R(entry.key, method, *([0] * len(pm.ROLES)), obj=obj)
            if rule is None:
                continue
            for role in pm.ROLES:
                yield entry, rule, role, False
                if role in pm.UNIT_SCOPED and rule.obj:
                    yield entry, rule, role, True


def _dump(seen: dict, path: str) -> None:
    """Write the answers seen as table rows, for drafting."""
    lines = []
    for (key, method, obj), answers in seen.items():
        cells = []
        for role in pm.ROLES:
            own = answers.get((role, False))
            other = answers.get((role, True))
            cells.append(f"({own}, {other})" if other is not None and other != own else str(own))
        extra = f', obj="{obj}"' if obj else ""
        lines.append(f'    R("{key}", "{method}", {", ".join(cells)}{extra}),')
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


@pytest.mark.slow
def test_every_role_gets_the_answer_the_table_gives(world, db):
    entries = url_entries()
    asker = Asker(world)
    mismatches, errors = [], []
    seen: dict = defaultdict(dict)
    draft = bool(os.environ.get("PERMISSION_MATRIX_DUMP"))
    for entry, rule, role, other in _questions(entries, draft=draft):
        try:
            got, what = asker.ask(entry, rule, role, other=other)
        except Exception as exc:
            if not draft:
                raise
            got, what = 0, repr(exc)
            errors.append(f"{entry.key}: {what}")
        seen[(entry.key, rule.method, rule.obj)][(role, other)] = got
        if got >= 500:
            errors.append(f"{entry.key} as {role}{' (other unit)' if other else ''}: {what}")
            continue
        expected = rule.answer(role, other_unit=other)
        if got != expected:
            scope = " (other unit's object)" if other else ""
            mismatches.append(
                f"{entry.key} {rule.method} as {role}{scope}: expected {expected}, got {got} — {what}"
            )
    if draft:
        _dump(seen, os.environ["PERMISSION_MATRIX_DUMP"])
        with open(os.environ["PERMISSION_MATRIX_DUMP"] + ".errors", "w") as fh:
            fh.write("\n\n".join(errors))
        return
    report = []
    if mismatches:
        report.append(f"{len(mismatches)} answers differ from the table:\n" + "\n".join(mismatches))
    if errors:
        report.append(f"{len(errors)} server errors (the first three):\n" + "\n\n".join(errors[:3]))
    assert not report, "\n\n".join(report)


# --- the answers that matter most, spelled out ---------------------------------------------------
NAMED = {"name": "李建华", "phone": "13903911234", "id_number": "41080219780512003X"}


@pytest.fixture
def unit_tips(campaign_data, settings, tmp_path):
    """A named tip with an attachment for the housing unit and one for the transport unit."""
    from reports import services
    from reports.models import Tip
    from reports.uploads import check_upload

    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core.files.uploadedfile import SimpleUploadedFile

    tips = {}
    for code in (OWN_UNIT, OTHER_UNIT):
        pdf = SimpleUploadedFile("现场材料.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        tip, _pin = services.tip_submit(
            description="工地有人强揽土方，殴打司机。",
            anonymous=False,
            identity=NAMED,
            attachments=[check_upload(pdf)],
        )
        Tip.objects.filter(pk=tip.pk).update(unit=campaign_data["units"][code])
        tips[code] = Tip.objects.get(pk=tip.pk)
    return tips


def _grant_reveal(user) -> None:
    from django.contrib.auth.models import Permission

    user.user_permissions.add(
        Permission.objects.get(codename="reveal_identity", content_type__app_label="reports")
    )


def test_liaison_cannot_reveal_identity_even_holding_the_permission(unit_tips, users, client, api_client):
    from campaign.models import AuditEntry
    from reports.models import IdentityReveal

    own = unit_tips[OWN_UNIT]
    liaison = users["liaison_housing"]
    _grant_reveal(liaison)
    client.force_login(liaison)
    page = client.get(reverse("reports:tip_detail", args=[own.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "13903911234" not in html and reverse("reports:tip_reveal", args=[own.pk]) not in html
    assert (
        client.post(reverse("reports:tip_reveal", args=[own.pk]), {"reason": "核实举报人身份"}).status_code
        == 403
    )
    api_client.force_authenticate(liaison)
    response = api_client.post(
        f"/api/v1/tips/{own.pk}/reveal-reporter/", {"reason": "核实举报人身份"}, format="json"
    )
    assert response.status_code == 403 and "13903911234" not in response.content.decode()
    assert not IdentityReveal.objects.exists()
    assert not AuditEntry.objects.filter(action="tip.identity_reveal").exists()

    # The same request from an office user holding the permission is answered, and logged.
    office = users["office"]
    _grant_reveal(office)
    api_client.force_authenticate(office)
    response = api_client.post(
        f"/api/v1/tips/{own.pk}/reveal-reporter/", {"reason": "核实举报人身份"}, format="json"
    )
    assert response.status_code == 200 and "13903911234" in response.content.decode()
    assert AuditEntry.objects.filter(action="tip.identity_reveal", actor=office).count() == 1


@pytest.mark.parametrize("username", ["liaison_housing", "unit_head_housing"])
def test_unit_roles_cannot_download_another_units_attachments(unit_tips, users, client, username):
    from campaign.models import AuditEntry

    own = unit_tips[OWN_UNIT].attachments.get()
    other = unit_tips[OTHER_UNIT].attachments.get()
    client.force_login(users[username])

    response = client.get(reverse("reports:attachment_download", args=[other.pk]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="tip.attachment_download").exists()

    response = client.get(reverse("reports:attachment_download", args=[own.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    downloads = AuditEntry.objects.filter(action="tip.attachment_download")
    assert [d.target_id for d in downloads] == [str(own.pk)]


def test_audit_rows_cannot_be_changed_through_the_admin(users, client):
    from campaign.audit import audit_record
    from campaign.models import AuditEntry

    entry = audit_record(actor=users["office"], action="tip.identity_reveal", reason="核实")
    before = AuditEntry.objects.count()
    client.force_login(users["admin"])
    change = reverse("admin:campaign_auditentry_change", args=[entry.pk])

    page = client.get(change)
    assert page.status_code == 200  # administrators read it …
    assert 'name="_save"' not in page.content.decode()  # … without a save button
    tampered = {"action": "tampered", "reason": "改过", "actor_name": "nobody", "target_id": "1"}
    assert client.post(change, tampered).status_code == 403
    assert client.get(reverse("admin:campaign_auditentry_delete", args=[entry.pk])).status_code == 403
    assert (
        client.post(reverse("admin:campaign_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(reverse("admin:campaign_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:campaign_auditentry_add"), tampered).status_code == 403
    changelist = client.post(
        reverse("admin:campaign_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert changelist.status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert (entry.action, entry.reason, entry.actor_name) == ("tip.identity_reveal", "核实", "office")
    assert AuditEntry.objects.count() == before


def test_audit_rows_cannot_be_changed_in_sql_either(users):
    """Below the ORM: the database itself refuses UPDATE and DELETE on the audit table."""
    from django.db import DatabaseError, connection

    from campaign.audit import audit_record
    from campaign.models import AuditEntry

    entry = audit_record(actor=users["office"], action="tip.attachment_download")
    for sql in (
        "UPDATE campaign_auditentry SET action = 'tampered' WHERE id = %s",
        "DELETE FROM campaign_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "tip.attachment_download"


def test_an_empty_code_post_is_refused_not_a_server_error(users, client):
    """The code step and enrolment answer an empty POST (a script, not the form) with the field error."""
    client.raise_request_exception = False
    response = client.post(reverse("login"), {"username": "office", "password": "demo-pass-2026"})
    assert response["Location"] == reverse("login-otp")
    response = client.post(reverse("login-otp"), {})
    assert response.status_code == 200 and "请输入动态验证码" in response.content.decode()
    client.force_login(users["leader"])
    response = client.post(reverse("login-enrol"), {})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
