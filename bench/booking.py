"""Measure booking requests per second through HTTP against gunicorn, and a 50-way race for one slot.

Usage (from the project root):

    .venv/bin/python bench/booking.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/booking.py --only sqlite --requests 400

PostgreSQL: a database named by --pg-url is dropped and recreated (default booking_bench on 127.0.0.1).
Redis: --redis-url (default redis://127.0.0.1:6379/13) is flushed first.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSTRUCTORS = 4
SLOT_MINUTES = 15
SLOTS_PER_DAY = 23 * 60 // SLOT_MINUTES  # windows 00:00-23:00 UTC


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(database_url: str, redis_url: str, instance: str, students: int) -> tuple[list[int], list[str], datetime]:
    """Create a fresh schema with instructors, students and their API tokens; return ids, tokens, first day."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import ApiToken, InstructorSettings, User, WeeklyWindow
    from booking_app.services.sessions import hash_secret as _hash_token
    from booking_app.services.studio import get_studio

    os.environ["INSTANCE_PATH"] = instance
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                      "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        app.extensions["redis"].flushdb()
        hashed = generate_password_hash("bench password")
        teachers = [User(email=f"teacher{i}@bench.test", name=f"Teacher {i}", password_hash=hashed, role="instructor",
                         timezone="UTC") for i in range(INSTRUCTORS)]
        db.session.add_all(teachers)
        db.session.flush()
        for t in teachers:
            db.session.add(InstructorSettings(user_id=t.id, timezone="UTC", min_notice_minutes=0))
            for weekday in range(1, 8):
                db.session.add(WeeklyWindow(instructor_id=t.id, weekday=weekday, start_time=wall(0), end_time=wall(23),
                                            lesson_minutes=SLOT_MINUTES))
        people = [User(email=f"student{i}@bench.test", name=f"Student {i}", password_hash=hashed, role="student",
                       timezone="UTC") for i in range(students)]
        db.session.add_all(people)
        db.session.flush()
        tokens = [secrets.token_urlsafe(24) for _ in people]
        db.session.add_all(ApiToken(user_id=p.id, token_hash=_hash_token(tok)) for p, tok in zip(people, tokens, strict=True))
        studio = get_studio()
        studio.horizon, studio.horizon_days = "days", 365
        db.session.commit()
        teacher_ids = [t.id for t in teachers]
        db.session.remove()
        db.engine.dispose()
    first_day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return teacher_ids, tokens, first_day


def serve(database_url: str, redis_url: str, instance: str, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    """Start gunicorn on a free port and wait until it answers."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, INSTANCE_PATH=instance,
               SECRET_KEY="bench-secret-key-0123456789abcdef", RATELIMIT_ENABLED="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
         "--no-control-socket", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/login", timeout=2).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.1)
    stop(proc)
    raise SystemExit("gunicorn did not start within 30 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def throughput(base: str, teachers: list[int], tokens: list[str], first_day: datetime, clients: int) -> dict[str, object]:
    """Each of `clients` threads requests its own share of disjoint slots; return rate, latencies, statuses."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def slot(i: int) -> tuple[int, str]:
        teacher = teachers[i % len(teachers)]
        j = i // len(teachers)
        start = first_day + timedelta(days=j // SLOTS_PER_DAY, minutes=(j % SLOTS_PER_DAY) * SLOT_MINUTES)
        return teacher, start.strftime("%Y-%m-%dT%H:%M:%SZ")

    def client(k: int) -> None:
        session = requests.Session()
        mine = range(k, len(tokens), clients)
        barrier.wait()
        for i in mine:
            teacher, start = slot(i)
            t0 = time.perf_counter()
            r = session.post(f"{base}/api/bookings", json={"instructor_id": teacher, "start": start},
                             headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=60)
            took = time.perf_counter() - t0
            with lock:
                latencies.append(took)
                statuses[r.status_code] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies), "seconds": elapsed, "rate": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": dict(statuses),
    }


def contention(base: str, teacher: int, tokens: list[str], start: datetime) -> dict[str, object]:
    """Release len(tokens) clients on the same slot at once; return the status counts and refusal messages."""
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def client(token: str) -> None:
        session = requests.Session()
        session.get(f"{base}/login", timeout=30)  # open the connection before the start signal
        barrier.wait()
        r = session.post(f"{base}/api/bookings", json={"instructor_id": teacher, "start": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)
        message = r.json().get("error", {}).get("message", "") if r.status_code >= 400 else ""
        with lock:
            results.append((r.status_code, message))

    threads = [threading.Thread(target=client, args=(tok,)) for tok in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"statuses": dict(Counter(s for s, _ in results)), "messages": sorted({m for _, m in results if m})}


def count_active_at(database_url: str, teacher: int, start: datetime) -> int:
    import sqlalchemy as sa

    from booking_app.models import UTCDateTime

    engine = sa.create_engine(database_url)
    query = sa.text("SELECT count(*) FROM bookings WHERE instructor_id = :t AND starts_at = :s "
                    "AND status IN ('pending', 'confirmed')").bindparams(sa.bindparam("s", type_=UTCDateTime()))
    with engine.connect() as conn:
        n = conn.execute(query, {"t": teacher, "s": start}).scalar_one()
    engine.dispose()
    return int(n)


def run(name: str, database_url: str, args: argparse.Namespace) -> None:
    instance = tempfile.mkdtemp(prefix=f"bench-{name}-")
    teachers, tokens, first_day = prepare(database_url, args.redis_url, instance, args.requests + 50)
    proc, base = serve(database_url, args.redis_url, instance, args.workers, args.threads)
    try:
        result = throughput(base, teachers, tokens[: args.requests], first_day, args.clients)
        race_start = first_day + timedelta(days=300)
        race = contention(base, teachers[0], tokens[args.requests:], race_start)
    finally:
        stop(proc)
    stored = count_active_at(database_url, teachers[0], race_start)
    print(f"\n{name}: {result['requests']} booking requests on disjoint slots, {args.clients} concurrent clients, "
          f"gunicorn gthread {args.workers}x{args.threads}")
    print(f"  {result['rate']:.0f} requests/s   p50 {result['p50_ms']:.1f} ms   p99 {result['p99_ms']:.1f} ms   "
          f"statuses {result['statuses']}")
    print(f"  50 clients on one slot: statuses {race['statuses']}; active bookings stored for it: {stored}")
    for message in race["messages"]:
        print(f"    refusal: {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/booking_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        path = Path(tempfile.mkdtemp(prefix="bench-sqlite-")) / "bench.sqlite"
        run("SQLite", f"sqlite:///{path}", args)
    if args.only in (None, "postgresql"):
        import sqlalchemy as sa

        admin_url = args.pg_url.rsplit("/", 1)[0] + "/postgres"
        name = args.pg_url.rsplit("/", 1)[1]
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        run("PostgreSQL", args.pg_url, args)


if __name__ == "__main__":
    main()
