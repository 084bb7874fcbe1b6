"""Seed a large studio and print the median server time of the instructor, student and owner dashboards.

An instructor with 10,000 bookings, 50 instructors, a student with 1,000 bookings; each page is requested through
the WSGI app in-process (server time: routing, queries, rendering) RUNS times. SQLite always; PostgreSQL too
when BENCH_DATABASE_URL is set (its schema is dropped and rebuilt). Run: .venv/bin/python bench/dashboards.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as `python bench/dashboards.py` from anywhere: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _databases import on_each_database  # noqa: E402 (bench/ is the script's own folder)

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
TARGET_MS = 100
INSTRUCTORS = 50
STUDENTS = 200
BIG_INSTRUCTOR_BOOKINGS = 10_000
OTHER_INSTRUCTOR_BOOKINGS = 200
BIG_STUDENT_BOOKINGS = 1_000
PASSWORD = "bench password"


def seed(app: Any, now: datetime) -> dict[str, str]:
    """Bulk-insert the studio; return the e-mail of each measured user."""
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from booking_app.extensions import db
    from booking_app.models import Booking, BookingChange, InstructorSettings, User
    from booking_app.services.studio import get_studio

    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade()
    hashed = generate_password_hash(PASSWORD)
    users: list[dict[str, Any]] = [dict(email="owner@bench.test", name="Olga Owner", role="owner")]
    users += [dict(email=f"teacher{i}@bench.test", name=f"Teacher {i:02d}", role="instructor") for i in range(INSTRUCTORS)]
    users += [dict(email=f"student{i}@bench.test", name=f"Student {i:03d}", role="student") for i in range(STUDENTS)]
    for u in users:
        u.update(password_hash=hashed, timezone="Europe/Berlin", active=True, created_at=now, email_opt_out=[])
    db.session.execute(sa.insert(User), users)
    ids = {email: uid for email, uid in db.session.execute(sa.select(User.email, User.id))}
    teachers = [ids[f"teacher{i}@bench.test"] for i in range(INSTRUCTORS)]
    students = [ids[f"student{i}@bench.test"] for i in range(STUDENTS)]
    db.session.execute(sa.insert(InstructorSettings), [
        dict(user_id=t, timezone="Europe/Berlin", default_lesson_minutes=60, buffer_minutes=0, min_notice_minutes=120)
        for t in [ids["owner@bench.test"], *teachers]
    ])

    rows: list[dict[str, Any]] = []
    changes: list[tuple[int, str, datetime]] = []  # (row index, to_status, at)

    def add(instructor: int, student: int, starts_at: datetime, status: str, created_at: datetime) -> None:
        expires_at = min(created_at + timedelta(hours=4), starts_at)
        if status == "pending":
            created_at, expires_at = now - timedelta(minutes=30), min(now + timedelta(hours=3), starts_at)
        decided = created_at + timedelta(hours=2) if status != "pending" else None
        rows.append(dict(instructor_id=instructor, student_id=student, starts_at=starts_at,
                         ends_at=starts_at + timedelta(hours=1), status=status, notes="Bench lesson",
                         created_at=created_at, updated_at=decided or created_at, expires_at=expires_at,
                         decided_at=decided, status_reason="Away" if status == "declined" else ""))
        if status in ("confirmed", "completed", "no_show", "cancelled"):
            changes.append((len(rows) - 1, "confirmed", created_at + timedelta(hours=2)))
        elif status in ("declined", "expired"):
            changes.append((len(rows) - 1, status, created_at + timedelta(hours=2)))

    hour0 = now.replace(minute=0, second=0, microsecond=0)
    past_kinds = ["completed"] * 6 + ["cancelled", "declined", "expired", "no_show"]
    future_kinds = ["confirmed"] * 6 + ["declined", "cancelled"]

    def fill(instructor: int, count: int, first_student: int) -> None:
        # Hour slots around now: 70 % in the past, the rest ahead; one lesson per hour never overlaps.
        back = int(count * 0.7)
        for k in range(count):
            starts_at = hour0 + timedelta(hours=k - back + 3)
            student = students[(first_student + k) % STUDENTS]
            if starts_at < now:
                status = past_kinds[k % len(past_kinds)]
            elif k - back < 40 and k % 4 == 0:
                status = "pending"
            else:
                status = future_kinds[k % len(future_kinds)]
            add(instructor, student, starts_at, status, starts_at - timedelta(days=3))

    fill(teachers[0], BIG_INSTRUCTOR_BOOKINGS, 1)
    for n, t in enumerate(teachers[1:], start=1):
        fill(t, OTHER_INSTRUCTOR_BOOKINGS, n)
    # One student with many lessons, one a day at half past, away from the other instructors' busy days.
    for k in range(BIG_STUDENT_BOOKINGS):
        day = k - 700 if k < 700 else k - 700 + 10
        if -8 <= day <= 8:
            continue
        starts_at = hour0 + timedelta(days=day, minutes=30)
        add(teachers[1 + k % (INSTRUCTORS - 1)], students[0], starts_at,
            "completed" if starts_at < now else "confirmed", starts_at - timedelta(days=3))
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Booking), rows[start:start + 5000])
    booking_ids = list(db.session.scalars(sa.select(Booking.id).order_by(Booking.id)))
    history = [dict(booking_id=booking_ids[i], actor_id=None, from_status="pending", to_status=s, note="", at=at)
               for i, s, at in changes]
    for start in range(0, len(history), 5000):
        db.session.execute(sa.insert(BookingChange), history[start:start + 5000])
    get_studio()
    db.session.commit()
    # Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would give a live database.
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return {"instructor": "teacher0@bench.test", "student": "student0@bench.test", "owner": "owner@bench.test"}


def measure(app: Any, email: str, paths: list[str]) -> dict[str, float]:
    """Sign in and return the median milliseconds of each path over RUNS requests."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, "bench sign-in failed"
    out = {}
    for path in paths:
        warm = client.get(path)
        assert warm.status_code == 200, (path, warm.status_code, warm.get_data(as_text=True)[:300])  # warm-up
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            status = client.get(path).status_code
            times.append((time.perf_counter() - started) * 1000)
            assert status == 200, path
        out[path] = statistics.median(times)
    return out


