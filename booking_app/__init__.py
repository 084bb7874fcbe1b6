"""The lesson booking app: create_app() builds a configured Flask application."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import DEV_SECRET_KEY, WEAK_SECRET_KEYS, config_from_env

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app; test_config overrides the environment."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_from_env())
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        BOOTSTRAP_SERVE_LOCAL=True,
        WTF_CSRF_TIME_LIMIT=None,
        API_TITLE="Lesson booking API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'booking.sqlite'}"
    if not app.config.get("OUTBOX_DIR"):
        app.config["OUTBOX_DIR"] = str(Path(app.instance_path) / "outbox")
    _check_secret_key(app)
    _trust_proxies(app)

    from . import database, edge, redis_conn

    edge.register_converters(app)  # before any blueprint, so every <int:…> in a path is bounded
    edge.init_app(app)

    redis_conn.init_app(app)
    database.init_app(app)

    from .extensions import bootstrap, csrf, limiter, login_manager

    bootstrap.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_conn.limiter_storage_uri(app))
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    login_manager.init_app(app)

    from . import jobs
    from .services import registry

    registry.register_all()
    app.extensions["wake_effect"] = jobs.enqueue_effect

    from . import web

    web.init_app(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Take the client address, scheme and host from the headers of TRUSTED_PROXIES proxy hops."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops < 0:
        raise RuntimeError("TRUSTED_PROXIES must be 0 or the number of proxies in front of the app.")
    if hops:
        # Without this every visitor behind a TLS proxy shares the proxy's address (one rate limit for all).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _check_secret_key(app: Flask) -> None:
    """Refuse a development or missing key in production; the embedded default keeps one in instance/."""
    key = app.config.get("SECRET_KEY")
    relaxed = app.debug or app.testing
    if key is None:
        if relaxed:
            app.config["SECRET_KEY"] = DEV_SECRET_KEY
            return
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            raise RuntimeError(
                "SECRET_KEY is not set. Set it to the same long random value on every machine "
                "(python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        # Single-machine SQLite install: a random key kept beside the database.
        path = Path(app.instance_path) / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        app.config["SECRET_KEY"] = path.read_text().strip()
        return
    if not relaxed and (key in WEAK_SECRET_KEYS or len(key) < 16):
        raise RuntimeError(
            "SECRET_KEY is a development or too-short key. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_hex(32))') before running in production."
        )
