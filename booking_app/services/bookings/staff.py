"""Lessons booked by staff: an instructor (own lessons) or the owner books a student in, confirmed at once.

Staff may ignore the minimum notice and the booking horizon, but never the past, the instructor's availability
(windows minus blocks, with the buffer around other lessons) or an overlap with the instructor's or the
student's active bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ... import wording
from ...domain import bookings as rules
from ...domain.bookings import Role, Status
from ...domain.slots import Schedule, covered_by_windows, is_open_slot
from ...extensions import db
from ...models import Booking, BookingChange, User
from .. import ServiceError, clock
from ..booking_filters import holds_slot
from ..invitations import SentInvitation, invite_booked_student
from ..notifications import notify
from ..slots import SCHEDULE_LOADS, load_schedule
from ..users import normalize_email
from ._writes import announce, commit_keeping, expire_overdue_at_once, lock_pair, slot_write, when
from .requesting import MAX_NOTES, NO_INSTRUCTOR, NOTES_TOO_LONG

# The notification kind of a staff booking; it also sends the "booked in" mail with the .ics invitation.
BOOKED_IN = "booking.booked"


@dataclass(frozen=True)
class StaffBooked:
    """The outcome of a staff booking: the booking, whether this call made it, and the invitation it sent."""

    booking: Booking
    created: bool
    invitation: SentInvitation | None = None


def book_student(
    staff: User,
    instructor_id: int,
    student_id: int,
    starts_at: datetime,
    lesson_minutes: int | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> StaffBooked:
    """Book an existing student into the instructor's open time, confirmed at once; a repeat returns the booking."""
    now = now or clock.now()
    instructor = _instructor_for(staff, instructor_id)
    notes = _checked_notes(notes)
    student = db.session.get(User, student_id)
    if student is None or not _is_bookable_student(student):
        raise ServiceError(wording.STAFF_BOOK_NO_STUDENT, "no_student", 422, field="student_id")
    return _book(staff, instructor, student, starts_at, lesson_minutes, notes, now, None)


