"""`manage.py restore <folder>`: verify a backup, then restore it into an EMPTY installation."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from transfer import backup


class Command(BaseCommand):
    help = "校验并恢复一个备份目录到空的安装（空数据库 + 空附件目录）；非空时拒绝。"
    # The target database is empty: system checks that look at tables must not run before the restore.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="备份目录（含 manifest.json）")
        parser.add_argument("--verify-only", action="store_true", help="只校验备份文件，不恢复")

    def handle(self, *args, folder: Path, verify_only=False, **options):
        try:
            if verify_only:
                manifest = backup.backup_verify(folder)
                self.stdout.write(self.style.SUCCESS(f"备份 {manifest['name']} 校验通过。"))
                return
            summary = backup.backup_restore(folder=folder, stdout=self.stdout)
        except backup.BackupError as exc:
            raise CommandError(str(exc))
        keys = summary["manifest"].get("key_tables", {})
        self.stdout.write(
            self.style.SUCCESS(
                "恢复完成："
                + ", ".join(f"{k}={v}" for k, v in keys.items())
                + f", 附件 {summary['media_files']} 个"
            )
        )
