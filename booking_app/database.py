"""Bind the database, its migrations and the per-backend session settings."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from flask.typing import ResponseReturnValue

from .extensions import db, migrate

SQLITE_LOCK_TIMEOUT = 30  # seconds, as the busy timeout
# How long a read waits for a restarting PostgreSQL before it gives up (a restart takes about a second).
READ_RETRY_SECONDS = 8.0
# Server states that mean "the server is going away or coming back", not "your statement is wrong".
RESTART_SQLSTATES = {None, "57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006"}

MIGRATIONS_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent / "migrations"


def init_app(app: Flask) -> None:
    """Bind SQLAlchemy and Flask-Migrate; SQLite gets a busy timeout and immediate write transactions."""
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
        else:
            app.dispatch_request = _retry_reads(app.dispatch_request)  # type: ignore[method-assign]
            # Teardown functions run last-registered first: this one ends the session before Flask-SQLAlchemy's.
            app.teardown_appcontext(_end_session)


def _end_session(_exc: BaseException | None) -> None:
    # The answer is already made; a server that went away meanwhile has rolled the transaction back itself.
    try:
        db.session.remove()
    except sa.exc.DBAPIError as exc:
        if not lost_connection(exc):
            raise


def lost_connection(exc: BaseException) -> bool:
    """Return whether a database error means the server restarted or is unreachable (not a bad statement)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError) and getattr(exc.orig, "sqlstate", None) in RESTART_SQLSTATES


def _retry_reads(dispatch: Callable[[], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
    """Run a GET or HEAD again, with back-off, while PostgreSQL restarts: reads are safe to repeat."""

    def dispatch_request() -> ResponseReturnValue:
        deadline = time.monotonic() + READ_RETRY_SECONDS
        delay = 0.05
        while True:
            try:
                return dispatch()
            except sa.exc.DBAPIError as exc:
                if request.method not in ("GET", "HEAD") or not lost_connection(exc) or time.monotonic() > deadline:
                    raise
                with contextlib.suppress(sa.exc.DBAPIError):
                    db.session.rollback()
                    db.session.close()
                time.sleep(delay)  # cooperative under gevent
                delay = min(delay * 2, 0.5)

    return dispatch_request


def _configure_sqlite(engine: sa.Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN instead so
    # concurrent writers queue on the busy timeout rather than failing with "database is locked".
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # SQLite's busy timeout sleeps inside C: under gevent it freezes the whole worker, so the greenlet
    # holding the write lock can never finish and every request stalls for the full timeout. Queue this
    # process's transactions on a lock that gevent makes cooperative (threads simply wait on it).
    write_lock = threading.RLock()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if not write_lock.acquire(timeout=SQLITE_LOCK_TIMEOUT):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        conn.info["holds_write_lock"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            conn.info.pop("holds_write_lock", None)
            write_lock.release()
            raise

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _on_end(conn: sa.Connection) -> None:
        if conn.info.pop("holds_write_lock", False):
            write_lock.release()
