"""In-app notifications: written inside the caller's transaction and announced live after commit."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Notification, User
from ..realtime import publish, touch_headers, user_channel
from . import clock

# Notification kinds that also send an email (template names in services/mail.py).
MAIL_FOR_KIND = {
    "booking.requested": "request_received",
    "booking.confirmed": "booking_confirmed",
    "booking.declined": "booking_declined",
    "booking.expired": "booking_expired",
    "booking.cancelled": "booking_cancelled",
    "booking.changed": "booking_moved",
    "booking.booked": "booking_booked",  # staff booked a student in (services/bookings/staff.py)
    "booking.lesson_summary": "lesson_summary",
    # A weekly series: one mail per action, whatever the number of its lessons.
    "series.requested": "series_requested",
    "series.booked": "series_booked",
    "series.confirmed": "series_decided",
    "series.declined": "series_decided",
    "series.cancelled": "series_cancelled",
    "series.expired": "series_expired",
}


def notify(user_id: int, kind: str, text: str, *, booking_id: int | None = None, flush: bool = True) -> Notification:
    """Add a notification (and its email, if it has one) for a user to the current transaction (the caller commits).

    With flush=False the rows are written with the caller's next flush (one round trip for many rows).
    """
    note = Notification(user_id=user_id, kind=kind, text=text[:500], booking_id=booking_id, created_at=clock.now())
    db.session.add(note)
    data: dict[str, Any] = {"id": None, "kind": kind, "text": note.text, "booking_id": booking_id}
    if flush:
        db.session.flush()
        data["id"] = note.id
    else:
        db.session.info.setdefault("unflushed_notes", []).append((note, data))
    template = MAIL_FOR_KIND.get(kind)
    if template is not None and booking_id is not None:
        from .mail import queue_mail

        queue_mail(user_id, template, booking_id, flush=flush)
    publish([user_channel(user_id)], "notification.created", data)
    return note


@sa_event.listens_for(Session, "after_flush_postexec")
def _name_flushed(session: Session, _context: Any) -> None:
    # The live event names the notification by its id, known once its row is written.
    for note, data in session.info.pop("unflushed_notes", None) or ():
        data["id"] = note.id


def unread_count(user: User) -> int:
    """Return how many of the user's notifications are unread."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ) or 0


def recent(user: User, limit: int = 20) -> list[Notification]:
    """Return the user's newest notifications, newest first."""
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    result = cast(
        "sa.CursorResult[Any]",
        db.session.execute(
            sa.update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=clock.now())
        ),
    )
    touch_headers([user.id])
    db.session.commit()
    return int(result.rowcount or 0)


def mark_read(user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read and return it; None when it is not theirs."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        return None
    if note.read_at is None:
        note.read_at = clock.now()
        touch_headers([user.id])
    db.session.commit()
    return note
