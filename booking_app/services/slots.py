"""Read an instructor's rules from the database and compute their open slots with the domain engine.

What the slots depend on (windows, blocks, settings, the bookings that hold time) is cached per instructor, in
this process and in Redis for the others, under the instructor's schedule version: a counter the database bumps
in the same transaction as any change to them (models.ScheduleVersion). Every read checks the version it loaded
with the page's own query, so a change is seen by every process the moment it commits. The cache keeps each
booking with its expiry and the rules unclipped: `now` (expiry, notice, horizon, the rule window) is applied
when reading, so changes driven by the clock alone are never missed.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, cast

import redis
import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, joinedload

from ..domain import slots as engine
from ..domain.bookings import Status
from ..domain.bounds import clip_span, rule_window
from ..domain.timeutil import local_date_range_to_utc, utc_to_local
from ..extensions import db
from ..models import Block, Booking, InstructorSettings, OneTimeWindow, ScheduleVersion, User, WeeklyWindow
from .booking_filters import holds_slot
from .clock import now as clock_now
from .studio import get_studio

log = logging.getLogger(__name__)
T = TypeVar("T")

# Rules are clipped to the rule window and this much more, so edges computed a day or two out stay right.
RULE_PAD = timedelta(days=7)
# A cached entry keeps the bookings that end after this long before it was filled: any read a day or more after
# that instant has every booking it can need (a buffer is at most 4 hours); an earlier clock reads the database.
BUSY_KEPT = timedelta(days=2)
BUSY_NEEDED = timedelta(days=1)
CACHE_PREFIX = "sched:"
CACHE_SECONDS = 24 * 3600
LOCAL_ENTRIES = 512  # entries kept in this process (keys never go stale; this only bounds memory)
# An instructor loaded with what their slots need (settings, schedule version) in the same query.
SCHEDULE_LOADS = (joinedload(User.instructor_settings), joinedload(User.schedule_stamp))


@dataclass(frozen=True, slots=True)
class Rules:
    """An instructor's settings, windows and blocks, as stored (unclipped): nothing here depends on the clock."""

    tz: str
    buffer_minutes: int
    min_notice_minutes: int
    weekly: tuple[tuple[int, time, time, int, date | None, date | None], ...]
    one_time: tuple[tuple[date, time, time, int], ...]
    blocks: tuple[tuple[date, date, time | None, time | None], ...]


@dataclass(frozen=True, slots=True)
class Held:
    """The times an instructor's bookings may hold: (starts, ends, expires if pending), ending after `since`."""

    busy: tuple[tuple[datetime, datetime, datetime | None], ...]
    since: datetime


# --- the schedule versions and the cache -----------------------------------------------------------


@sa_event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info["wrote"] = True


