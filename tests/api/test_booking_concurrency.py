"""Races through HTTP: many students on one slot, confirm against withdraw, overlapping lengths."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange, User
from booking_app.services.sessions import issue_token
from booking_app.services.studio import get_studio
from tests.booking_helpers import NOW, at, one_time, open_hours

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture(autouse=True)
def studio_row(app):  # type: ignore[no-untyped-def]
    # get_studio() creates the settings row on first use, and two first uses at once collide on its
    # primary key (services/studio.py, reported); a running studio always has the row already.
    get_studio()
    db.session.commit()


def students(n: int) -> list[User]:
    """Create n students at once (one shared password hash keeps this fast)."""
    hashed = generate_password_hash("unused password")
    people = [User(email=f"racer{i}@example.test", name=f"Racer {i}", password_hash=hashed, role="student",
                   timezone="UTC") for i in range(n)]
    db.session.add_all(people)
    db.session.commit()
    return people


def race(app, calls: list[Callable[[Any], Any]]) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run each call with its own test client in its own thread, all released at the same moment."""
    # Release the main thread's connection: on SQLite an open read would hold the write lock.
    db.session.remove()
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = calls[i](client)
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.remove()
    return results


def post(path: str, token: str, payload: dict[str, Any] | None = None) -> Callable[[Any], Any]:
    def call(client):  # type: ignore[no-untyped-def]
        response = client.post(path, json=payload or {}, headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.get_json()

    return call


def test_fifty_students_requesting_the_same_slot_get_one_booking_and_fortynine_clear_refusals(app, users):
    maria = users.make("instructor", name="Maria")
    open_hours(maria)
    tokens = [issue_token(s) for s in students(50)]
    payload = {"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}
    results = race(app, [post("/api/bookings", token, payload) for token in tokens])
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 49}, results
    refusals = {body["error"]["message"] for status, body in results if status == 409}
    assert refusals == {"This time is no longer available. Select another."}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    assert db.session.scalar(sa.select(Booking.status)) == "pending"


def test_confirm_racing_withdraw_has_exactly_one_winner_and_the_history_agrees(app, users):
    maria = users.make("instructor", name="Maria")
    open_hours(maria)
    sam = users.make("student")
    teacher, student = issue_token(maria), issue_token(sam)
    # Inside the cancellation window a confirmed lesson cannot be withdrawn, so the two really exclude each other.
    get_studio().cancellation_window_hours = 168
    db.session.commit()
    for hour in range(9, 17):
        booking = post("/api/bookings", student, {"instructor_id": maria.id, "start": f"2026-02-05T{hour:02d}:00:00Z"})(
            app.test_client()
        )[1]
        results = race(app, [
            post(f"/api/bookings/{booking['id']}/confirm", teacher),
            post(f"/api/bookings/{booking['id']}/cancel", student),
        ])
        codes = sorted(status for status, _ in results)
        assert codes == [200, 409], results
        winner = next(body["status"] for status, body in results if status == 200)
        stored = db.session.get(Booking, booking["id"])
        assert stored is not None and stored.status == winner
        changes = db.session.scalars(
            sa.select(BookingChange.to_status).where(BookingChange.booking_id == booking["id"]).order_by(BookingChange.id)
        ).all()
        assert changes == ["pending", winner]


def test_two_students_requesting_overlapping_slots_of_different_lengths_leave_one_booking(app, users):
    maria = users.make("instructor", name="Maria")
    one_time(maria, 6, time(18), time(19, 30), 90)
    one_time(maria, 6, time(18, 30), time(19, 30), 30)
    first, second = (issue_token(s) for s in students(2))
    results = race(app, [
        post("/api/bookings", first, {"instructor_id": maria.id, "start": "2026-02-06T18:00:00Z", "lesson_minutes": 90}),
        post("/api/bookings", second, {"instructor_id": maria.id, "start": "2026-02-06T18:30:00Z", "lesson_minutes": 30}),
    ])
    assert sorted(status for status, _ in results) == [201, 409], results
    rows = db.session.scalars(sa.select(Booking)).all()
    assert len(rows) == 1 and rows[0].status == "pending"
    assert rows[0].starts_at in (at(6, 18), at(6, 18, 30))


def test_one_student_requesting_two_instructors_at_once_gets_one_lesson(app, users):
    maria, ana = users.make("instructor", name="Maria"), users.make("instructor", name="Ana")
    open_hours(maria)
    open_hours(ana)
    token = issue_token(students(1)[0])
    results = race(app, [
        post("/api/bookings", token, {"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}),
        post("/api/bookings", token, {"instructor_id": ana.id, "start": "2026-02-05T14:00:00Z"}),
    ])
    assert sorted(status for status, _ in results) == [201, 409], results
    assert {body["error"]["message"] for status, body in results if status == 409} == {"You have another session at this time."}
