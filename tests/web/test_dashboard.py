"""Instructor and student dashboards: ordering, contents, tab counts, actions from the forms, live fragments."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking_app import wording
from booking_app.extensions import db
from booking_app.models import Booking
from booking_app.services import dashboards
from tests.booking_helpers import NOW, at, open_hours
from tests.services.test_dashboard_helpers import counting, make_booking

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez", timezone="America/New_York")
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student", timezone="Europe/Berlin")


@pytest.fixture
def ann(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Ann Other")


def text_of(html: str) -> str:
    """Return the page's visible text on one line (tags dropped, whitespace collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- instructor ----------------------------------------------------------------------------------


def test_requests_awaiting_a_decision_come_first_oldest_first_with_student_note_and_time_left(client, auth, maria, sam, ann):
    newer = make_booking(maria, ann, at(5, 14), created_at=NOW - timedelta(minutes=10),
                         expires_at=NOW + timedelta(hours=3, minutes=50))
    older = make_booking(maria, sam, at(6, 14), created_at=NOW - timedelta(minutes=48),
                         expires_at=NOW + timedelta(hours=3, minutes=12), notes="Focus on scales")
    make_booking(maria, sam, at(4, 10), "confirmed")
    auth.login(maria)
    html = client.get("/dashboard").get_data(as_text=True)
    awaiting = html[html.index('id="awaiting-heading"'):html.index('id="upcoming-heading"')]
    assert awaiting.index(f'data-booking-id="{older.id}"') < awaiting.index(f'data-booking-id="{newer.id}"')
    text = text_of(awaiting)
    assert "Sam Student" in text and "“Focus on scales”" in text
    assert "Expires in 3 h 12 min" in text and "Expires in 3 h 50 min" in text
    # Maria's own zone: 14:00 UTC on Fri 6 Feb is 9:00 AM in New York.
    assert "Fri 6 Feb, 9:00 AM" in text
    assert f'action="/bookings/{older.id}/confirm"' in awaiting and f'action="/bookings/{older.id}/decline"' in awaiting
    assert 'name="reason"' in awaiting


def test_upcoming_lessons_follow_the_requests_soonest_first(client, auth, maria, sam):
    later = make_booking(maria, sam, at(9, 10), "confirmed")
    sooner = make_booking(maria, sam, at(3, 10), "confirmed")
    auth.login(maria)
    html = client.get("/dashboard").get_data(as_text=True)
    upcoming = html[html.index('id="upcoming-heading"'):html.index('id="earlier-heading"')]
    assert upcoming.index(f'data-booking-id="{sooner.id}"') < upcoming.index(f'data-booking-id="{later.id}"')
    assert "No requests are waiting for you" in text_of(html)


def test_tabs_show_their_counts_and_list_past_and_closed_bookings(client, auth, maria, sam):
    make_booking(maria, sam, at(1, 10), "completed", created_at=NOW - timedelta(days=3))
    make_booking(maria, sam, at(2, 7), "confirmed", created_at=NOW - timedelta(days=3))  # ended, not yet swept
    declined = make_booking(maria, sam, at(5, 10), "declined", reason="I am away that week")
    make_booking(maria, sam, at(5, 12), "cancelled")
    overdue = make_booking(maria, sam, at(6, 10), "pending", created_at=NOW - timedelta(hours=5),
                           expires_at=NOW - timedelta(hours=1))
    auth.login(maria)

    page = client.get("/dashboard").get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert counts == {"awaiting": "0", "upcoming": "0", "past": "2", "closed": "3"}
    assert "Declined, cancelled, expired" in page

    closed_html = client.get("/dashboard?tab=closed").get_data(as_text=True)
    closed = text_of(closed_html)
    assert f'data-booking-id="{declined.id}"' in closed_html and f'data-booking-id="{overdue.id}"' in closed_html
    assert "Reason: I am away that week" in closed
    assert "Expired" in closed


