"""Change an instructor's availability (windows, blocks, settings) and decline requests it no longer covers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..domain import slots as engine
from ..domain.bookings import Role, Status
from ..domain.bounds import rule_date_problem, text_problem
from ..domain.timeutil import is_valid_timezone, utc_to_local
from ..extensions import db
from ..models import (
    Block,
    Booking,
    InstructorSettings,
    OneTimeWindow,
    User,
    WeeklyWindow,
)
from ..realtime import calendar_channel, publish
from . import ServiceError, effects
from .booking_filters import open_request
from .bookings import decline_uncovered
from .clock import now as clock_now
from .slots import SCHEDULE_LOADS, load_schedule

AUTO_DECLINE = "auto_decline"
MAX_BUFFER_MINUTES = 240
MAX_NOTICE_MINUTES = 20160  # two weeks


@dataclass
class Change:
    """The outcome of one availability change: the row touched and confirmed lessons now uncovered."""

    item: Any = None
    conflicts: list[Booking] = field(default_factory=list)


# --- loading and permission -------------------------------------------------------------------------


def get_instructor(instructor_id: int) -> User:
    """Return the active instructor (or teaching owner) with this id, or raise a 404 ServiceError."""
    user = db.session.get(User, instructor_id, options=SCHEDULE_LOADS)
    if user is None or not user.teaches or not user.active:
        raise ServiceError("We could not find that instructor. Check the link or pick one from the list.", "not_found", 404)
    return user


# Built once: building the statement (with its loader options) costs more than running it.
INSTRUCTORS = (
    sa.select(User)
    .options(*SCHEDULE_LOADS)
    .where(User.role.in_([Role.INSTRUCTOR.value, Role.OWNER.value]), User.active.is_(True))
    .order_by(User.name, User.id)
)


def list_instructors() -> list[User]:
    """Return every active instructor and teaching owner, by name."""
    return list(db.session.scalars(INSTRUCTORS))


def can_manage(actor: Any, instructor_id: int) -> bool:
    """Return whether actor may change this instructor's availability (themselves, or the owner anyone)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return bool(actor.is_owner or (actor.teaches and actor.id == instructor_id))


def _authorize(actor: Any, instructor_id: int) -> User:
    instructor = get_instructor(instructor_id)
    if not can_manage(actor, instructor_id):
        raise ServiceError("You can only change your own schedule.", "forbidden", 403)
    return instructor


def settings_for(instructor: User) -> InstructorSettings:
    """Return the instructor's settings row, creating it (unsaved) with defaults when missing."""
    if instructor.instructor_settings is None:
        instructor.instructor_settings = InstructorSettings(
            timezone=instructor.timezone, default_lesson_minutes=60, buffer_minutes=0, min_notice_minutes=120
        )
    return instructor.instructor_settings


def instructor_timezone(instructor: User) -> str:
    """Return the timezone the instructor's availability rules are written in."""
    settings = instructor.instructor_settings
    return settings.timezone if settings is not None else instructor.timezone


# --- validation ---------------------------------------------------------------------------------------


def _check_window(start_time: time, end_time: time, lesson_minutes: int) -> None:
    try:
        engine.validate_window(start_time, end_time, lesson_minutes)
    except engine.InvalidWindow as exc:
        raise ServiceError(str(exc), "invalid_window", 422) from None


def _check_weekday(weekday: int) -> None:
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 1 <= weekday <= 7:
        raise ServiceError("Choose a weekday from 1 (Monday) to 7 (Sunday).", "invalid_window", 422, "weekday")


def _check_effective(effective_from: date | None, effective_until: date | None) -> None:
    if effective_from is not None and effective_until is not None and effective_until < effective_from:
        raise ServiceError(
            "The last date must be on or after the first date.", "invalid_window", 422, "effective_until"
        )


def _check_rule_dates(instructor: User, stored: dict[str, date | None] | None = None, **dates: date | None) -> None:
    """Refuse a rule date outside a year back to five years ahead in the instructor's zone; stored values pass."""
    today = utc_to_local(clock_now(), instructor_timezone(instructor)).date()
    for name, value in dates.items():
        if value is None or (stored is not None and stored.get(name) == value):
            continue
        problem = rule_date_problem(value, today, _DATE_LABELS.get(name, name.replace("_", " ")))
        if problem:
            raise ServiceError(problem, "invalid_date", 422, name)


