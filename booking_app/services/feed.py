"""The private calendar feed: a secret URL per user listing their pending and confirmed lessons."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Booking, User
from . import clock
from .booking_filters import holds_slot

FEED_PAST = timedelta(days=60)


def enable_feed(user: User) -> str:
    """Give the user a new secret feed token (an earlier URL stops working); return it."""
    user.feed_token = secrets.token_urlsafe(32)
    db.session.commit()
    return user.feed_token


def revoke_feed(user: User) -> None:
    """Turn the user's feed off; its URL stops working at once."""
    user.feed_token = None
    db.session.commit()


def user_for_feed(token: str) -> User | None:
    """Return the active user whose feed token this is."""
    if not token:
        return None
    user = db.session.scalar(sa.select(User).where(User.feed_token == token))
    return user if user is not None and user.active else None


def feed_bookings(user: User) -> list[Booking]:
    """Return the user's pending (not expired) and confirmed lessons from 60 days ago on, as teacher or student."""
    now = clock.now()
    return list(db.session.scalars(
        sa.select(Booking)
        .where(
            sa.or_(Booking.student_id == user.id, Booking.instructor_id == user.id),
            holds_slot(now),
            Booking.ends_at > now - FEED_PAST,
        )
        .order_by(Booking.starts_at)
        .options(selectinload(Booking.history))
    ).unique())
