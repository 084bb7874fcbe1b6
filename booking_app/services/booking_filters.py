"""SQL over bookings in one place: which rows hold their slot at `now`, and the status every read shows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from ..domain.bookings import Status
from ..models import Booking


def open_request(now: datetime) -> sa.ColumnElement[bool]:
    """Rows that are pending and not yet past their expiry at `now`."""
    return sa.and_(Booking.status == Status.PENDING.value, Booking.expires_at > now)


def overdue_request(now: datetime) -> sa.ColumnElement[bool]:
    """Rows still stored as pending although their expiry has passed (they read as expired)."""
    return sa.and_(Booking.status == Status.PENDING.value, Booking.expires_at <= now)


def holds_slot(now: datetime) -> sa.ColumnElement[bool]:
    """Rows that hold their time at `now`: confirmed, or pending and not yet past expiry."""
    return sa.or_(Booking.status == Status.CONFIRMED.value, open_request(now))


def active_ahead(now: datetime) -> sa.ColumnElement[bool]:
    """Rows that hold their time at `now` and have not ended."""
    return sa.and_(holds_slot(now), Booking.ends_at > now)


def effective_status(now: datetime) -> sa.ColumnElement[str]:
    """The status every read shows, as SQL: a pending row past its expiry reads as expired."""
    return sa.case((overdue_request(now), sa.literal(Status.EXPIRED.value)), else_=Booking.status)


def status_filter(status: Status, now: datetime) -> sa.ColumnElement[bool]:
    """Rows whose effective status is `status` at `now` (written so the status index still applies)."""
    if status is Status.PENDING:
        return open_request(now)
    if status is Status.EXPIRED:
        return sa.or_(Booking.status == Status.EXPIRED.value, overdue_request(now))
    return Booking.status == status.value


def status_in(statuses: Iterable[Status], now: datetime) -> sa.ColumnElement[bool]:
    """Rows whose effective status is any of `statuses` at `now`."""
    return sa.or_(*(status_filter(status, now) for status in statuses))
