"""Changing a booking: confirm, decline, cancel, mark a no-show, move, and decline what availability no longer covers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from ... import wording
from ...domain import bookings as rules
from ...domain.bookings import Action, Status
from ...domain.slots import is_open_slot
from ...extensions import db
from ...models import Booking, User
from .. import ServiceError, clock, effects
from ..booking_filters import holds_slot
from ..notifications import notify
from ..slots import busy_intervals, load_schedule
from ..studio import get_studio
from ._writes import (
    LOCK_INSTRUCTOR,
    LOCK_STUDENT,
    announce,
    execute,
    expire_overdue,
    history,
    lock,
    set_status,
    slot_write,
    when,
)
from .queries import actor_for, facts, get_for, status_of


def refusal_sentence(refusal: rules.TransitionRefused) -> str:
    """Return the sentence a refused change shows: where the booking already is, or the rule's own sentence."""
    return wording.status_refusal(refusal.status) if refusal.status is not None else refusal.message


CHANGED_MEANWHILE = "This booking was changed a moment ago. Reload the page to see where it stands."



def confirm(user: User, booking_id: int, now: datetime | None = None) -> Booking:
    """Confirm a pending request (instructor or owner); a confirmed move cancels the original lesson."""
    return _transition(user, booking_id, Action.CONFIRM, "", now)


def decline(user: User, booking_id: int, reason: str = "", now: datetime | None = None) -> Booking:
    """Decline a pending request (instructor or owner), with an optional reason."""
    return _transition(user, booking_id, Action.DECLINE, reason, now)


def cancel(user: User, booking_id: int, reason: str = "", now: datetime | None = None) -> Booking:
    """Withdraw a request or cancel a lesson, as the cancellation policy allows."""
    return _transition(user, booking_id, Action.CANCEL, reason, now)


def mark_no_show(user: User, booking_id: int, now: datetime | None = None) -> Booking:
    """Mark a started lesson as a no-show (instructor or owner)."""
    return _transition(user, booking_id, Action.NO_SHOW, "", now)


def _transition(user: User, booking_id: int, action: Action, reason: str, now: datetime | None) -> Booking:
    now = now or clock.now()
    reason = (reason or "").strip()[:500]
    booking = get_for(user, booking_id)
    actor = actor_for(user)
    try:
        new = rules.next_status(
            facts(booking), action, actor, now=now, cancellation_window_hours=get_studio().cancellation_window_hours
        )
    except rules.TransitionRefused as refusal:
        db.session.rollback()
        raise ServiceError(refusal_sentence(refusal), refusal.code, 403 if refusal.code == "forbidden" else 409) from None
    old = Status(booking.status)
    if not set_status(booking, old, new, reason, now):
        db.session.rollback()
        raise ServiceError(CHANGED_MEANWHILE, "changed_meanwhile", 409)
    history(booking, user.id, old, new, reason, now)
    _tell_parties(booking, user, old, new, reason)
    announce(booking, f"booking.{new.value}")

    if new is Status.CONFIRMED and booking.reschedule_of_id:
        _cancel_original(booking, user, now)
    db.session.commit()
    return booking


ORIGINAL_NOT_CANCELLABLE = (
    "The lesson this request would move can no longer be cancelled ({why}), so the move cannot be confirmed. "
    "Decline the request instead."
)


def _cancel_original(moved: Booking, staff: User, now: datetime) -> None:
    original = db.session.get(Booking, moved.reschedule_of_id)
    if original is None or Status(original.status) is not Status.CONFIRMED:
        return  # the original was cancelled meanwhile; the new time simply stands
    note = f"Moved to {when(moved.starts_at, original.student)}."
    # The domain refuses a system cancel, so the confirming instructor or owner is the actor.
    try:
        new = rules.next_status(
            facts(original), Action.CANCEL, actor_for(staff), now=now,
            cancellation_window_hours=get_studio().cancellation_window_hours,
        )
    except rules.TransitionRefused as refusal:
        db.session.rollback()
        why = refusal_sentence(refusal).rstrip(".")
        raise ServiceError(
            ORIGINAL_NOT_CANCELLABLE.format(why=why[:1].lower() + why[1:]), "original_not_cancellable", 409
        ) from None
    if set_status(original, Status.CONFIRMED, new, note, now):
        history(original, staff.id, Status.CONFIRMED, new, note, now)
        for party in (original.student, original.instructor):
            whose = "Your lesson" if party.id == original.student_id else f"The lesson with {original.student.name}"
            notify(
                party.id, "booking.cancelled",
                f"{whose} on {when(original.starts_at, party)} was cancelled: "
                f"it moved to {when(moved.starts_at, party)}.",
                booking_id=original.id,
            )
        announce(original, "booking.cancelled")


def decline_uncovered(booking: Booking, now: datetime) -> bool:
    """Decline a pending request its instructor's availability no longer covers (the system acts; the caller commits).

    Return whether this call declined it: a request that expired or was answered meanwhile is left alone.
    """
    try:
        new = rules.next_status(
            facts(booking), Action.AUTO_DECLINE, rules.SYSTEM, now=now,
            cancellation_window_hours=get_studio().cancellation_window_hours,
        )
    except rules.TransitionRefused:
        return False
    reason = rules.AUTO_DECLINE_REASON
    if not set_status(booking, Status.PENDING, new, reason, now):
        return False
    history(booking, None, Status.PENDING, new, reason, now)
    # The instructor changed the availability themselves, so only the student is told (as in a normal decline).
    notify(
        booking.student_id, f"booking.{new.value}",
        f"Your request for {when(booking.starts_at, booking.student)} with {booking.instructor.name} "
        f"was declined. Reason: {reason}. Choose another time on the booking page.",
        booking_id=booking.id,
    )
    announce(booking, f"booking.{new.value}")
    return True


