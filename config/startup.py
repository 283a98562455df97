"""Turn configuration mistakes into one readable line instead of a traceback wall."""

import contextlib
import sys

from django.core.exceptions import ImproperlyConfigured


@contextlib.contextmanager
def friendly_errors():
    try:
        yield
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"配置错误 / configuration error: {exc}\n")
        sys.exit(2)
    except Exception as exc:
        from django.db import OperationalError

        if isinstance(exc, OperationalError):
            from django.conf import settings

            db = settings.DATABASES["default"]
            where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            sys.stderr.write(f"无法连接数据库 / cannot reach the database at {where}: {first}\n")
            sys.exit(2)
        raise
