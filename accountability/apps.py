from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = _("责任追究与考核")

    def ready(self) -> None:
        from campaign import demo, home_panels, navigation
        from campaign.navigation import NavItem
        from campaign.roles import Role

        from . import demo as acc_demo
        from . import panels

        navigation.register(
            NavItem(
                _("问责督办"),
                "accountability:actions",
                frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN, Role.DISCIPLINE}),
                icon="exclamation-octagon",
                order=50,
            ),
            NavItem(
                _("问责建议"),
                "accountability:proposals",
                frozenset({Role.OFFICE}),
                icon="lightbulb",
                order=51,
            ),
            NavItem(
                _("整改落实"),
                "accountability:rectification",
                frozenset({Role.LIAISON, Role.UNIT_HEAD}),
                icon="tools",
                order=50,
            ),
            NavItem(
                _("工作任务"),
                "accountability:tasks",
                frozenset({Role.OFFICE, Role.LEADER, Role.LIAISON, Role.UNIT_HEAD}),
                icon="list-check",
                order=52,
            ),
            NavItem(
                _("考核排名"),
                "accountability:assessments",
                frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN, Role.LIAISON, Role.UNIT_HEAD}),
                icon="bar-chart-line",
                order=53,
            ),
            NavItem(
                _("责任倒查"),
                "accountability:backtrack",
                frozenset({Role.OFFICE, Role.LEADER, Role.DISCIPLINE}),
                icon="search",
                order=54,
            ),
        )
        home_panels.register(panels.accountability_panel)
        demo.register(40, "accountability", acc_demo.seed_accountability)
