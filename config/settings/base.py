"""Settings shared by every environment. Everything configurable comes from the environment.

With no DATABASE_URL / REDIS_URL set, the project uses its own embedded PostgreSQL and Redis under
var/ (scripts/devservices.py); dev and test settings start them on demand, production never does.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --- servers -------------------------------------------------------------------------------------
EMBEDDED_SERVICES = not (env.str("DATABASE_URL", default="") and env.str("REDIS_URL", default=""))


def _embedded_urls() -> tuple[str, str]:
    from scripts import devservices

    return devservices.database_url(), devservices.redis_url()


_emb_db, _emb_redis = _embedded_urls()
DATABASE_URL = env.str("DATABASE_URL", default="") or _emb_db
REDIS_URL = env.str("REDIS_URL", default="") or _emb_redis

DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
# Short OLTP queries: PostgreSQL's JIT compiles for ~20 ms whenever a plan's *estimated* cost is high (an
# OR-ed subplan on a million-row table is enough), for a query that runs in under a millisecond.
DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
    # Per-process cache for rendered fragments that are the same for everyone (the register's filter form):
    # no network round trip, and pages keep working when Redis is down.
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal-local"},
}

# --- core ----------------------------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "campaign",
    "reports",
    "leads",
    "leads.linking",  # 串并: a sub-app with its own label "linking" (leads/linking/apps.py)
    "accountability",
    "dashboard",
    "transfer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "campaign.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "transfer.zones.ZoneGuardMiddleware",  # PORTAL_ZONE=public|internal only
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "campaign.middleware.OTPRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "campaign.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "public:landing"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campaign.context_processors.navigation",
                "campaign.context_processors.notifications",
            ]
        },
    }
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: every request pushes the expiry forward
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Two-factor login and lockout (campaign/security.py). django-otp's own per-device throttling is off:
# the lockout below counts wrong codes together with wrong passwords and gives one clear message.
OTP_TOTP_ISSUER = "焦作扫黑除恶平台"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
LOGIN_LOCKOUT = {
    "USER_FAILURES": env.int("LOGIN_LOCKOUT_USER_FAILURES", default=5),
    "IP_FAILURES": env.int("LOGIN_LOCKOUT_IP_FAILURES", default=30),
    "WINDOW_MINUTES": env.int("LOGIN_LOCKOUT_WINDOW_MINUTES", default=15),
    "LOCK_MINUTES": env.int("LOGIN_LOCKOUT_MINUTES", default=15),
}
# Behind a reverse proxy: the request header (META name, e.g. HTTP_X_REAL_IP) carrying the client address.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")

# --- i18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (attachments, scans) live outside the web root and are only served by permission-checking views.
MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# No URL serves MEDIA_ROOT (attachments go through permission-checking views); Django still needs a value.
MEDIA_URL = "/private-media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
ATTACHMENT_MAX_FILES = env.int("ATTACHMENT_MAX_FILES", default=10)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
ATTACHMENT_MAX_TOTAL_BYTES = env.int("ATTACHMENT_MAX_TOTAL_BYTES", default=60 * 1024 * 1024)

# --- informant identity --------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: prepend a new key, re-encrypt).
IDENTITY_ENCRYPTION_KEYS = env.list("IDENTITY_ENCRYPTION_KEYS", default=[])
# Keyed hash for PINs and lookups (HMAC); separate from SECRET_KEY so either can rotate alone.
PIN_HASH_KEY = env.str("PIN_HASH_KEY", default="")
# Informant identity and attachments of tips concluded more than this many years ago are purged daily
# (reports/retention.py); the case record stays.
RETENTION_YEARS = env.int("RETENTION_YEARS", default=5)

# --- email and SMS -------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@saohei.local")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)  # an SMTP relay that hangs must not hold a worker
# Links in emails and SMS point here (the address staff use to reach the portal).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# campaign.sms.ConsoleBackend | campaign.sms.FileBackend | campaign.sms.HttpGatewayBackend
SMS_BACKEND = env.str("SMS_BACKEND", default="campaign.sms.ConsoleBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_KEY = env.str("SMS_GATEWAY_KEY", default="")  # HMAC-SHA256 key for the X-Signature header
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
SMS_SIGNATURE = env.str("SMS_SIGNATURE", default="【焦作市扫黑办】")
# Outbox (campaign.messaging): tries per message, backoff 30 s, 60 s, 120 s … capped below the
# broker's visibility timeout, and how long past its expected try the sweep waits before re-queuing.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=5)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=300)
OUTBOX_SWEEP_GRACE_SECONDS = env.int("OUTBOX_SWEEP_GRACE_SECONDS", default=60)

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "扫黑除恶线索管理平台 API",
    "DESCRIPTION": "Public tip intake and the staff case-handling API of the campaign office portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Schema naming hints are not deployment problems; tests/campaign checks the schema generates.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# --- Celery --------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes every database connection before and after each task unless this is set:
# a new PostgreSQL connection (~10 ms) per task, most of a routing task's cost. With it the connection is
# kept (closed every this many tasks), and config/celery.py lets Django's CONN_MAX_AGE and health checks
# drop an obsolete or broken one between tasks, as they do between requests.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# With late acks a task running when the broker connection drops is redelivered; stop the old copy.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Seconds before Redis hands an unacknowledged task (its worker died) to another worker. Longer than any
# task's time limit and any retry countdown, or a running task is handed out twice; tests shorten it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    "socket_connect_timeout": 2,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Declared, so a worker started without -Q consumes all four; run one worker per queue to isolate them.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in ("default", "routing", "escalation", "mail")]
CELERY_TASK_ROUTES = {
    "campaign.tasks.send_outbound": {"queue": "mail"},
    "campaign.tasks.send_daily_digest": {"queue": "mail"},
    "campaign.tasks.outbox_sweep": {"queue": "default"},
    "reports.tasks_retention.*": {"queue": "default"},  # a long daily sweep must not hold up routing
    "reports.*": {"queue": "routing"},
    "leads.tasks.route_*": {"queue": "routing"},
    "leads.tasks.escalate_*": {"queue": "escalation"},
    "*.send_*": {"queue": "mail"},
}
# Task modules not named tasks.py, which autodiscovery would not find.
CELERY_IMPORTS = ["reports.tasks_retention", "leads.practice_sweep", "accountability.bulletin"]
CELERY_BEAT_SCHEDULE = {
    "ops-heartbeat": {"task": "campaign.tasks.heartbeat", "schedule": 30.0, "options": {"expires": 25}},
    "backup": {
        "task": "transfer.tasks.backup_run",
        "schedule": crontab(hour=2, minute=30),  # BACKUP_DIR, retention BACKUP_KEEP_DAILY/WEEKLY
        "options": {"expires": 6 * 3600},
    },
    "zone-transfer": {
        "task": "transfer.tasks.zone_transfer",  # does nothing unless PORTAL_ZONE=internal
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # leads (issue 5): tips whose routing message was lost; the escalation ladder of open assignments.
    "route-pending": {
        "task": "leads.tasks.route_pending",
        "schedule": 60.0,
        "options": {"expires": 55, "time_limit": 300, "soft_time_limit": 240},
    },
    "escalate-overdue": {
        "task": "leads.tasks.escalate_overdue",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60, "time_limit": 300, "soft_time_limit": 240},
    },
    # practice (issue 11): sign-for reminders, missing report-backs, repeat reports; monthly call-backs.
    "practice-sweep": {
        "task": "leads.practice_sweep.sweep",
        "schedule": 5 * 60.0,
        "options": {"queue": "escalation", "expires": 4 * 60, "time_limit": 300, "soft_time_limit": 240},
    },
    "callback-draw": {
        "task": "leads.practice_sweep.callback_draw_monthly",
        "schedule": crontab(day_of_month=1, hour=6, minute=30),
        "options": {"queue": "escalation", "expires": 12 * 3600, "time_limit": 300, "soft_time_limit": 240},
    },
    "bulletin-weekly": {
        "task": "accountability.bulletin.generate_weekly",
        "schedule": crontab(day_of_week=1, hour=7, minute=0),  # Monday morning: last week's 周通报
        "options": {"queue": "default", "expires": 12 * 3600, "time_limit": 300, "soft_time_limit": 240},
    },
    # linking (issue 8): index new leads, and tips whose on-commit message was lost.
    "linking-index-sweep": {
        "task": "leads.linking.tasks.index_sweep",
        "schedule": 60.0,
        "options": {"queue": "routing", "expires": 55, "time_limit": 60, "soft_time_limit": 50},
    },
    "outbox-sweep": {
        "task": "campaign.tasks.outbox_sweep",
        "schedule": 60.0,
        "options": {"expires": 55, "time_limit": 60, "soft_time_limit": 50},
    },
    "daily-digest": {
        "task": "campaign.tasks.send_daily_digest",
        "schedule": crontab(hour=8, minute=0),  # CELERY_TIMEZONE: Asia/Shanghai
        "options": {"expires": 2 * 3600, "time_limit": 300, "soft_time_limit": 240},
    },
    # accountability: proposals from escalated leads, overdue rectification and unit tasks; assessments.
    "accountability-sweep": {
        "task": "accountability.tasks.accountability_sweep",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60, "time_limit": 300, "soft_time_limit": 240},
    },
    "assessments-nightly": {
        "task": "accountability.tasks.assessments_compute_nightly",
        "schedule": crontab(hour=3, minute=15),  # after the 02:30 backup
        "options": {"expires": 3 * 3600, "time_limit": 1800, "soft_time_limit": 1500},
    },
    # dashboard: rollups follow the data every minute, a full rebuild nightly; expired exports deleted.
    "dashboard-rollup-refresh": {
        "task": "dashboard.tasks.rollup_refresh",
        "schedule": 60.0,
        "options": {"expires": 55, "time_limit": 300, "soft_time_limit": 240},
    },
    "dashboard-rollup-full": {
        "task": "dashboard.tasks.rollup_refresh_full",
        "schedule": crontab(hour=3, minute=45),
        "options": {"expires": 3 * 3600, "time_limit": 1800, "soft_time_limit": 1700},
    },
    # retention (issue 9): identity and attachments of tips concluded RETENTION_YEARS ago.
    "retention-purge": {
        "task": "reports.tasks_retention.purge_expired",
        "schedule": crontab(hour=4, minute=10),
        "options": {"queue": "default", "expires": 6 * 3600, "time_limit": 1800, "soft_time_limit": 1700},
    },
    "dashboard-exports-expire": {
        "task": "dashboard.tasks.exports_expire",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000, "time_limit": 300, "soft_time_limit": 240},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
WORKER_HEARTBEAT_MAX_AGE = 120

# --- campaign rules ------------------------------------------------------------------------------
CAMPAIGN = {
    "CITY_CODE": "jiaozuo",
    "LEAD_NUMBER_PREFIX": "JZ",
    "DOC_NUMBER_PREFIX": "焦扫黑办",
}

# Benchmarks only: a bare view at /bench/ok measuring the stack without the portal's work, and the
# public rate limits lifted (one load generator is one client).
BENCH_BARE_VIEW = env.bool("BENCH_BARE_VIEW", default=False)
if not env.bool("PUBLIC_RATE_LIMITS_ENABLED", default=True):
    TIP_SUBMIT_RATE = TIP_FOLLOWUP_RATE = (10**9, 1)

# --- zones and backups (transfer app; docs/deployment.md) ---------------------------------------
# all: everything in one process; public: only the public pages and API, submissions sealed to the
# internal zone's key; internal: the staff portal and workers, collecting from the public node.
PORTAL_ZONE = env.str("PORTAL_ZONE", default="all")
ZONE_TRANSFER_KEY = env.str("ZONE_TRANSFER_KEY", default="")  # shared by both zones (HMAC, bundles)
ZONE_PUBLIC_URL = env.str("ZONE_PUBLIC_URL", default="")  # internal side: where the public node is
ZONE_SEAL_PUBLIC_KEY = env.str("ZONE_SEAL_PUBLIC_KEY", default="")  # public side, until a transfer sends one
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_WEEKLY = env.int("BACKUP_KEEP_WEEKLY", default=8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
