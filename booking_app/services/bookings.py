"""Booking workflow: request, confirm, decline, cancel, move, expire and complete lessons."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from ..domain import bookings as rules
from ..domain.bookings import Action, Actor, BookingFacts, Role, Status
from ..domain.slots import Slot, is_open_slot
from ..extensions import db
from ..models import Booking, BookingChange, User
from ..realtime import STUDIO_CHANNEL, calendar_channel, publish, user_channel
from . import ServiceError, clock, effects
from .notifications import notify
from .slots import active_bookings_filter, busy_intervals, horizon_end_at, load_rules
from .studio import get_studio

NOT_FOUND = "We could not find that booking. Check the link or open it from your bookings."
NO_INSTRUCTOR = "We could not find that instructor. Choose one from the list and try again."
NOT_OPEN = "That time is not an open slot. Select one of the times shown."
TOO_SOON = "That time is too close to book; lessons must be requested at least {notice} ahead. Select a later time."
TOO_FAR = "That time is beyond the booking horizon. Select an earlier date."
CHANGED_MEANWHILE = "This booking was changed a moment ago. Reload the page to see where it stands."
NOTES_TOO_LONG = "Keep the note under 1,000 characters and send the request again."
MAX_NOTES = 1000

# Two-key advisory locks: instructors and students in separate key spaces, always taken in that order.
_LOCK_INSTRUCTOR = 1
_LOCK_STUDENT = 2


@dataclass(frozen=True)
class Requested:
    """The outcome of a request: the booking, and whether this call created it."""

    booking: Booking
    created: bool


# --- reading -------------------------------------------------------------------------------------


def actor_for(user: User | None) -> Actor:
    """Return the domain actor for a signed-in user (None is the system)."""
    if user is None:
        return rules.SYSTEM
    return Actor(user_id=user.id, role=Role(user.role))


def facts(booking: Booking) -> BookingFacts:
    """Return the domain facts of a stored booking."""
    return BookingFacts(
        status=Status(booking.status),
        instructor_id=booking.instructor_id,
        student_id=booking.student_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        expires_at=booking.expires_at,
    )


def status_of(booking: Booking, now: datetime | None = None) -> Status:
    """Return the status every read shows: a pending request past its expiry reads as expired."""
    return rules.effective_status(Status(booking.status), booking.expires_at, booking.ends_at, now or clock.now())


def get_for(user: User, booking_id: int) -> Booking:
    """Return a booking the user may see, or raise a 404 ServiceError."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not rules.can_view(booking.instructor_id, booking.student_id, actor_for(user)):
        raise ServiceError(NOT_FOUND, "not_found", 404)
    return booking


def actions_for(user: User, booking: Booking, now: datetime | None = None) -> list[Action]:
    """Return the buttons this user may press on the booking now."""
    return rules.allowed_actions(
        facts(booking), actor_for(user), now=now or clock.now(),
        cancellation_window_hours=get_studio().cancellation_window_hours,
    )


def cancel_refusal(user: User, booking: Booking, now: datetime | None = None) -> str | None:
    """Return why this user may not cancel the active booking (the policy sentence), else None."""
    return rules.cancel_refusal_reason(
        facts(booking), actor_for(user), now=now or clock.now(),
        cancellation_window_hours=get_studio().cancellation_window_hours,
    )


def can_reschedule(user: User, booking: Booking, now: datetime | None = None) -> bool:
    """Return whether the user is the student and may still ask to move this confirmed lesson."""
    now = now or clock.now()
    return (
        user.id == booking.student_id
        and status_of(booking, now) is Status.CONFIRMED
        and cancel_refusal(user, booking, now) is None
        and pending_reschedule(booking, now) is None
    )


def pending_reschedule(booking: Booking, now: datetime | None = None) -> Booking | None:
    """Return the active request to move this booking, if there is one."""
    return db.session.scalar(
        sa.select(Booking).where(Booking.reschedule_of_id == booking.id, active_bookings_filter(now or clock.now()))
    )


