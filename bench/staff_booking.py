"""Time a staff booking beside a student's request, in-process through POST /api/bookings, on the demo studio.

Alternates one student request and one staff booking (the instructor booking a student in, `student_id`) on
distinct free slots of the same instructor, RUNS times each, and prints the median and best milliseconds and the
SQL statements of one call, beside the load average. Compare the two rows of one run, not figures across runs.
SQLite always; PostgreSQL too when BENCH_DATABASE_URL is set (its schema is dropped and rebuilt).

    .venv/bin/python bench/staff_booking.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/booking_h_staff \\
        BENCH_REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/staff_booking.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _databases import on_each_database  # noqa: E402 (bench/ is the script's own folder)

RUNS = int(os.environ.get("BENCH_RUNS", "60"))


def run(database_url: str, redis_url: str, label: str) -> None:
    import redis
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import User
    from booking_app.services import clock
    from booking_app.services.demo import seed_demo
    from booking_app.services.sessions import issue_token
    from booking_app.services.slots import open_slots
    from booking_app.services.studio import update_studio
    from booking_app.services.users import create_user

    redis.Redis.from_url(redis_url).flushdb()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        seed_demo()
        update_studio(horizon="days", horizon_days=180)  # enough free slots for every call
        maria = db.session.scalar(sa.select(User).where(User.email == "maria@demo.studio"))
        assert maria is not None
        today = clock.now().date()
        slots = open_slots(maria, today + timedelta(days=1), today + timedelta(days=170))
        # Each call books its own slot for its own student: nobody clashes, as in a busy week.
        students = [create_user(email=f"bench{i}@example.test", name=f"Bench {i}", password="bench-password-1",
                                role="student", timezone="UTC") for i in range(2 * RUNS + 2)]
        student_tokens = [issue_token(s) for s in students[: RUNS + 1]]
        booked_ids = [s.id for s in students[RUNS + 1:]]
        staff_token = issue_token(maria)
        maria_id = maria.id
        starts = [s.starts_at.isoformat() for s in slots]
        db.session.remove()
        engine = db.engine
    assert len(starts) >= 2 * RUNS + 2, f"only {len(starts)} free slots for {2 * RUNS + 2} calls"
    client = app.test_client()

    def request(i: int) -> Any:
        return client.post("/api/bookings", json={"instructor_id": maria_id, "start": starts[2 * i]},
                           headers={"Authorization": f"Bearer {student_tokens[i]}"})

    def book_in(i: int) -> Any:
        return client.post("/api/bookings",
                           json={"instructor_id": maria_id, "start": starts[2 * i + 1], "student_id": booked_ids[i]},
                           headers={"Authorization": f"Bearer {staff_token}"})

    counts = {}
    for name, call in (("student request", request), ("staff booking", book_in)):
        seen: list[str] = []

        def count(_c: Any, _cur: Any, statement: str, *_a: Any, seen: list[str] = seen) -> None:
            if statement != "BEGIN IMMEDIATE":
                seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert call(RUNS).status_code == 201
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        counts[name] = len(seen)
    times: dict[str, list[float]] = {"student request": [], "staff booking": []}
    for i in range(RUNS):
        for name, call in (("student request", request), ("staff booking", book_in)):
            started = time.perf_counter()
            response = call(i)
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, (name, response.get_json())
    with app.app_context():
        db.engine.dispose()
    load = os.getloadavg()
    print(f"\n{label}: {RUNS} calls each, alternating (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} cores)")
    for name, values in times.items():
        print(f"  {name:<18}{statistics.median(values):7.2f} ms median{min(values):7.2f} ms best"
              f"{counts[name]:4d} SQL statements")


def main() -> None:
    on_each_database(run, "bench-staff-booking-", instance=True)


if __name__ == "__main__":
    main()
