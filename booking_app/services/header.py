"""What the header of every page shows a signed-in person: unread notifications, unread threads, the banner.

Kept per person in Redis for a short while under a generation number that every live event to that person (a
message, a read marker, a notification, a booking change) and every change without one (a dismissed banner, a
notification marked read) moves on right after its commit (realtime.py). A page reads the generation with the
cached header in one round trip and uses the header only if both match, so a change is never hidden once its
writer has answered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import redis
from flask import current_app, g, has_app_context

from ..models import User
from ..realtime import header_generation_key
from .messages import BannerMessage, newest_unread, unread_counts
from .notifications import unread_count

log = logging.getLogger(__name__)

HEADER_SECONDS = 60
HEADER_PREFIX = "hdr:"


@dataclass(frozen=True)
class HeaderState:
    """One person's unread notifications, unread messages per booking, and the banner's message."""

    notifications: int
    unread: dict[int, int]
    banner: BannerMessage | None


def _key(user: User) -> str:
    # The role is part of the key: an owner follows more threads than the same person as an instructor.
    return f"{HEADER_PREFIX}{user.id}:{user.role}"


def _dump(state: HeaderState, generation: str) -> str:
    banner = state.banner
    return json.dumps({
        "gen": generation, "notifications": state.notifications, "unread": list(state.unread.items()),
        "banner": None if banner is None else [banner.booking_id, banner.message_id, banner.sender_name,
                                                banner.preview, banner.lesson_starts_at.isoformat()],
    }, separators=(",", ":"))


def _load(data: dict[str, Any]) -> HeaderState:
    banner = data["banner"]
    return HeaderState(
        notifications=int(data["notifications"]),
        unread={int(k): int(v) for k, v in data["unread"]},
        banner=None if banner is None else BannerMessage(
            booking_id=banner[0], message_id=banner[1], sender_name=banner[2], preview=banner[3],
            lesson_starts_at=datetime.fromisoformat(banner[4]),
        ),
    )


def _read(user: User) -> HeaderState:
    return HeaderState(notifications=unread_count(user), unread=unread_counts(user), banner=newest_unread(user))


def header_state(user: User) -> HeaderState:
    """Return the person's header state: from the cache while nothing was announced to them, else read afresh."""
    cached = g.get("header_state") if g else None
    if cached is not None and cached[0] == user.id:
        return cast(HeaderState, cached[1])
    client: redis.Redis | None = current_app.extensions.get("redis") if has_app_context() else None
    generation: str | None = None
    state: HeaderState | None = None
    if client is not None:
        try:
            raw_gen, raw = cast(list[Any], client.mget([header_generation_key(user.id), _key(user)]))
            generation = (raw_gen or b"0").decode()
            if raw is not None:
                data = json.loads(raw)
                if data["gen"] == generation:
                    state = _load(data)
        except (redis.RedisError, ValueError, KeyError, TypeError) as exc:
            log.warning("header cache not read: %s", exc)
            generation = None
    if state is None:
        state = _read(user)
        if client is not None and generation is not None:
            try:
                # Stored under the generation read before the queries: a change meanwhile moved it on.
                client.set(_key(user), _dump(state, generation), ex=HEADER_SECONDS)
            except redis.RedisError as exc:
                log.warning("header cache not written: %s", exc)
    if g:
        g.header_state = (user.id, state)
    return state
