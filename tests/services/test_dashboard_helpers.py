"""Shared set-up for the dashboard tests: bookings in any state, and a statement counter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Booking, User
from tests.booking_helpers import NOW


def make_booking(
    instructor: User, student: User, starts_at: datetime, status: str = "pending", *, minutes: int = 60,
    created_at: datetime | None = None, expires_at: datetime | None = None, reason: str = "", notes: str = "",
    decided_at: datetime | None = None,
) -> Booking:
    """Store a booking in a given state directly (set-up only; the workflow itself is tested elsewhere)."""
    created_at = created_at or NOW - timedelta(minutes=30)
    booking = Booking(
        instructor_id=instructor.id, student_id=student.id, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes), status=status, notes=notes, created_at=created_at,
        updated_at=created_at, expires_at=expires_at or min(created_at + timedelta(hours=4), starts_at),
        status_reason=reason, decided_at=decided_at,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


class StatementCounter:
    """Count the SQL statements the app sends while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def queries(self) -> list[str]:
        """The statements without transaction control (SQLite's BEGIN and BEGIN IMMEDIATE, sent by the app itself)."""
        return [s for s in self.statements if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")]


@contextmanager
def counting() -> Iterator[StatementCounter]:
    """Count statements on db.engine inside the block."""
    counter = StatementCounter()
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)
