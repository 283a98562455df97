"""Walk the workflow table: every (status × action × role). Allowed ones succeed (event written, version
bumped); every other one is refused with its readable message and changes nothing."""

import pytest
from django.db import transaction
from django.http import Http404

from campaign.roles import Role
from leads.models import Lead, LeadEvent, LeadStatus
from leads.selectors import lead_allowed_actions, lead_get_visible
from leads.services import lead_register, lead_transition
from leads.workflow import ACTIONS, TransitionError

from .factories import build, make_tip

pytestmark = pytest.mark.django_db

# The table as the issue and DESIGN.md describe it, written out independently of leads/workflow.py.
OPEN = {"registered", "assigned", "verifying", "verified"}
EXPECTED = {
    "assign": ({"office"}, OPEN),
    "accept": ({"liaison"}, {"assigned", "verifying"}),
    "send_back": ({"liaison"}, {"assigned", "verifying"}),
    "request_extension": ({"liaison"}, {"verifying"}),
    "approve_extension": ({"office"}, {"verifying"}),
    "refuse_extension": ({"office"}, {"verifying"}),
    "submit_result": ({"liaison"}, {"verifying"}),
    "return_for_reverification": ({"office"}, {"verifying", "verified"}),
    "reassign": ({"office"}, OPEN),
    "close": ({"office"}, {"verified"}),
    "reopen": ({"office"}, {"closed"}),
    "merge": ({"office"}, OPEN),
    # issue 11: report-backs, sign-offs, send-back arbitration, review, restricted leads
    "report_first": ({"liaison"}, {"verifying"}),
    "report_stage": ({"liaison"}, {"verifying"}),
    "request_stage_report": ({"office"}, {"verifying"}),
    "request_sign_off": ({"liaison"}, {"verifying"}),
    "sign_off": ({"unit_head"}, {"verifying"}),
    "decline_sign_off": ({"unit_head"}, {"verifying"}),
    "accept_send_back": ({"office"}, OPEN),
    "refuse_send_back": ({"office"}, OPEN),
    "sign_off_closure": ({"office"}, {"verified"}),
    "review_escalate": ({"office"}, {"closed"}),
    "review_confirm": ({"office"}, {"closed"}),
    "restrict": ({"office"}, OPEN | {"closed"}),
    "unrestrict": ({"office"}, OPEN | {"closed"}),
}
STATUSES = [s.value for s in LeadStatus]
ROLE_USERS = {
    Role.OFFICE: "office",
    Role.POLICE: "police",
    Role.UNIT_HEAD: "unit_head_housing",
    Role.LEADER: "leader",
    Role.DISCIPLINE: "discipline",
    Role.ADMIN: "admin",
}
# Which liaison acts, so that the lead built by `build` has that unit's assignment in the right state.
LIAISON_FOR = {
    ("accept", "verifying"): "liaison_transport",
    ("request_extension", "verifying"): "liaison_natural_resources",
    ("submit_result", "verifying"): "liaison_natural_resources",
    ("report_stage", "verifying"): "liaison_natural_resources",
}
# Office actions that only an office leader may take (a precondition, not a row of the table).
OFFICE_LEADER_ACTIONS = {"sign_off_closure", "unrestrict"}


def _fields(action: str, status: str, users) -> dict:
    return {
        "assign": {"units": ["agriculture"]},
        "send_back": {"note": "不属于本单位职责。"},
        "request_extension": {"days": 5, "note": "需要调取更多材料。"},
        "refuse_extension": {"note": "理由不充分。"},
        "submit_result": {"result": "partly", "findings": "部分属实，已责令整改。"},
        "return_for_reverification": {
            "unit": "market" if status == "verifying" else "housing",
            "note": "核查不深不透，请补充走访。",
        },
        "reassign": {"unit": "housing", "units": ["police"]},
        "close": {"disposition": "no_action", "note": "审核同意办结。"},
        "reopen": {"note": "收到新的举报，重新核查。"},
        "merge": {"tips": [make_tip().pk]},
        "report_first": {"note": "已成立核查组。"},
        "report_stage": {"note": "已走访当事人5人。"},
        "request_stage_report": {"unit": "housing", "note": "请报告调取银行流水的进展。"},
        "request_sign_off": {"result": "partly", "findings": "部分属实。"},
        "decline_sign_off": {"note": "请补充询问笔录。"},
        "accept_send_back": {"units": ["agriculture"]},
        "refuse_send_back": {"note": "属于本单位职责，请继续办理。"},
        "review_escalate": {"units": ["agriculture"], "note": "原核查不实，提级办理。"},
        "review_confirm": {"note": "原核查结论成立。"},
        "restrict": {"note": "涉及公职人员。"},
        "unrestrict": {"note": "已不需限制。"},
    }.get(action, {})


