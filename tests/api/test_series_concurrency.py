"""Races for weekly series through HTTP: overlapping series at once, and a staff booking against a student's series."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Booking
from booking_app.services.sessions import issue_token
from booking_app.services.studio import get_studio
from tests.api.test_booking_concurrency import post, race, students
from tests.booking_helpers import open_hours

NOW = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)
RACERS = 8


@pytest.fixture(autouse=True)
def studio_row(app):  # type: ignore[no-untyped-def]
    get_studio()
    db.session.commit()


def overlaps() -> int:
    """Count pairs of active bookings of one instructor that overlap (the database must keep this at zero)."""
    a, b = sa.orm.aliased(Booking), sa.orm.aliased(Booking)
    active = ("pending", "confirmed")
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(a)
            .join(
                b,
                sa.and_(
                    a.instructor_id == b.instructor_id,
                    a.id < b.id,
                    a.starts_at < b.ends_at,
                    b.starts_at < a.ends_at,
                ),
            )
            .where(a.status.in_(active), b.status.in_(active))
        )
        or 0
    )


def test_students_requesting_overlapping_series_at_once_leave_no_overlap_and_each_a_clear_answer(app, users):
    maria = users.make("instructor", name="Maria")
    open_hours(maria, time(9), time(17))
    tokens = [issue_token(s) for s in students(RACERS)]
    # Each racer asks for Thursdays at 14:00, starting one week later than the one before, for 4 weeks: every
    # series overlaps its neighbours on three weeks.
    payloads = [
        {
            "instructor_id": maria.id,
            "start": f"2026-02-{5 + 7 * (i % 3):02d}T14:00:00Z",
            "lesson_minutes": 60,
            "weeks": 4,
        }
        for i in range(RACERS)
    ]
    results = race(
        app, [post("/api/series", token, payload) for token, payload in zip(tokens, payloads, strict=True)]
    )
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409, 422}, results
    assert statuses[201] >= 1
    for status, body in results:
        if status == 201:
            assert body["bookings"] and {s["reason"] for s in body["skipped"]} <= {"taken"}
        else:
            assert body["error"]["message"]  # a sentence: taken meanwhile, or no week left open
    assert overlaps() == 0
    won = sum(len(body["bookings"]) for status, body in results if status == 201)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == won


def test_a_staff_series_racing_a_students_request_leaves_exactly_one_lesson_per_week(app, users):
    maria = users.make("instructor", name="Maria")
    open_hours(maria, time(9), time(17))
    sam, sue = students(2)
    payload = {"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z", "lesson_minutes": 60, "weeks": 3}
    staff = {**payload, "student_id": sam.id}
    results = race(
        app, [post("/api/series", issue_token(maria), staff), post("/api/series", issue_token(sue), payload)]
    )
    assert overlaps() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 3
    assert sorted(status for status, _ in results) in ([201, 409], [201, 422])
