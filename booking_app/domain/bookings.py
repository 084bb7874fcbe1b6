"""Booking state machine: who may move a booking to which status, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum, auto


class Status(StrEnum):
    """Where a booking is in its life."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


ACTIVE_STATUSES: frozenset[Status] = frozenset({Status.PENDING, Status.CONFIRMED})


class Action(StrEnum):
    """Something a person or the worker does to a booking."""

    CONFIRM = "confirm"
    DECLINE = "decline"
    CANCEL = "cancel"
    EXPIRE = "expire"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    AUTO_DECLINE = "auto_decline"
    # The person's account is being deleted: their requests and lessons ahead go, whatever the window.
    CLOSE_ACCOUNT = "close_account"


class Role(StrEnum):
    """A user's role in the studio."""

    OWNER = "owner"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


SLOT_TAKEN = "This time is no longer available. Select another."
STUDENT_CLASH = "You have another session at this time."
AUTO_DECLINE_REASON = "Instructor availability changed"

FORBIDDEN = "You cannot change this booking."
REQUEST_EXPIRED = "This request has expired."
ALREADY_STARTED = "This lesson has already started."
NO_SHOW_TOO_EARLY = "You can mark a no-show once the lesson has started."
SELF_BOOKING = "You cannot book a lesson with yourself."
PAST_START = "That time has already passed. Select another."

# The buttons a person can press; the rest are done by the worker.
USER_ACTIONS: tuple[Action, ...] = (Action.CONFIRM, Action.DECLINE, Action.CANCEL, Action.NO_SHOW)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the system when `user_id` is None."""

    user_id: int | None  # None is the system (the worker)
    role: Role | None


SYSTEM = Actor(user_id=None, role=None)


@dataclass(frozen=True, slots=True)
class BookingFacts:
    """The facts about a stored booking that its rules depend on."""

    status: Status
    instructor_id: int
    student_id: int
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


class BookingRefused(Exception):
    """A booking rule said no; `message` is the sentence to show, `code` is stable for the API."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TransitionRefused(BookingRefused):
    """An action on an existing booking is not allowed.

    A refusal because of where the booking already is (code "not_allowed") carries that `status`; the services
    say its sentence through the wording module, so `message` is then only the status value.
    """

    def __init__(self, message: str, code: str, status: Status | None = None) -> None:
        super().__init__(message, code)
        self.status = status


class RequestRefused(BookingRefused):
    """A new booking request is not allowed."""


class _Party(Enum):
    SYSTEM = auto()
    STUDENT = auto()
    STAFF = auto()  # the booking's instructor, or the owner
    STRANGER = auto()


_PERMITTED: dict[_Party, frozenset[Action]] = {
    _Party.SYSTEM: frozenset({Action.EXPIRE, Action.COMPLETE, Action.AUTO_DECLINE}),
    _Party.STAFF: frozenset({Action.CONFIRM, Action.DECLINE, Action.CANCEL, Action.NO_SHOW, Action.CLOSE_ACCOUNT}),
    _Party.STUDENT: frozenset({Action.CANCEL, Action.CLOSE_ACCOUNT}),
    _Party.STRANGER: frozenset(),
}


def expires_at(created_at: datetime, starts_at: datetime, expiry_hours: int) -> datetime:
    """Return when a pending request expires: created + expiry hours or the lesson start, whichever is first."""
    _require_aware(created_at, starts_at)
    return min(created_at + timedelta(hours=expiry_hours), starts_at)


def effective_status(status: Status, expires_at: datetime, ends_at: datetime, now: datetime) -> Status:
    """Return the status every read should show: a pending request past its expiry reads as expired."""
    # A confirmed lesson past `ends_at` stays confirmed: completion (or a no-show) is decided by the
    # sweep or the instructor, so `ends_at` deliberately changes nothing here.
    if status is Status.PENDING and now >= expires_at:
        return Status.EXPIRED
    return status


def is_active(status: Status, expires_at: datetime, now: datetime) -> bool:
    """Return whether the booking still holds its slot (pending and unexpired, or confirmed)."""
    if status is Status.PENDING:
        return now < expires_at
    return status in ACTIVE_STATUSES


