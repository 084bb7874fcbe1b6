"""Shared set-up for the booking tests: an instructor with open weekday hours and a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, time

from booking_app.extensions import db
from booking_app.models import OneTimeWindow, User, WeeklyWindow

# Monday 2 February 2026, 08:00 UTC: the whole month ahead is bookable (horizon: end of February).
NOW = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 2) -> datetime:
    """Return an aware UTC instant in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def open_hours(instructor: User, start: time = time(9), end: time = time(17), minutes: int = 60) -> None:
    """Give the instructor a window on every day of the week."""
    for weekday in range(1, 8):
        db.session.add(
            WeeklyWindow(instructor_id=instructor.id, weekday=weekday, start_time=start, end_time=end, lesson_minutes=minutes)
        )
    db.session.commit()


def one_time(instructor: User, on_day: int, start: time, end: time, minutes: int) -> None:
    """Add a one-time window on a February 2026 date."""
    db.session.add(
        OneTimeWindow(instructor_id=instructor.id, occurs_on=at(on_day, 0).date(), start_time=start, end_time=end,
                      lesson_minutes=minutes)
    )
    db.session.commit()
