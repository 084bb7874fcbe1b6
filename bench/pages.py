"""Time every page in-process and count its SQL statements, on the demo studio.

Each page is requested through the WSGI app (routing, session, queries, rendering; no network) as the person who
sees it, first once to warm up, then RUNS times when nothing changed since the last view. Prints, per page, the
median and best milliseconds and the SQL statements of one view, beside the load average. SQLite always;
PostgreSQL too when BENCH_DATABASE_URL is set (its schema is dropped and rebuilt). Redis: BENCH_REDIS_URL (the
database is emptied), else the embedded one.

    .venv/bin/python bench/pages.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/booking_bench_perf \\
        BENCH_REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _databases import on_each_database  # noqa: E402 (bench/ is the script's own folder)

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
# (label, who, path template, median ms target, statement target); {maria} is an instructor's id, {booking} the
# student's upcoming lesson.
PAGES = [
    ("book page", "sam@demo.studio", "/book", 4.0, 3),
    ("book page, one instructor", "sam@demo.studio", "/book/{maria}", 5.0, 4),
    ("student dashboard", "sam@demo.studio", "/dashboard", 5.0, 4),
    ("instructor dashboard", "maria@demo.studio", "/dashboard", 5.0, 4),
    ("owner dashboard", "owner@demo.studio", "/dashboard", 5.0, 4),
    ("owner overview", "owner@demo.studio", "/dashboard/studio", None, None),
    ("booking page", "sam@demo.studio", "/bookings/{booking}", None, None),
    ("book page, signed out", None, "/book", None, None),
]


class Counter:
    """Count the statements sent on an engine while listening."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLite's BEGIN and BEGIN IMMEDIATE (sent by the app itself) are transaction control, as PostgreSQL's
        # implicit BEGIN; the tests' statement counts leave them out too (tests/services/test_dashboard_helpers.py).
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            self.statements.append(statement)


def run(database_url: str, redis_url: str, label: str) -> list[tuple[str, str, float, float, int, Any, Any]]:
    import redis
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import Booking, User
    from booking_app.services.demo import DEMO_PASSWORD, seed_demo

    redis.Redis.from_url(redis_url).flushdb()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        seed_demo()
        ids = {email: uid for email, uid in db.session.execute(sa.select(User.email, User.id))}
        booking = db.session.scalar(
            sa.select(Booking.id).where(Booking.student_id == ids["sam@demo.studio"], Booking.status == "confirmed")
            .order_by(Booking.starts_at.desc()).limit(1)
        )
        db.session.remove()
        engine = db.engine
    values = {"maria": ids["maria@demo.studio"], "booking": booking}
    clients: dict[str | None, Any] = {}
    rows = []
    for name, who, template, target_ms, target_statements in PAGES:
        if who not in clients:
            clients[who] = app.test_client()
            if who is not None:
                signed = clients[who].post("/login", data={"email": who, "password": DEMO_PASSWORD})
                assert signed.status_code == 302, f"bench sign-in failed for {who}"
        client = clients[who]
        path = template.format(**values)
        for _ in range(3):  # warm-up: caches filled, templates compiled
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        counter = Counter()
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            client.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        if os.environ.get("BENCH_PROFILE") == name:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(50):
                client.get(path)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        rows.append((name, path, statistics.median(times), min(times), len(counter.statements), target_ms,
                     target_statements))
        if os.environ.get("BENCH_SHOW_SQL"):
            print(f"--- {name} {path}")
            for statement in counter.statements:
                print("   ", " ".join(statement.split())[:160])
    with app.app_context():
        db.engine.dispose()
    load = os.getloadavg()
    print(f"\n{label}: median and best of {RUNS} views each, nothing changed since the last view "
          f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores)")
    print(f"  {'page':<28}{'path':<18}{'median':>9}{'best':>9}{'SQL':>5}   target")
    for name, path, median, best, statements, target_ms, target_statements in rows:
        target = f"<= {target_ms:.0f} ms, <= {target_statements}" if target_ms else ""
        missed = target_ms is not None and (median > target_ms or statements > target_statements)
        print(f"  {name:<28}{path:<18}{median:7.2f}ms{best:7.2f}ms{statements:5d}   {target}"
              f"{'  <-- missed' if missed else ''}")
    return rows


def main() -> None:
    on_each_database(run, "bench-pages-", instance=True)


if __name__ == "__main__":
    main()
