"""Live events: sent only after commit, streamed per user over SSE, and across separate web processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from booking_app.extensions import db
from booking_app.realtime import _hub, publish, pubsub_prefix, send_now, user_channel
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _close_hub(app):
    """Stop this app's Redis subscription after the test (each test builds a new app)."""
    yield
    hub = app.extensions.get("live_hub")
    if hub is not None:
        hub.close()


@pytest.fixture
def listener(redis_client):
    """A raw Redis subscriber on every live-event channel."""
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pubsub_prefix(redis_client) + "*")
    assert pubsub.get_message(timeout=1) is None  # consume the subscription confirmation
    yield pubsub
    pubsub.close()


def _received(pubsub, wait: float = 0.5) -> list[tuple[str, dict]]:
    prefix = pubsub.connection_pool.connection_kwargs.get("db", 0)
    found = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.05)
        if message and message["type"] == "pmessage":
            channel = message["channel"].decode().removeprefix(f"ev:{prefix}:")
            found.append((channel, json.loads(message["data"])))
    return found


def test_an_event_is_sent_only_when_its_transaction_commits(app, users, listener):
    user = users.make()
    publish([user_channel(user.id)], "booking.confirmed", {"id": 7})
    assert _received(listener, 0.2) == []  # not before the commit
    db.session.commit()
    [(channel, event)] = _received(listener)
    assert channel == f"user:{user.id}"
    assert event["type"] == "booking.confirmed" and event["data"] == {"id": 7} and event["id"] >= 1


def test_a_rolled_back_transaction_sends_nothing(app, users, listener):
    user = users.make()
    publish([user_channel(user.id)], "booking.confirmed", {"id": 7})
    db.session.rollback()
    db.session.commit()  # a later commit must not send the forgotten event either
    assert _received(listener) == []


def test_a_profile_change_publishes_to_its_owner(app, users, listener):
    from booking_app.services.users import update_profile

    user = users.make(timezone="UTC")
    update_profile(user, name="New Name", timezone="Asia/Tokyo")
    [(channel, event)] = _received(listener)
    assert channel == f"user:{user.id}"
    assert event["type"] == "profile.updated"
    assert event["data"] == {"name": "New Name", "timezone": "Asia/Tokyo"}


# --- the SSE endpoint through the test client ----------------------------------------------------

class Stream:
    """Read server-sent events from a streaming test-client response."""

    def __init__(self, response) -> None:  # type: ignore[no-untyped-def]
        self.response = response
        self.chunks: Iterator[bytes] = iter(response.response)

    def next_block(self) -> str:
        chunk = next(self.chunks)
        return chunk.decode() if isinstance(chunk, bytes) else chunk

    def next_event(self, limit: int = 20) -> dict:
        for _ in range(limit):
            block = self.next_block()
            if block.startswith("id:"):
                fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
                return {"id": int(fields["id"]), "type": fields["event"], "data": json.loads(fields["data"])}
        raise AssertionError("no event arrived")

    def close(self) -> None:
        self.response.close()