def _expected_refusal(role: str, action: str, status: str) -> tuple[str, str]:
    label = str(ACTIONS[action].label)
    roles, statuses = EXPECTED[action]
    if role not in roles:
        return "forbidden", f"{Role(role).label}无权执行“{label}”。"
    return "state", f"线索当前状态为“{LeadStatus(status).label}”，不能执行“{label}”。"


def test_the_table_is_the_documented_one():
    assert set(ACTIONS) == set(EXPECTED) | {"register"}
    for name, (roles, statuses) in EXPECTED.items():
        assert set(ACTIONS[name].roles) == roles, name
        assert set(ACTIONS[name].statuses) == statuses, name


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_every_role_in_every_status(action, status, users, sectors, regions):
    lead = build(status, users, sectors, regions)
    if action == "unrestrict":
        Lead.objects.filter(pk=lead.pk).update(restricted=True)
    if action in ("review_escalate", "review_confirm"):
        from leads.models import LeadReview

        Lead.objects.filter(pk=lead.pk).update(review_pending=True)
        LeadReview.objects.create(lead=lead, source="repeat")
    failures = []
    for role in Role.values:
        username = (
            LIAISON_FOR.get((action, status), "liaison_housing") if role == Role.LIAISON else ROLE_USERS[role]
        )
        if role == Role.OFFICE and action in OFFICE_LEADER_ACTIONS:
            username = "office_leader"
        actor = users[username]
        roles, statuses = EXPECTED[action]
        allowed = role in roles and status in statuses
        before_version = Lead.objects.get(pk=lead.pk).version
        before_events = LeadEvent.objects.filter(lead=lead).count()
        try:
            with transaction.atomic():
                fields = _fields(action, status, users)
                try:
                    result = lead_transition(
                        lead_id=lead.pk,
                        action=action,
                        actor=actor,
                        note=fields.pop("note", ""),
                        expected_version=before_version,
                        **fields,
                    )
                except TransitionError as exc:
                    if allowed:
                        failures.append(f"{role}: expected success, got {exc.message} {exc.errors}")
                    else:
                        kind, message = _expected_refusal(role, action, status)
                        if (exc.kind, exc.message) != (kind, message):
                            failures.append(
                                f"{role}: got ({exc.kind}, {exc.message}) want ({kind}, {message})"
                            )
                        if Lead.objects.get(pk=lead.pk).version != before_version:
                            failures.append(f"{role}: refused but the version changed")
                else:
                    if not allowed:
                        failures.append(f"{role}: expected refusal, but it succeeded")
                    else:
                        if result.version != before_version + 1:
                            failures.append(f"{role}: version {result.version}, want {before_version + 1}")
                        event = LeadEvent.objects.filter(lead=lead).order_by("-id").first()
                        if LeadEvent.objects.filter(lead=lead).count() != before_events + 1 or (
                            event.action,
                            event.actor_id,
                            event.from_status,
                        ) != (action, actor.pk, status):
                            failures.append(f"{role}: no matching timeline event")
                raise _Rollback
        except _Rollback:
            pass
        # The buttons come from the same table: what is allowed is offered, and nothing else.
        try:
            visible = lead_get_visible(actor, lead.pk)
        except Http404:  # police and discipline do not see these leads at all
            continue
        if (action in lead_allowed_actions(visible, actor)) != allowed:
            failures.append(f"{role}: allowed_actions disagrees ({allowed=})")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", Role.values)
def test_register_is_for_office_and_police_only(role, users, sectors, regions):
    username = "liaison_housing" if role == Role.LIAISON else ROLE_USERS[role]
    kwargs = {
        "actor": users[username],
        "sector": sectors["transport"],
        "region": regions["macun"],
        "summary": "线索",
    }
    if role in (Role.OFFICE, Role.POLICE):
        lead = lead_register(**kwargs)
        assert lead.number.startswith("JZ-")
        assert lead.events.get().action == "register"
    else:
        with pytest.raises(TransitionError) as exc:
            lead_register(**kwargs)
        assert exc.value.message == f"{Role(role).label}无权执行“受理登记”。"
        assert exc.value.kind == "forbidden"
        assert not Lead.objects.exists()


def test_unknown_action_is_refused_readably(users, sectors, regions):
    lead = build("assigned", users, sectors, regions)
    with pytest.raises(TransitionError) as exc:
        lead_transition(lead_id=lead.pk, action="destroy", actor=users["office"])
    assert exc.value.message == "未知操作“destroy”。"