def test_the_past_tab_pages_through_many_lessons(client, auth, maria, sam):
    for day in range(1, 28):
        make_booking(maria, sam, at(day, 6, month=1), "completed", created_at=at(1, 0, month=1))
    auth.login(maria)
    first = client.get("/dashboard?tab=past").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert first.count("data-booking-id=") == dashboards.PAGE_SIZE
    second = client.get("/dashboard?tab=past&page=2").get_data(as_text=True)
    assert second.count("data-booking-id=") == 27 - dashboards.PAGE_SIZE


def test_unread_messages_make_a_booking_glow_with_a_count_linking_to_its_thread(client, auth, maria, sam):
    from booking_app.services.messages import send_message

    booking = make_booking(maria, sam, at(5, 14))
    send_message(booking, sam, "Can we focus on scales?")
    send_message(booking, sam, "And arpeggios.")
    auth.login(maria)
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(rf'class="[^"]*\bglow\b[^"]*" data-booking-id="{booking.id}"', html)
    thread = html[html.index(f'href="/bookings/{booking.id}/messages"'):]
    assert re.match(r'[^<]*>\s*Messages <span[^>]*data-unread-count>2<', thread)


def test_accepting_from_the_dashboard_form_confirms_the_request(client, auth, maria, sam):
    booking = make_booking(maria, sam, at(5, 14))
    auth.login(maria)
    response = client.post(f"/bookings/{booking.id}/confirm", data={"next": "/dashboard"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Lesson confirmed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    html = client.get("/dashboard").get_data(as_text=True)
    upcoming = html[html.index('id="upcoming-heading"'):html.index('id="earlier-heading"')]
    assert f'data-booking-id="{booking.id}"' in upcoming


def test_declining_from_the_dashboard_form_keeps_the_reason(client, auth, maria, sam):
    booking = make_booking(maria, sam, at(5, 14))
    auth.login(maria)
    client.post(f"/bookings/{booking.id}/decline", data={"reason": "I am away", "next": "/dashboard"},
                follow_redirects=True)
    db.session.expire_all()
    stored = db.session.get(Booking, booking.id)
    assert (stored.status, stored.status_reason) == ("declined", "I am away")


def test_the_dashboard_region_returns_only_the_dashboard_body(client, auth, maria, sam):
    make_booking(maria, sam, at(5, 14))
    auth.login(maria)
    html = client.get("/dashboard?region=dashboard_body").get_data(as_text=True)
    assert "<html" not in html and "data-dashboard-content" in html and "Requests awaiting" in html


def test_an_owner_who_teaches_sees_the_overview_link_and_their_own_requests(client, auth, users, sam):
    owner = users.make("owner", name="Olga Owner")
    open_hours(owner)
    booking = make_booking(owner, sam, at(5, 14))
    auth.login(owner)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/dashboard/studio"' in html
    assert f'data-booking-id="{booking.id}"' in html


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- student -------------------------------------------------------------------------------------


def test_a_student_sees_every_appointment_with_its_status_in_their_zone(client, auth, maria, sam):
    make_booking(maria, sam, at(5, 14), "pending")
    make_booking(maria, sam, at(9, 14), "confirmed")
    make_booking(maria, sam, at(6, 14), "declined", reason="Away that day")
    make_booking(maria, sam, at(6, 16), "cancelled")
    make_booking(maria, sam, at(1, 10), "completed", created_at=NOW - timedelta(days=3))
    make_booking(maria, sam, at(1, 12), "no_show", created_at=NOW - timedelta(days=3))
    make_booking(maria, sam, at(7, 10), "pending", created_at=NOW - timedelta(hours=5), expires_at=NOW - timedelta(hours=1))
    auth.login(sam)
    text = text_of(client.get("/dashboard").get_data(as_text=True))
    for label in ("Pending", "Confirmed", "Declined", "Cancelled", "Completed", "No-show", "Expired"):
        assert label in text
    assert "Reason: Away that day" in text
    assert "with Maria Lopez" in text
    # Sam's zone is Berlin: 14:00 UTC on Thu 5 Feb is 3:00 PM there.
    assert "Thu 5 Feb, 3:00 PM" in text
    assert "Book a lesson" in text


def test_a_student_can_withdraw_a_request_and_cancel_a_lesson_outside_the_window(client, auth, maria, sam):
    pending = make_booking(maria, sam, at(5, 14))
    confirmed = make_booking(maria, sam, at(9, 14), "confirmed")
    auth.login(sam)
    html = client.get("/dashboard").get_data(as_text=True)
    assert f'action="/bookings/{pending.id}/cancel"' in html and f'action="/bookings/{confirmed.id}/cancel"' in html
    assert "Withdraw" in html and "Cancel lesson" in html
    client.post(f"/bookings/{pending.id}/cancel", data={"next": "/dashboard"}, follow_redirects=True)
    db.session.expire_all()
    assert db.session.get(Booking, pending.id).status == "cancelled"


def test_inside_the_cancellation_window_the_student_sees_the_policy_instead_of_cancel(client, auth, maria, sam):
    soon = make_booking(maria, sam, NOW + timedelta(hours=5), "confirmed")
    auth.login(sam)
    html = client.get("/dashboard").get_data(as_text=True)
    assert f'action="/bookings/{soon.id}/cancel"' not in html
    assert "Cannot cancel within 24 hours of start time. Contact your instructor." in html


def test_a_student_without_bookings_is_invited_to_book(client, auth, sam):
    auth.login(sam)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "No lessons yet" in html and 'href="/book"' in html


def test_a_student_sees_only_their_own_appointments(client, auth, maria, sam, ann):
    theirs = make_booking(maria, ann, at(5, 14))
    auth.login(sam)
    assert f'data-booking-id="{theirs.id}"' not in client.get("/dashboard").get_data(as_text=True)


# --- wording -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "words"), [
    (30, "less than a minute"), (59 * 60, "59 min"), (3 * 3600, "3 h"), (3 * 3600 + 12 * 60 + 40, "3 h 12 min"),
    (26 * 3600, "1 d 2 h"), (48 * 3600, "2 d"),
])
def test_durations_read_briefly(seconds, words):
    assert wording.duration_words(seconds) == words


