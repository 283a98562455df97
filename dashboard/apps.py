from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("领导驾驶舱")

    def ready(self) -> None:
        from campaign import demo, home_panels, navigation
        from campaign.navigation import NavItem
        from campaign.roles import Role

        from . import access, panels, registers

        navigation.register(
            NavItem(
                _("驾驶舱"),
                "dashboard:overview",
                frozenset(access.DASHBOARD_ROLES),
                icon="speedometer2",
                order=5,
            ),
            NavItem(_("我的导出"), "dashboard:exports", frozenset(Role.values), icon="download", order=950),
        )
        home_panels.register(panels.dashboard_panel)
        home_panels.register(panels.unit_panel)
        registers.register_all()
        demo.register(90, "dashboard", panels.seed_rollups)
        demo.register_load(90, "dashboard", panels.load_rollups)