def _open(client, **headers) -> Stream:  # type: ignore[no-untyped-def]
    response = client.get("/events", headers=headers, buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    return Stream(response)


@pytest.mark.app_config(SSE_HEARTBEAT_SECONDS=0.2)
def test_the_stream_pings_at_once_and_delivers_only_the_users_own_events(app, client, users, auth, redis_client):
    me, other = users.make(), users.make()
    my_id, other_id = me.id, other.id
    auth.login(me)
    stream = _open(client)
    try:
        assert ": ping" in stream.next_block()
        assert _hub().connected.is_set()
        send_now(redis_client, [user_channel(other_id)], "message.sent", {"for": "other"})
        send_now(redis_client, [user_channel(my_id)], "message.sent", {"for": "me"})
        event = stream.next_event()
        assert event["type"] == "message.sent" and event["data"] == {"for": "me"}
    finally:
        stream.close()


def test_events_do_not_cross_between_redis_databases(app, redis_client, listener):
    # Pub/sub ignores database numbers: two apps on one Redis server must not hear each other.
    pool = redis_client.connection_pool
    other_db_number = 15 if pool.connection_kwargs.get("db", 0) != 15 else 14
    other_db = redis.Redis(connection_pool=redis.ConnectionPool(
        connection_class=pool.connection_class, **{**pool.connection_kwargs, "db": other_db_number}))
    try:
        send_now(other_db, [user_channel(987654)], "message.sent", {"from": "another app"})
        assert _received(listener, 0.3) == []
        send_now(redis_client, [user_channel(987654)], "message.sent", {"from": "this app"})
        assert [event["data"] for _, event in _received(listener)] == [{"from": "this app"}]
    finally:
        other_db.delete("ev:log:user:987654")
        other_db.close()


@pytest.mark.app_config(SSE_HEARTBEAT_SECONDS=0.1)
def test_a_quiet_stream_sends_heartbeats(app, client, users, auth):
    auth.login(users.make())
    stream = _open(client)
    try:
        assert ": ping" in stream.next_block()
        assert stream.next_block() == ": heartbeat\n\n"
        assert stream.next_block() == ": heartbeat\n\n"
    finally:
        stream.close()


@pytest.mark.app_config(SSE_HEARTBEAT_SECONDS=0.2)
def test_a_reconnecting_stream_replays_what_it_missed_after_last_event_id(app, client, users, auth, redis_client):
    me, other = users.make(), users.make()
    channel = user_channel(me.id)
    first = send_now(redis_client, [channel], "booking.requested", {"n": 1})
    send_now(redis_client, [user_channel(other.id)], "booking.requested", {"n": "not mine"})
    send_now(redis_client, [channel], "booking.confirmed", {"n": 2})
    send_now(redis_client, [channel], "booking.cancelled", {"n": 3})
    auth.login(me)
    stream = _open(client, **{"Last-Event-ID": str(first)})
    try:
        assert ": ping" in stream.next_block()
        assert [stream.next_event()["data"]["n"] for _ in range(2)] == [2, 3]
        assert stream.next_block() == ": heartbeat\n\n"  # nothing else was replayed
    finally:
        stream.close()


@pytest.mark.app_config(SSE_HEARTBEAT_SECONDS=0.2)
def test_a_visitor_hears_public_calendars_but_no_user_channel(app, client, users, redis_client):
    from booking_app.realtime import calendar_channel

    teacher_id = users.make("instructor").id
    stream = _open(client)  # a visitor: not signed in
    try:
        assert ": ping" in stream.next_block()
        send_now(redis_client, [user_channel(teacher_id)], "message.sent", {"private": True})
        assert stream.next_block() == ": heartbeat\n\n"
    finally:
        stream.close()
    calendar = Stream(client.get(f"/events?calendar={teacher_id}&calendar=x", buffered=False))
    try:
        assert ": ping" in calendar.next_block()
        send_now(redis_client, [calendar_channel(teacher_id)], "availability.changed", {"instructor_id": teacher_id})
        assert calendar.next_event()["type"] == "availability.changed"
    finally:
        calendar.close()


# --- two real web processes ----------------------------------------------------------------------



def _start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
         "--worker-connections", "1000", "--no-control-socket", "--graceful-timeout", "3", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(base + "/login", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def two_web_processes(app, test_env, tmp_path) -> Iterator[tuple[str, str]]:
    """Start two separate gunicorn (gevent) processes on the test database and Redis."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_env["database_url"], REDIS_URL=test_env["redis_url"], INSTANCE_PATH=test_env["instance"],
        SECRET_KEY="two-process-test-secret-key-0123456789", RATELIMIT_ENABLED="0", SSE_HEARTBEAT_SECONDS="1",
    )
    procs: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"gunicorn-{name}.log"
            procs.append(_start_gunicorn(env, port, log))
            bases.append(f"http://127.0.0.1:{port}")
            _wait_until_up(bases[-1], procs[-1], log)
        yield bases[0], bases[1]
    finally:
        for proc in procs:
            _stop(proc)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token in the form"
    return match.group(1)


def _sign_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    token = _csrf(session.get(base + "/login", timeout=5).text)
    response = session.post(base + "/login", data={"email": email, "password": password, "csrf_token": token},
                            timeout=5, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return session


def test_an_event_raised_on_one_web_process_reaches_a_stream_on_another(two_web_processes, users):
    base_a, base_b = two_web_processes
    user = users.make(timezone="UTC")
    email = user.email
    db.session.remove()

    on_b = _sign_in(base_b, email, users.password)
    with on_b.get(base_b + "/events", stream=True, timeout=(5, 5)) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith("retry:")
        assert next(lines) == ": ping"  # B's subscription is confirmed before the ping

        on_a = _sign_in(base_a, email, users.password)
        token = _csrf(on_a.get(base_a + "/profile", timeout=5).text)
        changed = on_a.post(base_a + "/profile", timeout=5, allow_redirects=False,
                            data={"csrf_token": token, "name": "Moved Person", "timezone": "Pacific/Auckland"})
        assert changed.status_code == 302
        sent_at = time.monotonic()

        event_type = data = None
        for line in lines:  # each read waits at most the 5 s socket timeout; heartbeats arrive every 1 s
            if line.startswith("event: "):
                event_type = line.removeprefix("event: ")
            elif line.startswith("data: ") and event_type == "profile.updated":
                data = json.loads(line.removeprefix("data: "))
                break
            if time.monotonic() - sent_at > 2:
                break
        arrived_after = time.monotonic() - sent_at
    assert data == {"name": "Moved Person", "timezone": "Pacific/Auckland"}
    assert arrived_after < 2


def test_an_api_client_with_a_bearer_token_streams_its_own_events_from_api_events(app, client, users, redis_client):
    from booking_app.services.sessions import issue_token

    me = users.make()
    my_id, token = me.id, issue_token(me, "phone")
    response = client.get("/api/events", headers={"Authorization": f"Bearer {token}"}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    stream = Stream(response)
    try:
        assert ": ping" in stream.next_block()
        send_now(redis_client, [user_channel(my_id)], "notification.created", {"for": "me"})
        assert stream.next_event()["data"] == {"for": "me"}
    finally:
        stream.close()


def test_the_openapi_document_describes_the_api_event_stream(client):
    operation = client.get("/api/openapi.json").json["paths"]["/api/events"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
