"""connect settings: everything a deployment may change comes from a CONNECT_* environment variable.

Every variable read here is listed, with its default, in the README.
"""

import hashlib
import hmac
from datetime import date, timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from addresses.setting import parse_geocoder
from common.redis_url import celery_broker, channel_layer_host
from connect.env import (
    LOOKUPS,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_policy,
    env_retired,
    env_secret,
    env_str,
    parse_aes_key,
    parse_beat_schedule,
    parse_database_url,
    parse_evidence_storage,
    parse_map_tiles,
    parse_redis_url,
    parse_service_area,
    policy_in_force,
    source_of,
    tile_origin,
    unread_variables,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# A policy preset (connect/presets.py, docs/POLICY.md) supplies the defaults of the program's policy settings; a
# variable set in the environment still wins. Read first: an unknown name stops start-up before anything else.
POLICY_PRESET = env_policy()

# "demo" is what `make run` starts: a fixed secret, local mail sink, demo data. Anything real is "production".
MODE = env_choice("CONNECT_MODE", "production", ("demo", "production"))
DEMO = MODE == "demo"
DEBUG = env_bool("CONNECT_DEBUG", False)

SECRET_KEY_MIN_CHARS = 50  # Django's own check --deploy wants 50
SECRET_KEY = env_secret("CONNECT_SECRET_KEY")
ALLOWED_HOSTS = env_list("CONNECT_ALLOWED_HOSTS")
if DEMO:
    SECRET_KEY = SECRET_KEY or "demo-only-secret-key-never-use-in-production-0123456789abcdef"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
else:
    if len(SECRET_KEY) < SECRET_KEY_MIN_CHARS or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            f"CONNECT_SECRET_KEY (or CONNECT_SECRET_KEY_FILE) must be set to at least {SECRET_KEY_MIN_CHARS} random "
            "characters in production. For a local trial, set CONNECT_MODE=demo."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("CONNECT_ALLOWED_HOSTS must name the host names connect is served on.")

PUBLIC_URL = env_str("CONNECT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "connect.admin_site.ConnectAdminConfig",  # django.contrib.admin, opening on each role's dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "auditlog",
    "leaflet",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "connect",
    "common",
    "accounts",
    "addresses",
    "registry",
    "requests_app",
    "integration",
    "concerns",
    "audit",
    "dispatch",
    "backup",
    "invitations",
    "agencies",
    "public_requests",
    "api",
    "records",
    "bulletins",
    "detections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "common.locale.PeoplesLocaleMiddleware",  # the visitor's language (switch cookie, else browser); not the API's
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.StaffSessionMiddleware",
    "common.request_context.RequestUserMiddleware",  # the route's name and staff user id, for logs and metrics
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "connect.urls"
ASGI_APPLICATION = "connect.asgi.application"
WSGI_APPLICATION = None

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
                "connect.context_processors.site",
            ],
        },
    },
]

