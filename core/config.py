"""Site configuration: defaults < instance/config.toml < TIMEBANK_* environment < explicit mapping.

Every value is checked here, so a bad value stops start-up with one message naming the key,
instead of surfacing later as a confusing error deep inside a request.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

# The one timezone of the site (issue 11 point 13): business dates, stored times (core.db.TZ), the
# task schedules and Babel's formatting all use it. Not a setting: times are stored as its wall time, so
# a site cannot change it without rewriting every stored time, and the rules (Guangzhou, the national
# calendar of working days) are Beijing time. A configured TIMEZONE must equal it (ConfigError otherwise).
TIMEZONE = "Asia/Shanghai"


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""


def _bool(v):
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(v)


def _list(v):
    if isinstance(v, (list, tuple)):
        return list(v)
    return [x.strip() for x in str(v).split(",") if x.strip()]


# key: (default, converter, description)
SCHEMA = {
    "SECRET_KEY": (None, str, "Flask secret key; generated into the instance folder if unset"),
    "DATABASE_URL": (None, str, "sqlite:///path or postgresql://user@host:port/db; default SQLite in the instance"),
    "REDIS_URL": (None, str, "redis://host:port/db; when set the task queue runs on Redis"),
    "PLUGINS": (None, _list, "explicit list of enabled plugins (overrides the stored set; for tests)"),
    "PLUGIN_PATHS": (None, _list, "extra folders of local plugins (development, tests)"),
    "DEFAULT_LOCALE": ("zh_Hans_CN", str, "default UI language"),
    "LANGUAGES": (["zh_Hans_CN", "en"], _list, "languages a user may switch to"),
    "CALENDAR_WARN_DAYS": (60, int, "warn on the dashboard when the working-day calendar does not know a "
                           "year within this many days"),
    "HOME_CACHE_SECONDS": (60, int, "the home page's totals and upcoming activities are at most this old"),
    "DEBUG": (False, _bool, "development mode; never in production"),
    "TESTING": (False, _bool, "test mode"),
    "SESSION_COOKIE_SECURE": (False, _bool, "send the session cookie over HTTPS only (turn on in production; "
                              "always on when PUBLIC_URL is https)"),
    "SESSION_IDLE_MINUTES": (120, int, "log out after this many idle minutes"),
    "SESSION_ABSOLUTE_HOURS": (12, int, "log out after this many hours whatever happens"),
    # login limits (core/security.py, README "Login limits"): no hard lock; past a limit each further
    # attempt waits LOGIN_BACKOFF_SECONDS, doubled per further failure, at most LOGIN_BACKOFF_MAX_SECONDS
    "LOGIN_MAX_FAILURES": (5, int, "failed logins for one account from one address within the window "
                           "before further attempts must wait"),
    "LOGIN_MAX_FAILURES_PER_IP": (20, int, "failed logins from one address (any accounts) within the window "
                                  "before further attempts from it must wait"),
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": (50, int, "failed logins for one account from all addresses within the "
                                       "window before attempts from addresses its owner never used must wait"),
    "LOGIN_WINDOW_MINUTES": (15, int, "window in which failed logins are counted"),
    "LOGIN_BACKOFF_SECONDS": (30, int, "first wait once a login limit is reached; doubles with every further "
                              "failure"),
    "LOGIN_BACKOFF_MAX_SECONDS": (300, int, "longest wait between login attempts once a limit is reached"),
    "REVEAL_MAX_PER_IP": (10, int, "answers such as 'this ID number is already registered' or 'this username "
                          "is taken' one address gets per window from a public form"),
    "REVEAL_WINDOW_MINUTES": (60, int, "window of REVEAL_MAX_PER_IP"),
    "TRUSTED_PROXIES": (0, int, "number of reverse proxies in front of the site; their X-Forwarded-For and "
                        "X-Forwarded-Proto give the client's address and scheme (0: not behind a proxy, "
                        "the headers are ignored)"),
    "MAIL_SERVER": ("", str, "SMTP host; empty disables email"),
    "MAIL_PORT": (25, int, "SMTP port"),
    "MAIL_USE_TLS": (False, _bool, "STARTTLS"),
    "MAIL_USERNAME": ("", str, "SMTP user"),
    "MAIL_PASSWORD": ("", str, "SMTP password"),
    "MAIL_FROM": ("timebank@localhost", str, "sender address"),
    "TASKS_IMMEDIATE": (False, _bool, "run queued tasks at once in the calling process (tests, tiny sites)"),
    "TASKS_QUEUE_NAME": ("timebank", str, "name of the task queue; give each site sharing one Redis its own"),
    "SMS_GATEWAY_URL": ("", str, "HTTP(S) endpoint of the SMS gateway (sms plugin); empty disables SMS"),
    "SMS_API_KEY": ("", str, "API key sent to the SMS gateway as a Bearer token (sms plugin)"),
    "ARCHIVES_S3_BUCKET": ("", str, "S3 bucket of the archives plugin's documents; empty: instance/archives/"),
    "ARCHIVES_S3_ENDPOINT": ("", str, "endpoint URL of an S3-compatible service (archives plugin); empty: AWS"),
    "ARCHIVES_S3_ACCESS_KEY": ("", str, "access key of the archives' S3 bucket (config or environment, never the DB)"),
    "ARCHIVES_S3_SECRET_KEY": ("", str, "secret key of the archives' S3 bucket (config or environment, never the DB)"),
    "ARCHIVES_S3_REGION": ("", str, "region of the archives' S3 bucket (default us-east-1)"),
    "PLUGIN_RELOAD_SECONDS": (2.0, float, "how often a worker checks whether the plugin set changed"),
    "MAX_CONTENT_LENGTH": (16 * 1024 * 1024, int, "largest accepted request body in bytes"),
    "PUBLIC_URL": ("", str, "the site's public base URL, e.g. https://timebank.example.org; the only source of "
                   "absolute links (certificates' verification QR codes, the check-in screen's code), never "
                   "the request's Host header: without it those refuse; https also makes cookies Secure"),
    "PDF_FONT_PATH": ("", str, "TrueType font (.ttf/.ttc) with Chinese glyphs embedded in PDFs (documents "
                      "plugin); empty: Debian's fonts-wqy-microhei or whatever fontconfig finds"),
}

ENV_PREFIX = "TIMEBANK_"


def instance_path(explicit: str | os.PathLike | None = None) -> Path:
    p = explicit or os.environ.get(ENV_PREFIX + "INSTANCE_PATH") or "instance"
    return Path(p).expanduser().resolve()


def load_config(overrides: dict | None = None) -> dict:
    """Merge the layers and validate; raise ConfigError naming the culprit."""
    overrides = dict(overrides or {})
    inst = instance_path(overrides.pop("INSTANCE_PATH", None))
    values: dict = {k: v[0] for k, v in SCHEMA.items()}
    source: dict = {k: "default" for k in SCHEMA}

    cfg_file = inst / "config.toml"
    if cfg_file.exists():
        try:
            data = tomllib.loads(cfg_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{cfg_file}: not valid TOML ({e})") from e
        unknown = [k for k in data if k.upper() not in SCHEMA and k.upper() != "TIMEZONE"]
        if unknown:  # a misspelt key would otherwise be ignored in silence, its default used instead
            import difflib
            k = unknown[0]
            close = difflib.get_close_matches(k.lower(), [n.lower() for n in SCHEMA], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{cfg_file}: unknown configuration key {k!r}{hint}; "
                              f"the keys and their meaning are listed in core/config.py")
        for k, v in data.items():
            values[k.upper()] = v
            source[k.upper()] = str(cfg_file)
    for k in list(SCHEMA) + ["INSTANCE_PATH", "TIMEZONE"]:
        env = os.environ.get(ENV_PREFIX + k)
        if env is not None and k != "INSTANCE_PATH":
            values[k] = env
            source[k] = "$" + ENV_PREFIX + k
    for k, v in overrides.items():
        values[k] = v
        source[k] = "create_app()"

    out = {}
    for k, v in values.items():
        if k in SCHEMA and v is not None:
            conv = SCHEMA[k][1]
            try:
                v = conv(v)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"configuration {k} = {v!r} (from {source.get(k)}) is not valid: {SCHEMA[k][2]}"
                ) from None
        out[k] = v
    if out["DEFAULT_LOCALE"] not in out["LANGUAGES"]:
        raise ConfigError(f"configuration DEFAULT_LOCALE = {out['DEFAULT_LOCALE']!r} is not one of LANGUAGES")
    for k in ("SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW_MINUTES",
              "LOGIN_MAX_FAILURES_PER_IP", "LOGIN_MAX_FAILURES_PER_ACCOUNT", "LOGIN_BACKOFF_SECONDS",
              "LOGIN_BACKOFF_MAX_SECONDS", "REVEAL_MAX_PER_IP", "REVEAL_WINDOW_MINUTES"):
        if out[k] <= 0:
            raise ConfigError(f"configuration {k} must be positive, got {out[k]!r}")
    if out["TRUSTED_PROXIES"] < 0:
        raise ConfigError(f"configuration TRUSTED_PROXIES must be 0 or more, got {out['TRUSTED_PROXIES']!r}")
    if out.get("PUBLIC_URL") and not str(out["PUBLIC_URL"]).startswith(("http://", "https://")):
        raise ConfigError(f"configuration PUBLIC_URL = {out['PUBLIC_URL']!r}: use http(s)://host[/path]")
    if values.get("TIMEZONE") not in (None, TIMEZONE):
        raise ConfigError(f"configuration TIMEZONE = {values['TIMEZONE']!r} (from {source.get('TIMEZONE')}): the "
                          f"site's timezone is fixed to {TIMEZONE} (stored times are its wall time); remove the key")
    out["TIMEZONE"] = TIMEZONE   # read-only, for Babel and anything reading app.config
    out["INSTANCE_PATH"] = str(inst)
    if not out.get("DATABASE_URL"):
        out["DATABASE_URL"] = f"sqlite:///{inst / 'timebank.db'}"
    if not out["DATABASE_URL"].startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(
            f"configuration DATABASE_URL = {out['DATABASE_URL']!r}: use sqlite:///PATH or postgresql://…"
        )
    return out


def ensure_secret(inst: Path, name: str, nbytes: int = 32) -> str:
    """Read a generated secret from the instance folder, creating it (mode 600) on first use."""
    inst.mkdir(parents=True, exist_ok=True)
    f = inst / name
    if f.exists():
        return f.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
