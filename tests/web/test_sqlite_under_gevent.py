"""SQLite under gevent: with two workers as the Procfile runs them, no request starves and streams stay open."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.services.test_realtime import _stop, _wait_until_up

ROOT = Path(__file__).resolve().parent.parent.parent
PROCFILE_WORKER = re.search(r"--worker-class\s+(\S+)", (ROOT / "Procfile").read_text()).group(1)  # type: ignore[union-attr]
CLIENTS = 40
STREAMS = 20
SECONDS = 8
# The machine is shared, so the bound is relative: before the fix the median was 0.7 s and the slowest 9 s
# (connections served back to back while others waited); queueing fairly keeps every request near the median.
SLOWEST_TO_MEDIAN = 4.0


@pytest.fixture
def sqlite_gunicorn(test_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite studio served by gunicorn as the Procfile starts it: gevent, two workers."""
    instance = tmp_path / "instance"
    instance.mkdir()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(INSTANCE_PATH=str(instance), REDIS_URL=test_env["redis_url"], RATELIMIT_ENABLED="0",
               SECRET_KEY="sqlite-gevent-test-secret-key-0123456789", SSE_HEARTBEAT_SECONDS="1")
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", PROCFILE_WORKER, "--workers", "2", "--worker-connections", "1000",
         "--no-control-socket", "--graceful-timeout", "3", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log)
        yield base
    finally:
        _stop(proc)


def _stream(base: str, heard: list[int], stop: threading.Event, index: int) -> None:
    with requests.get(base + "/events", stream=True, timeout=(5, 10)) as answer:
        for line in answer.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                heard[index] += 1
            if stop.is_set():
                return


def test_sqlite_requests_never_starve_behind_the_other_gevent_worker_and_streams_stay_open(sqlite_gunicorn: str) -> None:
    base = sqlite_gunicorn
    heard = [0] * STREAMS
    stop = threading.Event()
    listeners = [threading.Thread(target=_stream, args=(base, heard, stop, i), daemon=True) for i in range(STREAMS)]
    for listener in listeners:
        listener.start()
    paths = ["/api/instructors", "/book"]
    with ThreadPoolExecutor(4) as pool:  # both workers compile their templates before the clock starts
        list(pool.map(lambda n: requests.get(base + paths[n % 2], timeout=60), range(16)))
    deadline = time.monotonic() + SECONDS

    def client(n: int) -> list[tuple[float, int]]:
        seen = []
        with requests.Session() as session:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                status = session.get(base + paths[n % len(paths)], timeout=30, allow_redirects=False).status_code
                seen.append((time.perf_counter() - t0, status))
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [r for seen in pool.map(client, range(CLIENTS)) for r in seen]
    heard_during_load = list(heard)
    time.sleep(2.5)  # two heartbeats more
    stop.set()

    times = sorted(seconds for seconds, _ in results)
    slowest, median = times[-1], times[len(times) // 2]
    assert len(results) > CLIENTS * 2, "the load did not run"
    assert {status for _, status in results} <= {200, 302}
    assert slowest < max(1.0, SLOWEST_TO_MEDIAN * median), (
        f"the slowest of {len(results)} requests took {slowest:.2f} s, the median {median:.2f} s")
    assert all(n >= 1 for n in heard_during_load), f"streams heard nothing during the load: {heard_during_load}"
    assert all(after > before for before, after in zip(heard_during_load, heard, strict=True)), "a stream closed"