_DATE_LABELS = {"start_on": "first day", "end_on": "last day", "occurs_on": "date", "from_on": "first date to delete from",
                "effective_from": "first date", "effective_until": "last date"}


# --- after every change ---------------------------------------------------------------------------------


def _changed(instructor: User, *, may_uncover: bool) -> list[Booking]:
    """Publish the change, schedule the auto-decline if needed, commit, and return uncovered lessons."""
    publish([calendar_channel(instructor.id)], "availability.changed", {"instructor_id": instructor.id})
    if may_uncover:
        effects.schedule(AUTO_DECLINE, {"instructor_id": instructor.id})
    db.session.commit()
    return confirmed_conflicts(instructor)


def confirmed_conflicts(instructor: User, now: datetime | None = None) -> list[Booking]:
    """Return the instructor's confirmed lessons still to come that their availability no longer covers."""
    now = now or clock_now()
    schedule = load_schedule(instructor)
    lessons = db.session.scalars(
        sa.select(Booking)
        .where(Booking.instructor_id == instructor.id, Booking.status == Status.CONFIRMED.value, Booking.ends_at > now)
        .order_by(Booking.starts_at)
        .limit(500)
    ).all()
    return [b for b in lessons if not _covered(b, schedule)]


def _covered(booking: Booking, schedule: engine.Schedule) -> bool:
    return engine.covered_by_windows(schedule, booking.starts_at, booking.ends_at)


# --- windows ---------------------------------------------------------------------------------------------


def add_weekly_window(
    actor: Any,
    instructor_id: int,
    *,
    weekday: int,
    start_time: time,
    end_time: time,
    lesson_minutes: int,
    effective_from: date | None = None,
    effective_until: date | None = None,
) -> Change:
    """Add a recurring window (every such weekday, optionally between two dates)."""
    instructor = _authorize(actor, instructor_id)
    _check_weekday(weekday)
    _check_window(start_time, end_time, lesson_minutes)
    _check_effective(effective_from, effective_until)
    _check_rule_dates(instructor, effective_from=effective_from, effective_until=effective_until)
    window = WeeklyWindow(
        instructor_id=instructor.id,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        lesson_minutes=lesson_minutes,
        effective_from=effective_from,
        effective_until=effective_until,
    )
    db.session.add(window)
    db.session.flush()
    return Change(window, _changed(instructor, may_uncover=False))


def add_one_time_window(
    actor: Any, instructor_id: int, *, occurs_on: date, start_time: time, end_time: time, lesson_minutes: int
) -> Change:
    """Add a window on one date only."""
    instructor = _authorize(actor, instructor_id)
    _check_window(start_time, end_time, lesson_minutes)
    _check_rule_dates(instructor, occurs_on=occurs_on)
    window = OneTimeWindow(
        instructor_id=instructor.id,
        occurs_on=occurs_on,
        start_time=start_time,
        end_time=end_time,
        lesson_minutes=lesson_minutes,
    )
    db.session.add(window)
    db.session.flush()
    return Change(window, _changed(instructor, may_uncover=False))


def _window(model: type[WeeklyWindow] | type[OneTimeWindow], window_id: int) -> Any:
    window = db.session.get(model, window_id)
    if window is None:
        raise ServiceError("That window no longer exists. Reload the schedule and try again.", "not_found", 404)
    return window


def get_window(kind: str, window_id: int) -> WeeklyWindow | OneTimeWindow:
    """Return a weekly or one-time window by kind ("weekly" or "one-time") and id, or raise 404."""
    if kind not in ("weekly", "one-time"):
        raise ServiceError("That window no longer exists. Reload the schedule and try again.", "not_found", 404)
    return _window(WeeklyWindow if kind == "weekly" else OneTimeWindow, window_id)  # type: ignore[no-any-return]