# Either URL may come from a file (NAME_FILE), since it may carry a password: compose secrets, systemd credentials.
DATABASE_URL = env_secret("CONNECT_DATABASE_URL", "postgres://connect@127.0.0.1:54329/connect")
DATABASES = {"default": parse_database_url("CONNECT_DATABASE_URL", DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = parse_redis_url("CONNECT_REDIS_URL", env_secret("CONNECT_REDIS_URL", "redis://127.0.0.1:63799/0"))
CACHES = {
    "default": {
        "BACKEND": "common.cache.SharedRedisCache",  # one connection pool per process, not one per request
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "connect",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# channels_redis waits for messages in a 5 s BRPOP; redis-py 8 reads with a 5 s socket timeout by default, so on a
# busy server an empty BRPOP could end as a TimeoutError that kills the socket's consumer. Read for longer.
# channels_redis's layer, except that Redis going away is an event for the sockets, not their death.
CHANNEL_LAYERS = {
    "default": {"BACKEND": "common.channel_layer.ResilientRedisChannelLayer",
                "CONFIG": {"hosts": [channel_layer_host(REDIS_URL, socket_timeout=15)]}},
}
# Messages between processes pass through Redis; with a key they are encrypted there (Fernet).
_channel_key = env_secret("CONNECT_CHANNEL_ENCRYPTION_KEY")
if _channel_key:
    CHANNEL_LAYERS["default"]["CONFIG"]["symmetric_encryption_keys"] = [_channel_key]

AUTHENTICATION_BACKENDS = [
    "common.access.OutsideAgencyGuard",  # first: an outside agency's user holds no permission, whatever its groups
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object, anonymous gets nothing

# --- staff security (CJIS): MFA, lockout, session limits, inactive accounts ---------------------------
MFA_REQUIRED = env_bool("CONNECT_MFA_REQUIRED", not DEMO)
if not MFA_REQUIRED and not DEMO:
    raise ImproperlyConfigured("CONNECT_MFA_REQUIRED can be switched off only in demo mode.")
LOCKOUT_FAILURES = env_int("CONNECT_LOCKOUT_FAILURES", 5, minimum=3, maximum=10)
LOCKOUT_WINDOW_MINUTES = env_int("CONNECT_LOCKOUT_WINDOW_MINUTES", 15, minimum=5)
# A user name locked from every address unlocks itself after this long (CJIS 5.5.3: 10 minutes); a name locked
# from one address waits for an Administrator.
LOCKOUT_UNLOCK_MINUTES = env_int("CONNECT_LOCKOUT_UNLOCK_MINUTES", 10, minimum=10, maximum=24 * 60)
SESSION_IDLE_MINUTES = env_int("CONNECT_SESSION_IDLE_MINUTES", 30, minimum=5, maximum=30 if not DEMO else 24 * 60)
SESSION_MAX_HOURS = env_int("CONNECT_SESSION_MAX_HOURS", 12, minimum=1, maximum=12 if not DEMO else 24 * 7)
ACCOUNT_INACTIVE_DAYS = env_int("CONNECT_ACCOUNT_INACTIVE_DAYS", 90, minimum=1, maximum=90 if not DEMO else 3650)
# How many reverse proxies in front of connect append to X-Forwarded-For (0: ignore the header).
TRUSTED_PROXIES = env_int("CONNECT_TRUSTED_PROXIES", 0, minimum=0, maximum=5)
RATE_LIMITS_ENABLED = env_bool("CONNECT_RATE_LIMITS", True)
RATE_LIMIT_WINDOW_MINUTES = env_int("CONNECT_RATE_LIMIT_WINDOW_MINUTES", 10, minimum=1)
RATE_LIMIT_PER_ADDRESS = env_int("CONNECT_RATE_LIMIT_PER_ADDRESS", 30, minimum=1)
RATE_LIMIT_PER_EMAIL = env_int("CONNECT_RATE_LIMIT_PER_EMAIL", 5, minimum=1)
# Public area requests are published only once a supervisor approves them (off: at once, as posted).
PUBLIC_REQUESTS_APPROVAL = env_bool("CONNECT_PUBLIC_REQUESTS_APPROVAL", True)
# A public uploader's email is kept for their receipts only: erased once every clip they shared is deleted and its
# receipt sent, or this many days after they confirmed it if they shared nothing.
PUBLIC_ANSWER_EMAIL_KEEP_DAYS = env_int("CONNECT_PUBLIC_ANSWER_EMAIL_KEEP_DAYS", 30, minimum=1)
# Owners' contact pages one staff member may open an hour, even from their own cases: no scraping (registry admin).
OWNER_PAGE_OPENS_PER_HOUR = env_int("CONNECT_OWNER_PAGE_OPENS_PER_HOUR", 30, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEMO
CSRF_COOKIE_SECURE = not DEMO
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEMO:
    # connect runs behind a TLS-terminating proxy (docs/SECURITY.md), which says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("CONNECT_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("CONNECT_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CONNECT_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("CONNECT_HSTS_PRELOAD", True)


# Public pages and owner mail speak these; staff pages stay English. A new language: README, "Languages".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("CONNECT_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files from the ASGI process; `make run` and the container build run collectstatic first.
WHITENOISE_USE_FINDERS = DEMO
# collectstatic names each file by its content's hash and writes a gzipped copy beside it; pages link the hashed
# names, which WhiteNoise (and nginx, deploy/nginx/connect.conf) serve as immutable for a year: a new release is
# new names. Where collectstatic has not run (the tests, a checkout), pages link the plain names instead of failing.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "common.static_storage.HashedStaticFiles"},
}
WHITENOISE_MANIFEST_STRICT = False

# --- the agency -------------------------------------------------------------------------------------
AGENCY_NAME = env_str("CONNECT_AGENCY_NAME", "Raleigh Police Department (demo)")
OTP_TOTP_ISSUER = AGENCY_NAME  # the name staff's authenticator apps list the account under
AGENCY_EMAIL = env_str("CONNECT_AGENCY_EMAIL", "cameras@police.example.org")
AGENCY_PHONE = env_str("CONNECT_AGENCY_PHONE", "919-555-0100")
SERVICE_AREA = parse_service_area("CONNECT_SERVICE_AREA", env_str("CONNECT_SERVICE_AREA", "-78.82,35.70,-78.47,35.97"))
DISTRICTS_FILE = env_str("CONNECT_DISTRICTS", str(BASE_DIR / "connect" / "data" / "demo-districts.geojson")
                         if DEMO else "")
TERMS_VERSION = env_str("CONNECT_TERMS_VERSION", "2026-1")
CAMERA_MAX_RANGE_M = env_int("CONNECT_CAMERA_MAX_RANGE_M", 300, minimum=10, maximum=2000)

# --- incidents, footage requests and evidence --------------------------------------------------------
CASE_NUMBER_PATTERN = env_str("CONNECT_CASE_NUMBER_PATTERN", r"^\d{2}-\d{6}$")
CASE_NUMBER_EXAMPLE = env_str("CONNECT_CASE_NUMBER_EXAMPLE", "26-004512")
# A fixed list: offense types are published in the transparency report, so no free text (an address, a
# name) may ever reach it.
OFFENSE_TYPES = env_list("CONNECT_OFFENSE_TYPES", [
    "Burglary", "Robbery", "Vehicle break-in", "Vehicle theft", "Assault", "Shooting", "Homicide",
    "Hit and run", "Vandalism", "Missing person", "Other"])
INCIDENT_MAX_WINDOW_HOURS = env_int("CONNECT_INCIDENT_MAX_WINDOW_HOURS", 12, minimum=1)
INCIDENT_MAX_RADIUS_M = env_int("CONNECT_INCIDENT_MAX_RADIUS_M", 800, minimum=50)
REQUEST_LINK_DAYS = env_int("CONNECT_REQUEST_LINK_DAYS", 10, minimum=1)
REQUEST_REMINDER_HOURS = [int(h) for h in env_list("CONNECT_REQUEST_REMINDER_HOURS", ["24", "72"])]
UPLOAD_MAX_MB = env_int("CONNECT_UPLOAD_MAX_MB", 2048, minimum=1)
CLIP_KEEP_DAYS_MIN = env_int("CONNECT_CLIP_KEEP_DAYS_MIN", 30, minimum=0)
CLIP_KEEP_DAYS_MAX = env_int("CONNECT_CLIP_KEEP_DAYS_MAX", 365, minimum=CLIP_KEEP_DAYS_MIN)
# Public-records releases (records/): "confidential" refuses every release (registry and footage are never public
# records); "releasable" lets a records officer release the registry, anonymised, and a closed case's clips,
# redacted, after owners had OBJECTION_DAYS to object. GRID_M: the exported registry's locations are the centres of
# cells this many metres wide.
RECORDS_POLICY = env_choice("CONNECT_RECORDS_POLICY", "confidential", ("confidential", "releasable"))
# At least a day, except in the demo, where 0 lets a release be walked through in one sitting.
RECORDS_OBJECTION_DAYS = env_int("CONNECT_RECORDS_OBJECTION_DAYS", 10, minimum=0 if DEMO else 1, maximum=365)
RECORDS_GRID_M = env_int("CONNECT_RECORDS_GRID_M", 500, minimum=50, maximum=10000)
# k-anonymity of the released registry: a cell with fewer cameras is coarsened, then left out (records/).
RECORDS_MIN_CELL_CAMERAS = env_int("CONNECT_RECORDS_MIN_CELL_CAMERAS", 5, minimum=1, maximum=1000)
EVIDENCE_DIR = Path(env_str("CONNECT_EVIDENCE_DIR", str(BASE_DIR / "var" / "evidence")))
# Outside agencies (agencies/): requests from agencies of these types must carry a warrant or court order. Types are
# those of agencies.models.OutsideAgency ("police", "prosecutor", "federal", "other"), plus "out_of_state": any
# agency whose jurisdiction is not CONNECT_PROGRAM_STATE.
WARRANT_REQUIRED_TYPES = env_list("CONNECT_WARRANT_REQUIRED_TYPES", ["federal", "out_of_state"])
PROGRAM_STATE = env_str("CONNECT_PROGRAM_STATE", "NC").upper()
# Whether an outside agency may ask for a live view at all (off: the kind is refused when filed); set by presets.
AGENCY_LIVE_VIEWS = env_bool("CONNECT_AGENCY_LIVE_VIEWS", True)
# Files posted in forms (warrants, email lists, camera lists) are parsed in memory, never into the temporary folder
# in plain text (common/upload_handlers.py); a file over this many MB is skipped. Clips have their own handler.
FILE_UPLOAD_HANDLERS = ["common.upload_handlers.MemoryOnlyUploadHandler"]
UPLOAD_IN_MEMORY_MAX_MB = env_int("CONNECT_UPLOAD_IN_MEMORY_MAX_MB", 50, minimum=1, maximum=1024)
# Request bodies past FILE_UPLOAD_MAX_MEMORY_SIZE are spooled here, sealed (connect/asgi_body.py): a private
# folder of connect's own beside the evidence folder, swept of what a killed web process left (not the shared /tmp).
SPOOL_DIR = Path(env_str("CONNECT_SPOOL_DIR", str(EVIDENCE_DIR.parent / "spool")))
# How many web processes `make run`, the image and the systemd unit start (uvicorn --workers): read by them, checked
# here so junk stops start-up with the variable's name.
WEB_PROCESSES = env_int("CONNECT_WEB_PROCESSES", 1, minimum=1)
# Who wraps clips' data keys (common/key_service.py): "local" (CONNECT_EVIDENCE_KEY below) or "aws-kms" (a KMS
# key; local keys then only unwrap clips wrapped before the switch, until evidence_rotate_key has run).
KEY_SERVICE = env_choice("CONNECT_KEY_SERVICE", "local", ("local", "aws-kms"))
# Where clips are kept: "local" (EVIDENCE_DIR) or an S3-compatible bucket. EVIDENCE_DIR stays the staging folder
# uploads are sealed into as they arrive (ciphertext only) either way.
EVIDENCE_STORAGE = parse_evidence_storage("CONNECT_EVIDENCE_STORAGE", env_str("CONNECT_EVIDENCE_STORAGE", "local"))
EVIDENCE_S3_ENDPOINT_URL = env_str("CONNECT_EVIDENCE_S3_ENDPOINT_URL", "")
EVIDENCE_S3_REGION = env_str("CONNECT_EVIDENCE_S3_REGION", "us-east-1")
EVIDENCE_S3_ACCESS_KEY_ID = env_secret("CONNECT_EVIDENCE_S3_ACCESS_KEY_ID")
EVIDENCE_S3_SECRET_ACCESS_KEY = env_secret("CONNECT_EVIDENCE_S3_SECRET_ACCESS_KEY")
EVIDENCE_S3_PATH_STYLE = env_bool("CONNECT_EVIDENCE_S3_PATH_STYLE", False)
EVIDENCE_S3_TIMEOUT_SECONDS = env_int("CONNECT_EVIDENCE_S3_TIMEOUT_SECONDS", 30, minimum=1)
EVIDENCE_S3_PART_MB = env_int("CONNECT_EVIDENCE_S3_PART_MB", 16, minimum=5, maximum=5120)
# Ranged reads without a recorded press of play are one ledger entry per clip, viewer and action per this many
# minutes (a player or download manager sends hundreds of ranges for one viewing).
EVIDENCE_RANGE_LEDGER_MINUTES = env_int("CONNECT_EVIDENCE_RANGE_LEDGER_MINUTES", 10, minimum=1)
# The daily at-rest check reads at most this much plaintext a run (every clip comes round in turn).
EVIDENCE_VERIFY_GB_PER_RUN = env_int("CONNECT_EVIDENCE_VERIFY_GB_PER_RUN", 20, minimum=1)
_evidence_key = env_secret("CONNECT_EVIDENCE_KEY")
if not _evidence_key and KEY_SERVICE == "local":
    if not DEMO:
        raise ImproperlyConfigured("CONNECT_EVIDENCE_KEY (or CONNECT_EVIDENCE_KEY_FILE) must hold base64 of 32 random "
                                   "bytes in production: it encrypts every clip.")
    _evidence_key = "ZGVtby1vbmx5LWV2aWRlbmNlLWtleS0zMi1ieXRlcyE="  # demo only, public
# None with aws-kms and no local key: every clip was wrapped by KMS.
EVIDENCE_KEY = parse_aes_key("CONNECT_EVIDENCE_KEY", _evidence_key) if _evidence_key else None
EVIDENCE_PREVIOUS_KEYS = [parse_aes_key("CONNECT_EVIDENCE_PREVIOUS_KEYS", key)
                          for key in env_list("CONNECT_EVIDENCE_PREVIOUS_KEYS")]
KMS_KEY_ID = env_str("CONNECT_KMS_KEY_ID")
KMS_PREVIOUS_KEY_IDS = env_list("CONNECT_KMS_PREVIOUS_KEY_IDS")
KMS_ENDPOINT_URL = env_str("CONNECT_KMS_ENDPOINT_URL")
KMS_REGION = env_str("CONNECT_KMS_REGION", "us-east-1")
KMS_TIMEOUT_SECONDS = env_int("CONNECT_KMS_TIMEOUT_SECONDS", 5, minimum=1, maximum=120)
if KEY_SERVICE == "aws-kms" and not KMS_KEY_ID:
    raise ImproperlyConfigured("CONNECT_KMS_KEY_ID must name the KMS key (id, ARN or alias/...) when "
                               "CONNECT_KEY_SERVICE=aws-kms.")
if KMS_ENDPOINT_URL and not KMS_ENDPOINT_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"CONNECT_KMS_ENDPOINT_URL must be an http(s):// URL, not {KMS_ENDPOINT_URL!r}")
# Each clip's shred key, held apart from the database and its backups: destroying it destroys the clip for good,
# even in a database restored from a backup taken before (docs/BACKUPS.md). Never inside CONNECT_EVIDENCE_DIR.
KEY_STORE_DIR = Path(env_str("CONNECT_KEY_STORE_DIR", str(BASE_DIR / "var" / "keys")))
if KEY_STORE_DIR.resolve() == EVIDENCE_DIR.resolve() or EVIDENCE_DIR.resolve() in KEY_STORE_DIR.resolve().parents:
    raise ImproperlyConfigured("CONNECT_KEY_STORE_DIR must not be inside CONNECT_EVIDENCE_DIR: the shred keys are "
                               "kept and backed up apart from the evidence.")

# --- owner links and sessions -----------------------------------------------------------------------
# The access ledger's chain is keyed (HMAC) with a secret kept outside the database. Keep it for the life of
# the ledger: entries written under one key verify only with that key.
LEDGER_KEY_MIN_CHARS = 32
LEDGER_KEY = env_secret("CONNECT_LEDGER_KEY")
if not LEDGER_KEY:
    if not DEMO:
        raise ImproperlyConfigured(f"CONNECT_LEDGER_KEY (or CONNECT_LEDGER_KEY_FILE) must be set to "
                                   f"{LEDGER_KEY_MIN_CHARS}+ random characters in production: it keys the access "
                                   "ledger's hash chain.")
    LEDGER_KEY = "demo-only-ledger-key-public-0123456789"
elif len(LEDGER_KEY) < LEDGER_KEY_MIN_CHARS:
    raise ImproperlyConfigured(f"CONNECT_LEDGER_KEY must be at least {LEDGER_KEY_MIN_CHARS} random characters.")
# The Ed25519 key that signs the ledger's daily public checkpoints (audit/signing.py): a 32-byte seed in base64, or
# a PEM private key. Unset, it is derived from CONNECT_LEDGER_KEY, so it lives exactly as long as the chain does.
LEDGER_SIGNING_KEY = env_secret("CONNECT_LEDGER_SIGNING_KEY")

# --- retention ---------------------------------------------------------------------------------------
LEDGER_KEEP_DAYS = env_int("CONNECT_LEDGER_KEEP_DAYS", 365, minimum=365)  # upward only: audits need a year
LINK_PURGE_DAYS = env_int("CONNECT_LINK_PURGE_DAYS", 30, minimum=1)
# What owners see of the staff member in their access history: "unit" (the role) or "badge" (the user name).
OWNER_HISTORY_SHOWS = env_choice("CONNECT_OWNER_HISTORY_SHOWS", "unit", ("unit", "badge"))
CONFIRM_LINK_HOURS = env_int("CONNECT_CONFIRM_LINK_HOURS", 72, minimum=1)
SIGNIN_LINK_MINUTES = env_int("CONNECT_SIGNIN_LINK_MINUTES", 30, minimum=5)
OWNER_SESSION_MINUTES = env_int("CONNECT_OWNER_SESSION_MINUTES", 60, minimum=5)

# --- staff map --------------------------------------------------------------------------------------
# Streets under every map: OpenStreetMap's standard tiles unless the city names its own, or `off`.
MAP_TILES, MAP_ATTRIBUTION = parse_map_tiles("CONNECT_MAP_TILES", env_str("CONNECT_MAP_TILES"),
                                             env_str("CONNECT_MAP_ATTRIBUTION"))
# Tile servers (OpenStreetMap's policy asks for it) learn which site asks, never which page: page paths can
# hold an owner's link.
MAP_TILE_OPTIONS = {"attribution": MAP_ATTRIBUTION, "maxZoom": 19, "referrerPolicy": "strict-origin"}
MAP_MAX_FEATURES = env_int("CONNECT_MAP_MAX_FEATURES", 20000, minimum=100)
# Above this many cameras in view the staff map shows groups with true counts (built from registry.CameraCell).
MAP_CLUSTER_ABOVE = env_int("CONNECT_MAP_CLUSTER_ABOVE", 3000, minimum=0, maximum=20000)
NEARBY_MAX_RADIUS_M = env_int("CONNECT_NEARBY_MAX_RADIUS_M", 2000, minimum=50)
LEAFLET_CONFIG = {"TILES": [], "NO_GLOBALS": False, "RESET_VIEW": False}
# --- address search ---------------------------------------------------------------------------------
# `local`: the points loaded by manage.py import_addresses; or a Nominatim- or ArcGIS-compatible URL, which connect's
# server asks (addresses/geocoders): browsers talk to connect only, so the CSP stays as it is.
GEOCODER = parse_geocoder("CONNECT_GEOCODER", env_str("CONNECT_GEOCODER", "local"))
GEOCODER_TIMEOUT_S = env_int("CONNECT_GEOCODER_TIMEOUT_S", 4, minimum=1, maximum=30)
# Type-ahead asks once per pause in typing; a person placing a camera needs a few dozen a minute at most.
ADDRESS_SEARCH_PER_MINUTE = env_int("CONNECT_ADDRESS_SEARCH_PER_MINUTE", 60, minimum=10)
if MAP_TILES:
    LEAFLET_CONFIG["TILES"] = [("Streets", MAP_TILES, MAP_TILE_OPTIONS)]

# --- mail -------------------------------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("CONNECT_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("CONNECT_EMAIL_PORT", 2525 if DEMO else 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("CONNECT_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_secret("CONNECT_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("CONNECT_EMAIL_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("CONNECT_EMAIL_FROM", f"{AGENCY_NAME} <{AGENCY_EMAIL}>")
DEMO_MAILDIR = Path(env_str("CONNECT_DEMO_MAILDIR", str(BASE_DIR / "var" / "mail")))

# The change history records no client addresses: the ledger does, through the trusted-proxy rule.
AUDITLOG_DISABLE_REMOTE_ADDR = True
AUDITLOG_MASK_CALLABLE = "common.change_history.personal_value_mask"

# --- Celery -----------------------------------------------------------------------------------------
CELERY_BROKER_URL, _broker_options = celery_broker(REDIS_URL)  # a Sentinel URL becomes kombu's sentinel:// form
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishers (web requests) give up on a missing broker at once rather than hang the person for seconds;
# common.outbox then leaves the work to its sweep. The worker's own reconnection is governed separately and
# retries forever.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5,
                                   "max_retries": 1, "interval_start": 0, "interval_step": 0.2, **_broker_options}
CELERY_TIMEZONE = "UTC"
# Beat runs once across machines: the scheduler holds a PostgreSQL advisory lock, others stand by (connect/beat.py).
CELERY_BEAT_SCHEDULER = "connect.beat:SingleBeatScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CONNECT_CELERY_EAGER", False)
# Celery's Django fixup closes the whole connection pool after every task in a prefork worker unless told to
# reuse it: a fresh PostGIS session per task tripled a footage request's cost (bench/request_fanout.py).
# Health checks catch connections that died in the meantime.
CELERY_DB_REUSE_MAX = 500
# Beat's one table: entry -> (task, default interval in seconds). A variable named after the entry overrides its
# interval in seconds (CONNECT_BEAT_LEDGER_SEAL=30 for ledger-seal); each run expires just under its period.
_MINUTE, _HOUR, _DAY = 60, 3600, 86400
CELERY_BEAT_SCHEDULE = parse_beat_schedule({
    # Queues the outbox's work that could not be queued at its commit (the broker was away); common/outbox.py.
    "outbox-sweep": ("common.tasks.outbox_sweep_task", _MINUTE),
    # Re-sends confirmation mail that could not be queued or delivered (broker or SMTP down).
    "registration-confirmations-resend": ("registry.tasks.registration_confirmations_resend_task", 5 * _MINUTE),
    # Sends due reminders, lapses requests and re-queues stuck ones (a dead worker's within two minutes).
    "footage-requests-sweep": ("requests_app.tasks.footage_requests_sweep_task", _MINUTE),
    "accounts-inactive-disable": ("accounts.tasks.accounts_inactive_disable_task", _DAY),
    "clips-expired-purge": ("requests_app.tasks.clips_expired_purge_task", _HOUR),
    # Spooled bodies and sealed uploads a killed web process left (also swept when web starts).
    "uploads-leftovers-sweep": ("requests_app.tasks.upload_leftovers_sweep_task", _HOUR),
    # The at-rest check: re-hashes whole clips, oldest-checked first, CONNECT_EVIDENCE_VERIFY_GB_PER_RUN a run.
    "clips-verify-due": ("requests_app.tasks.clips_verify_due_task", _DAY),
    # Entries are sealed as they are recorded; this takes any left pending by a process that died in between.
    "ledger-seal": ("audit.tasks.ledger_seal_task", _MINUTE),
    "ledger-purge": ("audit.tasks.ledger_purge_task", _DAY),
    "ledger-checkpoint-publish": ("audit.tasks.ledger_checkpoint_publish_task", _DAY),
    # Records the policy in force when it differs from the last one recorded (also run by `make run` at start).
    "policy-record": ("audit.tasks.policy_record_task", 5 * _MINUTE),
    "audit-weekly-review": ("audit.tasks.weekly_review_send_task", 7 * _DAY),
    "owner-digests": ("registry.tasks.owner_digests_send_task", _DAY),
    "links-lapsed-purge": ("registry.tasks.links_lapsed_purge_task", _DAY),
    # Ends sessions a crashed server left open and purges old session details (the ledger keeps the facts).
    "live-sessions-sweep": ("integration.tasks.live_sessions_sweep_task", _MINUTE),
    "live-sessions-purge": ("integration.tasks.live_sessions_purge_task", _DAY),
    "registrations-unconfirmed-purge": ("registry.tasks.registrations_unconfirmed_purge_task", _HOUR),
    # The yearly re-confirmation: asks, reminds, pauses and purges cameras as their dates come (CONNECT_RECONFIRM_*).
    "reconfirmations-advance": ("registry.tasks.reconfirmations_advance_task", _DAY),
    # Admits queued live shares as places free, and ends live sharing after the pilot's last day.
    "pilot-limits-apply": ("integration.tasks.pilot_limits_apply_task", 5 * _MINUTE),
    "calls-purge": ("dispatch.tasks.calls_purge_task", _HOUR),
    # Tells owners their footage went to an outside agency once a court's delay of notice has ended.
    "agency-owner-notices-send": ("agencies.tasks.owner_notices_due_send_task", _HOUR),
    "positions-purge": ("dispatch.tasks.positions_purge_task", 10 * _MINUTE),
    # Destroys the stills of expired bulletins (CONNECT_BULLETIN_HOURS) unless saved to the case.
    "bulletins-media-purge": ("bulletins.tasks.bulletins_media_purge_task", 10 * _MINUTE),
    # Erases the addresses of invitations not mailed within CONNECT_INVITE_LIST_KEEP_DAYS (drafts never sent).
    "invitation-lists-purge": ("invitations.tasks.invitation_lists_purge_task", _DAY),
    # Records releases: fails redaction jobs a dead worker left running; destroys unreleased redacted copies of
    # clips retention purged.
    "redactions-sweep": ("records.tasks.redactions_sweep_task", _HOUR),
    # Deletion receipts to the public's uploaders once retention purged their clips; unconfirmed answers' addresses.
    "public-clip-deletion-receipts": ("public_requests.tasks.public_clip_deletion_receipts_send_task", _HOUR),
    "public-answers-unconfirmed-purge": ("public_requests.tasks.public_answers_unconfirmed_purge_task", _DAY),
    "public-answer-emails-erase": ("public_requests.tasks.public_answer_emails_erase_task", _DAY),
    # Neighbours' concerns: deletes those never confirmed after a week; erases closed ones' email and text after
    # CONNECT_CONCERN_KEEP_DAYS.
    "concerns-purge": ("concerns.tasks.concerns_purge_task", _DAY),
})
# The two intervals once set in minutes: a deployment still setting them must not silently lose its interval.
env_retired({"CONNECT_RESEND_EVERY_MINUTES": "CONNECT_BEAT_REGISTRATION_CONFIRMATIONS_RESEND (seconds)",
             "CONNECT_REQUEST_SWEEP_MINUTES": "CONNECT_BEAT_FOOTAGE_REQUESTS_SWEEP (seconds)"})
UNCONFIRMED_PURGE_DAYS = env_int("CONNECT_UNCONFIRMED_PURGE_DAYS", 14, minimum=1)
# The yearly re-confirmation (registry/reconfirmation.py): owners are asked this many days after a camera was last
# confirmed, reminded some days after the ask, the camera is paused when the grace after the ask ends and purged
# when the second grace after the pause ends. Each step mails the owner.
RECONFIRM_DAYS = env_int("CONNECT_RECONFIRM_DAYS", 365, minimum=1)
RECONFIRM_REMIND_DAYS = env_int("CONNECT_RECONFIRM_REMIND_DAYS", 14, minimum=1)
RECONFIRM_PAUSE_DAYS = env_int("CONNECT_RECONFIRM_PAUSE_DAYS", 30, minimum=1)
RECONFIRM_PURGE_DAYS = env_int("CONNECT_RECONFIRM_PURGE_DAYS", 60, minimum=1)

# Invitation campaigns (invitations): the most letters one campaign prints (an area drawn too large is refused
# with the count). The PDF is made in the request, about 30 ms a letter: 1000 letters take half a minute.
INVITE_LETTERS_MAX = env_int("CONNECT_INVITE_LETTERS_MAX", 1000, minimum=1)
# An uploaded list's addresses are erased as each mail goes out; those never mailed (a campaign left unsent, a
# server that kept refusing) are erased this many days after the campaign was made.
INVITE_LIST_KEEP_DAYS = env_int("CONNECT_INVITE_LIST_KEEP_DAYS", 30, minimum=1)
# Keys the hash an invitation keeps of an address (to honour an unsubscribe forever without keeping the address):
# without a key, anyone holding the table could test a guessed address against it. Unset, it is derived from
# CONNECT_LEDGER_KEY, which is kept for the life of the ledger; never from CONNECT_SECRET_KEY, whose rotation would
# forget every unsubscribe.
INVITE_HASH_KEY = env_secret("CONNECT_INVITE_HASH_KEY") or hmac.new(
    LEDGER_KEY.encode(), b"connect invitations address hash v1", hashlib.sha256).hexdigest()
if RECONFIRM_REMIND_DAYS >= RECONFIRM_PAUSE_DAYS:
    raise ImproperlyConfigured("CONNECT_RECONFIRM_REMIND_DAYS must be less than CONNECT_RECONFIRM_PAUSE_DAYS: the "
                               "reminder comes before the camera is paused.")

# --- live integration --------------------------------------------------------------------------------
LIVE_TERMS_VERSION = env_str("CONNECT_LIVE_TERMS_VERSION", "live-2026-1")
LIVE_TERMS_FILE = Path(env_str("CONNECT_LIVE_TERMS_FILE", str(BASE_DIR / "connect" / "data" / "live-terms.txt")))
LIVE_RESIDENTIAL_ALLOWED = env_bool("CONNECT_LIVE_RESIDENTIAL", True)  # False: an ordinance forbids it
# Two-person override of the incident-nearby rule: a supervisor decides an analyst's request within the first
# figure (minutes); an approval is good for one camera and one case for the second. A supervisor overriding for
# themselves only where the program allows it (and it is flagged in the weekly review).
LIVE_OVERRIDE_DECIDE_MINUTES = env_int("CONNECT_LIVE_OVERRIDE_DECIDE_MINUTES", 15, minimum=1, maximum=24 * 60)
LIVE_OVERRIDE_VALID_MINUTES = env_int("CONNECT_LIVE_OVERRIDE_VALID_MINUTES", 30, minimum=1, maximum=24 * 60)
LIVE_SELF_OVERRIDE = env_bool("CONNECT_LIVE_SELF_OVERRIDE", False)
# Object and attribute search (detections): the detector (`opencv`, built in and offline, or `onnx:/path/model.onnx`,
# an agency-supplied model run by onnxruntime; docs/DETECTORS.md), frames sampled per second of video, the width
# frames are scaled down to before detection, how long one clip may take, and how many times a failed clip is tried.
DETECTOR = env_str("CONNECT_DETECTOR", "opencv")
if DETECTOR != "opencv" and not (DETECTOR.startswith("onnx:") and len(DETECTOR) > 5):
    raise ImproperlyConfigured("CONNECT_DETECTOR must be `opencv` or `onnx:/path/to/model.onnx`.")
DETECTIONS_SAMPLE_FPS = env_int("CONNECT_DETECTIONS_SAMPLE_FPS", 2, minimum=1, maximum=30)
DETECTIONS_WIDTH = env_int("CONNECT_DETECTIONS_WIDTH", 960, minimum=320, maximum=3840)
DETECTIONS_TIMEOUT_S = env_int("CONNECT_DETECTIONS_TIMEOUT_S", 600, minimum=5)
DETECTIONS_MAX_ATTEMPTS = env_int("CONNECT_DETECTIONS_MAX_ATTEMPTS", 3, minimum=1, maximum=10)
# Live watches ("alert me when a match appears"): frames checked per second on each watched live view, and the
# threads (per server process) that check them, off the event loop that relays the picture.
LIVE_WATCH_FPS = env_int("CONNECT_LIVE_WATCH_FPS", 1, minimum=1, maximum=5)
LIVE_WATCH_THREADS = env_int("CONNECT_LIVE_WATCH_THREADS", 1, minimum=1, maximum=16)
# A neighbour's concern (concerns): true masks the neighbour's home in the live views of the cameras whose owners are
# asked about it, from the moment they are asked until each owner answers.
CONCERN_MASK_PENDING = env_bool("CONNECT_CONCERN_MASK_PENDING", False)
# A closed concern's email and free text are erased this many days after it closed (the address and the counts stay
# for the owners' history); a concern never confirmed is deleted after a week.
CONCERN_KEEP_DAYS = env_int("CONNECT_CONCERN_KEEP_DAYS", 90, minimum=1)
# Pilot limits (integration/pilot.py): the most integrated cameras per owner kind (0: no limit; sign-ups past it wait
# in a queue, admitted oldest first as places free), and the program's last day, after which live shares stop and
# registrations are kept or purged.
LIVE_MAX_PER_KIND = {kind: env_int(f"CONNECT_LIVE_MAX_{kind.upper()}", 0, minimum=0)
                     for kind in ("resident", "business", "agency")}
_pilot_ends = env_str("CONNECT_PILOT_ENDS", "")
try:
    PILOT_ENDS = date.fromisoformat(_pilot_ends) if _pilot_ends else None
except ValueError:
    raise ImproperlyConfigured(f"CONNECT_PILOT_ENDS must be a date like 2027-03-31, not {_pilot_ends!r}.") from None
# Or a pilot's length in days (a preset's "45-day pilot") from its first day. CONNECT_PILOT_ENDS, when set, wins.
PILOT_DAYS = env_int("CONNECT_PILOT_DAYS", 0, minimum=0, maximum=3650)
_pilot_starts = env_str("CONNECT_PILOT_STARTS", "")
try:
    PILOT_STARTS = date.fromisoformat(_pilot_starts) if _pilot_starts else None
except ValueError:
    raise ImproperlyConfigured(f"CONNECT_PILOT_STARTS must be a date like 2027-01-04, not {_pilot_starts!r}.") from None
if PILOT_DAYS and PILOT_ENDS is None:
    if PILOT_STARTS is None:
        raise ImproperlyConfigured(f"CONNECT_PILOT_DAYS={PILOT_DAYS} (from {source_of('CONNECT_PILOT_DAYS')}) makes "
                                   "this a pilot of that many days: set CONNECT_PILOT_STARTS to its first day, "
                                   "e.g. 2027-01-04 (or CONNECT_PILOT_ENDS to its last).")
    PILOT_ENDS = PILOT_STARTS + timedelta(days=PILOT_DAYS - 1)
PILOT_END_REGISTRATIONS = env_choice("CONNECT_PILOT_END_REGISTRATIONS", "keep", ("keep", "purge"))
TRAINING_VALID_DAYS = env_int("CONNECT_TRAINING_VALID_DAYS", 365, minimum=1)
TRAINING_MIN_HOURS = env_int("CONNECT_TRAINING_MIN_HOURS", 2, minimum=0)
LIVE_FRAME_MAX_KB = env_int("CONNECT_LIVE_FRAME_MAX_KB", 512, minimum=16, maximum=8192)
# The maximum is a bound on configuration, not a sensible rate: bench/live_relay.py raises the cap to it so that the
# server, not the throttle, limits its saturation run.
LIVE_MAX_FPS = env_int("CONNECT_LIVE_MAX_FPS", 15, minimum=1, maximum=1000)
LIVE_WIDTH = env_int("CONNECT_LIVE_WIDTH", 960, minimum=160, maximum=3840)
LIVE_VIEWER_QUEUE = env_int("CONNECT_LIVE_VIEWER_QUEUE", 3, minimum=1, maximum=30)
# An incident wall: at most this many live views of the cameras around an incident or call, on one socket.
WALL_CAMERAS = env_int("CONNECT_WALL_CAMERAS", 9, minimum=1, maximum=25)
LIVE_SESSION_KEEP_DAYS = env_int("CONNECT_LIVE_SESSION_KEEP_DAYS", 90, minimum=1)
# Live pictures (frames, the owner's still for the mask editor) are sealed with AES-256-GCM while they pass through
# Redis (integration/live_crypto.py). A list for rolling restarts: the first key seals, every key opens. Without
# keys of its own, one is derived from the secret key, so frames are never in Redis in plaintext.
LIVE_FRAME_KEYS = [parse_aes_key("CONNECT_LIVE_FRAME_KEYS", key)
                   for key in env_secret("CONNECT_LIVE_FRAME_KEYS").split(",") if key.strip()]
if not LIVE_FRAME_KEYS:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    LIVE_FRAME_KEYS = [HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                            info=b"connect live frame key v1").derive(SECRET_KEY.encode())]

# --- API --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Systems send `Authorization: Bearer <token>` (api.models.ApiToken); staff use their session.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ApiAccess"],  # deny by default: views name scopes and perms
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend",
                                "rest_framework.filters.OrderingFilter"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "connect API",
    "VERSION": "1",
    "DESCRIPTION": "Cameras, incidents, footage requests, evidence metadata, calls for service, officer positions "
                   "and the transparency figures. Systems authenticate with `Authorization: Bearer <token>` "
                   "(tokens are created in the admin, each with its scopes); staff use their session.",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from connect itself: the docs work offline and under the CSP
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "api.schema.drop_path_parameters_not_in_path", "api.schema.add_error_responses"],
    "ENUM_NAME_OVERRIDES": {"CallStatusEnum": "dispatch.models.CallForService.Status"},
}
API_REQUESTS_PER_MINUTE = env_int("CONNECT_API_REQUESTS_PER_MINUTE", 30000, minimum=60)
POSITIONS_PER_UNIT_PER_MINUTE = env_int("CONNECT_POSITIONS_PER_UNIT_PER_MINUTE", 120, minimum=1)

