"""Reading bookings: who may see which, the status every read shows, and the actions open to a user."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ...domain import bookings as rules
from ...domain.bookings import Action, Actor, BookingFacts, Role, Status
from ...extensions import db
from ...models import Booking, User
from .. import ServiceError, clock
from ..booking_filters import active_ahead, holds_slot, status_filter
from ..studio import get_studio

NOT_FOUND = "We could not find that booking. Check the link or open it from your bookings."


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


def window_refusal(user: User, booking: Booking, now: datetime | None = None) -> str | None:
    """Return the cancellation-window sentence when that policy is what stops this user cancelling, else None."""
    refusal = rules.cancel_refused(
        facts(booking), actor_for(user), now=now or clock.now(),
        cancellation_window_hours=get_studio().cancellation_window_hours,
    )
    return refusal.message if refusal is not None and refusal.code == "cancellation_window" else None


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
        sa.select(Booking).where(Booking.reschedule_of_id == booking.id, holds_slot(now or clock.now()))
    )


def visible_filter(user: User) -> sa.ColumnElement[bool]:
    """Rows this user may see: the owner sees all, others their own as student or instructor."""
    if user.is_owner:
        return sa.true()
    return sa.or_(Booking.student_id == user.id, Booking.instructor_id == user.id)


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
        query = query.where(active_ahead(now))
    if starts_from is not None:
        query = query.where(Booking.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(Booking.starts_at < starts_before)
    query = query.order_by(Booking.starts_at, Booking.id).offset(max(offset, 0))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query).unique())
