"""Doing what a mail's action link offers, as the person it was sent to, through the booking services' own rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import wording
from ..domain.bookings import ACTIVE_STATUSES, Status
from ..domain.mail_actions import MailAction, is_for
from ..extensions import db
from ..models import Booking, User
from . import ServiceError, action_tokens, clock
from . import bookings as booking_service


@dataclass(frozen=True)
class Opened:
    """A link that still works: the booking, the person acting and what stops the action now (None: nothing)."""

    action: MailAction
    booking: Booking
    user: User
    refusal: str | None


@dataclass(frozen=True)
class Done:
    """What an action link did: the booking it changed or created, and the sentence to show."""

    booking: Booking
    message: str


def _gone(message: str) -> ServiceError:
    return ServiceError(message, "gone", 410)


def open_link(action: MailAction, token: str | None, now: datetime | None = None) -> Opened:
    """Return what an action link opens, or raise 410 with a sentence when it is invalid, expired or used.

    A link is "used" when its action no longer applies: the request was answered, the lesson cancelled, a move
    already asked for. Reading changes nothing, so a mail scanner opening the link does no harm.
    """
    now = now or clock.now()
    ticket = action_tokens.read(action, token)
    if ticket is None:
        raise _gone(wording.ACTION_LINK_INVALID)
    booking = db.session.get(Booking, ticket.booking_id)
    user = db.session.get(User, ticket.user_id)
    if booking is None or user is None or not user.active or not is_for(
            action, user.id, booking.instructor_id, booking.student_id):
        raise _gone(wording.ACTION_LINK_INVALID)
    status = booking_service.status_of(booking, now)
    if action in (MailAction.ACCEPT, MailAction.DECLINE):
        if status is not Status.PENDING:
            raise _gone(wording.action_no_longer_applies(status.value))
    elif status not in ACTIVE_STATUSES or (action is MailAction.RESCHEDULE and status is not Status.CONFIRMED):
        raise _gone(wording.action_no_longer_applies(status.value))
    if now >= ticket.valid_until or booking.starts_at <= now:
        raise _gone(wording.ACTION_LINK_EXPIRED)
    if action is MailAction.RESCHEDULE and booking_service.pending_reschedule(booking, now) is not None:
        raise _gone(wording.ACTION_MOVE_ASKED)
    refusal = booking_service.window_refusal(user, booking, now) if action not in (
        MailAction.ACCEPT, MailAction.DECLINE) else None
    return Opened(action, booking, user, refusal)


def perform(action: MailAction, token: str | None, *, reason: str = "", starts_at: datetime | None = None,
            now: datetime | None = None) -> Done:
    """Do a link's action as the person it was sent to; the booking services check their rules and commit."""
    now = now or clock.now()
    opened = open_link(action, token, now)
    booking, user = opened.booking, opened.user
    other = booking.student if user.id == booking.instructor_id else booking.instructor
    if action is MailAction.ACCEPT:
        changed = booking_service.confirm(user, booking.id, now)
        return Done(changed, wording.ACTION_DONE["accept"].format(other=other.name))
    if action is MailAction.DECLINE:
        changed = booking_service.decline(user, booking.id, reason, now)
        return Done(changed, wording.ACTION_DONE["decline"].format(other=other.name))
    if action is MailAction.CANCEL:
        was_pending = booking_service.status_of(booking, now) is Status.PENDING
        changed = booking_service.cancel(user, booking.id, reason, now)
        return Done(changed, wording.ACTION_DONE["withdraw" if was_pending else "cancel"].format(other=other.name))
    if opened.refusal is not None:
        raise ServiceError(opened.refusal, "cancellation_window", 409)
    if starts_at is None:
        raise ServiceError(wording.ACTION_CHOOSE_TIME, "no_time", 422, field="start")
    requested = booking_service.request_booking(
        user, booking.instructor_id, starts_at, booking.lesson_minutes, now=now, reschedule_of_id=booking.id,
    )
    return Done(requested.booking, wording.ACTION_DONE["reschedule"].format(other=other.name))
