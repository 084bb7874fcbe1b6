"""The month-start rush: booking requests over HTTP against gunicorn (as the Procfile runs it) on PostgreSQL.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/booking_bench_perf \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/booking_rush.py [--clients 16] [--seconds 10]

Seeds its own studio in the database named by BENCH_DATABASE_URL (dropped and created again; the default is
booking_bench_perf on 127.0.0.1): STUDENTS students with API tokens, INSTRUCTORS instructors with windows
06:00-22:00 every day in 15-minute lessons, no minimum notice, and a `days` horizon of HORIZON_DAYS, so
thousands of open slots. Rate limits are on, as in production (30 requests a minute per student: each student
sends fewer). Starts gunicorn with the Procfile's own `web:` command (gevent, 2 workers, 1000 connections) on a
port of 5400-5499, then CLIENTS threads post POST /api/bookings, each request for a distinct open slot with the
token of its own student: once against one instructor, once spread over four. Then the same CLIENTS race for
the same few slots. Prints accepted requests per second, p50/p95 latency, the statuses, the SQL statements of
one request (the same code path in-process, counted on the engine), the double bookings found in the database
(two active bookings of one instructor that overlap: must be 0) and the load average.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import signal
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STUDENTS = 600
INSTRUCTORS = 4
HORIZON_DAYS = 30
LESSON_MINUTES = 15
FIRST_HOUR, LAST_HOUR = 6, 22
PORT = int(os.environ.get("BENCH_PORT", "5417"))
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/booking_bench_perf"


def recreate_database(url: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def seed(database_url: str, redis_url: str) -> tuple[list[int], list[str]]:
    """Create the bench studio; return the instructors' ids and one API token per student."""
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import ApiToken, InstructorSettings, StudioSettings, User, WeeklyWindow
    from booking_app.services.sessions import hash_secret

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                      "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    with app.app_context():
        upgrade()
        app.extensions["redis"].flushdb()
        hashed = generate_password_hash("bench password")
        now = datetime.now(UTC)
        rows = [dict(email=f"teacher{i}@rush.test", name=f"Teacher {i}", role="instructor") for i in range(INSTRUCTORS)]
        rows += [dict(email=f"student{i}@rush.test", name=f"Student {i:03d}", role="student") for i in range(STUDENTS)]
        for row in rows:
            row.update(password_hash=hashed, timezone="UTC", active=True, created_at=now, email_opt_out=[])
        db.session.execute(sa.insert(User), rows)
        ids = {email: uid for email, uid in db.session.execute(sa.select(User.email, User.id))}
        teachers = [ids[f"teacher{i}@rush.test"] for i in range(INSTRUCTORS)]
        db.session.execute(sa.insert(InstructorSettings), [
            dict(user_id=t, timezone="UTC", default_lesson_minutes=LESSON_MINUTES, buffer_minutes=0,
                 min_notice_minutes=0, bio="") for t in teachers])
        db.session.execute(sa.insert(WeeklyWindow), [
            dict(instructor_id=t, weekday=d, start_time=wall(FIRST_HOUR), end_time=wall(LAST_HOUR),
                 lesson_minutes=LESSON_MINUTES) for t in teachers for d in range(1, 8)])
        tokens = ["bk_" + secrets.token_urlsafe(24) for _ in range(STUDENTS)]
        db.session.execute(sa.insert(ApiToken), [
            dict(user_id=ids[f"student{i}@rush.test"], token_hash=hash_secret(tok), name="rush", created_at=now)
            for i, tok in enumerate(tokens)])
        db.session.execute(sa.update(StudioSettings).values(horizon="days", horizon_days=HORIZON_DAYS))
        db.session.commit()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        db.engine.dispose()
    return teachers, tokens


