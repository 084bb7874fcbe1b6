"""Standing weekly lessons: the weeks of a series and whether each one can be booked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from booking_app.domain.slots import Busy, Schedule, is_open_slot
from booking_app.domain.timeutil import ensure_utc, local_to_utc, utc_to_local

ONE_WEEK = timedelta(weeks=1)


class Skip(StrEnum):
    """Why a week of a series cannot be booked (the API's `reason`)."""

    BLOCKED = "blocked"  # the instructor blocked that time
    TAKEN = "taken"  # another booking holds it
    UNAVAILABLE = "unavailable"  # outside the instructor's availability (or the local time does not exist)
    TOO_SOON = "too_soon"  # inside the minimum notice, or already past
    STUDENT_BUSY = "student_busy"  # the student has another lesson then


@dataclass(frozen=True, slots=True)
class Week:
    """One week of a series: its local date, its instants when the local time exists, and why it is skipped."""

    on: date
    starts_at: datetime | None
    ends_at: datetime | None
    skip: Skip | None = None

    @property
    def is_open(self) -> bool:
        return self.skip is None


def wall_start(starts_at: datetime, tz: str) -> tuple[date, time]:
    """Return the local date and wall-clock time (minutes) of a first lesson in the instructor's zone."""
    local = utc_to_local(starts_at, tz)
    return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)


def week_starts(
    first_on: date, at: time, tz: str, weeks: int, *, skip_weeks: int = 0
) -> list[tuple[date, datetime | None]]:
    """Return (local date, UTC start) for each week: the same wall-clock time every week, exact across DST.

    A local time in a spring-forward gap does not exist that day (None: the week is skipped, as the slot engine
    offers no slot there); an ambiguous one (fall-back) means its first occurrence, as everywhere in the app.
    """
    return [
        (on, local_to_utc(on, at, tz))
        for on in (first_on + ONE_WEEK * k for k in range(skip_weeks, skip_weeks + weeks))
    ]


def classify_weeks(
    schedule: Schedule,
    starts: Sequence[tuple[date, datetime | None]],
    lesson_minutes: int,
    *,
    busy: Sequence[Busy],
    student_busy: Sequence[Busy],
    now: datetime,
    by_staff: bool,
) -> list[Week]:
    """Say for each week whether it is open, or why not, with the slot engine's own rules.

    The series ignores the booking horizon (it may reach up to its maximum); staff also ignore the minimum notice,
    but nothing is ever booked in the past or over another booking. Reasons are checked in a fixed order: a time
    that is not there at all (unavailable), then notice, then blocks, other bookings and the student's own.
    """
    now = ensure_utc(now)
    length = timedelta(minutes=lesson_minutes)
    open_rules = replace(schedule, horizon_end_at=None, min_notice_minutes=0)
    unblocked = replace(open_rules, blocks=())
    notice = timedelta(minutes=0 if by_staff else schedule.min_notice_minutes)
    weeks: list[Week] = []
    for on, starts_at in starts:
        if starts_at is None:
            weeks.append(Week(on, None, None, Skip.UNAVAILABLE))
            continue
        ends_at = starts_at + length
        weeks.append(
            Week(
                on,
                starts_at,
                ends_at,
                _skip(
                    open_rules,
                    unblocked,
                    starts_at,
                    ends_at,
                    lesson_minutes,
                    busy,
                    student_busy,
                    now,
                    notice,
                ),
            )
        )
    return weeks


def _skip(
    open_rules: Schedule,
    unblocked: Schedule,
    starts_at: datetime,
    ends_at: datetime,
    lesson_minutes: int,
    busy: Sequence[Busy],
    student_busy: Sequence[Busy],
    now: datetime,
    notice: timedelta,
) -> Skip | None:
    if starts_at <= now or starts_at < now + notice:
        return Skip.TOO_SOON
    if is_open_slot(open_rules, starts_at, lesson_minutes, busy=(), now=now) is None:
        if is_open_slot(unblocked, starts_at, lesson_minutes, busy=(), now=now) is not None:
            return Skip.BLOCKED
        return Skip.UNAVAILABLE
    if busy and is_open_slot(open_rules, starts_at, lesson_minutes, busy=busy, now=now) is None:
        return Skip.TAKEN
    if any(b.starts_at < ends_at and b.ends_at > starts_at for b in student_busy):
        return Skip.STUDENT_BUSY
    return None
