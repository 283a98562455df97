from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("举报受理")

    def ready(self) -> None:
        from campaign import demo, home_panels, navigation
        from campaign.navigation import NavItem
        from campaign.roles import Role

        from . import access
        from . import demo as reports_demo

        navigation.register(
            NavItem(
                _("举报登记"), "reports:register", frozenset(access.REGISTER_ROLES), icon="inbox", order=10
            ),
            NavItem(
                _("录入举报"), "reports:entry", frozenset(access.ENTRY_ROLES), icon="pencil-square", order=11
            ),
            NavItem(_("举报奖励"), "reports:rewards", frozenset(access.REWARD_ROLES), icon="award", order=40),
            NavItem(
                _("宣传发动"),
                "reports:publicity",
                frozenset(access.PUBLICITY_ROLES),
                icon="megaphone",
                order=60,
            ),
            NavItem(
                _("典型案例管理"),
                "reports:cases_manage",
                frozenset({Role.OFFICE}),
                icon="journal-text",
                order=70,
            ),
        )
        home_panels.register(new_tips_panel)
        demo.register(20, "reports", reports_demo.seed_reports)
        demo.register_load(20, "reports", reports_demo.load_tips)


def new_tips_panel(request):
    """Office home: tips waiting for triage and informant replies not yet read."""
    from django.urls import reverse

    from campaign.roles import Role

    from . import selectors

    if getattr(request.user, "role", None) != Role.OFFICE:
        return None
    url = reverse("reports:register")
    return {
        "title": _("新举报待研判"),
        "icon": "inbox",
        "template": "reports/panels/new_tips.html",
        "url": f"{url}?status=new",
        "new_count": selectors.tip_new_count(),
        "unread_count": selectors.tip_unread_reply_count(request.user),
        "new_url": f"{url}?status=new&sort=received_at",
        "unread_url": f"{url}?unread=true",
        "order": 10,
    }