# --- dispatch: calls for service and officer positions ---------------------------------------------
CALLS_KEEP_DAYS = env_int("CONNECT_CALLS_KEEP_DAYS", 7, minimum=1)
POSITIONS_KEEP_HOURS = env_int("CONNECT_POSITIONS_KEEP_HOURS", 24, minimum=1)
# Bulletins to patrol units expire after this many hours; their stills are destroyed then unless saved to the case.
BULLETIN_HOURS = env_int("CONNECT_BULLETIN_HOURS", 12, minimum=1)
BULLETIN_CLIP_MAX_S = env_int("CONNECT_BULLETIN_CLIP_MAX_S", 60, minimum=1, maximum=600)
# Web Push of bulletins (optional): on only with all three; the payload carries the priority and the page link alone.
WEBPUSH_VAPID_PRIVATE_KEY = env_secret("CONNECT_WEBPUSH_VAPID_PRIVATE_KEY")
WEBPUSH_VAPID_PUBLIC_KEY = env_str("CONNECT_WEBPUSH_VAPID_PUBLIC_KEY")
WEBPUSH_CONTACT = env_str("CONNECT_WEBPUSH_CONTACT")
_webpush_given = [bool(WEBPUSH_VAPID_PRIVATE_KEY), bool(WEBPUSH_VAPID_PUBLIC_KEY), bool(WEBPUSH_CONTACT)]
if any(_webpush_given) and not all(_webpush_given):
    raise ImproperlyConfigured("Web Push needs CONNECT_WEBPUSH_VAPID_PRIVATE_KEY, CONNECT_WEBPUSH_VAPID_PUBLIC_KEY and "
                               "CONNECT_WEBPUSH_CONTACT together (or none of them).")
