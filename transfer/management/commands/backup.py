"""`manage.py backup`: database, attachments and a manifest into a new folder under BACKUP_DIR."""

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from transfer import backup


class Command(BaseCommand):
    help = (
        "备份数据库（pg_dump 自定义格式）、附件和校验清单到 BACKUP_DIR 下的新目录，并按保留策略清理旧备份。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--target", type=Path, help="备份根目录（默认 BACKUP_DIR）")
        parser.add_argument("--no-prune", action="store_true", help="不清理旧备份")
        parser.add_argument("--list", action="store_true", help="列出已有备份")
        parser.add_argument(
            "--check-max-age",
            type=float,
            metavar="HOURS",
            help="监控用：最新备份超过 HOURS 小时（或没有备份）时以状态 1 退出",
        )

    def handle(self, *args, target=None, no_prune=False, list=False, check_max_age=None, **options):
        if list:
            for b in backup.backup_list(target):
                keys = ", ".join(f"{k}={v}" for k, v in b.manifest.get("key_tables", {}).items())
                self.stdout.write(f"{b.name}  {timezone.localtime(b.created_at):%Y-%m-%d %H:%M}  {keys}")
            return
        if check_max_age is not None:
            found = backup.backup_list(target)
            if not found:
                raise CommandError("没有任何备份。")
            age = timezone.now() - found[0].created_at
            if age > timedelta(hours=check_max_age):
                raise CommandError(f"最新备份 {found[0].name} 已有 {age.total_seconds() / 3600:.1f} 小时。")
            self.stdout.write(f"最新备份 {found[0].name}，{age.total_seconds() / 3600:.1f} 小时前。")
            return
        try:
            info = backup.backup_create(target_dir=target)
        except backup.BackupError as exc:
            raise CommandError(str(exc))
        media = info.manifest["media"]
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{info.path}（数据库 {info.manifest['files']['database.dump']['bytes']} 字节，"
                f"附件 {media['files']} 个）"
            )
        )
        if not no_prune:
            for path in backup.backup_prune(target_dir=target):
                self.stdout.write(f"已按保留策略删除：{path.name}")
