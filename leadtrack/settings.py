"""One settings module, driven by environment variables (12-factor).

Every value that differs between a laptop, CI and production comes from the
environment (or a `.env` file beside manage.py, never committed). With
DATABASE_URL / REDIS_URL unset, the embedded servers under var/ are started or
found (leadtrack/embedded.py), so every entry point shares them.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab

from leadtrack import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# A development key is generated per checkout and kept under var/; production
# must set SECRET_KEY (check --deploy flags a weak one).
SECRET_KEY = env.str("SECRET_KEY", default="") or embedded.dev_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

_database_url, REDIS_URL = embedded.service_urls()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django.contrib.postgres",
    "django_countries",
    "leadtrack.tenancy",
    "leadtrack.accounts",
    "leadtrack.audit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "leads",
    "leads.imports",
    "funnel",
    "referrals",
    "reports",
    "reports.quarterly.apps.QuarterlyReportsConfig",
    "reports.attribution.apps.AttributionConfig",
    "funnel.scoring.apps.ScoringConfig",
    "funnel.predictions.apps.PredictionsConfig",
    "funnel.routing.apps.RoutingConfig",
    "capture.forms.apps.WebFormsConfig",
    "capture.tracking.apps.TrackingConfig",
    "leadtrack.api",
    "leadtrack.privacy",
]

MIDDLEWARE = [
    # First: every response, even a redirect or an error page, carries its X-Request-ID.
    "leadtrack.audit.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The tracking beacon (POST /t/<key>/e) is answered here: it uses nothing below (it says why).
    "capture.tracking.middleware.TrackingEventsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idle and absolute timeouts: signs a person out before anything else sees the request.
    "leadtrack.accounts.session_timeouts.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "leadtrack.csp.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # Cached rows (API keys, rules, settings) are also kept in process for one request's reads.
    "leadtrack.caching.LocalCacheMiddleware",
    # Last but one: it opens the request's transaction and activates the organization.
    "leadtrack.tenancy.middleware.TenantMiddleware",
    # Inside the tenant's transaction: 403s and attachment downloads become audit events.
    "leadtrack.audit.middleware.AuditMiddleware",
]

ROOT_URLCONF = "leadtrack.urls"
WSGI_APPLICATION = "leadtrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadtrack.tenancy.context_processors.tenancy",
            ],
        },
    },
]
# Widgets render through the project's templates, so templates/django/forms/ can override one
# (the select, whose stock template costs two includes per option).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": env.db_url_config(_database_url)}
DATABASES["default"].update(
    {
        # Persistent connections: a new PostgreSQL connection costs ~14 ms here
        # (docs/performance.md). Tenant context is transaction-local, so reuse is safe.
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        # The middleware and task base own the transaction (tenancy/middleware.py).
        "ATOMIC_REQUESTS": False,
        "DISABLE_SERVER_SIDE_CURSORS": env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False),
        # Lets two test runs share one server (e.g. CI and a developer).
        "TEST": {"NAME": env.str("TEST_DATABASE_NAME", default=None)},
    }
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Every request and task runs as this role: not superuser, not BYPASSRLS, not the
# tables' owner, so PostgreSQL row-level security applies (tenancy/db.py).
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default=embedded.APP_ROLE)

CACHES = {
    "default": {
        "BACKEND": "leadtrack.cache_backend.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="leadtrack"),
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Members with these roles pass a second factor (TOTP or a recovery code) before any page of the
# organization (A7). API keys are machine credentials and are not affected.
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=["admin", "manager"])
OTP_TOTP_ISSUER = "LeadTrack"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 3600

# Lockout per (username, IP) pair so an attacker cannot lock a victim out globally.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login form posts the e-mail in its "username" field.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Absolute lifetime of a sign-in (also the cookie's max-age), and the idle limit
# (leadtrack/accounts/session_timeouts.py enforces both server side).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions live in the database (they survive a Redis restart) and are read through the cache:
# every signed-in request reads its session, and a Redis GET is cheaper than the ORM's SELECT.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    SECURE = env.bool("SECURE_COOKIES", default=True)
    SESSION_COOKIE_SECURE = SECURE
    CSRF_COOKIE_SECURE = SECURE
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # vendor/plotly/plotly.min.js from the installed plotly package (dashboard charts, no CDN).
    "reports.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve from the finders when collectstatic has not been run (make run, tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LeadTrack <noreply@leadtrack.local>")
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process that grew past this (KB of resident memory) is replaced once its task ends: an
# import's first step or a large tenant's recompute leaves ~300 MB behind otherwise, in every
# process that ran one, while the import's chunks run on all of them side by side.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=250_000)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Visibility timeout above the longest task so a slow task is not redelivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 600),
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(embedded.VAR_DIR / "celerybeat-schedule")
# Two beats would send every periodic task twice: only the one holding this Redis lock sends
# (leadtrack/beat.py). A crashed leader's standby takes over after the TTL.
CELERY_BEAT_SCHEDULER = "leadtrack.beat:LeaderScheduler"
BEAT_LEADER_KEY = env.str("BEAT_LEADER_KEY", default="leadtrack:beat-leader")
BEAT_LEADER_TTL_SECONDS = env.int("BEAT_LEADER_TTL_SECONDS", default=30)
CELERY_BEAT_SCHEDULE = {
    # Deal registrations whose protection window ended (hourly; each run is idempotent).
    "referrals-expire-registrations": {"task": "referrals.tasks.referral_expire_all", "schedule": 3600.0},
    # Partner tiers from the trailing year's results, nightly at 02:30 UTC.
    "referrals-recompute-tiers": {
        "task": "referrals.tasks.partner_tiers_recompute_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # Hourly fan-out: each organization's metric snapshots are recomputed at 02:xx its local time.
    "reports-nightly-snapshots": {"task": "reports.snapshot_fanout", "schedule": crontab(minute=5)},
    # Hourly fan-out: last quarter's referral report e-mailed to subscribers on the first working day.
    "reports-quarterly-email": {"task": "reports.quarterly.email_fanout", "schedule": crontab(minute=20)},
    # Behaviour points decay: rescore the leads holding some, nightly at 03:10 UTC.
    "scoring-nightly-decay": {"task": "scoring.rescore_decay_fanout", "schedule": crontab(hour=3, minute=10)},
    # Hourly fan-out: each organization's predictive model is retrained at 03:xx its local time.
    "predictions-nightly-retrain": {"task": "predictions.retrain_fanout", "schedule": crontab(minute=35)},
    # Hourly fan-out: the month's win forecast is taken on the first day of the local month (once).
    "predictions-monthly-forecast": {"task": "predictions.forecast_fanout", "schedule": crontab(minute=50)},
    # Every 5 minutes, one task per organization: first-contact SLA reminders and reassignments.
    "routing-sla-process": {"task": "funnel.routing.tasks.sla_process_all", "schedule": 300.0},
    # Idempotency-Keys are kept API_IDEMPOTENCY_KEY_HOURS, then forgotten (daily at 03:40 UTC).
    # Web form submissions still pending after a minute (broker was down, message lost): processed.
    "webforms-sweep-submissions": {"task": "webforms.submissions_sweep", "schedule": 60.0},
    # Tracking events: the Redis stream drained into page views every 10 s (idempotent batches).
    "tracking-drain": {"task": "tracking.page_views_drain", "schedule": 10.0},
    "api-idempotency-purge": {
        "task": "leadtrack.api.tasks.idempotency_records_purge_all",
        "schedule": crontab(hour=3, minute=40),
    },
    # Leads past each organization's retention period are anonymised (daily at 03:50 UTC; idempotent).
    "privacy-retention": {"task": "privacy.retention_fanout", "schedule": crontab(hour=3, minute=50)},
}

# --- REST framework ----------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer API keys first: its WWW-Authenticate header makes "no credentials" a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leadtrack.api.authentication.ApiKeyAuthentication",
        "leadtrack.api.authentication.OrgSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["leadtrack.api.permissions.ApiPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["leadtrack.api.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "leadtrack.api.pagination.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["leadtrack.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "leadtrack.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "leadtrack.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Requests per window, enforced atomically in Redis (leadtrack/api/throttling.py) per API key
# (or signed-in person) and per organization; published in the API docs.
API_RATE_LIMITS = {
    "key": env.str("API_RATE_LIMIT_KEY", default="600/min"),
    "organization": env.str("API_RATE_LIMIT_ORGANIZATION", default="3000/min"),
}
# Public lead form posts (capture/forms/spam.py): per client IP and per form, in Redis.
WEBFORMS_RATE_LIMITS = {
    "ip": env.str("WEBFORMS_RATE_LIMIT_IP", default="20/min"),
    "form": env.str("WEBFORMS_RATE_LIMIT_FORM", default="6000/min"),
}
API_MAX_PAGE_SIZE = 200
API_IDEMPOTENCY_KEY_HOURS = env.int("API_IDEMPOTENCY_KEY_HOURS", default=24)
API_BULK_MAX_ITEMS = 1000
# Webhooks: exponential backoff base · 2^(n-1), capped below the broker's visibility timeout
# (a longer countdown is redelivered early, docs/reliability.md §1.7); the attempts span
# about a day, and an endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS is disabled.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=56)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=1800)
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
# SSRF guard: never deliver to loopback/private/link-local targets in production (tests enable it).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadTrack API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Schema generation runs with no organization active: tenant models' default managers
    # would raise there; the empty `unscoped.none()` querysets only name the model.
    "DEFAULT_QUERY_MANAGER": "unscoped",
    "ENUM_NAME_OVERRIDES": {"StageEnum": "funnel.stages.Stage"},
    "PREPROCESSING_HOOKS": ["leadtrack.api.schema.only_api_v1"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leadtrack.api.schema.add_description",
    ],
}

# One JSON object per line (request id, organization, user; control characters escaped: I7),
# unless LOG_FORMAT=plain, the default with DEBUG on for reading in a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "leadtrack.audit.logs.JsonFormatter"},
        "plain": {"()": "leadtrack.audit.logs.PlainFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