@sa_event.listens_for(Session, "do_orm_execute")
def _executed(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_soft_rollback")
def _ended(session: Session, *_args: Any) -> None:
    session.info.pop("wrote", None)


def _stamp(instructor: User) -> ScheduleVersion | None:
    """Return the instructor's versions, or None when the database must be read.

    A transaction that wrote reads the database: its own changes bumped the versions only inside it.
    """
    if db.session.info.get("wrote"):
        return None
    return instructor.schedule_stamp


def _redis() -> redis.Redis | None:
    return current_app.extensions.get("redis") if has_app_context() else None


def _d(value: date | time | None) -> str | None:
    return None if value is None else value.isoformat()


def _on(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _at(value: str | None) -> time | None:
    return None if value is None else time.fromisoformat(value)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _instant(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _dump_rules(rules: Rules) -> str:
    return json.dumps({
        "tz": rules.tz, "buffer": rules.buffer_minutes, "notice": rules.min_notice_minutes,
        "weekly": [[w[0], _d(w[1]), _d(w[2]), w[3], _d(w[4]), _d(w[5])] for w in rules.weekly],
        "one_time": [[_d(w[0]), _d(w[1]), _d(w[2]), w[3]] for w in rules.one_time],
        "blocks": [[_d(b[0]), _d(b[1]), _d(b[2]), _d(b[3])] for b in rules.blocks],
    }, separators=(",", ":"))


def _load_rules(raw: str | bytes) -> Rules:
    data = json.loads(raw)
    return Rules(
        tz=data["tz"], buffer_minutes=data["buffer"], min_notice_minutes=data["notice"],
        weekly=tuple((w[0], _at(w[1]), _at(w[2]), w[3], _on(w[4]), _on(w[5])) for w in data["weekly"]),  # type: ignore[misc]
        one_time=tuple((_on(w[0]), _at(w[1]), _at(w[2]), w[3]) for w in data["one_time"]),  # type: ignore[misc]
        blocks=tuple((_on(b[0]), _on(b[1]), _at(b[2]), _at(b[3])) for b in data["blocks"]),  # type: ignore[misc]
    )


def _dump_held(held: Held) -> str:
    return json.dumps({"busy": [[_ts(b[0]), _ts(b[1]), _ts(b[2])] for b in held.busy], "since": _ts(held.since)},
                      separators=(",", ":"))


def _load_held(raw: str | bytes) -> Held:
    data = json.loads(raw)
    return Held(busy=tuple((_instant(b[0]), _instant(b[1]), _instant(b[2])) for b in data["busy"]),  # type: ignore[misc]
                since=_instant(data["since"]))  # type: ignore[arg-type]


def _read_rules(instructor: User) -> Rules:
    settings = instructor.instructor_settings or InstructorSettings(timezone=instructor.timezone)
    weekly = db.session.execute(
        sa.select(WeeklyWindow.weekday, WeeklyWindow.start_time, WeeklyWindow.end_time, WeeklyWindow.lesson_minutes,
                  WeeklyWindow.effective_from, WeeklyWindow.effective_until)
        .where(WeeklyWindow.instructor_id == instructor.id).order_by(WeeklyWindow.id)
    ).all()
    one_time = db.session.execute(
        sa.select(OneTimeWindow.occurs_on, OneTimeWindow.start_time, OneTimeWindow.end_time,
                  OneTimeWindow.lesson_minutes)
        .where(OneTimeWindow.instructor_id == instructor.id).order_by(OneTimeWindow.id)
    ).all()
    blocks = db.session.execute(
        sa.select(Block.start_on, Block.end_on, Block.start_time, Block.end_time)
        .where(Block.instructor_id == instructor.id).order_by(Block.id)
    ).all()
    return Rules(
        tz=settings.timezone,
        buffer_minutes=settings.buffer_minutes if settings.buffer_minutes is not None else 0,
        min_notice_minutes=settings.min_notice_minutes if settings.min_notice_minutes is not None else 120,
        weekly=tuple(tuple(w) for w in weekly),  # type: ignore[misc]
        one_time=tuple(tuple(w) for w in one_time),  # type: ignore[misc]
        blocks=tuple(tuple(b) for b in blocks),  # type: ignore[misc]
    )


def _read_held(instructor: User, now: datetime) -> Held:
    since = now - BUSY_KEPT
    busy = db.session.execute(
        sa.select(Booking.starts_at, Booking.ends_at, Booking.status, Booking.expires_at)
        .where(Booking.instructor_id == instructor.id,
               Booking.status.in_([Status.PENDING.value, Status.CONFIRMED.value]), Booking.ends_at > since)
        .order_by(Booking.starts_at)
    ).all()
    return Held(
        busy=tuple((b.starts_at, b.ends_at, b.expires_at if b.status == Status.PENDING.value else None) for b in busy),
        since=since,
    )


def _cached(key: str | None, read: Callable[[], T], dump: Callable[[T], str], load: Callable[[str | bytes], T],
            usable: Callable[[T], bool] = lambda _: True) -> T:
    """Return the value under key from this process, else Redis, else read it and keep it in both."""
    if key is None:
        return read()
    local = _local()
    value = local.get(key)
    client = _redis()
    if value is None and client is not None:
        try:
            raw = cast("bytes | None", client.get(key))
        except redis.RedisError as exc:
            log.warning("schedule cache not read: %s", exc)
            raw = None
        if raw is not None:
            value = load(raw)
    if value is not None and usable(value):
        _remember(key, value)
        return value  # type: ignore[no-any-return]
    value = read()
    _remember(key, value)
    if client is not None:
        try:
            client.set(key, dump(value), ex=CACHE_SECONDS)
        except redis.RedisError as exc:
            log.warning("schedule cache not written: %s", exc)
    return value


def rules_of(instructor: User) -> Rules:
    """Return the instructor's rules, from the cache while their version is unchanged."""
    stamp = _stamp(instructor)
    key = None if stamp is None else f"{CACHE_PREFIX}rules:{instructor.id}:{stamp.token}:{stamp.version}:{instructor.timezone}"
    return _cached(key, lambda: _read_rules(instructor), _dump_rules, _load_rules)


def held_by(instructor: User, now: datetime) -> Held:
    """Return the times the instructor's bookings may hold, from the cache while their bookings are unchanged."""
    stamp = _stamp(instructor)
    key = None if stamp is None else f"{CACHE_PREFIX}busy:{instructor.id}:{stamp.token}:{stamp.busy_version}"
    return _cached(key, lambda: _read_held(instructor, now), _dump_held, _load_held,
                   lambda held: now - BUSY_NEEDED >= held.since)


def _local() -> dict[str, Any]:
    """This app's own copy of the cache (one app per process in production)."""
    if not has_app_context():
        return {}
    return current_app.extensions.setdefault("schedule_cache", {})  # type: ignore[no-any-return]


def _remember(key: str, value: Any) -> None:
    local = _local()
    if key not in local and len(local) >= LOCAL_ENTRIES:
        local.pop(next(iter(local)))
    local[key] = value


# --- schedules and slots -----------------------------------------------------------------------------


def _rule_bounds(tz: str, now: datetime) -> tuple[date, date]:
    first, last = rule_window(utc_to_local(now, tz).date())
    return first - RULE_PAD, last + RULE_PAD


def _schedule(entry: Rules, now: datetime | None, horizon_now: datetime | None) -> engine.Schedule:
    """Build the domain schedule from an entry, clipping the rules to the rule window around `now`.

    Rules are clipped to the rule window: a row stored before dates were bounded (a block in 9999) must not
    break every page, so the engine only ever sees the part of a rule inside the window.
    """
    first, last = _rule_bounds(entry.tz, now or clock_now())
    weekly = []
    for weekday, start, end, minutes, effective_from, effective_until in entry.weekly:
        span = clip_span(effective_from, effective_until, first, last)
        if span:
            weekly.append(engine.WeeklyWindow(weekday, start, end, minutes,
                                              effective_from and span[0], effective_until and span[1]))
    blocks = []
    for start_on, end_on, block_start, block_end in entry.blocks:
        span = clip_span(start_on, end_on, first, last)
        if span:
            blocks.append(engine.Block(span[0], span[1], block_start, block_end))
    return engine.Schedule(
        tz=entry.tz,
        buffer_minutes=entry.buffer_minutes,
        min_notice_minutes=entry.min_notice_minutes,
        weekly=tuple(weekly),
        one_time=tuple(engine.OneTimeWindow(*w) for w in entry.one_time if first <= w[0] <= last),
        blocks=tuple(blocks),
        horizon_end_at=None if horizon_now is None else horizon_end_at(entry.tz, horizon_now),
    )


def load_schedule(instructor: User, now: datetime | None = None) -> engine.Schedule:
    """Return an instructor's windows, blocks and settings as one domain schedule (with the horizon when given `now`)."""
    return _schedule(rules_of(instructor), now or clock_now(), now)


def _held(entry: Held, start_at: datetime, end_at: datetime, now: datetime) -> list[engine.Busy]:
    """The entry's bookings holding their time at `now` that touch [start_at, end_at)."""
    return [
        engine.Busy(starts, ends) for starts, ends, expires in entry.busy
        if starts < end_at and ends > start_at and (expires is None or expires > now)
    ]


def busy_intervals(
    instructor_id: int, start_at: datetime, end_at: datetime, now: datetime, *, exclude: int | None = None
) -> list[engine.Busy]:
    """Return the instructor's active bookings that touch [start_at, end_at), leaving out booking `exclude`."""
    query = sa.select(Booking.starts_at, Booking.ends_at).where(
        Booking.instructor_id == instructor_id,
        holds_slot(now),
        Booking.starts_at < end_at,
        Booking.ends_at > start_at,
    )
    if exclude is not None:
        query = query.where(Booking.id != exclude)
    return [engine.Busy(r.starts_at, r.ends_at) for r in db.session.execute(query).all()]


def horizon_end_at(tz: str, now: datetime) -> datetime:
    """Return the first instant students may no longer book, by the studio's horizon rule."""
    studio = get_studio()
    return engine.horizon_end_at(studio.horizon, studio.horizon_days, now, tz)


def open_slots(
    instructor: User, start_on: date, end_on: date, *, viewer_tz: str | None = None, now: datetime | None = None
) -> list[engine.Slot]:
    """Return the instructor's open slots on start_on..end_on (local dates in viewer_tz, else the instructor's)."""
    now = now or clock_now()
    schedule = _schedule(rules_of(instructor), now, now)
    # Slot queries never reach outside the rule window, whoever asks.
    first, last = rule_window(utc_to_local(now, viewer_tz or schedule.tz).date())
    span = clip_span(start_on, end_on, first, last)
    if span is None:
        return []
    start_on, end_on = span
    range_start, range_end = local_date_range_to_utc(start_on, end_on, viewer_tz or schedule.tz)
    pad = timedelta(days=2)
    busy = _held(held_by(instructor, now), range_start - pad, range_end + pad, now)
    return engine.generate_slots(schedule, busy=busy, start_on=start_on, end_on=end_on, now=now, viewer_tz=viewer_tz)


# --- a month of slots for pages, kept free of the clock ----------------------------------------------

# (instructor, month, zone) entries kept in this process: a dense month is ~2,000 slots, about half a megabyte.
SHOWN_ENTRIES = 64


@dataclass(frozen=True, slots=True)
class _Shown:
    """Slots computed with no notice and no horizon, each with its start in the zone asked for.

    Right for any clock from `since` until `until` (the first expiry of a pending booking it counted as busy):
    notice and horizon only remove slots, so they are applied when reading.
    """

    slots: list[engine.Slot]
    starts: list[datetime]
    local_starts: list[datetime]
    since: datetime
    until: datetime | None


def _shown_cache() -> dict[tuple[Any, ...], _Shown]:
    return current_app.extensions.setdefault("shown_slots_cache", {})  # type: ignore[no-any-return]


def _compute_shown(instructor: User, rules: Rules, start_on: date, end_on: date, tz: str, now: datetime) -> _Shown:
    schedule = _schedule(rules, now, None)
    range_start, range_end = local_date_range_to_utc(start_on, end_on, tz)
    pad = timedelta(days=2)
    touching = [b for b in held_by(instructor, now).busy if b[0] < range_end + pad and b[1] > range_start - pad]
    busy = [engine.Busy(starts, ends) for starts, ends, expires in touching if expires is None or expires > now]
    until = min((expires for _, _, expires in touching if expires is not None and expires > now), default=None)
    # An instant before every start in the range: the notice is applied when reading.
    before_all = range_start - pad - timedelta(minutes=schedule.min_notice_minutes)
    slots = engine.generate_slots(schedule, busy=busy, start_on=start_on, end_on=end_on, now=before_all, viewer_tz=tz)
    starts = [s.starts_at for s in slots]
    return _Shown(slots, starts, [utc_to_local(at, tz) for at in starts], now, until)


def shown_slots(
    instructor: User, start_on: date, end_on: date, *, viewer_tz: str, now: datetime
) -> tuple[list[engine.Slot], list[datetime]]:
    """Return what open_slots returns for local dates in viewer_tz, and each slot's start in viewer_tz.

    The clock-free part is kept in this process under the instructor's schedule versions (read by the page's own
    query), the range, the zone and today's dates; the notice, the horizon and expiries are applied at `now`.
    """
    stamp = _stamp(instructor)
    if stamp is None:
        slots = open_slots(instructor, start_on, end_on, viewer_tz=viewer_tz, now=now)
        return slots, [utc_to_local(s.starts_at, viewer_tz) for s in slots]
    rules = rules_of(instructor)
    first, last = rule_window(utc_to_local(now, viewer_tz).date())
    span = clip_span(start_on, end_on, first, last)
    if span is None:
        return [], []
    key = (instructor.id, stamp.token, stamp.version, stamp.busy_version, instructor.timezone, span, viewer_tz,
           utc_to_local(now, rules.tz).date(), utc_to_local(now, viewer_tz).date())
    cache = _shown_cache()
    shown = cache.get(key)
    if shown is None or now < shown.since or (shown.until is not None and now >= shown.until):
        shown = _compute_shown(instructor, rules, span[0], span[1], viewer_tz, now)
        if key not in cache and len(cache) >= SHOWN_ENTRIES:
            cache.pop(next(iter(cache)), None)
        cache[key] = shown
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    low, high = bisect_left(shown.starts, earliest), bisect_left(shown.starts, horizon_end_at(rules.tz, now))
    return shown.slots[low:high], shown.local_starts[low:high]
