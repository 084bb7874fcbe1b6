"""What every booking write shares: slot locks, conditional status updates, history rows and live announcements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from ... import wording
from ...domain import bookings as rules
from ...domain.bookings import Status
from ...extensions import db
from ...models import Booking, BookingChange, User
from ...realtime import STUDIO_CHANNEL, calendar_channel, publish, user_channel
from .. import ServiceError
from ..booking_filters import overdue_request
from ..notifications import notify

# Two-key advisory locks: instructors and students in separate key spaces, always taken in that order.
LOCK_INSTRUCTOR = 1
LOCK_STUDENT = 2


@contextmanager
def slot_write() -> Iterator[None]:
    """Roll back a refused write; the database's overlap refusal (or a deadlock) becomes the slot-taken sentence."""
    try:
        yield
    except (IntegrityError, OperationalError) as exc:
        db.session.rollback()
        if _is_slot_conflict(exc):
            raise ServiceError(rules.SLOT_TAKEN, "slot_taken", 409) from None
        raise
    except ServiceError:
        db.session.rollback()
        raise


def lock(space: int, key: int) -> None:
    """Take the per-key transaction lock that serialises slot writes on PostgreSQL."""
    # SQLite already serialises writers (BEGIN IMMEDIATE); PostgreSQL needs an explicit per-key lock
    # so the exclusion constraint never deadlocks under contention.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key})


def lock_pair(instructor_id: int, student_id: int) -> None:
    """Take the instructor's and then the student's slot lock in one statement (PostgreSQL; see lock())."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:i_space, :i_key), pg_advisory_xact_lock(:s_space, :s_key)"),
            {"i_space": LOCK_INSTRUCTOR, "i_key": instructor_id, "s_space": LOCK_STUDENT, "s_key": student_id},
        )


def commit_keeping(*objects: Any) -> None:
    """Commit, keeping what these objects hold loaded: the answer is built from them without selecting again."""
    kept = []
    for obj in objects:
        state = sa.inspect(obj)
        kept.append((obj, {key: value for key, value in state.dict.items() if key in state.mapper.attrs}))
    db.session.commit()
    for obj, values in kept:
        for key, value in values.items():
            set_committed_value(obj, key, value)


def _is_slot_conflict(exc: IntegrityError | OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in ("23P01", "40P01"):
        return True
    return "booking_overlap" in str(exc.orig)


def set_status(booking: Booking, old: Status, new: Status, reason: str, now: datetime) -> bool:
    """Move the booking from `old` to `new` unless it changed meanwhile; return whether this call moved it."""
    # A conditional update makes exactly one of two racing changes win (confirm vs. withdraw).
    changed = execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.status == old.value)
        .values(status=new.value, decided_at=now, updated_at=now, status_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if changed:
        db.session.expire(booking, ["status", "decided_at", "updated_at", "status_reason"])
    return bool(changed)


def execute(statement: sa.Update) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result = cast("sa.CursorResult[Any]", db.session.execute(statement))
    return int(result.rowcount or 0)


def history(booking: Booking, actor_id: int | None, old: Status | None, new: Status, note: str, now: datetime) -> None:
    """Add a row to the booking's history."""
    db.session.add(BookingChange(
        booking_id=booking.id, actor_id=actor_id, from_status=old.value if old else None,
        to_status=new.value, note=note[:500], at=now,
    ))


def announce(booking: Booking, type_: str) -> None:
    """Publish a booking change to both parties, the studio, and (without names) the instructor's calendar."""
    data = {
        "booking_id": booking.id, "status": type_.split(".", 1)[1] if type_ != "booking.changed" else booking.status,
        "instructor_id": booking.instructor_id, "student_id": booking.student_id,
    }
    publish([user_channel(booking.student_id), user_channel(booking.instructor_id), STUDIO_CHANNEL], type_, data)
    # Calendars are public: only say whose slots changed.
    publish([calendar_channel(booking.instructor_id)], type_, {"instructor_id": booking.instructor_id})


def when(instant: datetime, viewer: User) -> str:
    """Say an instant in a notification, in the viewer's zone: "Thu 5 Feb at 2:00 PM (EST)"."""
    return wording.when_abbreviated(instant, viewer.timezone or "UTC")


def expire_overdue_at_once(where: sa.ColumnElement[bool], now: datetime) -> int:
    """Persist the expiry of matching overdue requests in one UPDATE, then tell each student (the caller commits).

    When nothing is overdue (nearly always) this is the only statement.
    """
    expired = list(db.session.scalars(
        sa.update(Booking).where(where, overdue_request(now))
        .values(status=Status.EXPIRED.value, decided_at=now, updated_at=now, status_reason="")
        .returning(Booking.id).execution_options(synchronize_session=False)
    ))
    if not expired:
        return 0
    rows = db.session.scalars(
        sa.select(Booking).where(Booking.id.in_(expired)).order_by(Booking.id).execution_options(populate_existing=True)
    ).unique().all()
    for booking in rows:
        history(booking, None, Status.PENDING, Status.EXPIRED, "", now)
        announce(booking, "booking.expired")
    tell_expired(rows)
    return len(rows)


def expire_overdue(where: sa.ColumnElement[bool], now: datetime) -> int:
    """Persist the expiry of matching pending requests past their expiry and tell each student (the caller commits)."""
    rows = db.session.scalars(
        sa.select(Booking).where(where, overdue_request(now)).order_by(Booking.id)
    ).unique().all()
    done = []
    for booking in rows:
        if set_status(booking, Status.PENDING, Status.EXPIRED, "", now):
            history(booking, None, Status.PENDING, Status.EXPIRED, "", now)
            announce(booking, "booking.expired")
            done.append(booking)
    tell_expired(done)
    return len(done)


def tell_expired(rows: Sequence[Booking]) -> None:
    """Tell each student their request expired: once per request, so a weekly series is one notification and mail."""
    told: set[int] = set()
    for booking in rows:
        if booking.series_id is None:
            notify(
                booking.student_id, "booking.expired",
                f"Your request for {when(booking.starts_at, booking.student)} with {booking.instructor.name} "
                "expired without an answer. Choose another time on the booking page.",
                booking_id=booking.id,
            )
        elif booking.series_id not in told:
            told.add(booking.series_id)
            count = sum(1 for b in rows if b.series_id == booking.series_id)
            notify(booking.student_id, "series.expired",
                   wording.series_expired(when(booking.starts_at, booking.student), booking.instructor.name, count),
                   booking_id=booking.id)
