"""Signed links in booking mails: one token per action, booking and recipient, good until the action's time is up.

A token is signed with SECRET_KEY under one salt per action, so a token made for one action is refused by every
other; it holds the booking, the recipient and its expiry, so it opens nothing else. Nothing is stored: whether
a link was used is read from the booking itself (an answered request no longer takes an answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from .. import wording
from ..domain import bookings as rules
from ..domain.mail_actions import MailAction, is_for, valid_until
from ..extensions import db
from ..models import Booking, User
from . import clock
from .booking_filters import holds_slot
from .studio import get_studio

MAX_TOKEN_LENGTH = 400  # a real token is about 110 characters


@dataclass(frozen=True)
class Ticket:
    """What a well-signed token says: who may do which action to which booking, until when."""

    action: MailAction
    booking_id: int
    user_id: int
    valid_until: datetime


@dataclass(frozen=True)
class MailLink:
    """A link a mail shows: its label, its address and whether it is the main button."""

    action: str
    label: str
    url: str
    primary: bool


@dataclass(frozen=True)
class MailActions:
    """The action links of one mail, or the policy sentence that replaces Cancel inside the window."""

    links: list[MailLink]
    policy: str | None = None


def _serializer(action: MailAction) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"booking-mail-action:{action.value}")


def sign(action: MailAction, booking: Booking, user: User) -> str:
    """Return the token for one action on one booking by one person, good until the action's time is up."""
    until = valid_until(action, booking.starts_at, booking.expires_at)
    payload = {"a": action.value, "b": booking.id, "u": user.id, "x": int(until.timestamp())}
    return str(_serializer(action).dumps(payload))


def read(action: MailAction, token: str | None) -> Ticket | None:
    """Return what a token says when it is well signed for this action, else None (expiry is not checked here)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload: Any = _serializer(action).loads(token)
    except BadData:
        return None
    if not isinstance(payload, dict) or payload.get("a") != action.value:
        return None
    values = [v for v in (payload.get(key) for key in ("b", "u", "x"))
              if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**40]
    if len(values) != 3:
        return None
    booking_id, user_id, until = values
    return Ticket(action, booking_id, user_id, datetime.fromtimestamp(until, UTC))


def link_path(action: MailAction, token: str) -> str:
    """Return the path an action link opens."""
    return f"/act/{action.value}/{token}"


def url(action: MailAction, booking: Booking, user: User) -> str:
    """Return the full address of an action link, for a mail."""
    return current_app.config["BASE_URL"] + link_path(action, sign(action, booking, user))


def _facts(booking: Booking) -> rules.BookingFacts:
    return rules.BookingFacts(
        status=rules.Status(booking.status), instructor_id=booking.instructor_id, student_id=booking.student_id,
        starts_at=booking.starts_at, ends_at=booking.ends_at, expires_at=booking.expires_at,
    )


def move_requested(booking: Booking, now: datetime) -> bool:
    """Return whether an active request to move this booking exists."""
    return db.session.scalar(
        sa.select(Booking.id).where(Booking.reschedule_of_id == booking.id, holds_slot(now)).limit(1)
    ) is not None


def for_mail(template: str, booking: Booking, recipient: User, now: datetime | None = None) -> MailActions:
    """Return the action links a booking mail carries for its recipient (none for most mails)."""
    now = now or clock.now()
    if template == "request_received" and is_for(MailAction.ACCEPT, recipient.id, booking.instructor_id,
                                                  booking.student_id):
        return MailActions([
            MailLink("accept", wording.MAIL_ACTION_LABELS["accept"], url(MailAction.ACCEPT, booking, recipient), True),
            MailLink("decline", wording.MAIL_ACTION_LABELS["decline"], url(MailAction.DECLINE, booking, recipient),
                     False),
        ])
    if template not in ("booking_confirmed", "booking_booked", "reminder_24h", "reminder_1h") or recipient.id != booking.student_id:
        return MailActions([])
    refusal = rules.cancel_refused(
        _facts(booking), rules.Actor(recipient.id, rules.Role(recipient.role)), now=now,
        cancellation_window_hours=get_studio().cancellation_window_hours,
    )
    if refusal is not None:
        # Inside the window neither cancelling nor moving is open to the student: the policy says why.
        return MailActions([], refusal.message if refusal.code == "cancellation_window" else None)
    links = [MailLink("cancel", wording.MAIL_ACTION_LABELS["cancel"], url(MailAction.CANCEL, booking, recipient),
                      False)]
    if not move_requested(booking, now):
        links.insert(0, MailLink("reschedule", wording.MAIL_ACTION_LABELS["reschedule"],
                                 url(MailAction.RESCHEDULE, booking, recipient), False))
    return MailActions(links)
