"""Read an instructor's rules from the database and compute their open slots with the domain engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..domain import slots as engine
from ..domain.timeutil import local_date_range_to_utc
from ..extensions import db
from ..models import Block, Booking, InstructorSettings, OneTimeWindow, User, WeeklyWindow, utcnow
from .booking_filters import holds_slot
from .studio import get_studio

# The blueprints still import the predicate from here under its first name (availability/routes.py).


def load_schedule(instructor: User, now: datetime | None = None) -> engine.Schedule:
    """Load an instructor's windows, blocks and settings as one domain schedule (with the horizon when given `now`)."""
    settings = instructor.instructor_settings or InstructorSettings(timezone=instructor.timezone)
    weekly = db.session.scalars(sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == instructor.id)).all()
    one_time = db.session.scalars(sa.select(OneTimeWindow).where(OneTimeWindow.instructor_id == instructor.id)).all()
    blocks = db.session.scalars(sa.select(Block).where(Block.instructor_id == instructor.id)).all()
    return engine.Schedule(
        tz=settings.timezone,
        buffer_minutes=settings.buffer_minutes if settings.buffer_minutes is not None else 0,
        min_notice_minutes=settings.min_notice_minutes if settings.min_notice_minutes is not None else 120,
        weekly=tuple(engine.WeeklyWindow(w.weekday, w.start_time, w.end_time, w.lesson_minutes, w.effective_from, w.effective_until) for w in weekly),
        one_time=tuple(engine.OneTimeWindow(w.occurs_on, w.start_time, w.end_time, w.lesson_minutes) for w in one_time),
        blocks=tuple(engine.Block(b.start_on, b.end_on, b.start_time, b.end_time) for b in blocks),
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
    range_start, range_end = local_date_range_to_utc(start_on, end_on, viewer_tz or schedule.tz)
    pad = timedelta(days=2)
    busy = busy_intervals(instructor.id, range_start - pad, range_end + pad, now)
    return engine.generate_slots(schedule, busy=busy, start_on=start_on, end_on=end_on, now=now, viewer_tz=viewer_tz)
