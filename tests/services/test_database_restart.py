"""A PostgreSQL restart costs no page: reads wait for the server and run again, on a cluster the test owns."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking_app import create_app
from booking_app.database import lost_connection
from booking_app.extensions import db
from tests.conftest import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; the cluster belongs to the postgres user.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, check=True)




@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Path, int]]:
    """Start a private PostgreSQL cluster on its own port; remove it afterwards."""
    assert (PG_BIN / "initdb").exists(), f"PostgreSQL's server binaries are needed in {PG_BIN}"
    root = Path(tempfile.mkdtemp(prefix="booking-pg-"))
    shutil.chown(root, "postgres") if os.geteuid() == 0 else None
    data, port = root / "data", free_port()
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start")
    try:
        yield data, port
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_reads_during_a_postgresql_restart_all_answer(cluster: tuple[Path, int], test_env: dict[str, str]) -> None:
    data, port = cluster
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production", "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        "REDIS_URL": test_env["redis_url"], "WTF_CSRF_ENABLED": False,
    })
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    client = app.test_client()
    assert client.get("/book").status_code == 200  # the pool now holds a connection to the old server

    restarted = threading.Event()

    def restart() -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-l", str(data.parent / "log"),
                     "restart")
        restarted.set()

    statuses: list[int] = []
    thread = threading.Thread(target=restart)
    thread.start()
    deadline = time.monotonic() + 30
    while not restarted.is_set() and time.monotonic() < deadline:
        statuses.append(client.get("/book").status_code)
    thread.join(timeout=60)
    statuses.extend(client.get("/book").status_code for _ in range(3))
    assert restarted.is_set(), "the cluster did not restart"
    assert statuses and set(statuses) == {200}, statuses
    with app.app_context():
        db.engine.dispose()


def test_a_bad_statement_is_not_mistaken_for_a_restart(cluster: tuple[Path, int]) -> None:
    _, port = cluster
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.connect() as conn:
        conn.exec_driver_sql("SELECT * FROM no_such_table")
    assert not lost_connection(caught.value)
    engine.dispose()