def open_starts(base_port: int, teacher: int, token: str) -> list[str]:
    """Return the instructor's open slot starts over the horizon, from the slots API."""
    conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=60)
    today = datetime.now(UTC).date()
    found: list[str] = []
    for offset in range(0, HORIZON_DAYS + 1, 28):
        start, end = today + timedelta(days=offset), today + timedelta(days=min(offset + 27, HORIZON_DAYS))
        conn.request("GET", f"/api/instructors/{teacher}/slots?start={start}&end={end}",
                     headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 200, body
        found += [s["start"] for s in body["slots"]]
    conn.close()
    return sorted(set(found))


def serve(database_url: str, redis_url: str, instance: str) -> subprocess.Popen[bytes]:
    """Start the Procfile's web command on PORT and wait until /healthz answers."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    command = line.split(":", 1)[1].strip()
    command = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), command)
    command = command.replace("0.0.0.0:" + os.environ.get("PORT", "5000"), f"127.0.0.1:{PORT}")
    command = command.replace("gunicorn", f"{sys.executable} -m gunicorn", 1) + " --log-level warning"
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, INSTANCE_PATH=instance, PORT=str(PORT),
               SECRET_KEY="bench-secret-key-0123456789abcdef", RATELIMIT_ENABLED="true")
    proc = subprocess.Popen(command.split(), cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit("gunicorn did not start within 30 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rush(jobs: list[tuple[int, str, str]], clients: int) -> dict[str, Any]:
    """Send the (instructor, start, token) requests from `clients` threads; return rate, latencies and statuses."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        barrier.wait()
        for teacher, start, token in jobs[k::clients]:
            body = json.dumps({"instructor_id": teacher, "start": start})
            began = time.perf_counter()
            conn.request("POST", "/api/bookings", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                statuses[response.status] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "seconds": elapsed, "accepted_per_s": statuses[201] / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000, "statuses": dict(statuses)}


def double_bookings(database_url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        n = conn.exec_driver_sql(
            "SELECT count(*) FROM bookings a JOIN bookings b ON a.instructor_id = b.instructor_id AND a.id < b.id "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
            "WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')"
        ).scalar_one()
    engine.dispose()
    return int(n)


def statements_per_request(database_url: str, redis_url: str, teacher: int, starts: list[str],
                           tokens: list[str]) -> list[int]:
    """Count the statements of booking requests in-process (the same code path as over HTTP)."""
    import sqlalchemy as sa

    from booking_app import create_app
    from booking_app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    counts = []
    with app.app_context():
        client = app.test_client()
        for start, token in zip(starts, tokens, strict=False):
            headers = {"Authorization": f"Bearer {token}"}
            client.get("/api/me", headers=headers)  # a token's last use is noted once a minute, apart from bookings
            seen: list[str] = []

            def count(_c: Any, _cur: Any, statement: str, *_a: Any, seen: list[str] = seen) -> None:
                seen.append(statement)

            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                response = client.post("/api/bookings", json={"instructor_id": teacher, "start": start}, headers=headers)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
            assert response.status_code == 201, response.get_json()
            counts.append(len(seen))
        db.engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1600, help="booking requests in each rush")
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    recreate_database(database_url)
    teachers, tokens = seed(database_url, redis_url)
    instance = tempfile.mkdtemp(prefix="bench-rush-")
    proc = serve(database_url, redis_url, instance)
    try:
        starts = {t: open_starts(PORT, t, tokens[0]) for t in teachers}
        total = sum(len(s) for s in starts.values())
        print(f"bench studio: {STUDENTS} students, {INSTRUCTORS} instructors, {total:,} open slots over "
              f"{HORIZON_DAYS} days; gunicorn as the Procfile (gevent, 2 workers) on PostgreSQL; "
              f"{args.clients} clients")
        results = []
        # Students take turns, so none sends more than the 30 a minute the API allows.
        student = iter(range(10**9))
        one = teachers[0]
        jobs = [(one, start, tokens[next(student) % STUDENTS]) for start in starts[one][: args.requests]]
        results.append(("one instructor", rush(jobs, args.clients)))
        time.sleep(1)
        spread: list[tuple[int, str, str]] = []
        per = args.requests // 4
        for t in teachers[:4]:
            offset = args.requests if t == one else 0
            spread += [(t, s, "") for s in starts[t][offset: offset + per]]
        spread.sort(key=lambda job: job[1])  # interleave the instructors
        spread = [(t, s, tokens[next(student) % STUDENTS]) for t, s, _ in spread]
        results.append(("four instructors", rush(spread, args.clients)))
        race_slots = starts[teachers[1]][-5:]
        race = [(teachers[1], s, tokens[next(student) % STUDENTS]) for s in race_slots for _ in range(args.clients)]
        race.sort(key=lambda job: job[1])
        raced = rush(race, args.clients)
    finally:
        stop(proc)
    counts = statements_per_request(database_url, redis_url, teachers[2], starts[teachers[2]][-40:-20],
                                    tokens[-20:])
    doubles = double_bookings(database_url)
    load = os.getloadavg()
    print(f"  {'rush':<18}{'requests':>9}{'accepted/s':>12}{'p50':>9}{'p95':>9}   statuses")
    for name, r in results:
        print(f"  {name:<18}{r['requests']:>9}{r['accepted_per_s']:>12.1f}{r['p50_ms']:>7.1f}ms{r['p95_ms']:>7.1f}ms"
              f"   {r['statuses']}")
    print(f"  {len(race_slots)} slots raced by {args.clients} clients each: statuses {raced['statuses']} "
          f"(expected {len(race_slots)} accepted)")
    print(f"  SQL statements per booking request (in-process, same path): median {statistics.median(counts)}, "
          f"max {max(counts)}")
    print(f"  double bookings in the database: {doubles}")
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