def visible_filter(user: User) -> sa.ColumnElement[bool]:
    """Rows this user may see: the owner sees all, others their own as student or instructor."""
    if user.is_owner:
        return sa.true()
    return sa.or_(Booking.student_id == user.id, Booking.instructor_id == user.id)


def status_filter(status: Status, now: datetime) -> sa.ColumnElement[bool]:
    """Rows whose effective status is `status` at `now`."""
    if status is Status.PENDING:
        return sa.and_(Booking.status == "pending", Booking.expires_at > now)
    if status is Status.EXPIRED:
        return sa.or_(Booking.status == "expired", sa.and_(Booking.status == "pending", Booking.expires_at <= now))
    return Booking.status == status.value


def list_for(
    user: User,
    *,
    status: Status | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    upcoming_only: bool = False,
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Booking]:
    """Return the bookings the user may see, by start time, optionally filtered and paged.

    `upcoming_only` keeps the active ones (pending and unexpired, or confirmed) that have not ended.
    Without a `limit` every matching row is returned, so callers that need all active lessons get them all.
    """
    now = now or clock.now()
    query = sa.select(Booking).where(visible_filter(user))
    if status is not None:
        query = query.where(status_filter(status, now))
    if upcoming_only:
        query = query.where(active_bookings_filter(now), Booking.ends_at > now)
    if starts_from is not None:
        query = query.where(Booking.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(Booking.starts_at < starts_before)
    query = query.order_by(Booking.starts_at, Booking.id).offset(max(offset, 0))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query).unique())


# --- requesting ----------------------------------------------------------------------------------


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
    """Request an open slot as a pending booking; a repeated identical request returns the existing one."""
    now = now or clock.now()
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ServiceError(NOTES_TOO_LONG, "notes_too_long", 422, field="notes")
    try:
        rules.validate_request(instructor_id=instructor_id, student_id=student.id, starts_at=starts_at, now=now)
    except rules.RequestRefused as refusal:
        raise ServiceError(refusal.message, refusal.code, 422) from None
    instructor = db.session.get(User, instructor_id)
    if instructor is None or not instructor.teaches or not instructor.active:
        raise ServiceError(NO_INSTRUCTOR, "no_instructor", 422, field="instructor_id")

    with _slot_write():
        # A double click or retry: answer with the request already made, whatever the clock says now.
        existing = _existing(student.id, instructor_id, starts_at, lesson_minutes, now)
        if existing is not None:
            db.session.commit()
            return Requested(existing, created=False)
        # Rules and notice are read before the lock, so the lock is held only for the short write.
        slot, common = _rules_slot(instructor, starts_at, lesson_minutes, now)

        _lock(_LOCK_INSTRUCTOR, instructor_id)
        _lock(_LOCK_STUDENT, student.id)
        # Overdue pending rows still count for the database guarantee until they are persisted as expired.
        _expire(sa.and_(Booking.instructor_id == instructor_id), now)
        existing = _existing(student.id, instructor_id, starts_at, lesson_minutes, now)
        if existing is not None:
            db.session.commit()
            return Requested(existing, created=False)

        original = _check_reschedule(student, instructor_id, reschedule_of_id, now) if reschedule_of_id else None
        _check_free(instructor_id, slot, common, now)
        clash = db.session.scalar(
            sa.select(Booking.id).where(
                Booking.student_id == student.id,
                active_bookings_filter(now),
                Booking.starts_at < slot.ends_at,
                Booking.ends_at > slot.starts_at,
            ).limit(1)
        )
        if clash is not None:
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
            expires_at=rules.expires_at(now, slot.starts_at, get_studio().pending_expiry_hours),
            reschedule_of_id=original.id if original else None,
        )
        db.session.add(booking)
        db.session.flush()

    _history(booking, student.id, None, Status.PENDING, "Asked to move the lesson here." if original else "", now)
    effects.schedule(
        "booking.expire", {"booking_id": booking.id}, due_at=booking.expires_at,
        dedupe_key=f"booking.expire:{booking.id}:{int(booking.expires_at.timestamp())}",
    )
    what = "asked to move a lesson to" if original else "requested a lesson on"
    notify(
        instructor_id, "booking.requested",
        f"{student.name} {what} {_when(booking.starts_at, instructor)}.", booking_id=booking.id,
    )
    _announce(booking, "booking.requested")
    db.session.commit()
    return Requested(booking, created=True)


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
            active_bookings_filter(now),
        )
    )
    if existing is not None and lesson_minutes is not None and existing.ends_at != starts_at + timedelta(
        minutes=lesson_minutes
    ):
        raise ServiceError(OTHER_LENGTH, "other_length", 409)
    return existing