def cancel_for_leaver(leaver: User, booking: Booking, reason: str, now: datetime) -> bool:
    """Cancel a request or lesson ahead of a person deleting their account, whatever the window (the caller commits).

    The other person is told in the app and by the cancellation mail. Return whether this call cancelled it: one
    that started, expired or changed meanwhile is left alone.
    """
    try:
        new = rules.next_status(
            facts(booking), Action.CLOSE_ACCOUNT, actor_for(leaver), now=now,
            cancellation_window_hours=get_studio().cancellation_window_hours,
        )
    except rules.TransitionRefused:
        return False
    old = Status(booking.status)
    if not set_status(booking, old, new, reason, now):
        return False
    history(booking, leaver.id, old, new, reason, now)
    other = booking.instructor if leaver.id == booking.student_id else booking.student
    what = "request" if old is Status.PENDING else "lesson"
    # Said without the leaver's name: the account is being erased.
    notify(other.id, "booking.cancelled",
           f"Your {what} for {when(booking.starts_at, other)} was cancelled. Reason: {reason}", booking_id=booking.id)
    announce(booking, "booking.cancelled")
    return True


def move(user: User, booking_id: int, starts_at: datetime, now: datetime | None = None) -> Booking:
    """Move a pending or confirmed lesson to another open time directly (instructor or owner); tell the student."""
    now = now or clock.now()
    booking = get_for(user, booking_id)
    if user.id == booking.student_id or not (user.id == booking.instructor_id or user.is_owner):
        raise ServiceError(
            "Only the instructor can move a lesson directly. Ask to move it from the booking page instead.",
            "forbidden", 403,
        )
    status = status_of(booking, now)
    if status not in rules.ACTIVE_STATUSES or booking.starts_at <= now:
        raise ServiceError("Only a pending or confirmed lesson that has not started can be moved.", "not_movable", 409)
    if starts_at <= now:
        raise ServiceError(rules.PAST_START, "past", 422)
    instructor = booking.instructor
    old_start = booking.starts_at
    old_expires = booking.expires_at
    with slot_write():
        lock(LOCK_INSTRUCTOR, booking.instructor_id)
        lock(LOCK_STUDENT, booking.student_id)
        # Overdue pending rows still count for the database guarantee until they are persisted as expired.
        expire_overdue(Booking.instructor_id == booking.instructor_id, now)
        # Staff may move inside the minimum notice and past the horizon, but only onto their open time.
        schedule = replace(load_schedule(instructor), min_notice_minutes=0)
        length = booking.lesson_minutes
        pad = timedelta(minutes=schedule.buffer_minutes)
        busy = busy_intervals(
            booking.instructor_id, starts_at - pad - timedelta(days=1), starts_at + pad + timedelta(days=1), now,
            exclude=booking.id,
        )
        slot = is_open_slot(schedule, starts_at, length, busy=busy, now=now)
        if slot is None:
            raise ServiceError(
                f"There is no open {length}-minute slot at that time. Choose a time offered on the schedule.",
                "not_open", 422,
            )
        clash = db.session.scalar(
            sa.select(Booking.id).where(
                Booking.student_id == booking.student_id, Booking.id != booking.id, holds_slot(now),
                Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at,
            ).limit(1)
        )
        if clash is not None:
            raise ServiceError("The student has another session at that time. Choose another time.", "student_clash", 409)
        changed = execute(
            sa.update(Booking)
            .where(Booking.id == booking.id, Booking.status == status.value, Booking.starts_at == old_start)
            .values(starts_at=slot.starts_at, ends_at=slot.ends_at, updated_at=now,
                    expires_at=min(booking.expires_at, slot.starts_at))
            .execution_options(synchronize_session=False)
        )
        if not changed:
            raise ServiceError(CHANGED_MEANWHILE, "changed_meanwhile", 409)
        db.session.flush()
    db.session.expire(booking)
    note = f"Moved from {when(old_start, booking.student)} to {when(slot.starts_at, booking.student)}."
    history(booking, user.id, status, status, note, now)
    if status is Status.PENDING and booking.expires_at != old_expires:
        effects.schedule(
            "booking.expire", {"booking_id": booking.id}, due_at=booking.expires_at,
            dedupe_key=f"booking.expire:{booking.id}:{int(booking.expires_at.timestamp())}",
        )
    notify(booking.student_id, "booking.changed", f"{user.name} moved your lesson. {note}", booking_id=booking.id)
    announce(booking, "booking.changed")
    db.session.commit()
    return booking


def _tell_parties(booking: Booking, acting: User, old: Status, new: Status, reason: str) -> None:
    for party in (booking.student, booking.instructor):
        if party.id == acting.id:
            continue
        what = "lesson" if party.id == booking.student_id else f"lesson with {booking.student.name}"
        verb = wording.STATUS_VERBS.get(new.value, new.value)
        if new is Status.CANCELLED and acting.id == booking.student_id and old is Status.PENDING:
            verb, what = "withdrew", "request"
        text = f"{acting.name} {verb} the {what} for {when(booking.starts_at, party)}."
        if reason:
            text += f" Reason: {reason}"
        notify(party.id, f"booking.{new.value}", text, booking_id=booking.id)
