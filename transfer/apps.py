from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransferConfig(AppConfig):
    """Running on a government network: public/internal zones, sealed transfer, backups."""

    name = "transfer"
    verbose_name = _("分区部署与数据交换")

    def ready(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        from . import conf

        if conf.zone() not in conf.ZONES:
            raise ImproperlyConfigured(
                f"PORTAL_ZONE={conf.zone()!r} 无效，应为 all、public 或 internal 之一。"
            )