def next_status(
    booking: BookingFacts,
    action: Action,
    actor: Actor,
    *,
    now: datetime,
    cancellation_window_hours: int,
) -> Status:
    """Return the status an action leads to, or raise TransitionRefused with the sentence to show."""
    _require_aware(now, booking.starts_at, booking.ends_at, booking.expires_at)
    if action not in _PERMITTED[_party(booking, actor)]:
        raise TransitionRefused(FORBIDDEN, "forbidden")
    if action is Action.CLOSE_ACCOUNT and actor.user_id not in (booking.instructor_id, booking.student_id):
        raise TransitionRefused(FORBIDDEN, "forbidden")  # only the person leaving, not the owner on their behalf

    if action is Action.EXPIRE and booking.status is Status.PENDING:
        if now < booking.expires_at:
            raise TransitionRefused("This request has not expired yet.", "too_early")
        return Status.EXPIRED

    status = effective_status(booking.status, booking.expires_at, booking.ends_at, now)
    if status is Status.EXPIRED:
        raise TransitionRefused(REQUEST_EXPIRED, "expired")

    if status is Status.PENDING:
        if action is Action.CONFIRM:
            return Status.CONFIRMED
        if action in (Action.DECLINE, Action.AUTO_DECLINE):
            return Status.DECLINED
        if action in (Action.CANCEL, Action.CLOSE_ACCOUNT):
            return Status.CANCELLED

    if status is Status.CONFIRMED:
        if action is Action.CLOSE_ACCOUNT:
            if now >= booking.starts_at:
                raise TransitionRefused(ALREADY_STARTED, "already_started")
            return Status.CANCELLED
        if action is Action.CANCEL:
            return _cancel_confirmed(booking, actor, now, cancellation_window_hours)
        if action is Action.NO_SHOW:
            if now < booking.starts_at:
                raise TransitionRefused(NO_SHOW_TOO_EARLY, "too_early")
            return Status.NO_SHOW
        if action is Action.COMPLETE:
            if now < booking.ends_at:
                raise TransitionRefused("This lesson has not ended yet.", "too_early")
            return Status.COMPLETED

    # The sweep completes lessons a minute after they end, so staff may still record a no-show afterwards.
    if status is Status.COMPLETED and action is Action.NO_SHOW:
        if now < booking.starts_at:
            raise TransitionRefused(NO_SHOW_TOO_EARLY, "too_early")
        return Status.NO_SHOW

    raise TransitionRefused(status.value, "not_allowed", status=status)


def allowed_actions(
    booking: BookingFacts,
    actor: Actor,
    *,
    now: datetime,
    cancellation_window_hours: int,
) -> list[Action]:
    """Return the user-facing actions (confirm, decline, cancel, no_show) this actor may take now."""
    allowed = []
    for action in USER_ACTIONS:
        try:
            next_status(booking, action, actor, now=now, cancellation_window_hours=cancellation_window_hours)
        except TransitionRefused:
            continue
        allowed.append(action)
    return allowed


def cancel_refused(
    booking: BookingFacts,
    actor: Actor,
    *,
    now: datetime,
    cancellation_window_hours: int,
) -> TransitionRefused | None:
    """Return the refusal this actor meets when cancelling an active booking (its code says which rule), else None."""
    if not is_active(booking.status, booking.expires_at, now):
        return None
    try:
        next_status(booking, Action.CANCEL, actor, now=now, cancellation_window_hours=cancellation_window_hours)
    except TransitionRefused as refusal:
        return refusal
    return None


def cancel_refusal_reason(
    booking: BookingFacts,
    actor: Actor,
    *,
    now: datetime,
    cancellation_window_hours: int,
) -> str | None:
    """Return the sentence explaining why this actor may not cancel an active booking, else None."""
    refusal = cancel_refused(booking, actor, now=now, cancellation_window_hours=cancellation_window_hours)
    return refusal.message if refusal else None
    try:
        next_status(
            booking,
            Action.CANCEL,
            actor,
            now=now,
            cancellation_window_hours=cancellation_window_hours,
        )
    except TransitionRefused as refusal:
        return refusal.message
    return None


def can_view(booking_instructor_id: int, booking_student_id: int, actor: Actor) -> bool:
    """Return whether the actor may see the booking: the owner sees all, others only their own."""
    if actor.user_id is None:
        return False
    if actor.role is Role.OWNER:
        return True
    return actor.user_id in (booking_instructor_id, booking_student_id)


def validate_request(*, instructor_id: int, student_id: int, starts_at: datetime, now: datetime) -> None:
    """Raise RequestRefused when a student may not request this lesson at all."""
    _require_aware(starts_at, now)
    if instructor_id == student_id:
        raise RequestRefused(SELF_BOOKING, "self_booking")
    if starts_at <= now:
        raise RequestRefused(PAST_START, "past")


def cancellation_window_sentence(cancellation_window_hours: int) -> str:
    """Return the policy sentence shown when a student is inside the cancellation window."""
    unit = "hour" if cancellation_window_hours == 1 else "hours"
    return f"Cannot cancel within {cancellation_window_hours} {unit} of start time. Contact your instructor."


def _party(booking: BookingFacts, actor: Actor) -> _Party:
    # Identity first: an instructor (or owner) who booked a lesson with someone else is that
    # booking's student and must not confirm their own request.
    if actor.user_id is None:
        return _Party.SYSTEM
    if actor.user_id == booking.student_id:
        return _Party.STUDENT
    if actor.user_id == booking.instructor_id or actor.role is Role.OWNER:
        return _Party.STAFF
    return _Party.STRANGER


def _cancel_confirmed(
    booking: BookingFacts, actor: Actor, now: datetime, cancellation_window_hours: int
) -> Status:
    if now >= booking.starts_at:
        raise TransitionRefused(ALREADY_STARTED, "already_started")
    is_student = _party(booking, actor) is _Party.STUDENT
    window = timedelta(hours=cancellation_window_hours)
    if is_student and booking.starts_at - now <= window:
        raise TransitionRefused(
            cancellation_window_sentence(cancellation_window_hours), "cancellation_window"
        )
    return Status.CANCELLED


def _require_aware(*moments: datetime) -> None:
    # Naive datetimes compare without error and silently give wrong answers, so refuse them.
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("Booking times must be timezone-aware UTC datetimes.")
