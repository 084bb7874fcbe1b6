"""Live events: publish over Redis pub/sub after commit; stream them to browsers as server-sent events."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, cast

import redis
from flask import Blueprint, Flask, Response, current_app, request, stream_with_context
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

PREFIX = "ev:"
SEQUENCE_KEY = "ev:seq"
SINCE_KEY = "ev:since"  # the first id this Redis server issued: older ids predate its memory
REFETCH = "refetch"  # tells a page to reload its live parts: it may have missed events
BACKLOG = 200  # events kept per channel for Last-Event-ID catch-up
BACKLOG_TTL = 24 * 3600
SUBSCRIBE_WAIT_SECONDS = 2.0

bp = Blueprint("realtime", __name__)


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def calendar_channel(instructor_id: int) -> str:
    return f"calendar:{instructor_id}"


STUDIO_CHANNEL = "studio"


def pubsub_prefix(client: redis.Redis) -> str:
    """Return the pub/sub channel prefix; it names the Redis database, since pub/sub ignores database numbers."""
    return f"{PREFIX}{client.connection_pool.connection_kwargs.get('db', 0)}:"


# --- publishing -----------------------------------------------------------------------------------

def publish(channels: Iterable[str], type_: str, data: dict[str, Any] | None = None) -> None:
    """Queue an event for the channels; it is sent only if the current transaction commits."""
    channels = tuple(dict.fromkeys(channels))
    pending = db.session.info.setdefault("pending_events", [])
    pending.append((channels, type_, data or {}))
    touch_headers(int(c[5:]) for c in channels if c.startswith("user:"))


HEADER_GENERATION_PREFIX = "hdrgen:"


def header_generation_key(user_id: int) -> str:
    """Return the Redis key of a person's header generation (services/header.py caches under it)."""
    return f"{HEADER_GENERATION_PREFIX}{user_id}"


def touch_headers(user_ids: Iterable[int]) -> None:
    """Say that what these people's headers show changes with the current transaction (moved on after commit)."""
    db.session.info.setdefault("stale_headers", set()).update(user_ids)


# Event ids are the Redis server's clock in microseconds, kept strictly increasing: they go on growing
# after a Redis restart (a counter would start again at 1 and streams would drop every later event),
# stay integers for Last-Event-ID, and fit a JavaScript number exactly.
_NEXT_ID = """
local now = redis.call('TIME')
local id = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if id <= last then id = last + 1 end
redis.call('SET', KEYS[1], string.format('%.0f', id))
redis.call('SET', KEYS[2], string.format('%.0f', id), 'NX')
return id
"""


def next_event_id(client: redis.Redis) -> int:
    """Return a new event id: larger than every id issued before, across Redis restarts."""
    return int(cast(int, client.eval(_NEXT_ID, 2, SEQUENCE_KEY, SINCE_KEY)))


def send_now(client: redis.Redis, channels: Iterable[str], type_: str, data: dict[str, Any]) -> int | None:
    """Send an event at once (used after commit); returns its id, or None when Redis is unreachable."""
    try:
        event_id = next_event_id(client)
        payload = json.dumps({"id": event_id, "type": type_, "data": data}, separators=(",", ":"))
        pipe = client.pipeline(transaction=False)
        for channel in channels:
            key = f"{PREFIX}log:{channel}"
            pipe.lpush(key, payload)
            pipe.ltrim(key, 0, BACKLOG - 1)
            pipe.expire(key, BACKLOG_TTL)
            pipe.publish(pubsub_prefix(client) + channel, payload)
        pipe.execute()
        return event_id
    except redis.RedisError as exc:
        # Live updates are a convenience: the change is committed; pages catch up on reload.
        log.warning("live event %s not sent: %s", type_, exc)
        return None


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    stale = session.info.pop("stale_headers", None)
    pending = session.info.pop("pending_events", None)
    if not pending and not stale:
        return
    client = current_app.extensions["redis"]
    if stale:
        # Before the events: a page reloaded on an event must not find the old header cached.
        try:
            pipe = client.pipeline(transaction=False)
            for user_id in sorted(stale):
                pipe.incr(header_generation_key(user_id))
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("header generations not moved on: %s", exc)
    for channels, type_, data in pending or ():
        send_now(client, channels, type_, data)


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop("pending_events", None)
    session.info.pop("stale_headers", None)


# --- one subscription per process, fanned out in memory ------------------------------------------

