"""The database itself refuses double-bookings and naive datetimes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from booking_app.domain.bookings import Status
from booking_app.extensions import db
from booking_app.models import Booking, BookingChange, Effect
from tests.conftest import utc

START = utc(2030, 3, 4, 15, 0)


def _booking(instructor, student, starts_at: datetime, minutes: int = 60, status: str = "pending") -> Booking:
    booking = Booking(
        instructor_id=instructor.id, student_id=student.id, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes), status=status, expires_at=starts_at,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def _assert_overlap_refused(exc: pytest.ExceptionInfo[IntegrityError], backend: str) -> None:
    if backend == "postgresql":
        assert exc.value.orig.sqlstate == "23P01"  # type: ignore[union-attr]
        assert "ex_bookings_no_overlap" in str(exc.value)
    else:
        assert "booking_overlap" in str(exc.value)


@pytest.fixture
def people(users):
    return users.make("instructor"), users.make("student"), users.make("student")


@pytest.mark.parametrize("status", ["pending", "confirmed"])
@pytest.mark.parametrize("offset, minutes", [(0, 60), (30, 60), (-30, 60), (15, 15), (-60, 180)])
def test_an_overlapping_active_booking_is_refused_by_the_database(app, backend, people, status, offset, minutes):
    teacher, first, second = people
    _booking(teacher, first, START, status="confirmed")
    with pytest.raises(IntegrityError) as exc:
        _booking(teacher, second, START + timedelta(minutes=offset), minutes, status=status)
    db.session.rollback()
    _assert_overlap_refused(exc, backend)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_back_to_back_bookings_are_accepted(app, people):
    teacher, first, second = people
    _booking(teacher, first, START)
    _booking(teacher, second, START + timedelta(hours=1))
    _booking(teacher, second, START - timedelta(hours=1))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 3


@pytest.mark.parametrize("status", ["cancelled", "declined", "expired"])
def test_a_released_booking_does_not_block_its_slot(app, people, status):
    teacher, first, second = people
    _booking(teacher, first, START, status=status)
    _booking(teacher, second, START, status="pending")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 2


def test_reviving_a_cancelled_booking_over_an_active_one_is_refused(app, backend, people):
    teacher, first, second = people
    old = _booking(teacher, first, START, status="cancelled")
    _booking(teacher, second, START, status="pending")
    old.status = "pending"
    with pytest.raises(IntegrityError) as exc:
        db.session.commit()
    db.session.rollback()
    _assert_overlap_refused(exc, backend)


def test_moving_an_active_booking_onto_another_is_refused(app, backend, people):
    teacher, first, second = people
    _booking(teacher, first, START)
    other = _booking(teacher, second, START + timedelta(hours=2))
    other.starts_at, other.ends_at = START + timedelta(minutes=30), START + timedelta(minutes=90)
    with pytest.raises(IntegrityError) as exc:
        db.session.commit()
    db.session.rollback()
    _assert_overlap_refused(exc, backend)


def test_another_instructor_can_teach_at_the_same_time(app, users, people):
    teacher, first, second = people
    other_teacher = users.make("instructor")
    _booking(teacher, first, START)
    _booking(other_teacher, second, START)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 2


def test_a_naive_datetime_is_refused(app):
    db.session.add(Effect(kind="test", payload={}, due_at=datetime(2030, 1, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime refused"):
        db.session.commit()
    db.session.rollback()


def test_timestamps_read_back_as_aware_utc(app, people):
    from zoneinfo import ZoneInfo

    teacher, first, _ = people
    local = datetime(2030, 7, 1, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    booking = _booking(teacher, first, local)
    booking_id = booking.id
    db.session.expunge_all()
    again = db.session.get(Booking, booking_id)
    assert again is not None
    assert again.starts_at == utc(2030, 7, 1, 13, 30)
    assert again.starts_at.utcoffset() == timedelta(0)
    assert again.created_at.tzinfo is not None and again.created_at.utcoffset() == timedelta(0)


def test_statuses_and_roles_are_stored_by_their_values_under_their_named_checks(app, people):
    teacher, student, _ = people
    booking = _booking(teacher, student, START, status="pending")
    db.session.add(BookingChange(booking_id=booking.id, actor_id=student.id, to_status="pending"))
    db.session.commit()
    stored = db.session.execute(sa.text(
        "SELECT b.status, u.role, c.to_status FROM bookings b JOIN users u ON u.id = b.instructor_id "
        "JOIN booking_changes c ON c.booking_id = b.id"
    )).one()
    assert tuple(stored) == ("pending", "instructor", "pending")
    assert db.session.get(Booking, booking.id).status is Status.PENDING
    checks = {
        table: {c["name"] for c in sa.inspect(db.session.connection()).get_check_constraints(table)}
        for table in ("bookings", "users", "booking_changes")
    }
    assert "ck_bookings_status_valid" in checks["bookings"]
    assert "ck_users_role_valid" in checks["users"]
    assert {"ck_booking_changes_from_status_valid", "ck_booking_changes_to_status_valid"} <= checks["booking_changes"]


def test_the_database_refuses_a_status_outside_the_vocabulary(app, people):
    teacher, student, _ = people
    booking = _booking(teacher, student, START)
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE bookings SET status = 'PENDING' WHERE id = :id"), {"id": booking.id})
        db.session.commit()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text(
            "INSERT INTO booking_changes (booking_id, to_status, note, at) VALUES (:id, 'moved', '', :at)"
        ), {"id": booking.id, "at": START})
        db.session.commit()
    db.session.rollback()
