"""`manage.py zone_keys generate|rotate|show-public|install-public KEY`: the internal zone's sealing keys."""

from django.core.management.base import BaseCommand, CommandError

from transfer import conf, keys
from transfer.models import SealingKey, ZoneKeyPair


class Command(BaseCommand):
    help = (
        "内网区：generate 生成密钥对，rotate 轮换（旧私钥保留，用于打开轮换前封装的举报），"
        "show-public 显示当前公钥（配置到公开区的 ZONE_SEAL_PUBLIC_KEY）。"
        "公开区：install-public KEY 手工安装内网区公钥（通常由数据交换自动送达）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["generate", "rotate", "show-public", "install-public", "list"])
        parser.add_argument("public_key", nargs="?", help="install-public 时：内网区公钥（base64）")

    def handle(self, *args, action: str, public_key: str | None = None, **options):
        zone = conf.zone()
        if action in ("generate", "rotate", "show-public") and zone == "public":
            raise CommandError("公开区不保存私钥：请在内网区执行 zone_keys generate / rotate / show-public。")
        try:
            if action == "generate":
                pair = keys.zone_key_generate()
                self.stdout.write(self.style.SUCCESS(f"已生成密钥 {pair.key_id}。公钥：{pair.public_key}"))
            elif action == "rotate":
                pair = keys.zone_key_rotate()
                self.stdout.write(
                    self.style.SUCCESS(
                        f"已轮换，当前密钥 {pair.key_id}。下一次数据交换会把新公钥送到公开区；"
                        f"离线部署请导出交换包，或在公开区执行 zone_keys install-public {pair.public_key}"
                    )
                )
            elif action == "show-public":
                pair = keys.zone_key_current()
                if pair is None:
                    raise CommandError("还没有密钥：请先执行 zone_keys generate。")
                self.stdout.write(pair.public_key)
            elif action == "install-public":
                if not public_key:
                    raise CommandError("请给出公钥：zone_keys install-public <base64>")
                key = keys.sealing_key_install(public_key=public_key)
                self.stdout.write(self.style.SUCCESS(f"已安装内网区公钥 {key.key_id}。"))
            else:
                for pair in ZoneKeyPair.objects.all():
                    state = "当前" if pair.is_current else f"已停用 {pair.retired_at:%Y-%m-%d}"
                    self.stdout.write(f"私钥 {pair.key_id}  {pair.created_at:%Y-%m-%d %H:%M}  {state}")
                for key in SealingKey.objects.all():
                    self.stdout.write(f"公钥 {key.key_id}  {'当前' if key.is_current else ''}")
        except keys.ZoneKeyError as exc:
            raise CommandError(str(exc))
