"""Run the app as two nodes over one PostgreSQL and one Redis, split the load between them, and check live events cross.

Usage (as root, from the project root; needs `ip`, `socat` and Debian's `wrk`):

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/booking_bench_eng \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/two_nodes.py [--duration 10]

Each node is a network namespace (`ip netns` + a veth pair: the node at 10.201.N.2, the host at 10.201.N.1)
running what the Procfile runs: gunicorn (gevent, 2 workers) on 10.201.N.2:5500 and `python worker.py`.
The nodes reach the shared PostgreSQL and Redis (which listen on the host's 127.0.0.1 only) through a socat
forwarder on their host-side address (ports 5590 and 5591), as machines on a LAN would reach database hosts.
The database is emptied, migrated and seeded with the demo studio first; the Redis database is flushed.

It prints, for /healthz, /book/<id>, the slots API for a month and /book: one node alone at 50 connections,
then both nodes at once at 25 connections each (two wrk processes), with requests/s, p50, p95, p99,
errors and timeouts. Then the checks that need no sticky sessions: a session cookie made on node A is
accepted on node B; an SSE client on node A receives an event caused on node B (and how long it took); a
client that reconnects to node B with the Last-Event-ID it got from node A is replayed what it missed.
Both nodes share the same two cores here, so two nodes cannot be faster than one: the figures show that
splitting costs nothing and that nothing breaks, not a scale-out factor.

Every process, namespace and veth it creates is removed at the end, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402  (bench/load.py: wrk, sign-in and process helpers)

ROOT = load.ROOT
NODES = ("a", "b")
PORT = 5500
PG_FORWARD, REDIS_FORWARD = 5590, 5591
SECRET_KEY = load.SECRET_KEY


def sh(*command: str, check: bool = True) -> None:
    subprocess.run(command, check=check, capture_output=True)


def namespace(node: str) -> str:
    return f"bkeng-{node}"


def host_ip(index: int) -> str:
    return f"10.201.{index + 1}.1"


def node_ip(index: int) -> str:
    return f"10.201.{index + 1}.2"


def make_network() -> None:
    for i, node in enumerate(NODES):
        ns, outside, inside = namespace(node), f"bkeng{node}0", f"bkeng{node}1"
        remove_network_of(node)
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        sh("ip", "link", "set", inside, "netns", ns)
        sh("ip", "addr", "add", f"{host_ip(i)}/30", "dev", outside)
        sh("ip", "link", "set", outside, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{node_ip(i)}/30", "dev", inside)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")


def remove_network_of(node: str) -> None:
    sh("ip", "netns", "del", namespace(node), check=False)  # takes the veth pair with it
    sh("ip", "link", "del", f"bkeng{node}0", check=False)


def forward(index: int, port: int, target: str, log: Path) -> None:
    load._spawn(["socat", f"TCP-LISTEN:{port},bind={host_ip(index)},fork,reuseaddr", f"TCP:{target}"], dict(os.environ), log)


def node_urls(index: int, database_url: str, redis_url: str) -> tuple[str, str]:
    db_name = database_url.rsplit("/", 1)[1]
    user = database_url.split("://", 1)[1].split("@", 1)[0]
    redis_db = redis_url.rsplit("/", 1)[1]
    return (f"postgresql+psycopg://{user}@{host_ip(index)}:{PG_FORWARD}/{db_name}",
            f"redis://{host_ip(index)}:{REDIS_FORWARD}/{redis_db}")


def sse_reader(url: str, cookies: str, last_id: str | None, found: dict[str, Any], wanted: str,
               ready: threading.Event) -> None:
    headers = {"Cookie": cookies}
    if last_id:
        headers["Last-Event-ID"] = last_id
    with requests.get(url, headers=headers, stream=True, timeout=(5, 15)) as answer, contextlib.suppress(requests.RequestException):
        event_id = event_type = None
        for line in answer.iter_lines(decode_unicode=True):
            if line == ": ping":
                ready.set()
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                event_type = line[7:]
                found.setdefault("types", []).append(event_type)
            elif line.startswith("data: ") and event_type == wanted:
                found.update(id=event_id, data=json.loads(line[6:]), at=time.monotonic())
                return


def change_profile(base: str, cookie: str, name: str) -> int:
    """POST the profile form on one node; the CSRF secret lives in the session cookie, so carry what it sets."""
    jar = dict(part.split("=", 1) for part in cookie.split("; "))
    page = requests.get(base + "/profile", headers={"Cookie": cookie}, timeout=10)
    jar.update(page.cookies.get_dict())
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
    assert token, "no CSRF token on /profile"
    answer = requests.post(base + "/profile", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
                           timeout=10, allow_redirects=False,
                           data={"csrf_token": token.group(1), "name": name, "timezone": "Europe/Berlin"})
    return answer.status_code


def cross_node_checks(bases: list[str]) -> list[str]:
    """Session from A used on B; SSE on A hears an event caused on B; a reconnect to B replays from Last-Event-ID."""
    from booking_app.services.demo import DEMO_PASSWORD

    lines = []
    cookie_a = load.sign_in(bases[0], "sam@demo.studio", DEMO_PASSWORD)
    on_b = requests.get(bases[1] + "/dashboard", headers={"Cookie": cookie_a}, allow_redirects=False, timeout=10)
    lines.append(f"- A session cookie issued by node A opens `/dashboard` on node B: HTTP {on_b.status_code} "
                 f"({'accepted' if on_b.status_code == 200 else 'REFUSED'}).")

    found: dict[str, Any] = {}
    ready = threading.Event()
    reader = threading.Thread(target=sse_reader, args=(bases[0] + "/events", cookie_a, None, found,
                                                      "profile.updated", ready), daemon=True)
    reader.start()
    ready.wait(10)
    sent = time.monotonic()
    status = change_profile(bases[1], cookie_a, "Sam Two Nodes")
    reader.join(10)
    if found:
        lines.append(f"- An SSE client on node A received `profile.updated` (event id {found['id']}) caused by a POST "
                     f"on node B (HTTP {status}) {1000 * (found['at'] - sent):.1f} ms after the POST was sent.")
    else:
        lines.append(f"- An SSE client on node A did NOT receive the event caused on node B within 10 s "
                     f"(the POST on node B answered HTTP {status}).")
        return lines

    # A second change while no stream is open; a browser reconnecting to the other node with the last id it
    # saw is replayed what it missed. (The first event is the flushed Redis's first: nothing before it can
    # be vouched for, so it would rightly get a refetch instead.)
    change_profile(bases[1], cookie_a, "Sam Missed Event")
    replay: dict[str, Any] = {}
    again = threading.Thread(target=sse_reader, args=(bases[1] + "/events", cookie_a, found["id"], replay,
                                                     "profile.updated", threading.Event()), daemon=True)
    again.start()
    again.join(10)
    ok = replay.get("data", {}).get("name") == "Sam Missed Event"
    lines.append(f"- Reconnecting to node B with `Last-Event-ID: {found['id']}` replays event {replay.get('id', 'NOTHING')} "
                 f"({'the missed change' if ok else 'MISMATCH: heard ' + ', '.join(replay.get('types', []))}).")
    return lines


def run_pair(name: str, path: str, headers: dict[str, str], bases: list[str], args: argparse.Namespace,
             work: Path) -> list[str]:
    """One node alone at 50 connections, then both nodes at 25 each, at the same time."""
    rows = []
    alone = load.wrk(name, bases[0], path, args, work, connections=args.connections, headers=headers)
    rows.append((f"{name}: node A alone", alone.connections, alone))
    load.drain(bases[0], 0.2)
    results: dict[int, load.Row] = {}

    def one(i: int) -> None:
        sub = work / f"n{i}"
        sub.mkdir(exist_ok=True)
        results[i] = load.wrk(name, bases[i], path, args, sub, connections=args.connections // 2, headers=headers)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        load.drain(bases[i], 0.2)
    total = results[0].rate + results[1].rate
    out = []
    for label, conns, r in rows:
        out.append(f"| {label} | {conns} | {r.rate:,.1f} | {load._ms(r.p50_ms, r.requests)} | {load._ms(r.p95_ms, r.requests)} | "
                   f"{load._ms(r.p99_ms, r.requests)} | {r.errors} | {r.timeouts} | {r.load1:.2f} |")
    for i in range(2):
        r = results[i]
        out.append(f"| {name}: node {NODES[i].upper()} of two | {r.connections} | {r.rate:,.1f} | {load._ms(r.p50_ms, r.requests)} | "
                   f"{load._ms(r.p95_ms, r.requests)} | {load._ms(r.p99_ms, r.requests)} | {r.errors} | {r.timeouts} | {r.load1:.2f} |")
    out.append(f"| **{name}: both nodes together** | {args.connections} | **{total:,.1f}** "
               f"({100 * total / (alone.rate or 1):.0f} % of one node) | | | | {results[0].errors + results[1].errors} | "
               f"{results[0].timeouts + results[1].timeouts} | |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--checks-only", action="store_true", help="skip the load, run only the cross-node checks")
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/booking_bench_eng")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    if os.geteuid() != 0 or not shutil.which("socat") or not Path(load.WRK).exists():
        raise SystemExit("run as root with ip, socat and wrk installed")

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    work = Path(tempfile.mkdtemp(prefix="two-nodes-"))
    try:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        load.reset_postgres(database_url)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RATELIMIT_ENABLED", "FLASK_DEBUG")}
        env.update(INSTANCE_PATH=str(work / "instance"), SECRET_KEY=SECRET_KEY, DATABASE_URL=database_url, REDIS_URL=redis_url)
        (work / "instance").mkdir()
        load._flask(env, "db", "upgrade")
        load._flask(env, "seed-demo")
        student_token = load._flask(env, "users", "token", "sam@demo.studio", "--name", "two nodes")
        make_network()
        log = work / "nodes.log"
        pg_target = database_url.split("@", 1)[1].split("/", 1)[0]
        redis_target = redis_url.split("://", 1)[1].split("/", 1)[0]
        bases = []
        for i in range(len(NODES)):
            forward(i, PG_FORWARD, pg_target, log)
            forward(i, REDIS_FORWARD, redis_target, log)
        time.sleep(0.5)
        for i, node in enumerate(NODES):
            node_db, node_redis = node_urls(i, database_url, redis_url)
            node_env = dict(env, DATABASE_URL=node_db, REDIS_URL=node_redis, BASE_URL=f"http://{node_ip(i)}:{PORT}",
                            INSTANCE_PATH=str(work / f"instance-{node}"))
            Path(node_env["INSTANCE_PATH"]).mkdir()
            prefix = ["ip", "netns", "exec", namespace(node)]
            web = load._spawn([*prefix, sys.executable, "-m", "gunicorn", "--worker-class", load.procfile_worker_class(), "--workers",
                               str(args.workers), "--worker-connections", "1000", "--timeout", "60", "--no-control-socket",
                               "--bind", f"{node_ip(i)}:{PORT}", "wsgi:app"], node_env, log)
            worker = load._spawn([*prefix, sys.executable, "worker.py"], node_env, log)
            bases.append(f"http://{node_ip(i)}:{PORT}")
            load._wait_until_up(bases[-1], [web, worker], log)
        print(f"two nodes up: {bases[0]} and {bases[1]}", flush=True)

        from booking_app.services.demo import DEMO_PASSWORD

        instructors = {x["name"]: x["id"] for x in requests.get(bases[0] + "/api/instructors", timeout=30).json()}
        maria = instructors["Maria Alvarez"]
        cookie = load.sign_in(bases[1], "sam@demo.studio", DEMO_PASSWORD)  # signed in on B, used on both
        today = datetime.now(UTC).date()
        slots_path = f"/api/instructors/{maria}/slots?start={today}&end={today + timedelta(days=30)}"
        pages = [("`/healthz`", "/healthz", {}),
                 ("`/book/<id>`", f"/book/{maria}", {"Cookie": cookie}),
                 ("slots API, one month", slots_path, {"Authorization": f"Bearer {student_token}"}),
                 ("`/book`", "/book", {"Cookie": cookie})]
        lines = [f"### Two nodes (network namespaces) over one PostgreSQL and one Redis: gunicorn gevent ×{args.workers} "
                 f"+ worker per node, wrk -t{args.threads} -d{args.duration}s",
                 "",
                 "| row | conns | requests/s | p50 | p95 | p99 | errors | timeouts | load (1 min) |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for name, path, headers in [] if args.checks_only else pages:
            print(f"{name} ...", flush=True)
            lines += run_pair(name, path, headers, bases, args, work)
        load_avg = os.getloadavg()
        lines += ["", f"Cores: {os.cpu_count()} (shared by both nodes, wrk and the databases); load average at the end "
                      f"{load_avg[0]:.2f} / {load_avg[1]:.2f} / {load_avg[2]:.2f}.", ""]
        lines += cross_node_checks(bases)
        print("\n" + "\n".join(lines), flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
    finally:
        load._stop_all()
        for node in NODES:
            remove_network_of(node)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
