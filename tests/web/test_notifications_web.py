"""Notifications in the header and on their page: the bell's count, opening one, marking all read."""

from __future__ import annotations

import re

import pytest

from booking_app.extensions import db
from booking_app.models import Notification
from booking_app.services.notifications import notify
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count
from tests.services.test_dashboard_helpers import counting, make_booking

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def setup(users):  # type: ignore[no-untyped-def]
    maria = users.make("instructor", name="Maria Lopez")
    open_hours(maria)
    sam = users.make("student", name="Sam Student")
    booking = make_booking(maria, sam, at(5, 14))
    return maria, sam, booking


def tell(user, text: str, booking=None) -> Notification:  # type: ignore[no-untyped-def]
    note = notify(user.id, "booking.requested", text, booking_id=booking.id if booking else None)
    db.session.commit()
    return note


def bell(html: str) -> str:
    match = re.search(r'data-bell aria-label="Notifications: (\d+) unread"', html)
    assert match, "the header has no bell"
    return match.group(1)


def test_the_bell_shows_the_unread_count_on_every_page(client, auth, setup):
    maria, _, booking = setup
    tell(maria, "Sam requested a lesson.", booking)
    tell(maria, "Sam wrote.", booking)
    auth.login(maria)
    for path in ("/", "/dashboard", "/book"):
        assert bell(client.get(path).get_data(as_text=True)) == "2"


def test_signed_out_visitors_see_no_bell(client, setup):
    assert "data-bell" not in client.get("/").get_data(as_text=True)


def test_the_bell_costs_one_query(client, auth, setup):
    maria, _, booking = setup
    tell(maria, "Sam requested a lesson.", booking)
    auth.login(maria)
    with counting() as c:
        client.get("/")
    assert sum("FROM notifications" in s for s in c.statements) == 1


def test_the_list_shows_newest_first_with_unread_marked(client, auth, setup):
    maria, _, booking = setup
    old = tell(maria, "First news.", booking)
    new = tell(maria, "Second news.", booking)
    old.read_at = NOW
    db.session.commit()
    auth.login(maria)
    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("Second news.") < html.index("First news.")
    assert re.search(rf'notification-unread" data-notification-id="{new.id}"', html)
    assert not re.search(rf'notification-unread" data-notification-id="{old.id}"', html)


def test_opening_a_notification_marks_it_read_and_opens_its_booking(client, auth, setup):
    maria, _, booking = setup
    note = tell(maria, "Sam requested a lesson.", booking)
    auth.login(maria)
    response = client.post(f"/notifications/{note.id}/open")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bookings/{booking.id}")
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at == NOW
    assert bell(client.get("/").get_data(as_text=True)) == "0"


def test_a_notification_without_a_booking_opens_the_list(client, auth, setup):
    maria, _, _ = setup
    note = tell(maria, "Welcome.")
    auth.login(maria)
    assert client.post(f"/notifications/{note.id}/open").headers["Location"].endswith("/notifications")


def test_nobody_can_open_someone_elses_notification(client, auth, setup):
    maria, sam, booking = setup
    note = tell(maria, "Sam requested a lesson.", booking)
    auth.login(sam)
    assert client.post(f"/notifications/{note.id}/open").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is None


def test_mark_all_read_clears_the_count(client, auth, setup):
    maria, sam, booking = setup
    tell(maria, "One.", booking)
    tell(maria, "Two.", booking)
    tell(sam, "Not Maria's.", booking)
    auth.login(maria)
    response = client.post("/notifications/read", follow_redirects=True)
    assert "All notifications are marked read." in response.get_data(as_text=True)
    assert count(Notification, Notification.user_id == maria.id, Notification.read_at.is_(None)) == 0
    assert count(Notification, Notification.user_id == sam.id, Notification.read_at.is_(None)) == 1
    assert client.get("/notifications/count").get_json() == {"unread": 0}


def test_the_count_endpoint_reports_unread_notifications(client, auth, setup):
    maria, _, booking = setup
    tell(maria, "One.", booking)
    auth.login(maria)
    assert client.get("/notifications/count").get_json() == {"unread": 1}


def test_a_new_request_notifies_the_instructor_and_shows_in_the_list(client, auth, setup, users):
    from booking_app.services import bookings

    maria, _, _ = setup
    ann = users.make("student", name="Ann Other")
    bookings.request_booking(ann, maria.id, at(6, 10))
    auth.login(maria)
    html = client.get("/notifications").get_data(as_text=True)
    assert "Ann Other requested a lesson on" in html
    assert bell(html) == "1"
