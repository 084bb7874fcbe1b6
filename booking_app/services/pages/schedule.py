"""The schedule page's model: each date of a week or month with its windows, blocks and lessons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ...domain import slots as engine
from ...domain.students import COLOURS
from ...domain.timeutil import local_date_range_to_utc, utc_to_local
from ...extensions import db
from ...models import Block, Booking, InstructorSettings, OneTimeWindow, StudentNote, User, WeeklyWindow
from ...names import first_name
from .. import availability
from ..booking_filters import holds_slot

GRID_FIRST_MINUTE = 6 * 60
GRID_LAST_MINUTE = 22 * 60
GRID_ROW_MINUTES = 30
ONE_DAY = timedelta(days=1)

# (kind "weekly" | "one-time", window id, date) -> the window's edit address
EditUrl = Callable[[str, int, date], str]


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def hhmm(minutes: int) -> str:
    """Format minutes of the day as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class Item:
    """Something drawn on a day: a window, a block or a lesson, in local minutes of the day."""

    kind: str  # weekly | one-time | block | pending | confirmed
    start: int
    end: int
    label: str
    id: int | None = None
    href: str | None = None
    colour: str | None = None  # a lesson's student colour (the accent), when the instructor chose one

    @property
    def time_range(self) -> str:
        """Return the item's times as "09:00–12:00"."""
        return f"{hhmm(self.start)}–{hhmm(self.end) if self.end < 1440 else '24:00'}"

    @property
    def top(self) -> float:
        """Return the distance from the grid's first row, in percent of the visible day."""
        span = GRID_LAST_MINUTE - GRID_FIRST_MINUTE
        return round((max(self.start, GRID_FIRST_MINUTE) - GRID_FIRST_MINUTE) / span * 100, 3)

    @property
    def height(self) -> float:
        """Return the item's height in percent of the visible day."""
        span = GRID_LAST_MINUTE - GRID_FIRST_MINUTE
        start = max(self.start, GRID_FIRST_MINUTE)
        end = min(self.end, GRID_LAST_MINUTE)
        return round(max(end - start, 0) / span * 100, 3)

    @property
    def visible(self) -> bool:
        """Tell whether any of the item falls inside the grid's hours."""
        return self.end > GRID_FIRST_MINUTE and self.start < GRID_LAST_MINUTE


@dataclass
class Day:
    """One local date of the schedule with its windows, blocks and lessons."""

    on: date
    windows: list[Item] = field(default_factory=list)
    blocks: list[Item] = field(default_factory=list)
    lessons: list[Item] = field(default_factory=list)
    whole_day_block: str | None = None
    in_month: bool = True
    is_today: bool = False

    @property
    def pending(self) -> int:
        """Count the day's pending requests."""
        return sum(1 for lesson in self.lessons if lesson.kind == "pending")

    @property
    def confirmed(self) -> int:
        """Count the day's confirmed lessons."""
        return sum(1 for lesson in self.lessons if lesson.kind == "confirmed")

    @property
    def blocked(self) -> bool:
        """Tell whether any of the day is blocked."""
        return self.whole_day_block is not None or bool(self.blocks)


@dataclass
class ScheduleView:
    """The week grid or month calendar of one instructor, with the chosen day."""

    instructor: User
    tz: str
    settings: InstructorSettings
    view: str
    shown: date
    today: date
    title: str
    days: list[Day]
    selected: date
    month_first: date
    prev_on: date
    next_on: date
    conflicts: list[Booking]

    @property
    def weeks(self) -> list[list[Day]]:
        """Return the days in rows of seven."""
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def selected_day(self) -> Day | None:
        """Return the chosen day when it is on screen."""
        return next((d for d in self.days if d.on == self.selected), None)

    @property
    def rows(self) -> list[str]:
        """Return the grid's row times."""
        return [hhmm(m) for m in range(GRID_FIRST_MINUTE, GRID_LAST_MINUTE, GRID_ROW_MINUTES)]


