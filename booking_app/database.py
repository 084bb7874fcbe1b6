"""Bind the database, its migrations and the per-backend session settings."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask

from .extensions import db, migrate

SQLITE_LOCK_TIMEOUT = 30  # seconds, as the busy timeout

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