def book_new_student(
    staff: User,
    instructor_id: int,
    *,
    name: str,
    email: str,
    starts_at: datetime,
    lesson_minutes: int | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> StaffBooked:
    """Book in a student who has no account yet (they phoned): make the account, invite them, book the lesson.

    Account, invitation and booking commit together; the invitation mail goes out after the commit. An address
    that already belongs to a student books that student; one that belongs to staff is refused.
    """
    now = now or clock.now()
    instructor = _instructor_for(staff, instructor_id)
    notes = _checked_notes(notes)
    _check_time(starts_at, now)
    address = normalize_email(email or "")
    existing = db.session.scalar(sa.select(User).where(User.email == address)) if address else None
    if existing is not None:
        if not _is_bookable_student(existing):
            raise ServiceError(
                wording.STAFF_BOOK_NOT_A_STUDENT.format(email=address), "not_a_student", 409, field="email"
            )
        return _book(staff, instructor, existing, starts_at, lesson_minutes, notes, now, None)
    # The time is checked before the account is made, so a refused time leaves no account or invitation behind.
    _open_time(instructor, load_schedule(instructor), starts_at, lesson_minutes, now)
    # Done here, not in _book: committing there would commit the new account before its booking.
    if expire_overdue_at_once(Booking.instructor_id == instructor.id, now):
        db.session.commit()
    try:
        student, invitation = invite_booked_student(
            staff, email=address, name=name, timezone=_zone(instructor)
        )
    except ServiceError:
        db.session.rollback()
        raise
    return _book(staff, instructor, student, starts_at, lesson_minutes, notes, now, invitation)


def _instructor_for(staff: User, instructor_id: int) -> User:
    """Return the instructor staff may book for, or refuse: a student never, an instructor only for themselves."""
    if not staff.teaches or not staff.active:
        raise ServiceError(wording.STAFF_BOOK_NOT_STAFF, "forbidden", 403)
    if not staff.is_owner and staff.id != instructor_id:
        raise ServiceError(wording.STAFF_BOOK_OTHERS, "forbidden", 403, field="instructor_id")
    instructor = db.session.get(User, instructor_id, options=SCHEDULE_LOADS)
    if instructor is None or not instructor.teaches or not instructor.active or instructor.is_deleted:
        raise ServiceError(NO_INSTRUCTOR, "no_instructor", 422, field="instructor_id")
    return instructor


def _is_bookable_student(user: User) -> bool:
    return user.role == Role.STUDENT and user.active and not user.is_deleted


def _checked_notes(notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ServiceError(NOTES_TOO_LONG, "notes_too_long", 422, field="notes")
    return notes


def _check_time(starts_at: datetime, now: datetime) -> None:
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ServiceError(wording.STAFF_BOOK_NAIVE_START, "invalid", 422, field="start")
    if starts_at <= now:
        raise ServiceError(rules.PAST_START, "past", 422, field="start")


def _open_time(
    instructor: User, schedule: Schedule, starts_at: datetime, lesson_minutes: int | None, now: datetime
) -> tuple[datetime, datetime]:
    """Return the lesson's start and end if the instructor's windows (minus blocks) offer it, else raise a 422.

    A slot of the window's own grid is offered as students see it; staff may also choose another length (or a
    start off the grid) as long as the whole lesson lies inside a window and outside every block.
    """
    _check_time(starts_at, now)
    # Staff ignore the minimum notice and the horizon (the schedule is loaded without one).
    relaxed = replace(schedule, min_notice_minutes=0, horizon_end_at=None)
    slot = is_open_slot(relaxed, starts_at, lesson_minutes, busy=[], now=now)
    if slot is not None:
        return slot.starts_at, slot.ends_at
    minutes = lesson_minutes or _default_minutes(instructor)
    ends_at = starts_at + timedelta(minutes=minutes)
    if not covered_by_windows(relaxed, starts_at, ends_at):
        raise ServiceError(
            wording.STAFF_BOOK_OUTSIDE.format(name=instructor.name), "not_open", 422, field="start"
        )
    return starts_at, ends_at


def _zone(instructor: User) -> str:
    settings = instructor.instructor_settings
    return (settings.timezone if settings else None) or instructor.timezone or "UTC"


def _default_minutes(instructor: User) -> int:
    settings = instructor.instructor_settings
    return settings.default_lesson_minutes if settings else 60


def _book(
    staff: User,
    instructor: User,
    student: User,
    starts_at: datetime,
    lesson_minutes: int | None,
    notes: str,
    now: datetime,
    invitation: SentInvitation | None,
) -> StaffBooked:
    if student.id == instructor.id:
        raise ServiceError(wording.STAFF_BOOK_NO_STUDENT, "no_student", 422, field="student_id")
    with slot_write():
        schedule = load_schedule(instructor)
        begins, ends = _open_time(instructor, schedule, starts_at, lesson_minutes, now)
        # Overdue pending rows still count for the database guarantee until they are persisted as expired.
        if invitation is None and expire_overdue_at_once(Booking.instructor_id == instructor.id, now):
            db.session.commit()
        lock_pair(instructor.id, student.id)
        nearby = _nearby(instructor.id, student.id, begins, ends, schedule.buffer_minutes, now)
        same = next(
            (
                b
                for b in nearby
                if b.student_id == student.id and b.instructor_id == instructor.id and b.starts_at == begins
            ),
            None,
        )
        if same is not None:
            return _repeat(same, student, ends)
        pad = timedelta(minutes=schedule.buffer_minutes)
        if any(
            b.instructor_id == instructor.id and b.starts_at < ends + pad and b.ends_at > begins - pad
            for b in nearby
        ):
            raise ServiceError(wording.STAFF_BOOK_TAKEN.format(name=instructor.name), "slot_taken", 409)
        if any(b.student_id == student.id and b.starts_at < ends and b.ends_at > begins for b in nearby):
            raise ServiceError(
                wording.STAFF_BOOK_STUDENT_BUSY.format(name=student.name), "student_clash", 409
            )
        booking = Booking(
            instructor_id=instructor.id,
            student_id=student.id,
            starts_at=begins,
            ends_at=ends,
            status=Status.CONFIRMED.value,
            notes=notes,
            created_at=now,
            updated_at=now,
            decided_at=now,
            status_reason="",
            expires_at=begins,
            reschedule_of_id=None,
        )
        db.session.add(booking)
        db.session.flush()

    change = BookingChange(
        booking_id=booking.id,
        actor_id=staff.id,
        from_status=None,
        to_status=Status.CONFIRMED.value,
        note="",  # (new) → confirmed with staff as the actor says it: "Maria booked the lesson in"
        at=now,
    )
    db.session.add(change)
    notify(
        student.id,
        BOOKED_IN,
        wording.booked_in_for_student(
            staff.name, None if staff.id == instructor.id else instructor.name, when(begins, student)
        ),
        booking_id=booking.id,
        flush=False,
    )
    if staff.id != instructor.id:
        notify(
            instructor.id,
            BOOKED_IN,
            wording.booked_in_for_instructor(staff.name, student.name, when(begins, instructor)),
            booking_id=booking.id,
            flush=False,
        )
    announce(booking, "booking.confirmed")
    db.session.flush()
    set_committed_value(booking, "history", [change])
    set_committed_value(booking, "instructor", instructor)
    set_committed_value(booking, "student", student)
    commit_keeping(booking, change, instructor, student)
    return StaffBooked(booking, created=True, invitation=invitation)


def _repeat(same: Booking, student: User, ends: datetime) -> StaffBooked:
    """Answer a repeated staff booking with the lesson already booked; refuse when it is not the same lesson."""
    if same.ends_at != ends:
        raise ServiceError(wording.STAFF_BOOK_OTHER_LENGTH.format(name=student.name), "other_length", 409)
    if same.status != Status.CONFIRMED.value:
        raise ServiceError(wording.STAFF_BOOK_ASKED_ALREADY.format(name=student.name), "pending_request", 409)
    db.session.commit()
    return StaffBooked(same, created=False)


def _nearby(
    instructor_id: int,
    student_id: int,
    starts_at: datetime,
    ends_at: datetime,
    buffer_minutes: int,
    now: datetime,
) -> list[Booking]:
    """Return the active bookings of the instructor (widened by the buffer) and of the student near the lesson."""
    pad = timedelta(minutes=buffer_minutes)
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                holds_slot(now),
                sa.or_(
                    sa.and_(
                        Booking.instructor_id == instructor_id,
                        Booking.starts_at < ends_at + pad,
                        Booking.ends_at > starts_at - pad,
                    ),
                    sa.and_(
                        Booking.student_id == student_id,
                        Booking.starts_at < ends_at,
                        Booking.ends_at > starts_at,
                    ),
                ),
            )
            .order_by(Booking.starts_at, Booking.id)
        ).unique()
    )
