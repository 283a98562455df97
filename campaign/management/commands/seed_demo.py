"""Load demo data for every app (regions, units, sectors, users for every role, tips, leads …). Idempotent."""

from django.core.management.base import BaseCommand

from campaign import demo


class Command(BaseCommand):
    help = "创建演示数据（可重复执行，不会重复创建）。"

    def handle(self, *args, **options):
        for _order, name, seeder in demo.seeders():
            result = seeder(stdout=self.stdout) or {}
            summary = ", ".join(f"{k}={v}" for k, v in result.items())
            self.stdout.write(f"[{name}] {summary or 'ok'}")
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据就绪。演示账号密码：{demo.DEMO_PASSWORD}（TOTP 密钥 {demo.DEMO_TOTP_SECRET}）"
            )
        )