if WEBPUSH_CONTACT and not WEBPUSH_CONTACT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured("CONNECT_WEBPUSH_CONTACT must be a mailto: or https: address push services can reach.")
WEBPUSH_ENABLED = all(_webpush_given)
WEBPUSH_LOOPBACK_HTTP = False  # tests only: lets a subscription name a plain-http push service on 127.0.0.1
CALL_CAMERA_RADIUS_M = env_int("CONNECT_CALL_CAMERA_RADIUS_M", 300, minimum=10, maximum=2000)
CALL_CAMERAS = env_int("CONNECT_CALL_CAMERAS", 10, minimum=1, maximum=100)
DISPATCH_TICK_MS = env_int("CONNECT_DISPATCH_TICK_MS", 100, minimum=20, maximum=1000)

# --- observability: logs, metrics, error reports (docs/MONITORING.md) ----------------------------------
# "text" for people, "json" for a log collector: one object a line with the request id, the staff user id and the
# exception as fields. Either way the handler scrubs what must never be logged (common/logs.py): signed links'
# tokens in paths, query strings, client addresses in access lines.
LOG_FORMAT = env_choice("CONNECT_LOG_FORMAT", "text", ("text", "json"))
LOG_LEVEL = env_str("CONNECT_LOG_LEVEL", "INFO").upper()
LOGGING_CONFIG = "common.logs.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "common.logs.RequestContextFilter"}, "scrub": {"()": "common.logs.ScrubFilter"}},
    "formatters": {"text": {"()": "common.logs.TextFormatter"}, "json": {"()": "common.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["context", "scrub"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "mail.log": {"level": "WARNING"},  # aiosmtpd logs every SMTP verb at INFO
        # uvicorn's own loggers go through the same handler (uvicorn gives them handlers of their own otherwise).
        "uvicorn": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.error": {"level": LOG_LEVEL},
        "uvicorn.access": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
# A request id from the proxy is taken only behind a trusted proxy (CONNECT_TRUSTED_PROXIES > 0); otherwise, and
# when it is not a plain token of at most 64 characters, connect makes one. Either way it is in the response.
REQUEST_ID_HEADER = "X-Request-ID"

# Prometheus metrics: on a port of their own (CONNECT_METRICS_PORT, bound to CONNECT_METRICS_ADDRESS), and/or at
# /metrics for a scraper sending `Authorization: Bearer CONNECT_METRICS_TOKEN`. Neither set: nothing is exposed.
METRICS_PORT = env_int("CONNECT_METRICS_PORT", 0, minimum=0, maximum=65535)
METRICS_ADDRESS = env_str("CONNECT_METRICS_ADDRESS", "127.0.0.1")
METRICS_TOKEN = env_secret("CONNECT_METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("CONNECT_METRICS_TOKEN must be at least 24 random characters.")
METRICS_ENABLED = bool(METRICS_PORT or METRICS_TOKEN)
# Every process of a machine (web workers, Celery's prefork children) counts into files here, and whichever serves
# a scrape adds them up (prometheus_client's multiprocess mode). Empty it when the machine starts (a tmpfs, or
# systemd's RuntimeDirectory=). prometheus_client reads the variable when it is first imported, after settings.
METRICS_DIR = Path(env_str("CONNECT_METRICS_DIR", str(BASE_DIR / "var" / "metrics")))
if METRICS_ENABLED:
    import os

    try:
        METRICS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ImproperlyConfigured(f"CONNECT_METRICS_DIR: cannot create {METRICS_DIR}: {exc.strerror}") from None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)

# /healthz says "degraded" (still 200) when the evidence store has less free space than this.
HEALTH_MIN_FREE_MB = env_int("CONNECT_HEALTH_MIN_FREE_MB", 2048, minimum=0)
# /healthz says "degraded" (still 200) when the oldest ledger entry waiting to be sealed is older than this.
HEALTH_SEALER_LAG_S = env_int("CONNECT_HEALTH_SEALER_LAG_S", 120, minimum=1)

# Error reports to Sentry or a compatible service (GlitchTip, Bugsink): off unless a DSN is given. Personal data is
# never sent (connect/error_reporting.py strips it).
SENTRY_DSN = env_secret("CONNECT_SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("CONNECT_SENTRY_ENVIRONMENT", MODE)
if SENTRY_DSN:
    from connect.error_reporting import error_reporting_start

    error_reporting_start(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)

# GDAL < 3.9 cannot be told to refuse network paths; connect never hands user files to GDAL (imports
# are parsed as JSON/CSV and points built by GEOS), so the warning does not apply.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# A strict Content-Security-Policy: scripts only from connect itself, or inline with this response's nonce
# (django-leaflet's admin widget uses the nonce). No CDN, no inline handlers, no eval.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],  # Leaflet and the admin set inline styles; no script runs
        "img-src": [SELF, "data:", "blob:", *tile_origin(MAP_TILES)],  # blob: live frames arrive as blobs
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The program's policy in force (the preset and every policy variable's value and source, with a fingerprint):
# /transparency/ shows it in plain words and the ledger records each change (audit/policy.py). Last, so that it
# covers every variable read above; SETTINGS_LOOKUPS feeds the staff settings page.
POLICY = policy_in_force()
SETTINGS_LOOKUPS = LOOKUPS
SETTINGS_UNREAD = unread_variables()
