"""Races through HTTP between a staff booking and student requests: one active booking, clear answers for all."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Booking
from booking_app.services.sessions import issue_token
from tests.api.test_booking_concurrency import post, race, students
from tests.booking_helpers import NOW, open_hours

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)

SLOT_TAKEN = "This time is no longer available. Select another."
HOURS = range(9, 17)


@pytest.fixture(autouse=True)
def studio_row(app):  # type: ignore[no-untyped-def]
    from booking_app.services.studio import get_studio

    get_studio()  # made once up front, as in a running studio (see test_booking_concurrency.py)
    db.session.commit()


def test_a_staff_booking_racing_a_student_request_for_the_same_slot_leaves_exactly_one(app, users):
    maria = users.make("instructor", name="Maria")
    open_hours(maria)
    booked, asking = students(2)
    teacher, student = issue_token(maria), issue_token(asking)
    winners: Counter[str] = Counter()
    for hour in HOURS:
        start = f"2026-02-05T{hour:02d}:00:00Z"
        results = race(app, [
            post("/api/bookings", teacher, {"instructor_id": maria.id, "start": start, "student_id": booked.id}),
            post("/api/bookings", student, {"instructor_id": maria.id, "start": start}),
        ])
        assert not [r for r in results if isinstance(r, Exception)], results
        statuses = sorted(status for status, _ in results)
        assert statuses == [201, 409], results
        loser = next(body for status, body in results if status == 409)
        # Whichever lost hears that the time is taken, in a sentence (the database's refusal or the early check).
        assert loser["error"]["code"] == "slot_taken"
        assert "at that time" in loser["error"]["message"] or loser["error"]["message"] == SLOT_TAKEN
        winner = next(body for status, body in results if status == 201)
        winners[winner["status"]] += 1
        active = db.session.scalars(sa.select(Booking).where(
            Booking.instructor_id == maria.id, Booking.status.in_(["pending", "confirmed"]),
        )).all()
        assert len([b for b in active if b.starts_at.hour == hour]) == 1
    assert sum(winners.values()) == len(HOURS)
    assert set(winners) <= {"confirmed", "pending"}


def test_a_staff_booking_racing_the_students_own_request_elsewhere_never_double_books_the_student(app, users):
    maria, ben = users.make("instructor", name="Maria"), users.make("instructor", name="Ben")
    open_hours(maria)
    open_hours(ben)
    [sam] = students(1)
    teacher, student = issue_token(maria), issue_token(sam)
    for hour in HOURS:
        start = f"2026-02-06T{hour:02d}:00:00Z"
        results = race(app, [
            post("/api/bookings", teacher, {"instructor_id": maria.id, "start": start, "student_id": sam.id}),
            post("/api/bookings", student, {"instructor_id": ben.id, "start": start}),
        ])
        statuses = sorted(status for status, _ in results)
        assert statuses == [201, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["error"]["code"] == "student_clash"
    held = db.session.scalars(sa.select(Booking).where(
        Booking.student_id == sam.id, Booking.status.in_(["pending", "confirmed"])
    )).all()
    assert sorted(b.starts_at.hour for b in held) == list(HOURS)
