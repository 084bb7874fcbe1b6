"""Load-test the app as the Procfile runs it, page by page, against /healthz in the same run.

One command (from the project root):

    .venv/bin/python bench/load.py                       # SQLite, 50 connections, 10 s a row
    .venv/bin/python bench/load.py --duration 30         # the issue's figures
    .venv/bin/python bench/load.py --connections 10      # the light-load p95 target
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/booking_load_bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/load.py

For each database (the SQLite default in a fresh temporary INSTANCE_PATH, then PostgreSQL when
BENCH_DATABASE_URL is set: its `public` schema is dropped and recreated first) it runs
`flask --app wsgi db upgrade` and `flask --app wsgi seed-demo`, starts gunicorn exactly as the Procfile
does (its gevent worker class, 2 workers, 1000 connections each, no control socket) plus `python worker.py`, and drives it
with Debian's wrk (`/usr/bin/wrk -t2 -cN -dNs --latency`, with a Lua `done()` that prints p50/p95/p99).
Redis is BENCH_REDIS_URL (flushed first) or an embedded server this process owns. Rate limits are on,
as in production.

Rows: /healthz, /book and /book/<id> signed in as a demo student, the slots API for a month (a demo
student's bearer token), the instructor, student and owner dashboards, and booking requests
(POST /api/bookings) for one instructor and spread over four. The booking rows run on a bench studio
seeded after the page rows (so the pages are measured on the demo studio alone): five instructors in
UTC with 15-minute slots 00:00-23:00 every day, no minimum notice, a 365-day horizon, and 1,000
students with API tokens. Every request targets a distinct open slot fetched from the slots API, with a
token of its own student (each student sends at most 30 in the run: under the 30/minute limit); 201
(accepted) and 409 (taken) are counted, and the database is checked for double bookings afterwards.

Every process it starts (gunicorn, the worker, wrk, the embedded Redis) is stopped at the end, on
Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRK = "/usr/bin/wrk"
SECRET_KEY = "load-bench-" + secrets.token_hex(24)
BENCH_INSTRUCTORS = 5  # one for the single-instructor row, four for the spread row
BENCH_STUDENTS_PER_ROW = 500
SLOT_MINUTES = 15
SLOTS_PER_DAY = 23 * 60 // SLOT_MINUTES
PER_STUDENT = 30  # POST /api/bookings is limited to 30/minute per account
POOL_RATE = 500  # booking requests prepared per second of the run (the pool wraps round only beyond it)
MAX_SLOT_DAYS = 62  # the slots API's longest range

PAGE_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH p50=%d p95=%d p99=%d max=%d requests=%d duration=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

BOOKING_LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == tid then
      local tok, body = line:match("^([^\t]+)\t(.*)$")
      table.insert(reqs, wrk.format("POST", "/api/bookings",
        {["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json"}, body))
    end
    i = i + 1
  end
  idx = 0
  wrapped = 0
  statuses = {}
end
function request()
  idx = idx + 1
  if idx > #reqs then idx = 1; wrapped = wrapped + 1 end
  return reqs[idx]
end
function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end
function done(summary, latency, requests)
  local totals, wraps = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do totals[k] = (totals[k] or 0) + v end
    wraps = wraps + t:get("wrapped")
  end
  local parts = {}
  for k, v in pairs(totals) do table.insert(parts, k .. ":" .. v) end
  local e = summary.errors
  io.write(string.format("BENCH p50=%d p95=%d p99=%d max=%d requests=%d duration=%d connect=%d read=%d write=%d status=%d timeout=%d wrapped=%d statuses=%s\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, wraps,
    table.concat(parts, ",")))
end
"""

_STARTED: list[subprocess.Popen[bytes]] = []


def procfile_worker_class() -> str:
    """Return the gunicorn worker class the Procfile's web line names (the bench runs what production runs)."""
    match = re.search(r"--worker-class\s+(\S+)", (ROOT / "Procfile").read_text())
    if match is None:
        raise SystemExit("the Procfile's web line names no --worker-class")
    return match.group(1)


# --- processes ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    _STARTED.append(proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process group this bench started: SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    if proc in _STARTED:
        _STARTED.remove(proc)