class Hub:
    """Hold one Redis pattern subscription and hand each message to the local streams that want it."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._lock = threading.Lock()
        self._listeners: dict[str, set[queue.Queue[str]]] = {}
        self._thread: threading.Thread | None = None
        self._pubsub: redis.client.PubSub | None = None
        self._closed = False
        self.connected = threading.Event()
        self.down = False  # the last attempt to reach Redis failed

    def subscribe(self, channels: Iterable[str]) -> queue.Queue[str]:
        q: queue.Queue[str] = queue.Queue(maxsize=1000)
        with self._lock:
            for channel in channels:
                self._listeners.setdefault(channel, set()).add(q)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
                self._thread.start()
        return q

    def unsubscribe(self, q: queue.Queue[str]) -> None:
        with self._lock:
            for channel in list(self._listeners):
                self._listeners[channel].discard(q)
                if not self._listeners[channel]:
                    del self._listeners[channel]

    def stream_count(self) -> int:
        with self._lock:
            return len({id(q) for qs in self._listeners.values() for q in qs})

    def close(self) -> None:
        """Stop listening (streams still open get nothing more); used at shutdown and by tests."""
        self._closed = True
        self.connected.clear()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()

    def _run(self) -> None:
        backoff = 0.5
        while not self._closed:
            try:
                client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=15)
                pubsub = self._pubsub = client.pubsub()
                prefix = pubsub_prefix(client)
                pubsub.psubscribe(prefix + "*")
                for message in pubsub.listen():
                    if message.get("type") == "psubscribe":
                        # Redis confirmed the subscription: from now on no published event is missed.
                        if self.down:
                            # Events sent while we were away never reached our streams: tell their pages.
                            self._tell_everyone(REFETCH)
                        self.down = False
                        self.connected.set()
                        backoff = 0.5
                        continue
                    if message.get("type") != "pmessage":
                        continue
                    channel = message["channel"].decode()[len(prefix):]
                    payload = message["data"].decode()
                    with self._lock:
                        targets = list(self._listeners.get(channel, ()))
                    for q in targets:
                        # A stalled client misses events here; it catches up by Last-Event-ID on reconnect.
                        with contextlib.suppress(queue.Full):
                            q.put_nowait(payload)
            except (redis.RedisError, OSError, ValueError, AttributeError) as exc:
                # (closing the pubsub from another thread surfaces as one of these)
                self.connected.clear()
                self.down = True
                if self._closed:
                    return
                log.warning("live hub lost Redis (%s); retrying in %.1fs", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10)


    def _tell_everyone(self, marker: str) -> None:
        with self._lock:
            targets = {id(q): q for qs in self._listeners.values() for q in qs}
        for q in targets.values():
            with contextlib.suppress(queue.Full):
                q.put_nowait(marker)


def _hub() -> Hub:
    hub: Hub | None = current_app.extensions.get("live_hub")
    if hub is None:
        hub = current_app.extensions["live_hub"] = Hub(current_app.config["REDIS_URL"])
    return hub


def _backlog(client: redis.Redis, channels: Iterable[str], last_id: int) -> list[str] | None:
    """Return the events after last_id on these channels, or None when some may be lost (refetch instead)."""
    events: dict[int, str] = {}
    try:
        since = cast("bytes | None", client.get(SINCE_KEY))
        if since is None or int(since) > last_id:
            return None  # Redis restarted (or was emptied) after the browser's last event
        for channel in channels:
            raws = cast(list[Any], client.lrange(f"{PREFIX}log:{channel}", 0, BACKLOG - 1))
            ids = []
            for raw in raws:
                payload = raw.decode() if isinstance(raw, bytes) else str(raw)
                event_id = json.loads(payload)["id"]
                ids.append(event_id)
                if event_id > last_id:
                    events[event_id] = payload
            if len(raws) >= BACKLOG and min(ids) > last_id:
                return None  # more happened than the log keeps
    except (redis.RedisError, ValueError):
        return None
    return [events[k] for k in sorted(events)]


def _format(payload: str) -> str:
    parsed = json.loads(payload)
    return f"id: {parsed['id']}\nevent: {parsed['type']}\ndata: {json.dumps(parsed['data'])}\n\n"


def _refetch() -> str:
    return f"event: {REFETCH}\ndata: {{}}\n\n"


def channels_for_request() -> list[str]:
    """Return the channels this browser may listen to: its own, the studio's for owners, and public calendars."""
    channels: list[str] = []
    if current_user.is_authenticated:
        channels.append(user_channel(current_user.id))
        if current_user.is_owner:
            channels.append(STUDIO_CHANNEL)
    for raw in request.args.getlist("calendar")[:60]:
        if raw.isdigit():
            channels.append(calendar_channel(int(raw)))
    return channels


@bp.route("/events")
@bp.route("/api/events")  # the same stream for API clients: bearer tokens are read only on /api/ paths
def events() -> Response:
    """Stream the signed-in user's events (and the public calendars asked for) as server-sent events."""
    channels = channels_for_request()
    raw_last = request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or ""
    last_id = int(raw_last) if raw_last.isdigit() and len(raw_last) < 19 else None
    client = current_app.extensions["redis"]
    heartbeat = float(current_app.config.get("SSE_HEARTBEAT_SECONDS", 15))
    hub = _hub()
    q = hub.subscribe(channels)
    # The ping promises a live stream: wait (briefly) for the process's subscription to be confirmed,
    # but not while Redis is known to be away: then answer at once and tell the page when it is back.
    if not hub.down:
        hub.connected.wait(timeout=SUBSCRIBE_WAIT_SECONDS)
    backlog: list[str] | None = []
    if last_id is not None:
        backlog = _backlog(client, channels, last_id) if hub.connected.is_set() else None
    # Streams live for minutes: give the database connection back before streaming.
    db.session.remove()

    def generate() -> Iterator[str]:
        try:
            yield "retry: 2000\n: ping\n\n"
            seen = last_id or 0
            if backlog is None:
                yield _refetch()
            for payload in backlog or ():
                seen = max(seen, json.loads(payload)["id"])
                yield _format(payload)
            while True:
                try:
                    payload = q.get(timeout=heartbeat)
                except queue.Empty:
                    yield ": heartbeat\n\n"
                    continue
                if payload == REFETCH:
                    yield _refetch()
                    continue
                event_id = json.loads(payload)["id"]
                if event_id <= seen:
                    continue
                seen = event_id
                yield _format(payload)
        finally:
            hub.unsubscribe(q)

    response = Response(stream_with_context(generate()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def init_app(app: Flask) -> None:
    """Register the SSE endpoint."""
    app.register_blueprint(bp)