def _lessons(instructor: User, first: date, last: date, tz: str, now: datetime) -> dict[date, list[Item]]:
    start_at, end_at = local_date_range_to_utc(first, last, tz)
    # The student's colour comes in the same statement (the page's statement count stays fixed).
    bookings = db.session.execute(
        sa.select(Booking, StudentNote.colour)
        .outerjoin(StudentNote, sa.and_(StudentNote.instructor_id == Booking.instructor_id,
                                        StudentNote.student_id == Booking.student_id))
        .where(Booking.instructor_id == instructor.id, Booking.starts_at < end_at, Booking.ends_at > start_at,
               holds_slot(now))
        .order_by(Booking.starts_at)
    ).all()
    by_date: dict[date, list[Item]] = defaultdict(list)
    for booking, colour in bookings:
        local_start = utc_to_local(booking.starts_at, tz)
        local_end = utc_to_local(booking.ends_at, tz)
        start = local_start.hour * 60 + local_start.minute
        end = start + max(int((local_end - local_start).total_seconds() // 60), 1)
        by_date[local_start.date()].append(
            Item(booking.status, start, min(end, 1440), first_name(booking.student), booking.id,
                 colour=COLOURS[colour][1] if colour in COLOURS else None)
        )
    return by_date


def _block_items(blocks: list[Block], on: date, day: Day) -> None:
    for b in blocks:
        if b.start_on <= on <= b.end_on:
            if b.start_time is None or b.end_time is None:
                day.whole_day_block = b.reason or "Blocked"
                day.blocks.append(Item("block", 0, 1440, b.reason or "Blocked", b.id))
            else:
                day.blocks.append(Item("block", _minutes(b.start_time), _minutes(b.end_time), b.reason or "Blocked", b.id))


def schedule_days(instructor: User, first: date, last: date, tz: str, today: date, now: datetime,
                  edit_url: EditUrl) -> list[Day]:
    """Return every date first..last with what the instructor's schedule holds on it."""
    weekly = db.session.scalars(
        sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == instructor.id).order_by(WeeklyWindow.start_time)
    ).all()
    rules = [(w, engine.WeeklyWindow(w.weekday, w.start_time, w.end_time, w.lesson_minutes, w.effective_from,
                                     w.effective_until)) for w in weekly]
    one_time = db.session.scalars(
        sa.select(OneTimeWindow).where(OneTimeWindow.instructor_id == instructor.id,
                                       OneTimeWindow.occurs_on.between(first, last))
    ).all()
    blocks = list(db.session.scalars(
        sa.select(Block).where(Block.instructor_id == instructor.id, Block.start_on <= last, Block.end_on >= first)
    ).all())
    lessons = _lessons(instructor, first, last, tz, now)
    days: list[Day] = []
    on = first
    while on <= last:
        day = Day(on, is_today=on == today)
        for w, rule in rules:
            if rule.applies_on(on):
                day.windows.append(Item("weekly", _minutes(w.start_time), _minutes(w.end_time),
                                        f"{w.lesson_minutes} min", w.id, edit_url("weekly", w.id, on)))
        for o in one_time:
            if o.occurs_on == on:
                day.windows.append(Item("one-time", _minutes(o.start_time), _minutes(o.end_time),
                                        f"{o.lesson_minutes} min", o.id, edit_url("one-time", o.id, on)))
        day.windows.sort(key=lambda item: (item.start, item.end))
        _block_items(blocks, on, day)
        day.lessons = lessons.get(on, [])
        days.append(day)
        on += ONE_DAY
    return days


def schedule_view(instructor: User, view: str, shown: date, day_on: date | None, now: datetime,
                  edit_url: EditUrl) -> ScheduleView:
    """Build the week (or month) of an instructor's schedule around the date shown."""
    tz = availability.instructor_timezone(instructor)
    today = utc_to_local(now, tz).date()
    if view == "month":
        month_first = shown.replace(day=1)
        next_month = (month_first + timedelta(days=32)).replace(day=1)
        first = month_first - timedelta(days=month_first.isoweekday() - 1)
        last_of_month = next_month - ONE_DAY
        last = last_of_month + timedelta(days=7 - last_of_month.isoweekday())
        prev_on, next_on = (month_first - ONE_DAY).replace(day=1), next_month
        title = month_first.strftime("%B %Y")
    else:
        first = shown - timedelta(days=shown.isoweekday() - 1)
        last = first + timedelta(days=6)
        prev_on, next_on = first - timedelta(days=7), first + timedelta(days=7)
        month_first = first
        title = f"{first.strftime('%-d %b')} – {last.strftime('%-d %b %Y')}"
    days = schedule_days(instructor, first, last, tz, today, now, edit_url)
    if view == "month":
        for d in days:
            d.in_month = d.on.month == month_first.month
    return ScheduleView(
        instructor=instructor, tz=tz, settings=availability.settings_for(instructor), view=view, shown=shown,
        today=today, title=title, days=days, selected=day_on or shown, month_first=month_first, prev_on=prev_on,
        next_on=next_on, conflicts=availability.confirmed_conflicts(instructor, now),
    )