def update_weekly_window(
    actor: Any,
    window_id: int,
    *,
    weekday: int | None = None,
    start_time: time | None = None,
    end_time: time | None = None,
    lesson_minutes: int | None = None,
    effective_from: date | None = None,
    effective_until: date | None = None,
    clear_effective: bool = False,
) -> Change:
    """Change a recurring window's times, length or dates."""
    window: WeeklyWindow = _window(WeeklyWindow, window_id)
    instructor = _authorize(actor, window.instructor_id)
    weekday = window.weekday if weekday is None else weekday
    start_time = start_time or window.start_time
    end_time = end_time or window.end_time
    lesson_minutes = lesson_minutes or window.lesson_minutes
    if not clear_effective:
        effective_from = effective_from or window.effective_from
        effective_until = effective_until or window.effective_until
    _check_weekday(weekday)
    _check_window(start_time, end_time, lesson_minutes)
    _check_effective(effective_from, effective_until)
    _check_rule_dates(instructor, {"effective_from": window.effective_from, "effective_until": window.effective_until},
                      effective_from=effective_from, effective_until=effective_until)
    window.weekday, window.start_time, window.end_time = weekday, start_time, end_time
    window.lesson_minutes = lesson_minutes
    window.effective_from, window.effective_until = effective_from, effective_until
    return Change(window, _changed(instructor, may_uncover=True))


def update_one_time_window(
    actor: Any,
    window_id: int,
    *,
    occurs_on: date | None = None,
    start_time: time | None = None,
    end_time: time | None = None,
    lesson_minutes: int | None = None,
) -> Change:
    """Change a one-time window's date, times or length."""
    window: OneTimeWindow = _window(OneTimeWindow, window_id)
    instructor = _authorize(actor, window.instructor_id)
    start_time = start_time or window.start_time
    end_time = end_time or window.end_time
    lesson_minutes = lesson_minutes or window.lesson_minutes
    _check_window(start_time, end_time, lesson_minutes)
    _check_rule_dates(instructor, {"occurs_on": window.occurs_on}, occurs_on=occurs_on)
    window.occurs_on = occurs_on or window.occurs_on
    window.start_time, window.end_time, window.lesson_minutes = start_time, end_time, lesson_minutes
    return Change(window, _changed(instructor, may_uncover=True))


def delete_weekly_window(actor: Any, window_id: int, *, from_on: date | None = None) -> Change:
    """End a recurring window the day before from_on, or delete it entirely when from_on is None."""
    window: WeeklyWindow = _window(WeeklyWindow, window_id)
    instructor = _authorize(actor, window.instructor_id)
    _check_rule_dates(instructor, from_on=from_on)
    until = None if from_on is None else from_on - timedelta(days=1)
    if until is None or (window.effective_from is not None and until < window.effective_from):
        # Nothing of the window would remain: deleting it is the same and leaves no empty rule behind.
        db.session.delete(window)
        item = None
    else:
        if window.effective_until is None or until < window.effective_until:
            window.effective_until = until
        item = window
    return Change(item, _changed(instructor, may_uncover=True))


def delete_one_time_window(actor: Any, window_id: int) -> Change:
    """Delete a one-time window."""
    window: OneTimeWindow = _window(OneTimeWindow, window_id)
    instructor = _authorize(actor, window.instructor_id)
    db.session.delete(window)
    return Change(None, _changed(instructor, may_uncover=True))


# --- blocks ---------------------------------------------------------------------------------------------


def add_block(
    actor: Any,
    instructor_id: int,
    *,
    start_on: date,
    end_on: date | None = None,
    start_time: time | None = None,
    end_time: time | None = None,
    reason: str = "",
) -> Change:
    """Block a day, a range of days, or the same part of each of those days."""
    instructor = _authorize(actor, instructor_id)
    end_on = end_on or start_on
    _check_rule_dates(instructor, start_on=start_on, end_on=end_on)
    try:
        engine.validate_block(start_on, end_on, start_time, end_time)
    except engine.InvalidWindow as exc:
        raise ServiceError(str(exc), "invalid_block", 422) from None
    reason = (reason or "").strip()
    problem = text_problem(reason, "reason")
    if problem:
        raise ServiceError(problem, "invalid_block", 422, "reason")
    if len(reason) > 200:
        raise ServiceError("Keep the reason under 200 characters.", "invalid_block", 422, "reason")
    if (end_on - start_on).days > 366:
        raise ServiceError("Block at most a year at a time.", "invalid_block", 422, "end_on")
    block = Block(
        instructor_id=instructor.id,
        start_on=start_on,
        end_on=end_on,
        start_time=start_time,
        end_time=end_time,
        reason=reason,
    )
    db.session.add(block)
    db.session.flush()
    return Change(block, _changed(instructor, may_uncover=True))


