"""Run an in-process bench on SQLite and, with BENCH_DATABASE_URL, on PostgreSQL, over one Redis."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def on_each_database(run: Callable[[str, str, str], object], prefix: str, *, instance: bool = False) -> None:
    """Call run(database_url, redis_url, label) for SQLite (unless BENCH_ONLY=postgresql) and PostgreSQL.

    Redis is BENCH_REDIS_URL, or an embedded one started for the bench and stopped after it.
    """
    from booking_app.redis_conn import start_embedded_redis, stop_embedded_redis

    tmp = tempfile.mkdtemp(prefix=prefix)
    if instance:
        os.environ["INSTANCE_PATH"] = tmp
    redis_url = os.environ.get("BENCH_REDIS_URL") or start_embedded_redis(str(Path(tmp) / "redis"))
    try:
        if os.environ.get("BENCH_ONLY") != "postgresql":
            run(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", redis_url, "SQLite")
        if os.environ.get("BENCH_DATABASE_URL"):
            run(os.environ["BENCH_DATABASE_URL"], redis_url, "PostgreSQL")
    finally:
        if not os.environ.get("BENCH_REDIS_URL"):
            stop_embedded_redis(str(Path(tmp) / "redis"))