def run(database_url: str, redis_url: str, label: str) -> None:
    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import Booking

    instance = tempfile.mkdtemp(prefix="bench-dash-")
    os.environ["INSTANCE_PATH"] = instance
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    now = datetime.now(UTC)
    with app.app_context():
        started = time.perf_counter()
        who = seed(app, now)
        total = db.session.query(Booking).count()
        print(f"\n{label}: seeded {total:,} bookings, {INSTRUCTORS} instructors, {STUDENTS} students "
              f"in {time.perf_counter() - started:.1f} s; median of {RUNS} requests (target < {TARGET_MS} ms)")
        db.session.remove()
    results: list[tuple[str, str, float]] = []
    # Each request pushes its own app context, as in production (a shared one would keep g's signed-in user).
    for role, paths in (
        ("instructor", ["/dashboard", "/dashboard?tab=past&page=200", "/dashboard?tab=closed", "/dashboard?partial=1"]),
        ("student", ["/dashboard", "/dashboard?page=20"]),
        ("owner", ["/dashboard/studio", "/dashboard/studio?status=completed&page=10", "/dashboard", "/notifications"]),
    ):
        for path, ms in measure(app, who[role], paths).items():
            results.append((role, path, ms))
    # The per-instructor figures are cached for a minute; this is the page when it has to compute them.
    app.config["FIGURES_CACHE_SECONDS"] = 0
    for path, ms in measure(app, who["owner"], ["/dashboard/studio"]).items():
        results.append(("owner", path + " (figures uncached)", ms))
    with app.app_context():
        db.engine.dispose()
    for role, path, ms in results:
        flag = "" if ms < TARGET_MS else "  <-- over target"
        print(f"  {role:<11}{path:<45}{ms:8.1f} ms{flag}")


def main() -> None:
    on_each_database(run, "bench-dash-")


if __name__ == "__main__":
    main()
