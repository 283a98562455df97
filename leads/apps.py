from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("线索核查")

    def ready(self) -> None:
        from campaign import demo, home_panels, navigation
        from campaign.navigation import NavItem
        from campaign.roles import Role

        from . import demo as leads_demo
        from . import panels

        every = frozenset(Role.values)
        navigation.register(
            NavItem(_("举报研判"), "leads:triage", frozenset({Role.OFFICE}), icon="inbox", order=20),
            NavItem(
                _("本单位任务"), "leads:workspace", frozenset({Role.LIAISON}), icon="list-task", order=20
            ),
            NavItem(_("超期预警"), "leads:unit_due", frozenset({Role.UNIT_HEAD}), icon="alarm", order=20),
            NavItem(_("线索台账"), "leads:list", every, icon="journal-text", order=30),
            NavItem(
                _("审核队列"), "leads:review", frozenset({Role.OFFICE}), icon="clipboard-check", order=35
            ),
            NavItem(
                _("移送线索"),
                "leads:referred",
                frozenset({Role.DISCIPLINE, Role.LEADER}),
                icon="shield-lock",
                order=40,
            ),
            NavItem(_("登记线索"), "leads:new", frozenset({Role.POLICE}), icon="plus-square", order=25),
            NavItem(_("待签字背书"), "leads:signoffs", frozenset({Role.UNIT_HEAD}), icon="pen", order=21),
            NavItem(
                _("查否评查"),
                "leads:reviews",
                frozenset({Role.OFFICE, Role.LEADER}),
                icon="flag",
                order=36,
            ),
            NavItem(_("回访"), "leads:callbacks", frozenset({Role.OFFICE}), icon="telephone", order=37),
        )
        home_panels.register(panels.leads_panel)
        # Route every committed tip on a worker (issue 5); the route_pending sweep catches lost messages.
        # The routing task also indexes the tip for linking and checks it for repeat reports (issue 11:
        # a new tip naming what a lead closed as 查否 named flags that lead for review), so a tip costs one
        # message (issue 10); the index sweep and the practice sweep catch what it missed.
        from reports.signals import tip_committed

        from .tasks import on_tip_committed

        tip_committed.connect(on_tip_committed, dispatch_uid="leads.route_tip_on_commit")
        # Issue 11: tips behind a restricted lead are seen only by the lead's circle (reports asks us who).
        from reports.access import restricted_rule_register

        from .selectors import restricted_tips_rule

        restricted_rule_register(restricted_tips_rule)
        demo.register(30, "leads", leads_demo.seed_leads)
        demo.register_load(30, "leads", leads_demo.load_leads)