def _rules_slot(
    instructor: User, starts_at: datetime, lesson_minutes: int | None, now: datetime
) -> tuple[Slot, dict[str, Any]]:
    """Return the slot the instructor's rules offer at starts_at (ignoring bookings), or raise a 422."""
    rules_ = load_rules(instructor)
    if starts_at < now + timedelta(minutes=rules_.min_notice_minutes):
        raise ServiceError(TOO_SOON.format(notice=_duration(rules_.min_notice_minutes)), "too_soon", 422)
    horizon = horizon_end_at(rules_.tz, now)
    if starts_at >= horizon:
        raise ServiceError(TOO_FAR, "beyond_horizon", 422)
    common: dict[str, Any] = {
        "weekly": rules_.weekly, "one_time": rules_.one_time, "blocks": rules_.blocks, "tz": rules_.tz,
        "now": now, "buffer_minutes": rules_.buffer_minutes, "min_notice_minutes": rules_.min_notice_minutes,
        "horizon_end_at": horizon,
    }
    free = is_open_slot(starts_at, lesson_minutes, busy=[], **common)
    if free is None:
        raise ServiceError(NOT_OPEN, "not_open", 422)
    return free, common


def _check_free(instructor_id: int, slot: Slot, common: dict[str, Any], now: datetime) -> None:
    """Raise the slot-taken 409 when an active booking (widened by the buffer) overlaps the slot."""
    pad = timedelta(minutes=common["buffer_minutes"])
    busy = busy_intervals(instructor_id, slot.starts_at - pad, slot.ends_at + pad, now)
    if busy and is_open_slot(slot.starts_at, slot.lesson_minutes, busy=busy, **common) is None:
        raise ServiceError(rules.SLOT_TAKEN, "slot_taken", 409)


@contextmanager
def _slot_write() -> Iterator[None]:
    """Roll back a refused write; the database's overlap refusal (or a deadlock) becomes the slot-taken sentence."""
    try:
        yield
    except (IntegrityError, OperationalError) as exc:
        db.session.rollback()
        if _is_slot_conflict(exc):
            raise ServiceError(rules.SLOT_TAKEN, "slot_taken", 409) from None
        raise
    except ServiceError:
        db.session.rollback()
        raise


def _lock(space: int, key: int) -> None:
    # SQLite already serialises writers (BEGIN IMMEDIATE); PostgreSQL needs an explicit per-key lock
    # so the exclusion constraint never deadlocks under contention.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key})


