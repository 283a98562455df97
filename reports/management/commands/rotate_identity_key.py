"""Re-encrypt stored informant identities (and other identity-key tokens) under the newest key.

Procedure (docs/security.md): prepend the new key to IDENTITY_ENCRYPTION_KEYS and deploy it everywhere,
run this command (safe while the portal runs; stop and rerun at will), run it again with --dry-run until
it reports nothing left, then remove the old key.
"""

from django.core.management.base import BaseCommand, CommandError

from reports.keyrotation import encrypted_fields, identity_key_rotate


class Command(BaseCommand):
    help = (
        "用 IDENTITY_ENCRYPTION_KEYS 中的第一个（最新）密钥分批重新加密举报人身份信息等加密字段；"
        "运行期间旧密钥仍可解密，可中断后重复执行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="每批行数（每批一个短事务）")
        parser.add_argument("--dry-run", action="store_true", help="只统计需要重新加密的行数，不写入")
        parser.add_argument(
            "--restart", action="store_true", help="忽略上次中断时保存的进度，从第一行重新检查"
        )
        parser.add_argument("--quiet-batches", action="store_true", help="不逐批输出进度")

    def handle(self, *args, batch_size: int, dry_run: bool, restart: bool, quiet_batches: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size 必须为正整数。")
        fields = ", ".join(f"{m._meta.label}.{name}" for m, name in encrypted_fields())
        self.stdout.write(f"fields: {fields}")
        report = identity_key_rotate(
            batch_size=batch_size,
            dry_run=dry_run,
            restart=restart,
            stdout=None if quiet_batches else self.stdout,
        )
        for f in report.fields:
            resumed = f" (resumed after id {f.resumed_after})" if f.resumed_after else ""
            self.stdout.write(
                f"{f.field}: scanned={f.scanned} {'to_rotate' if dry_run else 'rotated'}={f.rotated} "
                f"current={f.current} undecryptable={f.undecryptable} retried_locked={f.retried_locked}"
                f"{resumed}"
            )
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        summary = f"{report.rotated} of {report.scanned} tokens {verb} under key {report.key}"
        if report.undecryptable:
            ids = "; ".join(
                f"{f.field} ids {f.undecryptable_ids[:20]}" for f in report.fields if f.undecryptable_ids
            )
            raise CommandError(
                f"{summary}; {report.undecryptable} tokens cannot be decrypted with any configured key ({ids})."
            )
        self.stdout.write(self.style.SUCCESS(summary))
