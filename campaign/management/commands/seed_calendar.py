from django.core.management.base import BaseCommand

from campaign.services import calendar_seed_from_package


class Command(BaseCommand):
    help = "从 chinese-calendar 包载入法定节假日和调休上班日（可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int)

    def handle(self, *args, years, **options):
        rows = calendar_seed_from_package(years=years or None)
        self.stdout.write(f"{rows} calendar exceptions loaded")
