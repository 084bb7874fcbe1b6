"""Read an instructor's rules from the database and compute their open slots with the domain engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..domain import slots as engine
from ..domain.bounds import clip_span, rule_window
from ..domain.timeutil import local_date_range_to_utc, utc_to_local
from ..extensions import db
from ..models import Block, Booking, InstructorSettings, OneTimeWindow, User, WeeklyWindow, utcnow
from .booking_filters import holds_slot
from .clock import now as clock_now
from .studio import get_studio

# Rules are clipped to the rule window and this much more, so edges computed a day or two out stay right.
RULE_PAD = timedelta(days=7)


def _rule_bounds(tz: str, now: datetime) -> tuple[date, date]:
    first, last = rule_window(utc_to_local(now, tz).date())
    return first - RULE_PAD, last + RULE_PAD


def load_schedule(instructor: User, now: datetime | None = None) -> engine.Schedule:
    """Load an instructor's windows, blocks and settings as one domain schedule (with the horizon when given `now`).

    Rules are clipped to the rule window: a row stored before dates were bounded (a block in 9999) must not
    break every page, so the engine only ever sees the part of a rule inside the window.
    """
    settings = instructor.instructor_settings or InstructorSettings(timezone=instructor.timezone)
    first, last = _rule_bounds(settings.timezone, now or clock_now())
    weekly = [
        (w, span) for w in db.session.scalars(sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == instructor.id))
        if (span := clip_span(w.effective_from, w.effective_until, first, last))
    ]
    one_time = [w for w in db.session.scalars(sa.select(OneTimeWindow).where(OneTimeWindow.instructor_id == instructor.id))
                if first <= w.occurs_on <= last]
    blocks = [
        (b, span) for b in db.session.scalars(sa.select(Block).where(Block.instructor_id == instructor.id))
        if (span := clip_span(b.start_on, b.end_on, first, last))
    ]
    return engine.Schedule(
        tz=settings.timezone,
        buffer_minutes=settings.buffer_minutes if settings.buffer_minutes is not None else 0,
        min_notice_minutes=settings.min_notice_minutes if settings.min_notice_minutes is not None else 120,
        weekly=tuple(
            engine.WeeklyWindow(w.weekday, w.start_time, w.end_time, w.lesson_minutes,
                                w.effective_from and span[0], w.effective_until and span[1])
            for w, span in weekly
        ),
        one_time=tuple(engine.OneTimeWindow(w.occurs_on, w.start_time, w.end_time, w.lesson_minutes) for w in one_time),
        blocks=tuple(engine.Block(span[0], span[1], b.start_time, b.end_time) for b, span in blocks),
        horizon_end_at=None if now is None else horizon_end_at(settings.timezone, now),
    )


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
    now = now or utcnow()
    schedule = load_schedule(instructor, now)
    # Slot queries never reach outside the rule window, whoever asks.
    first, last = rule_window(utc_to_local(now, viewer_tz or schedule.tz).date())
    span = clip_span(start_on, end_on, first, last)
    if span is None:
        return []
    start_on, end_on = span
    range_start, range_end = local_date_range_to_utc(start_on, end_on, viewer_tz or schedule.tz)
    pad = timedelta(days=2)
    busy = busy_intervals(instructor.id, range_start - pad, range_end + pad, now)
    return engine.generate_slots(schedule, busy=busy, start_on=start_on, end_on=end_on, now=now, viewer_tz=viewer_tz)
