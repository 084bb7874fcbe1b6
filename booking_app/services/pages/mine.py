"""The "My bookings" page's model: requests to answer, every upcoming lesson, then a page of the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ...domain.bookings import Status, effective_status
from ...extensions import db
from ...models import Booking, User
from .. import bookings as booking_service
from ..booking_filters import holds_slot

PAST_PER_PAGE = 50


@dataclass
class MyBookings:
    """The viewer's bookings in three parts, with each shown booking's effective status."""

    to_answer: list[Booking]
    upcoming: list[Booking]
    past: list[Booking]
    past_total: int
    page: int
    pages: int
    statuses: dict[int, str]

    @property
    def past_first(self) -> int:
        """Return the position of the first past booking on this page, counting from 1."""
        return (self.page - 1) * PAST_PER_PAGE + 1


def _answerable(viewer: User, now: datetime) -> sa.ColumnElement[bool]:
    teaches = sa.true() if viewer.is_owner else Booking.instructor_id == viewer.id
    return sa.and_(Booking.status == "pending", Booking.expires_at > now, Booking.student_id != viewer.id, teaches)


def my_bookings(viewer: User, page: int | None, now: datetime) -> MyBookings:
    """Return the viewer's requests to answer (oldest first), upcoming lessons (soonest first) and past page."""
    visible = booking_service.visible_filter(viewer)
    answer = _answerable(viewer, now)
    coming = sa.and_(sa.not_(answer), holds_slot(now), Booking.ends_at > now)
    rest = sa.and_(sa.not_(answer), sa.not_(coming))
    to_answer = list(db.session.scalars(
        sa.select(Booking).where(visible, answer).order_by(Booking.created_at, Booking.id)).unique())
    upcoming = list(db.session.scalars(
        sa.select(Booking).where(visible, coming).order_by(Booking.starts_at, Booking.id)).unique())
    past_total = int(db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(visible, rest)) or 0)
    pages = max(1, -(-past_total // PAST_PER_PAGE))
    number = min(max(page or 1, 1), pages)
    past = list(db.session.scalars(
        sa.select(Booking).where(visible, rest).order_by(Booking.starts_at.desc(), Booking.id.desc())
        .limit(PAST_PER_PAGE).offset((number - 1) * PAST_PER_PAGE)).unique())
    statuses = {
        b.id: effective_status(Status(b.status), b.expires_at, b.ends_at, now).value
        for b in (*to_answer, *upcoming, *past)
    }
    return MyBookings(to_answer, upcoming, past, past_total, number, pages, statuses)
