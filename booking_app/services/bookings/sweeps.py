"""Time passing: persist expiries and completions (the sweep's steps and the expiry effect)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ...domain.bookings import Status
from ...extensions import db
from ...models import Booking
from .. import clock
from ._writes import announce, expire_overdue, history, set_status


def expire_booking(booking_id: int, now: datetime | None = None) -> bool:
    """Persist one request's expiry if it is due (idempotent); return whether it changed."""
    now = now or clock.now()
    changed = expire_overdue(Booking.id == booking_id, now)
    db.session.commit()
    return changed > 0


def expire_due(now: datetime) -> int:
    """Persist every pending request past its expiry and notify its student."""
    changed = expire_overdue(sa.true(), now)
    db.session.commit()
    return changed


def complete_due(now: datetime) -> int:
    """Mark confirmed lessons that have ended as completed."""
    rows = db.session.scalars(
        sa.select(Booking).where(Booking.status == Status.CONFIRMED.value, Booking.ends_at <= now)
        .order_by(Booking.id).limit(1000)
    ).unique().all()
    done = 0
    for booking in rows:
        if set_status(booking, Status.CONFIRMED, Status.COMPLETED, "", now):
            history(booking, None, Status.CONFIRMED, Status.COMPLETED, "", now)
            announce(booking, "booking.completed")
            done += 1
    db.session.commit()
    return done


def expire_effect(payload: dict[str, Any]) -> None:
    """Effect handler: persist one request's expiry."""
    expire_booking(int(payload["booking_id"]))
