"""Settings for the order management system.

Every value comes from the environment (or a local `.env`, which `make run` writes). Secure by
default: with DEBUG off, HTTPS redirect, HSTS and secure cookies are on unless switched off
explicitly, as `make run` does for plain HTTP on 127.0.0.1.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-when-debug-is-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address customers and channels reach the app at: every absolute link (e-mails, the API's
# tracking_url) is built on it, because a link must not depend on the request it was made in.
# Not set: links point at the development server, and `check --deploy` says so.
SITE_URL_SET = bool(env.str("SITE_URL", default=""))
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "core",
    "inventory",
    "orders",
    "fulfillment",
    "returns",
    "support",
    "portal",
    "reports",
    "intake",
    "connectors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent gunicorn workers queue
    # for it instead of failing with "database is locked" halfway through a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# A process started with `nice` gives its PostgreSQL backend the same niceness, when the server is
# on this machine and it may (core/niceness.py): scripts/topology turns it on for its workers.
DATABASE_NICE_LIKE_PROCESS = env.bool("DATABASE_NICE_LIKE_PROCESS", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"  # same backend, reuses its client
    # django-environ lower-cases every query option for this backend, the cache's own ones too,
    # and Django ignores `key_prefix`: redis://…/1?key_prefix=shop would share keys silently.
    for _option in ("key_prefix", "timeout", "version"):
        if _option in CACHES["default"]:
            CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)


def _mailer_from_url(url: str) -> dict:
    """Turn an EMAIL_URL (smtp+tls://user:pass@host:587, consolemail://, ...) into a MAILERS entry."""
    cfg = environ.Env.email_url_config(url)
    options = {
        "host": cfg.get("EMAIL_HOST"),
        "port": cfg.get("EMAIL_PORT"),
        "username": cfg.get("EMAIL_HOST_USER"),
        "password": cfg.get("EMAIL_HOST_PASSWORD"),
        "use_tls": cfg.get("EMAIL_USE_TLS"),
        "use_ssl": cfg.get("EMAIL_USE_SSL"),
        "file_path": cfg.get("EMAIL_FILE_PATH"),
    }
    backend = cfg["EMAIL_BACKEND"]
    if not backend.endswith("smtp.EmailBackend"):
        options = {"file_path": options["file_path"]} if "filebased" in backend else {}
    return {"BACKEND": backend, "OPTIONS": {k: v for k, v in options.items() if v not in (None, "")}}


# Without EMAIL_URL: the console in development, a local SMTP relay in production.
MAILERS = {
    "default": _mailer_from_url(
        env.str("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
    )
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@oms.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MANAGER_EMAILS = env.list("MANAGER_EMAILS", default=[])

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# --- Security: on by default whenever DEBUG is off -------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
}

# --- Domain settings --------------------------------------------------------------------------
OMS = {
    # Orders above these limits are held for manual review.
    "MAX_LINE_QUANTITY": env.int("OMS_MAX_LINE_QUANTITY", default=100),
    "MAX_ORDER_VALUE": env.str("OMS_MAX_ORDER_VALUE", default="10000.00"),
    # Same e-mail and same lines within this many minutes is a suspected duplicate.
    "DUPLICATE_WINDOW_MINUTES": env.int("OMS_DUPLICATE_WINDOW_MINUTES", default=60),
    # Signed tracking links in e-mails stay valid this many days.
    "TRACKING_LINK_MAX_AGE_DAYS": env.int("OMS_TRACKING_LINK_MAX_AGE_DAYS", default=90),
    "DEFAULT_RETURN_WINDOW_DAYS": env.int("OMS_DEFAULT_RETURN_WINDOW_DAYS", default=30),
    # Returns: a flat return-shipping deduction, waived when the reason is our fault, and a
    # restocking fee (percent of the units' net price) for the listed reasons.
    "RETURN_SHIPPING_FEE": env.str("OMS_RETURN_SHIPPING_FEE", default="5.00"),
    "FREE_RETURN_REASONS": env.list(
        "OMS_FREE_RETURN_REASONS", default=["damaged", "wrong_item", "not_as_described"]
    ),
    "RESTOCKING_FEE_PERCENT": env.str("OMS_RESTOCKING_FEE_PERCENT", default="10"),
    "RESTOCKING_FEE_REASONS": env.list("OMS_RESTOCKING_FEE_REASONS", default=["changed_mind"]),
    # Customer pages: lookups allowed per client IP and failed lookups per order number.
    "LOOKUP_LIMIT_PER_IP": env.int("OMS_LOOKUP_LIMIT_PER_IP", default=20),
    "LOOKUP_LIMIT_PER_ORDER": env.int("OMS_LOOKUP_LIMIT_PER_ORDER", default=5),
    "LOOKUP_LIMIT_WINDOW_SECONDS": env.int("OMS_LOOKUP_LIMIT_WINDOW_SECONDS", default=900),
    # Customer service's shared inbox: told by e-mail of every new customer message (empty: off).
    "SUPPORT_INBOX": env.str("OMS_SUPPORT_INBOX", default=""),
    # Customer messages and return requests per order in the same window (spam brake).
    "CUSTOMER_POSTS_PER_ORDER": env.int("OMS_CUSTOMER_POSTS_PER_ORDER", default=10),
    # A channel API key (with its channel) is kept in the cache this long after a lookup, so an
    # API request doesn't read it every time. Revoking, rotating or editing the channel clears it
    # at once in a shared cache (Redis); with the per-process default it takes up to this long.
    "API_KEY_CACHE_SECONDS": env.int("OMS_API_KEY_CACHE_SECONDS", default=30),
    # An Idempotency-Key replays its first reply for this many days; `purge_idempotency_keys`
    # deletes older records (the unique external id still stops a late retry making an order).
    "IDEMPOTENCY_KEY_DAYS": env.int("OMS_IDEMPOTENCY_KEY_DAYS", default=7),
    # A marketplace CSV import captures its orders this many at a time: one transaction, one
    # capture call and a few set-wise writes per chunk; the import's page shows progress per chunk.
    "INTAKE_BATCH_SIZE": env.int("OMS_INTAKE_BATCH_SIZE", default=200),
    # The KPI dashboard recomputes at most this many changed days (placed and shipped days
    # counted apart) before it answers; when more changed (a historical import), it shows the
    # figures as of the last refresh, says so, and leaves the rest to a background refresh.
    "KPI_INLINE_REFRESH_DAYS": env.int("OMS_KPI_INLINE_REFRESH_DAYS", default=20),
    # The delivery log (core.outbox): one HTTP call's time limit; how long an attempt may take
    # before the sweeper hands it to another worker; the backoff between failed attempts (base
    # doubling per attempt, up to the cap, half of it random); and when a delivery that keeps
    # failing is given up (dead, shown to customer service).
    "DELIVERY_TIMEOUT_SECONDS": env.float("OMS_DELIVERY_TIMEOUT_SECONDS", default=10.0),
    "DELIVERY_LEASE_SECONDS": env.int("OMS_DELIVERY_LEASE_SECONDS", default=120),
    "DELIVERY_BACKOFF_BASE_SECONDS": env.float("OMS_DELIVERY_BACKOFF_BASE_SECONDS", default=10.0),
    "DELIVERY_BACKOFF_CAP_SECONDS": env.float("OMS_DELIVERY_BACKOFF_CAP_SECONDS", default=3600.0),
    "DELIVERY_GIVE_UP_HOURS": env.float("OMS_DELIVERY_GIVE_UP_HOURS", default=24.0),
    # Event webhooks (connectors.subscribers): a subscription none of whose deliveries got
    # through for this many days is switched off and its owner told; after a secret rotation
    # the old secret keeps signing (beside the new one) this many hours; the active
    # subscriptions are cached this long per process (cleared at once in a shared cache when
    # one is saved), so a change with no subscriber costs no query.
    "SUBSCRIPTION_DISABLE_AFTER_DAYS": env.float("OMS_SUBSCRIPTION_DISABLE_AFTER_DAYS", default=3.0),
    "SUBSCRIPTION_SECRET_OVERLAP_HOURS": env.float("OMS_SUBSCRIPTION_SECRET_OVERLAP_HOURS", default=24.0),
    "SUBSCRIPTION_CACHE_SECONDS": env.int("OMS_SUBSCRIPTION_CACHE_SECONDS", default=60),
}

# Channel connections' credentials (Shopify tokens, WooCommerce keys) are stored encrypted with
# this Fernet key; several comma-separated keys rotate (the first encrypts). Unset: the app runs,
# but no credentials can be saved, so no channel is connected (`check --deploy` warns).
OMS_CREDENTIALS_KEY = env.str("OMS_CREDENTIALS_KEY", default="")

# Carrier webhooks: EasyPost signs tracking events with this secret (X-Hmac-Signature).
EASYPOST_WEBHOOK_SECRET = env.str("EASYPOST_WEBHOOK_SECRET", default="")
# Labels, rates and address checks through EasyPost (connectors/easypost). No key: the manual
# gateway (staff type tracking numbers) and no carrier address check, as before.
EASYPOST_API_KEY = env.str("EASYPOST_API_KEY", default="")
# The client's base URL: a stand-in server (tests, a sandbox proxy) takes EasyPost's place here.
EASYPOST_API_BASE = env.str("EASYPOST_API_BASE", default="https://api.easypost.com/v2")
EASYPOST_TIMEOUT_SECONDS = env.int("EASYPOST_TIMEOUT_SECONDS", default=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per task state change is noise at INFO; failures still show.
    "loggers": {
        "django.tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        "pyBarcode": {"level": "WARNING"},  # "Pillow not found": we only draw SVG barcodes
    },
}
