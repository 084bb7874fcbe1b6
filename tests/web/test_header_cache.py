"""The header (banner, unread threads, notification bell) is cached per person, and never shown stale after a change.

The writer runs in a second app on the same database and Redis: what another process does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from booking_app.extensions import db
from booking_app.models import Booking, Message, User
from booking_app.services import messages, notifications
from booking_app.services.bookings import confirm, request_booking
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import Users, _make_app
from tests.services.test_dashboard_helpers import counting


@pytest.fixture
def other(test_env: dict[str, str], app: Flask) -> Iterator[Flask]:
    second = _make_app(test_env)
    second.config["FROZEN_NOW"] = NOW
    yield second
    hub = second.extensions.get("live_hub")
    if hub is not None:
        hub.close()
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def lesson(app: Flask, users: Users) -> tuple[int, int, int]:
    app.config["FROZEN_NOW"] = NOW
    maria = users.make("instructor", name="Maria Alvarez", min_notice_minutes=0)
    sam = users.make("student", name="Sam Lee")
    open_hours(maria)
    booking = request_booking(sam, maria.id, at(10, 10), now=NOW).booking
    ids = (maria.id, sam.id, booking.id)
    db.session.commit()
    return ids


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": Users.password}).status_code == 302
    return client


def bell(client: FlaskClient) -> int:
    page = client.get("/dashboard").get_data(as_text=True)
    return int(re.search(r'data-unread-notifications="(\d+)"', page).group(1))  # type: ignore[union-attr]


def in_other(other: Flask, action) -> None:  # type: ignore[no-untyped-def]
    db.session.commit()  # the test's own transaction ends first (SQLite lets one writer in at a time)
    with other.app_context():
        action()
        db.session.remove()


def test_a_message_from_another_process_shows_on_the_next_page_and_reading_it_clears_it(app, other, lesson):
    maria_id, sam_id, booking_id = lesson
    sam = signed_in(app, "student2@example.test")
    assert 'data-banner-booking-id' not in sam.get("/dashboard").get_data(as_text=True)  # cached now
    in_other(other, lambda: messages.send_message(db.session.get(Booking, booking_id),
                                                  db.session.get(User, maria_id), "Bring your shoes"))
    page = sam.get("/dashboard").get_data(as_text=True)
    assert f'data-banner-booking-id="{booking_id}"' in page and "Bring your shoes" in page
    sam.get(f"/bookings/{booking_id}/messages")  # opening the thread reads it
    assert "Bring your shoes" not in sam.get("/dashboard").get_data(as_text=True)


def test_a_dismissed_banner_stays_away_while_the_thread_stays_unread(app, lesson):
    maria_id, sam_id, booking_id = lesson
    message = messages.send_message(db.session.get(Booking, booking_id), db.session.get(User, maria_id), "See you")
    sam = signed_in(app, "student2@example.test")
    assert "See you" in sam.get("/dashboard").get_data(as_text=True)
    sam.post(f"/bookings/{booking_id}/banner/dismiss", data={"message_id": message.id})
    page = sam.get("/dashboard").get_data(as_text=True)
    assert "See you" not in page and 'data-banner-booking-id' not in page


def test_the_bell_counts_a_notification_from_another_process_and_forgets_it_once_read(app, other, lesson):
    maria_id, sam_id, booking_id = lesson
    sam = signed_in(app, "student2@example.test")
    assert bell(sam) == 0
    in_other(other, lambda: confirm(db.session.get(User, maria_id), booking_id))
    assert bell(sam) == 1
    in_other(other, lambda: notifications.mark_all_read(db.session.get(User, sam_id)))
    assert bell(sam) == 0


def test_a_repeated_page_reads_the_header_from_the_cache(app, lesson):
    maria_id, sam_id, booking_id = lesson
    messages.send_message(db.session.get(Booking, booking_id), db.session.get(User, maria_id), "Hello")
    sam = signed_in(app, "student2@example.test")
    sam.get("/dashboard")
    db.session.remove()
    with counting() as counter:
        assert "Hello" in sam.get("/dashboard").get_data(as_text=True)
    assert not [q for q in counter.queries if "FROM notifications" in q or "FROM messages" in q]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


