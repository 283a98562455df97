"""`manage.py transfer sync|export|import|status`: exchange with the other zone, over HTTP or by file."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum

from transfer import bundles, client, conf
from transfer.models import SealedSubmission, TransferLog


class Command(BaseCommand):
    help = (
        "sync：内网区向公开区收取密文举报并发布办理进度（beat 每分钟执行）；"
        "export --out 文件 / import 文件：离线交换包；status：最近一次交换与待收取数量。"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync", "export", "import", "status"])
        parser.add_argument("file", nargs="?", type=Path, help="import 时：交换包文件")
        parser.add_argument("--out", type=Path, help="export 时：输出文件")
        parser.add_argument("--url", help="sync 时：公开区地址（默认 ZONE_PUBLIC_URL）")

    def handle(self, *args, action: str, file=None, out=None, url=None, **options):
        try:
            if action == "sync":
                if conf.zone() != "internal":
                    raise CommandError("数据交换只能由内网区发起（PORTAL_ZONE=internal）。")
                result = client.transfer_sync(base_url=url)
            elif action == "export":
                if out is None:
                    raise CommandError("请用 --out 指定输出文件。")
                result = bundles.bundle_export(out=out)
            elif action == "import":
                if file is None:
                    raise CommandError("请给出要导入的交换包文件。")
                result = bundles.bundle_import(path=file)
            else:
                result = self._status()
        except (client.TransferError, bundles.BundleError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))

    def _status(self) -> dict:
        last = TransferLog.objects.filter(action__in=["sync", "import", "pull"], ok=True).first()
        refused = TransferLog.objects.filter(action="refused").first()
        waiting = SealedSubmission.objects.aggregate(n=Sum("size"))
        return {
            "zone": conf.zone(),
            "last_exchange": last.at.isoformat() if last else None,
            "last_exchange_detail": last.detail if last else None,
            "last_refusal": refused.at.isoformat() if refused else None,
            "waiting_submissions": SealedSubmission.objects.count(),
            "waiting_bytes": waiting["n"] or 0,
        }
