"""Read the app's configuration from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEV_SECRET_KEY = "dev-only-not-secret"
WEAK_SECRET_KEYS = {DEV_SECRET_KEY, "dev", "secret", "changeme", "change-me", "development"}


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}.") from exc


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = (environ.get(name) or default).strip().upper()
    if raw not in LOG_LEVELS:
        raise RuntimeError(f"{name} must be one of {', '.join(LOG_LEVELS)}, not {raw!r}.")
    return raw


def config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return Flask config values taken from the environment (documented in README.md)."""
    env = os.environ if environ is None else environ
    database_url = env.get("DATABASE_URL", "")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url or None,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SMTP_HOST": env.get("SMTP_HOST") or None,
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_TLS": env.get("SMTP_TLS", "starttls").lower(),
        "SMTP_FROM": env.get("SMTP_FROM", "Lessons <lessons@localhost>"),
        "OUTBOX_DIR": env.get("OUTBOX_DIR") or None,
        "SESSION_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", False),
        "RATELIMIT_ENABLED": _bool(env, "RATELIMIT_ENABLED", True),
        "SSE_HEARTBEAT_SECONDS": _int(env, "SSE_HEARTBEAT_SECONDS", 15),
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # RQ logs every job at INFO, the sweep included (every 30 s): quiet unless asked for.
        "WORKER_LOG_LEVEL": _log_level(env, "WORKER_LOG_LEVEL", "WARNING"),
    }
