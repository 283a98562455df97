from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignConfig(AppConfig):
    name = "campaign"
    verbose_name = _("专项斗争基础信息")

    def ready(self) -> None:
        from . import demo, navigation
        from .roles import Role

        demo.register(10, "campaign", demo.seed_campaign)
        from . import security

        security.connect()  # login/logout signals (my sessions, audit) and the demo 2FA seeder (order 15)
        navigation.register(
            navigation.NavItem(_("工作台"), "home", frozenset(Role.values), icon="house", order=0),
            navigation.NavItem(
                _("运行状态"), "ops", frozenset({Role.OFFICE, Role.ADMIN}), icon="activity", order=900
            ),
            navigation.NavItem(_("系统管理"), "admin:index", frozenset({Role.ADMIN}), icon="gear", order=990),
        )