def get_block(block_id: int) -> Block:
    """Return a block by id, or raise 404."""
    block = db.session.get(Block, block_id)
    if block is None:
        raise ServiceError("That block no longer exists. Reload the schedule and try again.", "not_found", 404)
    return block


def delete_block(actor: Any, block_id: int) -> Change:
    """Remove a block, opening its time again."""
    block = get_block(block_id)
    instructor = _authorize(actor, block.instructor_id)
    db.session.delete(block)
    return Change(None, _changed(instructor, may_uncover=False))


# --- settings -------------------------------------------------------------------------------------------


def update_settings(
    actor: Any,
    instructor_id: int,
    *,
    timezone: str | None = None,
    default_lesson_minutes: int | None = None,
    buffer_minutes: int | None = None,
    min_notice_minutes: int | None = None,
) -> Change:
    """Change the instructor's timezone, default lesson length, buffer and minimum notice (None keeps a value)."""
    instructor = _authorize(actor, instructor_id)
    settings = settings_for(instructor)
    if timezone is not None and not is_valid_timezone(timezone):
        raise ServiceError("Choose a timezone from the list, like America/New_York.", "invalid", 422, "timezone")
    if default_lesson_minutes is not None and not engine.MIN_LESSON_MINUTES <= default_lesson_minutes <= engine.MAX_LESSON_MINUTES:
        raise ServiceError(
            f"Choose a lesson length between {engine.MIN_LESSON_MINUTES} and {engine.MAX_LESSON_MINUTES} minutes.",
            "invalid",
            422,
            "default_lesson_minutes",
        )
    if buffer_minutes is not None and not 0 <= buffer_minutes <= MAX_BUFFER_MINUTES:
        raise ServiceError(
            f"Choose a buffer between 0 and {MAX_BUFFER_MINUTES} minutes.", "invalid", 422, "buffer_minutes"
        )
    if min_notice_minutes is not None and not 0 <= min_notice_minutes <= MAX_NOTICE_MINUTES:
        raise ServiceError(
            "Choose a minimum notice between 0 hours and 14 days (336 hours).", "invalid", 422, "min_notice_minutes"
        )
    moved = timezone is not None and timezone != settings.timezone
    if timezone is not None:
        settings.timezone = timezone
    if default_lesson_minutes is not None:
        settings.default_lesson_minutes = default_lesson_minutes
    if buffer_minutes is not None:
        settings.buffer_minutes = buffer_minutes
    if min_notice_minutes is not None:
        settings.min_notice_minutes = min_notice_minutes
    db.session.add(settings)
    # A new timezone moves every window's instants, so pending requests may fall outside them.
    return Change(settings, _changed(instructor, may_uncover=moved))


# --- auto-decline -------------------------------------------------------------------------------------


def run_auto_decline(payload: dict[str, Any]) -> None:
    """Effect handler: decline the instructor's pending requests their availability no longer covers."""
    auto_decline(int(payload["instructor_id"]))


def auto_decline(instructor_id: int, now: datetime | None = None) -> list[int]:
    """Decline pending (unexpired) requests outside the instructor's availability; return their ids."""
    now = now or clock_now()
    instructor = db.session.get(User, instructor_id)
    if instructor is None:
        return []
    schedule = load_schedule(instructor)
    pending = db.session.scalars(
        sa.select(Booking)
        .options(joinedload(Booking.student))
        .where(
            Booking.instructor_id == instructor_id,
            open_request(now),
        )
        .order_by(Booking.starts_at)
        .with_for_update(of=Booking)
    ).all()
    declined: list[Booking] = []
    for booking in pending:
        # The same conditional update, history, notification (with its mail) and live events as a decline.
        if not _covered(booking, schedule) and decline_uncovered(booking, now):
            declined.append(booking)
    db.session.commit()
    return [b.id for b in declined]
