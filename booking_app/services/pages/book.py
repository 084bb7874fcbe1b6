"""The book page's model: instructors, a month of days with open slots, and the chosen day's slots."""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from ...domain.slots import Slot
from ...domain.timeutil import local_date_range_to_utc, utc_to_local
from ...extensions import db
from ...models import Booking, User
from .. import ServiceError
from .. import bookings as booking_service
from ..availability import instructor_timezone, list_instructors
from ..booking_filters import active_ahead
from ..slots import horizon_end_at, shown_slots


@dataclass(frozen=True)
class ShownSlot:
    """An open slot of one instructor, with its start in the zone the page is shown in."""

    instructor: User
    slot: Slot
    local_start: datetime


@dataclass(frozen=True, slots=True)
class MyLesson:
    """One of the viewer's own pending or confirmed lessons, as the month marks it."""

    id: int
    status: str
    starts_at: datetime
    instructor_name: str


@dataclass(frozen=True)
class BookQuery:
    """What the book page's address asks for."""

    instructor_id: int | None = None
    month: str | None = None
    date: str | None = None
    in_instructor_tz: bool = False
    length: int | None = None
    reschedule_id: int | None = None


@dataclass
class BookPage:
    """Everything the book page shows."""

    staff: list[User]
    chosen: User | None
    shown: list[User]
    month: date
    this_month: date
    last_month: date
    today: date
    horizon_last: date
    per_day: Counter[date]
    my_lessons: dict[date, list[MyLesson]]
    selected: date | None
    day_slots: list[ShownSlot]
    lengths: list[int]
    length: int | None
    display_tz: str
    viewer_tz: str
    use_instructor_tz: bool
    reschedule: Booking | None

    @property
    def prev_month(self) -> date | None:
        """Return the month before, when it can still be booked."""
        return add_month(self.month, -1) if self.month > self.this_month else None

    @property
    def next_month(self) -> date | None:
        """Return the month after, when it is inside the booking horizon."""
        return add_month(self.month, 1) if self.month < self.last_month else None

    @property
    def weeks(self) -> list[list[date]]:
        """Return the month's calendar weeks, Monday first."""
        return calendar.Calendar(0).monthdatescalendar(self.month.year, self.month.month)

    @property
    def chosen_tz(self) -> str | None:
        """Return the chosen instructor's timezone."""
        return instructor_timezone(self.chosen) if self.chosen else None

    @property
    def state(self) -> dict[str, Any]:
        """Return the page's address arguments, to build links that change one of them."""
        return {
            "instructor": self.chosen.id if self.chosen else None, "month": f"{self.month:%Y-%m}",
            "date": self.selected.isoformat() if self.selected else None,
            "tz": "instructor" if self.use_instructor_tz else None, "length": self.length,
            "reschedule": self.reschedule.id if self.reschedule else None,
        }


def add_month(first: date, months: int) -> date:
    """Return the first day of the month `months` after (or before) the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _parse_month(raw: str | None, default: date) -> date:
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return default.replace(day=1)


def _reschedule(viewer: User | None, booking_id: int | None) -> Booking | None:
    if not booking_id or viewer is None:
        return None
    try:
        return booking_service.get_for(viewer, booking_id)
    except ServiceError:
        return None


def _my_lessons_statement() -> Any:
    at = cast(datetime, sa.bindparam("now", type_=Booking.__table__.c.expires_at.type))
    return (
        sa.select(Booking.id, Booking.status, Booking.starts_at, User.name)
        .join(User, User.id == Booking.instructor_id)
        .where(Booking.student_id == sa.bindparam("viewer"), active_ahead(at),
               Booking.starts_at >= sa.bindparam("month_from", type_=Booking.__table__.c.starts_at.type),
               Booking.starts_at < sa.bindparam("month_to", type_=Booking.__table__.c.starts_at.type))
        .order_by(Booking.starts_at, Booking.id)
    )


# Built once: building the expression costs more than running it.
MY_LESSONS = _my_lessons_statement()


def _my_lessons(viewer: User | None, month: date, month_end: date, tz: str, now: datetime) -> dict[date, list[MyLesson]]:
    """Return the viewer's own pending and confirmed lessons of the month by local date."""
    lessons: dict[date, list[MyLesson]] = {}
    if viewer is None:
        return lessons
    month_from, month_to = local_date_range_to_utc(month, month_end, tz)
    rows = db.session.execute(MY_LESSONS, {"viewer": viewer.id, "now": now, "month_from": month_from,
                                           "month_to": month_to})
    for booking_id, status, starts_at, instructor_name in rows:
        lessons.setdefault(utc_to_local(starts_at, tz).date(), []).append(
            MyLesson(booking_id, status, starts_at, instructor_name))
    return lessons


def book_page(viewer: User | None, query: BookQuery, viewer_tz: str, now: datetime) -> BookPage | None:
    """Build the book page for a viewer (None when signed out); None when the instructor asked for is unknown."""
    everyone = list_instructors()
    staff = [person for person in everyone if viewer is None or person.id != viewer.id]
    # An instructor may open their own shareable link to see what students see.
    chosen = next((p for p in everyone if p.id == query.instructor_id), None)
    if query.instructor_id and chosen is None:
        return None
    shown = [chosen] if chosen else staff
    use_instructor_tz = chosen is not None and query.in_instructor_tz
    display_tz = instructor_timezone(chosen) if use_instructor_tz and chosen else viewer_tz
    today = utc_to_local(now, display_tz).date()
    this_month = today.replace(day=1)
    horizon_last = max(
        (utc_to_local(horizon_end_at(instructor_timezone(p), now) - timedelta(microseconds=1), display_tz).date()
         for p in shown),
        default=today,
    )
    last_month = max(horizon_last.replace(day=1), this_month)
    month = min(max(_parse_month(query.month, today), this_month), last_month)
    month_end = add_month(month, 1) - timedelta(days=1)
    # Per instructor: the open slots and their local starts (services.slots keeps the clock-free part).
    found = [(person, *shown_slots(person, month, month_end, viewer_tz=display_tz, now=now)) for person in shown]
    lengths = sorted({slot.lesson_minutes for _, slots, _ in found for slot in slots})
    length = query.length if query.length in lengths else None
    per_day: Counter[date] = Counter()
    for _, slots, local_starts in found:
        per_day.update(local.date() for slot, local in zip(slots, local_starts, strict=True)
                       if length is None or slot.lesson_minutes == length)
    try:
        selected: date | None = date.fromisoformat(query.date or "")
    except ValueError:
        selected = None
    if selected is None or selected.replace(day=1) != month:
        selected = min(per_day) if per_day else None
    day_slots = sorted(
        (ShownSlot(person, slot, local) for person, slots, local_starts in found
         for slot, local in zip(slots, local_starts, strict=True)
         if local.date() == selected and (length is None or slot.lesson_minutes == length)),
        key=lambda s: (s.slot.starts_at, s.instructor.name),
    )
    return BookPage(
        staff=staff, chosen=chosen, shown=shown, month=month, this_month=this_month, last_month=last_month,
        today=today, horizon_last=horizon_last, per_day=per_day,
        my_lessons=_my_lessons(viewer, month, month_end, display_tz, now), selected=selected, day_slots=day_slots,
        lengths=lengths, length=length, display_tz=display_tz, viewer_tz=viewer_tz,
        use_instructor_tz=use_instructor_tz, reschedule=_reschedule(viewer, query.reschedule_id),
    )
