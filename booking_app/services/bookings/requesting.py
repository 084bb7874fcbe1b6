"""Requesting a lesson: the checks a new request (or a request to move one) passes before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ... import wording
from ...domain import bookings as rules
from ...domain.bookings import Status
from ...domain.slots import Busy, Schedule, Slot, is_open_slot
from ...extensions import db
from ...models import Booking, BookingChange, User
from .. import ServiceError, clock, effects
from ..booking_filters import holds_slot
from ..notifications import notify
from ..slots import SCHEDULE_LOADS, load_schedule
from ..studio import get_studio
from ._writes import announce, commit_keeping, expire_overdue_at_once, lock_pair, slot_write, when
from .queries import NOT_FOUND, cancel_refusal, pending_reschedule, status_of

NO_INSTRUCTOR = "We could not find that instructor. Choose one from the list and try again."
NOT_OPEN = "That time is not an open slot. Select one of the times shown."
TOO_SOON = "That time is too close to book; lessons must be requested at least {notice} ahead. Select a later time."
TOO_FAR = "That time is beyond the booking horizon. Select an earlier date."
NOTES_TOO_LONG = "Keep the note under 1,000 characters and send the request again."
MAX_NOTES = 1000


@dataclass(frozen=True)
class Requested:
    """The outcome of a request: the booking, and whether this call created it."""

    booking: Booking
    created: bool



def request_booking(
    student: User,
    instructor_id: int,
    starts_at: datetime,
    lesson_minutes: int | None = None,
    notes: str = "",
    now: datetime | None = None,
    *,
    reschedule_of_id: int | None = None,
) -> Requested:
    """Request an open slot as a pending booking; a repeated identical request returns the existing one.

    On PostgreSQL a request is eight statements when nothing is overdue: the instructor (with settings and schedule
    version), the expiry UPDATE, the two slot locks, one look at the bookings near the slot, the booking's INSERT and
    one INSERT each for its history, effects and notification. Rules come from the schedule cache.
    """
    now = now or clock.now()
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ServiceError(NOTES_TOO_LONG, "notes_too_long", 422, field="notes")
    try:
        rules.validate_request(instructor_id=instructor_id, student_id=student.id, starts_at=starts_at, now=now)
    except rules.RequestRefused as refusal:
        raise ServiceError(refusal.message, refusal.code, 422) from None
    instructor = db.session.get(User, instructor_id, options=SCHEDULE_LOADS)
    if instructor is None or not instructor.teaches or not instructor.active:
        raise ServiceError(NO_INSTRUCTOR, "no_instructor", 422, field="instructor_id")

    with slot_write():
        # Rules and notice are read before the lock, so the lock is held only for the short write.
        try:
            slot, schedule = _rules_slot(instructor, starts_at, lesson_minutes, now)
        except ServiceError:
            # A double click or retry: answer with the request already made, whatever the clock says now.
            existing = _existing(student.id, instructor_id, starts_at, lesson_minutes, now)
            if existing is None:
                raise
            db.session.commit()
            return Requested(existing, created=False)
        # Overdue pending rows still count for the database guarantee until they are persisted as expired. They
        # are expired outside the lock, committed at once when there were any (a sweep's work, safe to repeat):
        # their schedule version stays locked only until then, never while this request waits for the slot lock.
        if expire_overdue_at_once(Booking.instructor_id == instructor_id, now):
            db.session.commit()
        lock_pair(instructor_id, student.id)
        nearby = _nearby(student.id, instructor_id, slot, schedule.buffer_minutes, now)
        existing = next((b for b in nearby if b.student_id == student.id and b.instructor_id == instructor_id
                         and b.starts_at == starts_at), None)
        if existing is not None:
            _same_length(existing, starts_at, lesson_minutes)
            db.session.commit()
            return Requested(existing, created=False)

        original = _check_reschedule(student, instructor_id, reschedule_of_id, now) if reschedule_of_id else None
        busy = [Busy(b.starts_at, b.ends_at) for b in nearby if b.instructor_id == instructor_id]
        if busy and is_open_slot(schedule, slot.starts_at, slot.lesson_minutes, busy=busy, now=now) is None:
            raise ServiceError(rules.SLOT_TAKEN, "slot_taken", 409)
        if any(b.student_id == student.id and b.starts_at < slot.ends_at and b.ends_at > slot.starts_at
               for b in nearby):
            raise ServiceError(rules.STUDENT_CLASH, "student_clash", 409)

        booking = Booking(
            instructor_id=instructor_id,
            student_id=student.id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=Status.PENDING.value,
            notes=notes,
            created_at=now,
            updated_at=now,
            decided_at=None,
            status_reason="",
            expires_at=rules.expires_at(now, slot.starts_at, get_studio().pending_expiry_hours),
            reschedule_of_id=original.id if original else None,
            series_id=None,  # set, so the answer needs no SELECT after the commit
        )
        db.session.add(booking)
        db.session.flush()

    change = BookingChange(booking_id=booking.id, actor_id=student.id, from_status=None, to_status=Status.PENDING.value,
                           note="Asked to move the lesson here." if original else "", at=now)
    db.session.add(change)
    effects.schedule(
        "booking.expire", {"booking_id": booking.id}, due_at=booking.expires_at,
        dedupe_key=f"booking.expire:{booking.id}:{int(booking.expires_at.timestamp())}", flush=False,
    )
    what = "asked to move a lesson to" if original else "requested a lesson on"
    notify(
        instructor_id, "booking.requested",
        f"{student.name} {what} {when(booking.starts_at, instructor)}.", booking_id=booking.id, flush=False,
    )
    announce(booking, "booking.requested")
    db.session.flush()
    # The answer is built from what this call wrote: nothing is selected again after the commit.
    set_committed_value(booking, "history", [change])
    set_committed_value(booking, "instructor", instructor)
    set_committed_value(booking, "student", student)
    commit_keeping(booking, change, instructor, student)
    return Requested(booking, created=True)


def _nearby(student_id: int, instructor_id: int, slot: Slot, buffer_minutes: int, now: datetime) -> list[Booking]:
    """Return the bookings holding time at `now` that this request must know about, in one query.

    The instructor's that touch the slot widened by the buffer, and the student's that touch the slot (a repeat
    of this very request is among them).
    """
    pad = timedelta(minutes=buffer_minutes)
    return list(db.session.scalars(
        sa.select(Booking).where(
            holds_slot(now),
            sa.or_(
                sa.and_(Booking.instructor_id == instructor_id,
                        Booking.starts_at < slot.ends_at + pad, Booking.ends_at > slot.starts_at - pad),
                sa.and_(Booking.student_id == student_id,
                        Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at),
            ),
        ).order_by(Booking.starts_at, Booking.id)
    ).unique())


def _check_reschedule(student: User, instructor_id: int, original_id: int, now: datetime) -> Booking:
    original = db.session.get(Booking, original_id)
    if original is None or original.student_id != student.id:
        raise ServiceError(NOT_FOUND, "not_found", 404)
    if original.instructor_id != instructor_id:
        raise ServiceError(
            "A lesson can only be moved to another time with the same instructor. Select one of their times.",
            "other_instructor", 422,
        )
    if status_of(original, now) is not Status.CONFIRMED:
        raise ServiceError("Only a confirmed lesson can be moved. Request a new lesson instead.", "not_confirmed", 409)
    refusal = cancel_refusal(student, original, now)
    if refusal is not None:
        raise ServiceError(refusal, "cancellation_window", 409)
    if pending_reschedule(original, now) is not None:
        raise ServiceError(
            "You already asked to move this lesson. Wait for your instructor's answer or withdraw that request.",
            "reschedule_pending", 409,
        )
    return original


OTHER_LENGTH = (
    "You already asked for this time with a different lesson length. Withdraw that request first, then ask again."
)


def _existing(
    student_id: int, instructor_id: int, starts_at: datetime, lesson_minutes: int | None, now: datetime
) -> Booking | None:
    """Return the student's active booking at this start (a repeat), or raise a 409 when its length differs."""
    existing = db.session.scalar(
        sa.select(Booking).where(
            Booking.student_id == student_id,
            Booking.instructor_id == instructor_id,
            Booking.starts_at == starts_at,
            holds_slot(now),
        )
    )
    if existing is not None:
        _same_length(existing, starts_at, lesson_minutes)
    return existing


def _same_length(existing: Booking, starts_at: datetime, lesson_minutes: int | None) -> None:
    """Raise the 409 when a repeated request asks for another length than the one already made."""
    if lesson_minutes is not None and existing.ends_at != starts_at + timedelta(minutes=lesson_minutes):
        raise ServiceError(OTHER_LENGTH, "other_length", 409)


def _rules_slot(
    instructor: User, starts_at: datetime, lesson_minutes: int | None, now: datetime
) -> tuple[Slot, Schedule]:
    """Return the slot the instructor's schedule offers at starts_at (ignoring bookings), or raise a 422."""
    schedule = load_schedule(instructor, now)
    if starts_at < now + timedelta(minutes=schedule.min_notice_minutes):
        notice = wording.minutes_words(schedule.min_notice_minutes)
        raise ServiceError(TOO_SOON.format(notice=notice), "too_soon", 422)
    assert schedule.horizon_end_at is not None  # loaded with `now`
    if starts_at >= schedule.horizon_end_at:
        raise ServiceError(TOO_FAR, "beyond_horizon", 422)
    free = is_open_slot(schedule, starts_at, lesson_minutes, busy=[], now=now)
    if free is None:
        raise ServiceError(NOT_OPEN, "not_open", 422)
    return free, schedule
