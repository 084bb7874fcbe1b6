"""Time one month of slots in the engine and through GET /api/instructors/{id}/slots; print median times."""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

# Run as `python bench/slots.py` from anywhere: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking_app.domain.slots import Busy, Schedule, WeeklyWindow, generate_slots  # noqa: E402
from booking_app.domain.timeutil import local_to_utc  # noqa: E402

TZ = "America/New_York"
MONTH_START, MONTH_END = date(2027, 3, 1), date(2027, 3, 31)  # holds the 14 March DST change
NOW = datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
ENGINE_RUNS = int(os.environ.get("BENCH_RUNS", "300"))
HTTP_RUNS = int(os.environ.get("BENCH_HTTP_RUNS", "60"))
SPANS_B = ((time(6), time(12)), (time(11), time(17)), (time(16), time(22)))  # three overlapping windows


def weekly_a() -> list[WeeklyWindow]:
    return [WeeklyWindow(day, time(9), time(17), 60) for day in range(1, 6)]


def weekly_b() -> list[WeeklyWindow]:
    return [WeeklyWindow(day, start, end, 15) for day in range(1, 8) for start, end in SPANS_B]


def busy_on_grid(seed: int, count: int, weekdays: set[int], hours: range, minutes: int) -> list[Busy]:
    """Return count distinct bookings on the lesson grid of random days of the month."""
    rng = random.Random(seed)
    days = [MONTH_START + timedelta(days=i) for i in range((MONTH_END - MONTH_START).days + 1)]
    days = [d for d in days if d.isoweekday() in weekdays]
    starts: set[datetime] = set()
    while len(starts) < count:
        at = time(rng.choice(hours), rng.randrange(60 // minutes) * minutes)
        instant = local_to_utc(rng.choice(days), at, TZ)
        if instant is not None:
            starts.add(instant)
    return [Busy(s, s + timedelta(minutes=minutes)) for s in sorted(starts)]


BUSY_A = busy_on_grid(1, 40, {1, 2, 3, 4, 5}, range(9, 17), 60)
BUSY_B = busy_on_grid(2, 500, set(range(1, 8)), range(6, 22), 15)


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float, int]:
    """Return the median and best wall time of fn in milliseconds and the size of its last result."""
    fn()  # warm up caches (zoneinfo, SQL compilation)
    times = []
    result: object = None
    for _ in range(runs):
        started = clock.perf_counter()
        result = fn()
        times.append((clock.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), len(result) if hasattr(result, "__len__") else 0  # type: ignore[arg-type]


def engine(weekly: list[WeeklyWindow], busy: list[Busy]) -> Callable[[], object]:
    def run() -> object:
        schedule = Schedule(tz=TZ, weekly=tuple(weekly), min_notice_minutes=120)
        return generate_slots(schedule, busy=busy, start_on=MONTH_START, end_on=MONTH_END, now=NOW)

    return run


Row = tuple[str, float, float, int, float | None]


def http_cases(database_url: str, redis_url: str) -> list[Row]:
    """Build a studio on the database and time the slots endpoint for cases (a) and (b)."""
    from flask_migrate import upgrade

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import Booking, OneTimeWindow, User
    from booking_app.models import WeeklyWindow as WeeklyRow
    from booking_app.services.studio import get_studio
    from booking_app.services.users import create_user

    instance = tempfile.mkdtemp(prefix="bench-instance-")
    os.environ["INSTANCE_PATH"] = instance
    app = create_app({
        "TESTING": False, "SECRET_KEY": "bench-secret-key-not-for-production-use-only", "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url, "FROZEN_NOW": NOW, "RATELIMIT_ENABLED": False,
    })
    results = []
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        studio = get_studio()
        studio.horizon = "end_of_next_month"
        db.session.commit()
        student = create_user(email="student@bench.test", name="Bench Student", password="bench-password", role="student")
        for label, weekly, busy, target in (("a", weekly_a(), BUSY_A, 25.0), ("b", weekly_b(), BUSY_B, None)):
            teacher = create_user(email=f"{label}@bench.test", name=f"Teacher {label}", password="bench-password",
                                  role="instructor", timezone=TZ)
            db.session.add_all(
                WeeklyRow(instructor_id=teacher.id, weekday=w.weekday, start_time=w.start_time, end_time=w.end_time,
                          lesson_minutes=w.lesson_minutes)
                for w in weekly
            )
            db.session.add_all(
                Booking(instructor_id=teacher.id, student_id=student.id, starts_at=b.starts_at, ends_at=b.ends_at,
                        status="confirmed", created_at=NOW - timedelta(days=1), expires_at=NOW)
                for b in busy
            )
            db.session.commit()
            url = f"/api/instructors/{teacher.id}/slots?start={MONTH_START}&end={MONTH_END}"
            client = app.test_client()

            def call(client=client, url=url) -> object:  # type: ignore[no-untyped-def]
                response = client.get(url)
                assert response.status_code == 200, response.get_data(as_text=True)
                return response.get_json()["slots"]

            ms, best, n = median_ms(call, HTTP_RUNS)
            results.append((f"HTTP ({label}) {db.engine.dialect.name}", ms, best, n, target))
        assert db.session.query(User).count() == 3 and db.session.query(OneTimeWindow).count() == 0
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    rows: list[Row] = []
    rows.append(("engine (a) Mon-Fri 9-17, 60 min, 40 busy", *median_ms(engine(weekly_a(), BUSY_A), ENGINE_RUNS), 1.0))
    rows.append(("engine (b) daily 6-22, 3 windows, 15 min, 500 busy", *median_ms(engine(weekly_b(), BUSY_B), ENGINE_RUNS), 15.0))

    from booking_app.redis_conn import start_embedded_redis, stop_embedded_redis

    tmp = Path(tempfile.mkdtemp(prefix="bench-slots-"))
    redis_url = os.environ.get("BENCH_REDIS_URL") or start_embedded_redis(str(tmp / "redis"))
    try:
        rows.extend(http_cases(f"sqlite:///{tmp / 'bench.sqlite'}", redis_url))
        if os.environ.get("BENCH_DATABASE_URL"):
            rows.extend(http_cases(os.environ["BENCH_DATABASE_URL"], redis_url))
    finally:
        if not os.environ.get("BENCH_REDIS_URL"):
            stop_embedded_redis(str(tmp / "redis"))

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (figures scale with it)")
    print(f"{'case':<52} {'median ms':>10} {'best ms':>8} {'slots':>6} {'target':>8}  ok")
    print("-" * 93)
    for name, ms, best, n, target in rows:
        verdict = "" if target is None else ("yes" if ms < target else "NO")
        shown = "" if target is None else f"< {target:g}"
        print(f"{name:<52} {ms:>10.3f} {best:>8.3f} {n:>6} {shown:>8}  {verdict}")


if __name__ == "__main__":
    main()
