"""Bind the database, its migrations and the per-backend session settings."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import gevent
import sqlalchemy as sa
from flask import Flask, has_request_context, request
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
            app.dispatch_request = _rerun_as_writer(app.dispatch_request)  # type: ignore[method-assign]
            app.before_request(_take_turns)
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

    # SQLite's busy timeout sleeps inside C: under gevent it freezes the whole worker while another
    # process writes, and its polling (sleeps of up to 100 ms) can keep losing to a process that hands
    # the lock straight on. (The seconds-long waits measured at 50 connections came mostly from inside
    # one worker: see _take_turns and booking_app/gunicorn_worker.py.) So a writer queues twice: within the process on a lock that gevent makes
    # cooperative (greenlets and threads wait on it in turn), then across processes on an exclusive
    # flock of a file beside the database, waited for in a thread (gevent's pool under gevent), so the
    # event loop keeps serving and the kernel wakes the waiting process as soon as the holder lets go.
    # Reads need neither: in WAL mode they never wait. GET and HEAD requests therefore begin deferred
    # and take both locks only at their first write; if another writer committed since their snapshot
    # (SQLite refuses the upgrade), the request runs again from the start as a writer.
    write_lock = threading.RLock()
    file_lock = _FileLock(engine.url.database)

    def take_locks(conn: sa.Connection) -> None:
        if not write_lock.acquire(timeout=SQLITE_LOCK_TIMEOUT):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        try:
            file_lock.acquire(SQLITE_LOCK_TIMEOUT)
        except BaseException:
            write_lock.release()
            raise
        conn.info["holds_write_lock"] = True

    def drop_locks(conn: sa.Connection) -> None:
        if conn.info.pop("holds_write_lock", False):
            file_lock.release()
            write_lock.release()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if _reads_first():
            conn.info["reader"] = True
            conn.exec_driver_sql("BEGIN")
            return
        take_locks(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            drop_locks(conn)
            raise

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get("reader") and statement.lstrip()[:7].upper().startswith(WRITE_STATEMENTS):
            conn.info["reader"] = False
            take_locks(conn)

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _on_end(conn: sa.Connection) -> None:
        conn.info.pop("reader", None)
        drop_locks(conn)


WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_WRITER_KEY = "booking_app.sqlite_writer"


def _reads_first() -> bool:
    """Return whether this transaction may begin without the write locks: a GET or HEAD not yet retried."""
    return has_request_context() and request.method in ("GET", "HEAD") and not request.environ.get(_WRITER_KEY)


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc.orig)


def _rerun_as_writer(dispatch: Callable[[], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
    """Run a GET or HEAD again, with the write locks from its first statement, when its late write was refused."""

    def dispatch_request() -> ResponseReturnValue:
        try:
            return dispatch()
        except sa.exc.OperationalError as exc:
            if not _locked(exc) or not _reads_first():
                raise
        db.session.rollback()
        request.environ[_WRITER_KEY] = True
        return dispatch()

    return dispatch_request


def _take_turns() -> None:
    """Under gevent, let every other ready connection run before this request does (SQLite never yields).

    A greenlet yields only when it waits for I/O; SQLite's calls never wait, and on a keep-alive connection
    the client's next request is usually already there, so a few connections were served back to back
    while the rest waited seconds (p50 8 ms, p90 0.5 s, 106 timeouts in 10 s on one worker). One
    yield per request makes it round robin, as psycopg's waits do on PostgreSQL.
    """
    if _gevent_patched():
        gevent.sleep(0)


def _gevent_patched() -> bool:
    # gevent.monkey is imported by whoever patches; merely importing gevent patches nothing.
    gevent_monkey = sys.modules.get("gevent.monkey")
    return gevent_monkey is not None and bool(gevent_monkey.is_module_patched("threading"))


class _FileLock:
    """An exclusive flock shared by every process using one SQLite file; taken under the process's own lock.

    Held by one owner of the process lock at a time (nested transactions of that owner count up), so
    the file lock only ever stands between processes. A process that dies lets go with its descriptor.
    """

    def __init__(self, database: str | None) -> None:
        memory = not database or database == ":memory:" or database.startswith("file::memory:")
        self.path = None if memory else f"{database}-lock"
        self.fd: int | None = None
        self.depth = 0

    def _descriptor(self) -> int:
        if self.fd is None:
            assert self.path is not None
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self.fd

    def acquire(self, timeout: float) -> None:
        if self.path is None:
            return
        if self.depth:
            self.depth += 1
            return
        fd = self._descriptor()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._wait(fd, timeout)
        self.depth = 1

    def _wait(self, fd: int, timeout: float) -> None:
        if not _gevent_patched():
            fcntl.flock(fd, fcntl.LOCK_EX)  # a real thread: waiting blocks only itself
            return
        waiting = gevent.get_hub().threadpool.spawn(fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            waiting.get(timeout=timeout)
        except gevent.Timeout:
            # Let go of the lock as soon as the abandoned wait gets it.
            waiting.rawlink(lambda _result: fcntl.flock(fd, fcntl.LOCK_UN))
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked")) from None

    def release(self) -> None:
        if self.path is None or not self.depth:
            return
        self.depth -= 1
        if not self.depth and self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
