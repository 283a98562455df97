"""Who may do what: for every page and API endpoint, the answer each role gets. ONE table.

Each row is a URL name (`namespace:name`, or a glob such as `admin:*_changelist` for families of
generated URLs), an HTTP method, and the answer for each role in ROLES order:

    anonymous  office  police  liaison  unit_head  leader  discipline  admin

Answers:
    200  admitted: the view ran (2xx, a redirect elsewhere than the login page, or 400 because the
         (empty) input was refused — the permission check was passed)
    302  sent to the login page (anonymous users on staff pages; the admin's own login for its pages)
    403  refused
    404  hidden: the object is outside the user's scope (the same answer as for one that does not exist)
    405  method not allowed

For URLs naming an object, liaison and unit_head are asked twice: with an object of their own unit
and with one of another unit. A pair (own, other) gives both answers; a single value means both.
`obj` names the kind of object that fills the URL's parameters (tests/security/test_permission_matrix.py
finds one of each kind in the demo data: of the liaison's own unit and of another; for per-user kinds
such as notifications, the user's own and someone else's).

tests/security/test_permission_matrix.py resolves every URL pattern in the URLconf, fails for any URL
name or method without a row here ("missing rule for URL name X") and for any row naming no URL, then
asks every URL as every role and compares the answers with this table.

Pages check roles with campaign.access.role_required and the API with campaign.api.permissions; this
table is the check on both, written from what each issue asks (who sees informant identity, who works
on which leads, who only reads).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("anonymous", "office", "police", "liaison", "unit_head", "leader", "discipline", "admin")
UNIT_SCOPED = ("liaison", "unit_head")

OK, LOGIN, NO, HIDDEN, NOT_ALLOWED = 200, 302, 403, 404, 405

Answer = int | tuple[int, int]


@dataclass(frozen=True)
class Rule:
    """The answers of one URL name (or glob) and method, per role."""

    key: str
    method: str
    answers: dict[str, Answer]
    obj: str = ""

    def answer(self, role: str, *, other_unit: bool = False) -> int:
        value = self.answers[role]
        if isinstance(value, tuple):
            return value[1] if other_unit else value[0]
        return value

    @property
    def is_glob(self) -> bool:
        return "*" in self.key and "(?P" not in self.key  # unnamed regex routes are keyed by their pattern


def R(key: str, method: str, *answers: Answer, obj: str = "") -> Rule:  # noqa: N802 — reads as a table row
    if len(answers) != len(ROLES):
        raise ValueError(f"{key} {method}: {len(answers)} answers for {len(ROLES)} roles")
    return Rule(key=key, method=method, answers=dict(zip(ROLES, answers, strict=True)), obj=obj)


# fmt: off
# ruff: noqa: E241, E501
RULES: list[Rule] = [
    #  URL name                                     method  anon  office police liaison unit_head leader discipline admin
    #                                                       (a pair: liaison / unit head with an object of their own unit, of another)
    # Public site: every role, anonymous included.
    R("public:landing",                            "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    # Signed-in basics: home, operations, notifications, own account and sessions.
    R("home",                                      "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("ops",                                       "GET",  302, 200, 403, 403, 403, 403, 403, 200),
    R("notifications",                             "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("notification-read",                         "POST", 302, 200, 200, (200, 404), (200, 404), 200, 200, 200, obj="notification"),
    R("notifications-read-all",                    "POST", 302, 200, 200, 200, 200, 200, 200, 200),
    R("login",                                     "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("login",                                     "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("login-otp",                                 "GET",  302, 302, 302, 302, 302, 302, 302, 302),
    R("login-otp",                                 "POST", 302, 302, 302, 302, 302, 302, 302, 302),
    R("login-enrol",                               "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("login-enrol",                               "POST", 302, 200, 200, 200, 200, 200, 200, 200),
    R("account-security",                          "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("account-recovery-codes",                    "POST", 302, 200, 200, 403, 403, 403, 200, 200),
    R("account-otp-disable",                       "POST", 302, 403, 403, 403, 403, 403, 403, 403),
    R("account-sessions",                          "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("account-sessions-end-others",               "POST", 302, 200, 200, 200, 200, 200, 200, 200),
    R("account-session-end",                       "POST", 302, 200, 200, (200, 404), (200, 404), 200, 200, 200, obj="user_session"),
    R("account-password",                          "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("account-password",                          "POST", 302, 200, 200, 200, 200, 200, 200, 200),
    R("account-password",                          "PUT",  302, 200, 200, 200, 200, 200, 200, 200),
    R("logout",                                    "GET",  405, 405, 405, 405, 405, 405, 405, 405),
    R("logout",                                    "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("healthz",                                   "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("set_language",                              "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("set_language",                              "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    # Public tip intake and follow-up (code + PIN), typical cases.
    R("reports:submit",                            "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:submit",                            "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:receipt",                           "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:howto",                             "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:track",                             "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:track",                             "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:track_detail",                      "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:track_detail",                      "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:track_end",                         "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:track_attachment",                  "GET",  404, 404, 404, 404, 404, 404, 404, 404, obj="tip_attachment"),
    R("reports:cases",                             "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("reports:case_detail",                       "GET",  200, 200, 200, 200, 200, 200, 200, 200, obj="case"),
    # Tips (reports): register, entry, the tip page; identity reveal is office-only, attachments follow the tip's scope.
    R("reports:register",                          "GET",  302, 200, 200, 200, 200, 200, 403, 403),
    R("reports:entry",                             "GET",  302, 200, 200, 403, 403, 403, 403, 403),
    R("reports:entry",                             "POST", 302, 200, 200, 403, 403, 403, 403, 403),
    R("reports:tip_detail",                        "GET",  302, 200, 200, (200, 404), (200, 404), 200, 403, 403, obj="tip"),
    R("reports:entry_receipt",                     "GET",  302, 200, 200, 403, 403, 403, 403, 403, obj="tip"),
    R("reports:tip_reveal",                        "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="tip"),
    R("reports:tip_message",                       "POST", 302, 200, 200, 403, 403, 403, 403, 403, obj="tip"),
    R("reports:reward_propose",                    "GET",  302, 200, 403, 403, 403, 403, 403, 403, obj="tip"),
    R("reports:reward_propose",                    "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="tip"),
    R("reports:attachment_download",               "GET",  302, 200, 200, (200, 404), (200, 404), 200, 403, 403, obj="tip_attachment"),
    R("reports:rewards",                           "GET",  302, 200, 403, 403, 403, 200, 403, 403),
    R("reports:reward_detail",                     "GET",  302, 200, 403, 403, 403, 200, 403, 403, obj="reward"),
    R("reports:reward_decide",                     "POST", 302, 200, 403, 403, 403, 200, 403, 403, obj="reward"),
    R("reports:reward_pay",                        "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="reward"),
    R("reports:publicity",                         "GET",  302, 200, 200, 200, 200, 200, 403, 403),
    R("reports:publicity",                         "POST", 302, 200, 200, 200, 200, 403, 403, 403),
    R("reports:cases_manage",                      "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("reports:case_new",                          "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("reports:case_new",                          "POST", 302, 200, 403, 403, 403, 403, 403, 403),
    R("reports:case_edit",                         "GET",  302, 200, 403, 403, 403, 403, 403, 403, obj="case"),
    R("reports:case_edit",                         "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="case"),
    R("reports:case_publish",                      "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="case"),
    # Leads: register, unit workspaces, review, triage; a lead outside the user's scope is 404.
    R("leads:list",                                "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("leads:new",                                 "GET",  302, 200, 200, 403, 403, 403, 403, 403),
    R("leads:new",                                 "POST", 302, 200, 200, 403, 403, 403, 403, 403),
    R("leads:export",                              "POST", 302, 200, 200, 403, 403, 200, 200, 200),
    R("leads:workspace",                           "GET",  302, 403, 403, 200, 403, 403, 403, 403),
    R("leads:unit_due",                            "GET",  302, 403, 403, 200, 200, 403, 403, 403),
    R("leads:signoffs",                            "GET",  302, 403, 403, 403, 200, 403, 403, 403),
    R("leads:review",                              "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("leads:reviews",                             "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("leads:callbacks",                           "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("leads:callbacks",                           "POST", 302, 200, 403, 403, 403, 403, 403, 403),
    R("leads:referred",                            "GET",  302, 200, 403, 403, 403, 200, 200, 403),
    R("leads:triage",                              "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("leads:triage",                              "POST", 302, 200, 403, 403, 403, 403, 403, 403),
    R("leads:triage_tip",                          "GET",  302, 200, 403, 403, 403, 403, 403, 403, obj="tip_new"),
    R("leads:triage_tip",                          "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="tip_new"),
    R("leads:detail",                              "GET",  302, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("leads:detail",                              "POST", 302, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("leads:print",                               "GET",  302, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("leads:attachment",                          "GET",  302, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead_attachment"),
    # Accountability actions, rectification, assessments, backtracking, unit tasks.
    R("accountability:actions",                    "GET",  302, 200, 403, 200, 200, 200, 200, 200),
    R("accountability:proposals",                  "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("accountability:proposal-blind-spot",        "POST", 302, 200, 403, 403, 403, 403, 403, 403),
    R("accountability:action-new",                 "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("accountability:action-new",                 "POST", 302, 200, 403, 403, 403, 403, 403, 403),
    R("accountability:action-detail",              "GET",  302, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="action"),
    R("accountability:action-detail",              "POST", 302, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="action"),
    R("accountability:action-edit",                "GET",  302, 200, 403, 403, 403, 403, 403, 403, obj="action"),
    R("accountability:action-edit",                "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="action"),
    R("accountability:action-document",            "GET",  302, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="action"),
    R("accountability:action-pdf",                 "GET",  302, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="action"),
    R("accountability:evidence",                   "GET",  302, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="evidence"),
    R("accountability:rectification",              "GET",  302, 403, 403, 200, 200, 403, 403, 403),
    R("accountability:assessments",                "GET",  302, 200, 403, 200, 200, 200, 403, 200),
    R("accountability:assessments",                "POST", 302, 200, 403, 404, 404, 404, 403, 404),
    R("accountability:assessment-detail",          "GET",  302, 200, 403, (200, 404), (200, 404), 200, 403, 200, obj="assessment"),
    R("accountability:assessment-detail",          "POST", 302, 200, 403, 404, 404, 404, 403, 404, obj="assessment"),
    R("accountability:backtrack",                  "GET",  302, 200, 403, 403, 403, 200, 200, 200),
    R("accountability:backtrack-lead",             "GET",  302, 200, 403, 403, 403, 200, 404, 200, obj="lead"),
    R("accountability:tasks",                      "GET",  302, 200, 403, 200, 200, 200, 403, 200),
    R("accountability:task-new",                   "GET",  302, 200, 403, 403, 403, 403, 403, 403),
    R("accountability:task-new",                   "POST", 302, 200, 403, 403, 403, 403, 403, 403),
    R("accountability:task-detail",                "GET",  302, 200, 403, (200, 404), (200, 404), 200, 403, 200, obj="task"),
    R("accountability:task-detail",                "POST", 302, 200, 403, (200, 404), (200, 404), 200, 403, 200, obj="task"),
    R("accountability:task-attachment",            "GET",  302, 200, 403, (200, 404), (200, 404), 200, 403, 200, obj="task_attachment"),
    # Dashboards and exports (leaders' pages); an export belongs to whoever made it.
    R("dashboard:overview",                        "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("dashboard:channels",                        "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("dashboard:matrix",                          "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("dashboard:propose",                         "POST", 302, 404, 403, 403, 403, 403, 403, 404),
    R("dashboard:units",                           "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("dashboard:unit",                            "GET",  302, 200, 403, 403, 403, 200, 403, 200, obj="unit_code"),
    R("dashboard:reports",                         "GET",  302, 200, 403, 403, 403, 200, 403, 200),
    R("dashboard:export-view",                     "GET",  302, 200, 403, 403, 403, 200, 403, 200, obj="export_view"),
    R("dashboard:exports",                         "GET",  302, 200, 200, 200, 200, 200, 200, 200),
    R("dashboard:export-new",                      "GET",  302, 404, 404, 404, 404, 404, 404, 404),
    R("dashboard:export-new",                      "POST", 302, 404, 404, 404, 404, 404, 404, 404),
    R("dashboard:export-status",                   "GET",  302, 200, 200, (200, 404), (200, 404), 200, 200, 200, obj="export_job"),
    R("dashboard:export-download",                 "GET",  302, 404, 404, 404, 404, 404, 404, 404, obj="export_job"),
    # Linking (串并): related items, watch list, repeat informants, imported cases.
    R("linking:tip_related",                       "GET",  302, 200, 200, (200, 404), (200, 404), 200, 404, 404, obj="tip_pk"),
    R("linking:tip_link",                          "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("linking:tip_dismiss",                       "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("linking:tip_dismissal_revoke",              "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="tip_dismissal"),
    R("linking:lead_related",                      "GET",  302, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("linking:lead_link",                         "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="lead"),
    R("linking:lead_dismiss",                      "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="lead"),
    R("linking:lead_dismissal_revoke",             "POST", 302, 200, 403, 403, 403, 403, 403, 403, obj="lead_dismissal"),
    R("linking:lead_graph",                        "GET",  302, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("linking:watch",                             "GET",  302, 200, 200, 200, 200, 200, 403, 403),
    R("linking:watch",                             "POST", 302, 200, 200, 200, 200, 404, 403, 403),
    R("linking:watch_detail",                      "GET",  302, 200, 404, (200, 404), (200, 404), 200, 403, 403, obj="watch"),
    R("linking:watch_lift",                        "POST", 302, 200, 404, (200, 404), (200, 404), 403, 403, 403, obj="watch"),
    R("linking:repeat",                            "GET",  302, 200, 200, 403, 403, 200, 403, 403),
    R("linking:entity",                            "GET",  302, 200, 200, 403, 403, 200, 403, 403, obj="entity"),
    R("linking:cases",                             "GET",  302, 200, 200, 403, 403, 200, 403, 403),
    R("linking:case_detail",                       "GET",  302, 200, 200, 403, 403, 200, 403, 403, obj="linked_case"),
    R("linking:imports",                           "GET",  302, 200, 200, 403, 403, 403, 403, 403),
    R("linking:imports",                           "POST", 302, 200, 200, 403, 403, 403, 403, 403),
    R("linking:import_detail",                     "GET",  302, 200, 200, 403, 403, 403, 403, 403, obj="case_import"),
    R("linking:import_detail",                     "POST", 302, 200, 200, 403, 403, 403, 403, 403, obj="case_import"),
    R("linking:import_progress",                   "GET",  302, 200, 200, 403, 403, 403, 403, 403, obj="case_import"),
    R("linking:import_confirm",                    "POST", 302, 200, 200, 403, 403, 403, 403, 403, obj="case_import"),
    R("linking:import_retry",                      "POST", 302, 200, 200, 403, 403, 403, 403, 403, obj="case_import"),
    # Weekly bulletin (周通报).
    R("bulletin:list",                             "GET",  302, 200, 403, 200, 200, 200, 200, 200),
    R("bulletin:list",                             "POST", 302, 200, 403, 404, 404, 404, 404, 404),
    R("bulletin:detail",                           "GET",  302, 200, 403, 200, 200, 200, 200, 200, obj="bulletin"),
    R("bulletin:detail",                           "POST", 302, 200, 403, 404, 404, 404, 404, 404, obj="bulletin"),
    R("bulletin:workbook",                         "GET",  302, 200, 403, 200, 200, 200, 200, 200, obj="bulletin"),
    R("bulletin:document",                         "GET",  302, 200, 403, 200, 200, 200, 200, 200, obj="bulletin"),
    R("bulletin:pdf",                              "GET",  302, 200, 403, 200, 200, 200, 200, 200, obj="bulletin"),
    # API: token, notifications, reference data, schema and docs, public endpoints.
    R("api-token",                                 "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("api-notifications",                         "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("api-notifications-unread-count",            "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("api-notifications-read-all",                "POST", 403, 200, 200, 200, 200, 200, 200, 200),
    R("api-notification-read",                     "POST", 403, 200, 200, (200, 404), (200, 404), 200, 200, 200, obj="notification"),
    R("region-list",                               "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("region-detail",                             "GET",  403, 200, 200, 200, 200, 200, 200, 200, obj="region_code"),
    R("unit-list",                                 "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("unit-detail",                               "GET",  403, 200, 200, 200, 200, 200, 200, 200, obj="unit_code"),
    R("sector-list",                               "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("sector-detail",                             "GET",  403, 200, 200, 200, 200, 200, 200, 200, obj="sector_code"),
    R("schema",                                    "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("api-docs",                                  "GET",  200, 200, 200, 200, 200, 200, 200, 200),
    R("public-tip-create",                         "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("public-tip-status",                         "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("public-tip-messages",                       "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    # API: tips, leads, call-backs, accountability, dashboard, related items.
    R("tip-list",                                  "GET",  403, 200, 200, 200, 200, 200, 403, 403),
    R("tip-list",                                  "POST", 403, 200, 200, 403, 403, 403, 403, 403),
    R("tip-detail",                                "GET",  403, 200, 200, (200, 404), (200, 404), 200, 403, 403, obj="tip_pk"),
    R("tip-reveal-reporter",                       "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("tip-triage",                                "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("tip-routing",                               "GET",  403, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("lead-list",                                 "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("lead-list",                                 "POST", 403, 200, 200, 403, 403, 403, 403, 403),
    R("lead-counts",                               "GET",  403, 200, 200, 200, 200, 200, 200, 200),
    R("lead-detail",                               "GET",  403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("lead-report-backs",                         "GET",  403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("lead-routing",                              "GET",  403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("lead-signoffs",                             "GET",  403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("lead-timeline",                             "GET",  403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("lead-transition",                           "POST", 403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("callback-list",                             "GET",  403, 200, 403, 403, 403, 403, 403, 403),
    R("callback-record",                           "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="callback"),
    R("accountability-api:action-list",            "GET",  403, 200, 403, 200, 200, 200, 200, 200),
    R("accountability-api:action-list",            "POST", 403, 200, 403, 403, 403, 403, 403, 403),
    R("accountability-api:action-detail",          "GET",  403, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="action"),
    R("accountability-api:action-transition",      "POST", 403, 200, 403, (200, 404), (200, 404), 200, 200, 200, obj="action"),
    R("accountability-api:assessment-list",        "GET",  403, 200, 403, 200, 200, 200, 403, 200),
    R("accountability-api:assessment-detail",      "GET",  403, 200, 403, (200, 404), (200, 404), 200, 403, 200, obj="assessment"),
    R("dashboard-summary",                         "GET",  403, 200, 403, 403, 403, 200, 403, 200),
    R("tip-related",                               "GET",  403, 200, 200, (200, 404), (200, 404), 200, 404, 404, obj="tip_pk"),
    R("tip-related-link",                          "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("tip-related-dismiss",                       "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="tip_pk"),
    R("lead-related",                              "GET",  403, 200, 404, (200, 404), (200, 404), 200, 404, 200, obj="lead"),
    R("lead-related-link",                         "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="lead"),
    R("lead-related-dismiss",                      "POST", 403, 200, 403, 403, 403, 403, 403, 403, obj="lead"),
    # Django admin: administrators only; every other role, and anonymous users, get the login page.
    R("admin:*",                                   "GET",  302, 302, 302, 302, 302, 302, 302, 200),
    R("route:admin/*",                             "GET",  302, 302, 302, 302, 302, 302, 302, 200),
    R("admin:*",                                   "POST", 302, 302, 302, 302, 302, 302, 302, 200),
    R("admin:login",                               "GET",  302, 302, 302, 302, 302, 302, 302, 302),
    R("admin:login",                               "POST", 302, 302, 302, 302, 302, 302, 302, 302),
    R("admin:logout",                              "GET",  200, 200, 200, 200, 200, 200, 200, 405),
    R("admin:logout",                              "POST", 200, 200, 200, 200, 200, 200, 200, 200),
    R("admin:autocomplete",                        "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:view_on_site",                        "GET",  302, 302, 302, 302, 302, 302, 302, 404),
    R("route:admin/(?P<url>.*)$",                  "GET",  302, 302, 302, 302, 302, 302, 302, 404),
    # Records the application writes and keeps (audit, identity reveals, tips, leads, events, transfer
    # logs, keys, imports, watch hits, links, assessments): administrators read them in the admin but
    # cannot add, change or delete them there.
    R("admin:accountability_assessment_add",       "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:accountability_assessment_add",       "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:accountability_assessmentadjustment_add", "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:accountability_assessmentadjustment_add", "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:campaign_auditentry_add",             "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:campaign_auditentry_add",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:campaign_auditentry_change",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:campaign_auditentry_delete",          "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:campaign_auditentry_delete",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:dashboard_exportjob_add",             "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:dashboard_exportjob_add",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:dashboard_exportjob_change",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:dashboard_rollupstate_add",           "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:dashboard_rollupstate_add",           "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:dashboard_rollupstate_change",        "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_bulletin_add",                  "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_bulletin_add",                  "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_bulletin_change",               "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_bulletin_delete",               "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_bulletin_delete",               "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_callback_add",                  "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_callback_add",                  "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_callback_change",               "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_callback_delete",               "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_callback_delete",               "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_extensionrequest_add",          "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_extensionrequest_add",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_extensionrequest_change",       "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_extensionrequest_delete",       "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_extensionrequest_delete",       "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_lead_add",                      "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_lead_add",                      "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_lead_change",                   "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_lead_delete",                   "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_lead_delete",                   "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadevent_add",                 "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadevent_add",                 "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadevent_change",              "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadevent_delete",              "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadevent_delete",              "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadreview_add",                "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadreview_add",                "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadreview_change",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadreview_delete",             "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_leadreview_delete",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_reportback_add",                "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_reportback_add",                "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_reportback_change",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_reportback_delete",             "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_reportback_delete",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_sendback_add",                  "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_sendback_add",                  "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_sendback_change",               "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_sendback_delete",               "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_sendback_delete",               "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_signoff_add",                   "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_signoff_add",                   "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_signoff_change",                "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_signoff_delete",                "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:leads_signoff_delete",                "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:linking_caseimport_add",              "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:linking_caseimport_add",              "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:linking_link_add",                    "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:linking_link_add",                    "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:linking_watchhit_add",                "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:linking_watchhit_add",                "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_identityreveal_add",          "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_identityreveal_add",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_identityreveal_change",       "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_identityreveal_delete",       "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_identityreveal_delete",       "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_tip_add",                     "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_tip_add",                     "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_tip_delete",                  "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:reports_tip_delete",                  "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_importedsubmission_add",     "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_importedsubmission_add",     "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_importedsubmission_change",  "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_importedsubmission_delete",  "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_importedsubmission_delete",  "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_sealingkey_add",             "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_sealingkey_add",             "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_sealingkey_change",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_sealingkey_delete",          "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_sealingkey_delete",          "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_transferlog_add",            "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_transferlog_add",            "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_transferlog_change",         "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_transferlog_delete",         "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_transferlog_delete",         "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_zonekeypair_add",            "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_zonekeypair_add",            "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_zonekeypair_change",         "POST", 302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_zonekeypair_delete",         "GET",  302, 302, 302, 302, 302, 302, 302, 403),
    R("admin:transfer_zonekeypair_delete",         "POST", 302, 302, 302, 302, 302, 302, 302, 403),
]
# fmt: on


def rules_by_key() -> dict[tuple[str, str], Rule]:
    return {(r.key, r.method): r for r in RULES}
