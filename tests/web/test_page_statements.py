"""Every page and the booking request in a fixed, small number of SQL statements (an N+1 or a new query fails here).

Measured on the demo studio when nothing changed since the last view: the header (notifications, unread threads,
banner) and each instructor's schedule come from their caches, which the tests of those caches keep honest.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from booking_app.extensions import db
from booking_app.models import Booking, User
from booking_app.services import clock
from booking_app.services.demo import DEMO_PASSWORD, seed_demo
from booking_app.services.sessions import issue_token
from booking_app.services.slots import open_slots
from tests.services.test_dashboard_helpers import counting


@pytest.fixture
def demo(app: Flask) -> dict[str, int]:
    seed_demo()
    ids = {email.split("@")[0]: uid for email, uid in db.session.execute(sa.select(User.email, User.id))}
    db.session.commit()
    return ids


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": DEMO_PASSWORD}).status_code == 302
    return client


def queries_of_a_repeated_view(client: FlaskClient, path: str) -> list[str]:
    for _ in range(2):
        assert client.get(path).status_code == 200, path
    db.session.remove()
    with counting() as counter:
        assert client.get(path).status_code == 200
    return counter.queries


@pytest.mark.parametrize(("who", "path", "most"), [
    ("sam", "/book", 3),
    ("sam", "/book/{maria}", 4),
    ("sam", "/dashboard", 4),
    ("maria", "/dashboard", 4),
    ("owner", "/dashboard", 4),
    (None, "/book", 3),
])
def test_a_page_seen_again_runs_only_its_own_few_statements(app, demo, who, path, most):
    client = signed_in(app, f"{who}@demo.studio") if who else app.test_client()
    queries = queries_of_a_repeated_view(client, path.format(**demo))
    assert len(queries) <= most, "\n".join(queries)


def test_the_book_page_reads_no_schedule_table_while_nothing_changed(app, demo):
    queries = queries_of_a_repeated_view(signed_in(app, "sam@demo.studio"), "/book")
    assert not [q for q in queries if "weekly_windows" in q or "blocks" in q or "one_time_windows" in q]
    assert not [q for q in queries if "FROM notifications" in q or "FROM messages" in q]


def test_a_booking_request_takes_at_most_ten_statements(app, demo, backend):
    maria = db.session.get(User, demo["maria"])
    slot = open_slots(maria, clock.now().date() + timedelta(days=3), clock.now().date() + timedelta(days=40))[5]
    token = issue_token(db.session.get(User, demo["sam"]))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/me", headers=headers)  # the token's last use is noted once a minute: not part of a booking
    db.session.remove()
    body = {"instructor_id": demo["maria"], "start": slot.starts_at.isoformat()}
    with counting() as counter:
        response = client.post("/api/bookings", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["history"]) == 1
    assert len(counter.queries) <= 10, "\n".join(counter.queries)
    # Nothing is selected again to answer: the last statements are the writes.
    assert counter.queries[-1].lstrip().upper().startswith("INSERT")
    with counting() as again:
        repeat = client.post("/api/bookings", json=body, headers=headers)
    assert repeat.status_code == 200 and repeat.get_json()["id"] == response.get_json()["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.starts_at == slot.starts_at, Booking.instructor_id == demo["maria"])) == 1
    assert len(again.queries) <= 10


def test_the_book_a_student_form_and_a_staff_booking_run_a_few_statements(app, demo, backend):
    # The form: the session, the instructor's settings and their students in one query.
    queries = queries_of_a_repeated_view(signed_in(app, "maria@demo.studio"), "/schedule/book-student")
    assert len(queries) <= 5, "\n".join(queries)
    maria = db.session.get(User, demo["maria"])
    slot = open_slots(maria, clock.now().date() + timedelta(days=3), clock.now().date() + timedelta(days=40))[5]
    token = issue_token(maria)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/me", headers=headers)
    db.session.remove()
    body = {"instructor_id": demo["maria"], "start": slot.starts_at.isoformat(), "student_id": demo["sam"]}
    with counting() as counter:
        response = client.post("/api/bookings", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "confirmed"
    print(f"book-student form {len(queries)}, staff booking {len(counter.queries)} statements on {backend}")
    assert len(counter.queries) <= 12, "\n".join(counter.queries)