def _stop_all() -> None:
    for proc in reversed(list(_STARTED)):
        _stop(proc)


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _wait_until_up(base: str, procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the app did not start; see {log}:\n{log.read_text()[-3000:]}")


# --- measuring ----------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    rate: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    load1: float = 0.0
    connections: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def wrk(name: str, base: str, path: str, args: argparse.Namespace, work: Path, *, connections: int,
        headers: dict[str, str] | None = None, lua: str = PAGE_LUA, lua_args: list[str] | None = None) -> Row:
    """Run wrk against one path and parse its output (requests/s from its summary, percentiles from done())."""
    script = work / ("booking.lua" if lua is BOOKING_LUA else "page.lua")
    script.write_text(lua)
    command = [WRK, f"-t{args.threads}", f"-c{connections}", f"-d{args.duration}s", "--latency",
               "--timeout", f"{args.timeout}s", "-s", str(script)]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    command.append(base + path)
    if lua_args:
        command += ["--", *lua_args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    _STARTED.append(proc)  # type: ignore[arg-type]
    try:
        out, _ = proc.communicate(timeout=args.duration + args.timeout + 120)
    finally:
        _stop(proc)  # type: ignore[arg-type]
    text = out.decode()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    stats = re.search(r"^BENCH (.*)$", text, re.M)
    if rate is None or stats is None:
        raise SystemExit(f"could not read wrk's output for {name}:\n{text}")
    values = dict(item.split("=", 1) for item in stats.group(1).split())
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    row = Row(name, rate=float(rate.group(1)), p50_ms=int(values["p50"]) / 1000, p95_ms=int(values["p95"]) / 1000,
              p99_ms=int(values["p99"]) / 1000, requests=int(values["requests"]), timeouts=int(values["timeout"]),
              load1=os.getloadavg()[0], connections=connections)
    socket_errors = sum(int(values[k]) for k in ("connect", "read", "write"))
    row.errors = (int(non_2xx.group(1)) if non_2xx else 0) + socket_errors
    if "statuses" in values:
        row.statuses = {k: int(v) for k, v in (p.split(":") for p in values["statuses"].split(",") if p)}
        row.errors = sum(v for k, v in row.statuses.items() if not 200 <= int(k) < 400 and k != "409") + socket_errors
        if int(values.get("wrapped", 0)):
            row.notes.append("slot pool exhausted: some requests repeated a slot")
    if socket_errors:
        row.notes.append(f"socket errors {socket_errors}")
    return row


def drain(base: str, threshold_s: float, limit_s: float = 30.0) -> float:
    """Wait until requests still in flight after wrk stopped are done: /healthz answers quickly twice running.

    Return the seconds waited, so one row's leftovers do not load the next row.
    """
    t0 = time.monotonic()
    quick = 0
    while time.monotonic() - t0 < limit_s and quick < 2:
        t1 = time.perf_counter()
        with contextlib.suppress(requests.RequestException):
            requests.get(base + "/healthz", timeout=limit_s)
        quick = quick + 1 if time.perf_counter() - t1 < threshold_s else 0
        time.sleep(0.1)
    return time.monotonic() - t0


def stored_bookings(database_url: str, teachers: list[int], limit_s: float = 60.0) -> int:
    """Return the bench teachers' active bookings once the count stops moving (late answers included)."""
    last, stable_since, t0 = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < limit_s:
        total = double_bookings(database_url, teachers)[0]
        if total != last:
            last, stable_since = total, time.monotonic()
        elif time.monotonic() - stable_since > 2:
            break
        time.sleep(0.5)
    return last


# --- the app's data -----------------------------------------------------------------------------------


def sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the real /login form (CSRF token included); return the Cookie header."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=30)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if match is None:
        raise SystemExit("no CSRF token on /login")
    answer = session.post(base + "/login", data={"csrf_token": match.group(1), "email": email, "password": password,
                                                 "next": ""}, allow_redirects=False, timeout=30)
    if answer.status_code != 302 or "session" not in session.cookies:
        raise SystemExit(f"signing in as {email} failed ({answer.status_code})")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def seed_bench_studio(database_url: str, redis_url: str, instance: str) -> tuple[list[int], list[list[str]]]:
    """Add the booking rows' instructors (through the services) and students with API tokens; a 365-day horizon.

    Return the instructor ids and, per booking row, that row's student tokens.
    """
    from werkzeug.security import generate_password_hash

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import ApiToken, User
    from booking_app.services import availability, studio
    from booking_app.services.sessions import hash_secret
    from booking_app.services.users import create_user, find_user_by_email

    os.environ["INSTANCE_PATH"] = instance
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        owner = find_user_by_email("owner@demo.studio")
        studio.update_studio(horizon="days", horizon_days=365)
        teachers = []
        for i in range(BENCH_INSTRUCTORS):
            teacher = create_user(email=f"teacher{i}@load.bench", name=f"Bench Teacher {i}", password="bench password 1",
                                  role="instructor", timezone="UTC")
            availability.update_settings(owner, teacher.id, timezone="UTC", default_lesson_minutes=SLOT_MINUTES,
                                         min_notice_minutes=0)
            for weekday in range(1, 8):
                availability.add_weekly_window(owner, teacher.id, weekday=weekday, start_time=datetime.min.time(),
                                               end_time=datetime.min.time().replace(hour=23), lesson_minutes=SLOT_MINUTES)
            db.session.commit()
            teachers.append(teacher.id)
        # Students in bulk (one password hash for all): the per-user hashing of create_user would take minutes.
        hashed = generate_password_hash("bench password 1")
        rows: list[list[str]] = []
        for r in range(2):
            people = [User(email=f"student{r}-{i}@load.bench", name=f"Bench Student {r}-{i}", password_hash=hashed,
                           role="student", timezone="UTC", active=True) for i in range(BENCH_STUDENTS_PER_ROW)]
            db.session.add_all(people)
            db.session.flush()
            tokens = ["bk_" + secrets.token_urlsafe(32) for _ in people]
            db.session.add_all(ApiToken(user_id=p.id, token_hash=hash_secret(t), name="load bench")
                               for p, t in zip(people, tokens, strict=True))
            rows.append(tokens)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return teachers, rows


def open_slots(base: str, token: str, instructor_id: int, first: date, days: int) -> list[str]:
    """Fetch the instructor's open slot starts (UTC, ISO) for `days` days from `first`, through the slots API."""
    starts: list[str] = []
    day = first
    end = first + timedelta(days=days - 1)
    while day <= end:
        last = min(end, day + timedelta(days=MAX_SLOT_DAYS - 1))
        answer = requests.get(f"{base}/api/instructors/{instructor_id}/slots",
                              params={"start": day.isoformat(), "end": last.isoformat(), "tz": "UTC"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=120)
        answer.raise_for_status()
        starts += [s["start"] for s in answer.json()["slots"]]
        day = last + timedelta(days=1)
    return starts


def booking_pool(base: str, teachers: list[int], tokens: list[str], pool_size: int, work: Path, name: str) -> Path:
    """Write `pool_size` requests (token, JSON body), each for a distinct open slot, interleaved over the teachers."""
    first = (datetime.now(UTC) + timedelta(days=1)).date()
    days = math.ceil(pool_size / len(teachers) / SLOTS_PER_DAY) + 1
    per_teacher = [open_slots(base, tokens[0], t, first, days) for t in teachers]
    slots = [(t, start) for group in zip(*per_teacher, strict=False) for t, start in zip(teachers, group, strict=True)]
    if len(slots) < pool_size:
        raise SystemExit(f"only {len(slots)} open slots for a pool of {pool_size}")
    path = work / f"{name}.tsv"
    with open(path, "w") as out:
        for i, (teacher, start) in enumerate(slots[:pool_size]):
            # Student i % N: at the same start the teachers' requests go to different students (no clash).
            out.write(f"{tokens[i % len(tokens)]}\t{json.dumps({'instructor_id': teacher, 'start': start, 'lesson_minutes': SLOT_MINUTES})}\n")
    return path


def double_bookings(database_url: str, teachers: list[int]) -> tuple[int, int, int]:
    """Return (active bookings, overlapping pairs per instructor, overlapping pairs per student) for the bench teachers."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    ids = ", ".join(str(t) for t in teachers)
    active = "{0}.status IN ('pending', 'confirmed')"
    with engine.connect() as conn:
        total = conn.exec_driver_sql(
            f"SELECT count(*) FROM bookings b WHERE b.instructor_id IN ({ids}) AND {active.format('b')}").scalar_one()
        pairs = [
            conn.exec_driver_sql(
                f"SELECT count(*) FROM bookings a JOIN bookings b ON a.{who} = b.{who} AND a.id < b.id "
                f"AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                f"WHERE a.instructor_id IN ({ids}) AND {active.format('a')} AND {active.format('b')}"
            ).scalar_one()
            for who in ("instructor_id", "student_id")
        ]
    engine.dispose()
    return int(total), int(pairs[0]), int(pairs[1])


# --- one database ---------------------------------------------------------------------------------------


def reset_postgres(url: str) -> None:
    """Create the database if missing, then drop and recreate its public schema."""
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def run_database(label: str, database_url: str | None, args: argparse.Namespace) -> str:
    """Prepare one database, start the app, measure every row and return the Markdown table."""
    from booking_app.redis_conn import start_embedded_redis, stop_embedded_redis
    from booking_app.services.demo import DEMO_PASSWORD

    work = Path(tempfile.mkdtemp(prefix=f"load-bench-{label.lower()}-"))
    instance = str(work / "instance")
    Path(instance).mkdir()
    redis_url = os.environ.get("BENCH_REDIS_URL")
    embedded = not redis_url
    try:
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        else:
            redis_url = start_embedded_redis(instance)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RATELIMIT_ENABLED", "FLASK_DEBUG")}
        env.update(INSTANCE_PATH=instance, SECRET_KEY=SECRET_KEY, REDIS_URL=redis_url)
        if database_url:
            reset_postgres(database_url)
            env["DATABASE_URL"] = database_url
        app_db_url = database_url or f"sqlite:///{Path(instance) / 'booking.sqlite'}"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env["BASE_URL"] = base
        print(f"\n[{label}] migrating and seeding the demo studio in {instance}", flush=True)
        t_setup = time.monotonic()
        _flask(env, "db", "upgrade")
        _flask(env, "seed-demo")
        student_token = _flask(env, "users", "token", "sam@demo.studio", "--name", "load bench")
        log = work / "app.log"
        web = _spawn([sys.executable, "-m", "gunicorn", "--worker-class", procfile_worker_class(), "--workers", str(args.workers),
                      "--worker-connections", "1000", "--timeout", "60", "--no-control-socket",
                      "--bind", f"127.0.0.1:{port}", "wsgi:app"], env, log)
        worker = _spawn([sys.executable, "worker.py"], env, log)
        _wait_until_up(base, [web, worker], log)
        print(f"[{label}]   migrated, seeded and started in {time.monotonic() - t_setup:.1f} s", flush=True)

        instructors = {i["name"]: i["id"] for i in requests.get(base + "/api/instructors", timeout=30).json()}
        maria = instructors["Maria Alvarez"]
        cookies = {role: sign_in(base, email, DEMO_PASSWORD) for role, email in
                   (("student", "sam@demo.studio"), ("instructor", "maria@demo.studio"), ("owner", "owner@demo.studio"))}
        today = datetime.now(UTC).date()
        slots_path = f"/api/instructors/{maria}/slots?start={today.isoformat()}&end={(today + timedelta(days=30)).isoformat()}"
        pages = [
            ("`/healthz`", "/healthz", {}),
            ("`/book` (student)", "/book", {"Cookie": cookies["student"]}),
            ("`/book/<id>` (student)", f"/book/{maria}", {"Cookie": cookies["student"]}),
            ("slots API, one month", slots_path, {"Authorization": f"Bearer {student_token}"}),
            ("instructor dashboard", "/dashboard", {"Cookie": cookies["instructor"]}),
            ("student dashboard", "/dashboard", {"Cookie": cookies["student"]}),
            ("owner dashboard", "/dashboard", {"Cookie": cookies["owner"]}),
        ]
        rows: list[Row] = []
        for name, path, headers in pages:
            check = requests.get(base + path, headers=headers, allow_redirects=False, timeout=60)
            if check.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {check.status_code} before the run")
            print(f"[{label}] {name} ...", flush=True)
            rows.append(wrk(name, base, path, args, work, connections=args.connections, headers=headers))
            threshold = max(0.05, 3 * rows[0].p50_ms / 1000)
            waited = drain(base, threshold)
            print(f"[{label}]   {rows[-1].rate:.1f} requests/s; waited {waited:.1f} s for the app to drain", flush=True)

        print(f"[{label}] seeding the bench studio for the booking rows", flush=True)
        t_seed = time.monotonic()
        teachers, tokens = seed_bench_studio(app_db_url, redis_url, instance)
        pool_size = max(2000, POOL_RATE * args.duration)
        pool_size = min(pool_size, PER_STUDENT * BENCH_STUDENTS_PER_ROW)
        print(f"[{label}]   seeded in {time.monotonic() - t_seed:.1f} s", flush=True)
        booking_rows = [("booking requests, one instructor", teachers[:1], tokens[0]),
                        ("booking requests, four instructors", teachers[1:5], tokens[1])]
        for name, group, row_tokens in booking_rows:
            t_pool = time.monotonic()
            pool = booking_pool(base, group, row_tokens, pool_size, work, "one" if len(group) == 1 else "four")
            print(f"[{label}]   {pool_size} open slots fetched in {time.monotonic() - t_pool:.1f} s", flush=True)
            before = double_bookings(app_db_url, teachers)[0]
            print(f"[{label}] {name} ...", flush=True)
            row = wrk(name, base, "/api/bookings", args, work, connections=args.booking_connections, lua=BOOKING_LUA,
                      lua_args=[str(pool), str(args.threads)])
            row.notes.insert(0, f"201: {row.statuses.get('201', 0)}, 409: {row.statuses.get('409', 0)}")
            late = stored_bookings(app_db_url, teachers) - before - row.statuses.get("201", 0)
            if late > 0:
                row.notes.append(f"+{late} stored by the requests in flight when wrk stopped")
            print(f"[{label}]   {row.rate:.1f} requests/s; {'; '.join(row.notes)}", flush=True)
            other = {k: v for k, v in row.statuses.items() if k not in ("201", "409")}
            if other:
                row.notes.append("other statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(other.items())))
            rows.append(row)
        total, teacher_pairs, student_pairs = double_bookings(app_db_url, teachers)
        accepted = sum(r.statuses.get("201", 0) for r in rows)
        check_line = (f"Bookings stored for the bench instructors: {total} (201 answers: {accepted}); "
                      f"double bookings: {teacher_pairs} per instructor, {student_pairs} per student. "
                      f"The database is checked after the requests in flight when wrk stopped were answered.")
        for proc in (worker, web):
            _stop(proc)
        return table(label, rows, args, check_line, embedded)
    finally:
        _stop_all()
        if embedded:
            stop_embedded_redis(instance)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _ms(value: float, answered: int = 1) -> str:
    if not answered:
        return "—"
    return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def table(label: str, rows: list[Row], args: argparse.Namespace, check_line: str, embedded: bool) -> str:
    ceiling = rows[0].rate or 1.0
    load = os.getloadavg()
    lines = [
        f"### {label}: gunicorn gevent ×{args.workers} + worker, wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s ({'embedded' if embedded else 'external'} Redis)",
        "",
        "| row | conns | requests/s | p50 | p95 | p99 | errors | timeouts | share of `/healthz` | load (1 min) | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.requests == 0:
            r.notes.insert(0, f"no request answered within the {args.duration} s run")
        lines.append(f"| {r.name} | {r.connections} | {r.rate:,.1f} | {_ms(r.p50_ms, r.requests)} | {_ms(r.p95_ms, r.requests)} | {_ms(r.p99_ms, r.requests)} | "
                     f"{r.errors} | {r.timeouts} | {100 * r.rate / ceiling:.2f} % | {r.load1:.2f} | {'; '.join(r.notes)} |")
    lines += [
        "",
        f"Cores: {os.cpu_count()}; load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min). "
        f"Rate limits on for every row (each booking student sends at most {PER_STUDENT} requests, within 30/minute). "
        f"Errors: answers other than 2xx/3xx (409 counted apart) and socket errors; timeouts: answered after more than "
        f"{args.timeout} s (wrk --timeout). {check_line}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per row (30 for the issue's figures)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections for the page rows")
    parser.add_argument("--booking-connections", type=int, default=None,
                        help="wrk connections for the booking rows (default: --connections; the issue's target uses 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=int, default=10, help="seconds after which wrk counts a request as timed out")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the Procfile's WEB_CONCURRENCY)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, wrk scripts)")
    args = parser.parse_args()
    args.booking_connections = args.booking_connections or args.connections
    if not Path(WRK).exists():
        raise SystemExit("wrk is missing: apt-get install wrk")

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    pg_url = os.environ.get("BENCH_DATABASE_URL")
    tables = []
    try:
        if args.only in (None, "sqlite"):
            tables.append(run_database("SQLite", None, args))
            print("\n" + tables[-1], flush=True)
        if args.only in (None, "postgresql"):
            if pg_url:
                tables.append(run_database("PostgreSQL", pg_url, args))
                print("\n" + tables[-1], flush=True)
            elif args.only == "postgresql":
                raise SystemExit("set BENCH_DATABASE_URL to measure PostgreSQL")
    except KeyboardInterrupt:
        _stop_all()
        print("\ninterrupted: every process the bench started is stopped", file=sys.stderr)
        raise SystemExit(130) from None
    if len(tables) > 1:
        print("\n\n" + "\n\n".join(tables))


if __name__ == "__main__":
    main()