def test_time_left_reads_from_the_frozen_clock(app):
    assert dashboards.time_left(NOW + timedelta(hours=3, minutes=12)) == "expires in 3 h 12 min"
    assert dashboards.time_left(NOW - timedelta(minutes=1)) == "expired"


# --- query counts --------------------------------------------------------------------------------


def _filler(instructor, student):  # type: ignore[no-untyped-def]
    """Return fill(n): store n more bookings in each group (pending, upcoming, past, closed), none overlapping."""
    made = [0]

    def fill(n: int) -> None:
        for _ in range(n):
            k = made[0]
            made[0] += 1
            make_booking(instructor, student, at(3, 0) + timedelta(hours=2 * k), "pending",
                         created_at=NOW - timedelta(minutes=k + 1))
            make_booking(instructor, student, at(3, 1) + timedelta(hours=2 * k), "confirmed")
            make_booking(instructor, student, NOW - timedelta(hours=2 * k + 2), "completed",
                         created_at=NOW - timedelta(days=30))
            make_booking(instructor, student, at(3, 0) + timedelta(hours=2 * k), "declined", reason="No")

    return fill


def _dashboard_statements(client, fill) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    client.get("/dashboard")  # the first visit stores the studio's default settings
    fill(3)
    with counting() as small:
        assert client.get("/dashboard").status_code == 200
    fill(27)
    with counting() as large:
        assert client.get("/dashboard").status_code == 200
    return small.count, large.count


def test_the_instructor_dashboard_query_count_does_not_grow_with_bookings(client, auth, maria, sam):
    from booking_app.services.messages import send_message

    auth.login(maria)
    first = make_booking(maria, sam, at(27, 6))
    send_message(first, sam, "Hello")
    small, large = _dashboard_statements(client, _filler(maria, sam))
    assert small == large
    assert large <= 12  # user, counts, unread, three lists, studio, header bell and banner, …


def test_the_student_dashboard_query_count_does_not_grow_with_bookings(client, auth, maria, sam):
    auth.login(sam)
    small, large = _dashboard_statements(client, _filler(maria, sam))
    assert small == large
    assert large <= 12  # user, counts, unread, three lists, studio, header bell and banner, …
