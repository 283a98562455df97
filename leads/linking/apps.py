from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkingConfig(AppConfig):
    """串并: a sub-app of leads with its own label, so its migrations never collide with the leads app's."""

    name = "leads.linking"
    label = "linking"
    verbose_name = _("串并分析")

    def ready(self) -> None:
        from campaign import demo, navigation
        from campaign.navigation import NavItem
        from reports import panels as tip_panels

        from . import access, panels
        from . import demo as linking_demo

        # The menu groups entries by URL namespace ("linking" → 串并研判).
        navigation.register(
            NavItem(
                _("多次出现对象"),
                "linking:repeat",
                frozenset(access.ANALYSIS_ROLES),
                icon="diagram-3",
                order=50,
            ),
            NavItem(
                _("重点监控"), "linking:watch", frozenset(access.WATCH_ROLES), icon="binoculars", order=51
            ),
            NavItem(_("已有案件"), "linking:cases", frozenset(access.CASE_ROLES), icon="archive", order=52),
            NavItem(
                _("案件导入"), "linking:imports", frozenset(access.IMPORT_ROLES), icon="upload", order=53
            ),
        )
        tip_panels.register(panels.related_tip_panel)
        # Every committed tip is indexed on a worker by the routing task (leads.intake routes and indexes
        # it with one message, issue 10); the index sweep (beat) catches tips whose message was lost.
        # `on_tip_committed` (a message of its own) stays for a deployment without leads' routing.
        demo.register(35, "linking", linking_demo.seed_linking)
        demo.register_load(35, "linking", linking_demo.load_linking)
