#!/usr/bin/env python
"""Django's command-line utility. Uses the embedded servers under var/ unless DATABASE_URL/REDIS_URL are set."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.management import execute_from_command_line

    from config.startup import friendly_errors

    with friendly_errors():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