def _is_slot_conflict(exc: IntegrityError | OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in ("23P01", "40P01"):
        return True
    return "booking_overlap" in str(exc.orig)


# --- changing ------------------------------------------------------------------------------------


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
        raise ServiceError(refusal.message, refusal.code, 403 if refusal.code == "forbidden" else 409) from None
    old = Status(booking.status)
    if not _set_status(booking, old, new, reason, now):
        db.session.rollback()
        raise ServiceError(CHANGED_MEANWHILE, "changed_meanwhile", 409)
    _history(booking, user.id, old, new, reason, now)
    _tell_parties(booking, user, old, new, reason)
    _announce(booking, f"booking.{new.value}")

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
    note = f"Moved to {_when(moved.starts_at, original.student)}."
    # The domain refuses a system cancel, so the confirming instructor or owner is the actor.
    try:
        new = rules.next_status(
            facts(original), Action.CANCEL, actor_for(staff), now=now,
            cancellation_window_hours=get_studio().cancellation_window_hours,
        )
    except rules.TransitionRefused as refusal:
        db.session.rollback()
        why = refusal.message.rstrip(".")
        raise ServiceError(
            ORIGINAL_NOT_CANCELLABLE.format(why=why[:1].lower() + why[1:]), "original_not_cancellable", 409
        ) from None
    if _set_status(original, Status.CONFIRMED, new, note, now):
        _history(original, staff.id, Status.CONFIRMED, new, note, now)
        for party in (original.student, original.instructor):
            whose = "Your lesson" if party.id == original.student_id else f"The lesson with {original.student.name}"
            notify(
                party.id, "booking.cancelled",
                f"{whose} on {_when(original.starts_at, party)} was cancelled: "
                f"it moved to {_when(moved.starts_at, party)}.",
                booking_id=original.id,
            )
        _announce(original, "booking.cancelled")


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
    if not _set_status(booking, Status.PENDING, new, reason, now):
        return False
    _history(booking, None, Status.PENDING, new, reason, now)
    # The instructor changed the availability themselves, so only the student is told (as in a normal decline).
    notify(
        booking.student_id, f"booking.{new.value}",
        f"Your request for {_when(booking.starts_at, booking.student)} with {booking.instructor.name} "
        f"was declined. Reason: {reason}. Choose another time on the booking page.",
        booking_id=booking.id,
    )
    _announce(booking, f"booking.{new.value}")
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
    with _slot_write():
        _lock(_LOCK_INSTRUCTOR, booking.instructor_id)
        _lock(_LOCK_STUDENT, booking.student_id)
        # Overdue pending rows still count for the database guarantee until they are persisted as expired.
        _expire(Booking.instructor_id == booking.instructor_id, now)
        rules_ = load_rules(instructor)
        length = booking.lesson_minutes
        pad = timedelta(minutes=rules_.buffer_minutes)
        busy = busy_intervals(
            booking.instructor_id, starts_at - pad - timedelta(days=1), starts_at + pad + timedelta(days=1), now,
            exclude=booking.id,
        )
        # Staff may move inside the minimum notice and past the horizon, but only onto their open time.
        slot = is_open_slot(
            starts_at, length, weekly=rules_.weekly, one_time=rules_.one_time, blocks=rules_.blocks, busy=busy,
            tz=rules_.tz, now=now, buffer_minutes=rules_.buffer_minutes, min_notice_minutes=0,
        )
        if slot is None:
            raise ServiceError(
                f"There is no open {length}-minute slot at that time. Choose a time offered on the schedule.",
                "not_open", 422,
            )
        clash = db.session.scalar(
            sa.select(Booking.id).where(
                Booking.student_id == booking.student_id, Booking.id != booking.id, active_bookings_filter(now),
                Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at,
            ).limit(1)
        )
        if clash is not None:
            raise ServiceError("The student has another session at that time. Choose another time.", "student_clash", 409)
        changed = _execute(
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
    note = f"Moved from {_when(old_start, booking.student)} to {_when(slot.starts_at, booking.student)}."
    _history(booking, user.id, status, status, note, now)
    if status is Status.PENDING and booking.expires_at != old_expires:
        effects.schedule(
            "booking.expire", {"booking_id": booking.id}, due_at=booking.expires_at,
            dedupe_key=f"booking.expire:{booking.id}:{int(booking.expires_at.timestamp())}",
        )
    notify(booking.student_id, "booking.changed", f"{user.name} moved your lesson. {note}", booking_id=booking.id)
    _announce(booking, "booking.changed")
    db.session.commit()
    return booking


# --- time passing --------------------------------------------------------------------------------


def expire_booking(booking_id: int, now: datetime | None = None) -> bool:
    """Persist one request's expiry if it is due (idempotent); return whether it changed."""
    now = now or clock.now()
    changed = _expire(Booking.id == booking_id, now)
    db.session.commit()
    return changed > 0


def expire_due(now: datetime) -> int:
    """Persist every pending request past its expiry and notify its student."""
    changed = _expire(sa.true(), now)
    db.session.commit()
    return changed


def complete_due(now: datetime) -> int:
    """Mark confirmed lessons that have ended as completed."""
    rows = db.session.scalars(
        sa.select(Booking).where(Booking.status == "confirmed", Booking.ends_at <= now).order_by(Booking.id).limit(1000)
    ).unique().all()
    done = 0
    for booking in rows:
        if _set_status(booking, Status.CONFIRMED, Status.COMPLETED, "", now):
            _history(booking, None, Status.CONFIRMED, Status.COMPLETED, "", now)
            _announce(booking, "booking.completed")
            done += 1
    db.session.commit()
    return done


def expire_effect(payload: dict[str, Any]) -> None:
    """Effect handler: persist one request's expiry."""
    expire_booking(int(payload["booking_id"]))


def _expire(where: sa.ColumnElement[bool], now: datetime) -> int:
    rows = db.session.scalars(
        sa.select(Booking).where(where, Booking.status == "pending", Booking.expires_at <= now).order_by(Booking.id)
    ).unique().all()
    done = 0
    for booking in rows:
        if _set_status(booking, Status.PENDING, Status.EXPIRED, "", now):
            _history(booking, None, Status.PENDING, Status.EXPIRED, "", now)
            notify(
                booking.student_id, "booking.expired",
                f"Your request for {_when(booking.starts_at, booking.student)} with {booking.instructor.name} "
                "expired without an answer. Choose another time on the booking page.",
                booking_id=booking.id,
            )
            _announce(booking, "booking.expired")
            done += 1
    return done


# --- helpers -------------------------------------------------------------------------------------


def _set_status(booking: Booking, old: Status, new: Status, reason: str, now: datetime) -> bool:
    # A conditional update makes exactly one of two racing changes win (confirm vs. withdraw).
    changed = _execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.status == old.value)
        .values(status=new.value, decided_at=now, updated_at=now, status_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if changed:
        db.session.expire(booking, ["status", "decided_at", "updated_at", "status_reason"])
    return bool(changed)


def _execute(statement: sa.Update) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result = cast("sa.CursorResult[Any]", db.session.execute(statement))
    return int(result.rowcount or 0)


def _history(booking: Booking, actor_id: int | None, old: Status | None, new: Status, note: str, now: datetime) -> None:
    db.session.add(BookingChange(
        booking_id=booking.id, actor_id=actor_id, from_status=old.value if old else None,
        to_status=new.value, note=note[:500], at=now,
    ))


_VERBS = {
    Status.CONFIRMED: "confirmed", Status.DECLINED: "declined", Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "marked as a no-show",
}


def _tell_parties(booking: Booking, acting: User, old: Status, new: Status, reason: str) -> None:
    for party in (booking.student, booking.instructor):
        if party.id == acting.id:
            continue
        what = "lesson" if party.id == booking.student_id else f"lesson with {booking.student.name}"
        verb = _VERBS.get(new, new.value)
        if new is Status.CANCELLED and acting.id == booking.student_id and old is Status.PENDING:
            verb, what = "withdrew", "request"
        text = f"{acting.name} {verb} the {what} for {_when(booking.starts_at, party)}."
        if reason:
            text += f" Reason: {reason}"
        notify(party.id, f"booking.{new.value}", text, booking_id=booking.id)


def _announce(booking: Booking, type_: str) -> None:
    data = {
        "booking_id": booking.id, "status": type_.split(".", 1)[1] if type_ != "booking.changed" else booking.status,
        "instructor_id": booking.instructor_id, "student_id": booking.student_id,
    }
    publish([user_channel(booking.student_id), user_channel(booking.instructor_id), STUDIO_CHANNEL], type_, data)
    # Calendars are public: only say whose slots changed.
    publish([calendar_channel(booking.instructor_id)], type_, {"instructor_id": booking.instructor_id})


def _when(instant: datetime, viewer: User) -> str:
    local = instant.astimezone(ZoneInfo(viewer.timezone or "UTC"))
    return f"{local:%a} {local.day} {local:%b} at {local:%-I:%M %p} ({local.tzname()})"


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return f"{minutes} minutes"
