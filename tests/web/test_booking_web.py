"""The book page, the confirm step, the booking page with its actions, calendar export and "My bookings"."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from booking_app.extensions import db
from booking_app.models import Booking
from booking_app.services import bookings as service
from tests.booking_helpers import NOW, at, one_time, open_hours
from tests.conftest import count

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez", timezone="UTC")
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student", timezone="UTC")


def test_anyone_can_browse_the_book_page_with_instructor_pills_and_a_month(client, maria):
    page = client.get("/book").get_data(as_text=True)
    assert "All instructors" in page and "Maria Lopez" in page
    assert "February 2026" in page
    assert f'href="/book/{maria.id}"' in page


def test_an_anonymous_visitor_choosing_a_slot_is_sent_to_sign_in_and_back_to_that_slot(client, maria):
    page = client.get(f"/book/{maria.id}?date=2026-02-05").get_data(as_text=True)
    links = re.findall(r'class="btn btn-outline-primary slot" href="([^"]+)"', page)
    assert links and all(link.startswith("/login?next=") for link in links)
    target = parse_qs(urlsplit(links[0].replace("&amp;", "&")).query)["next"][0]
    assert target == f"/book/confirm?instructor={maria.id}&start=2026-02-05T09:00:00Z&tz=UTC"


def test_the_shareable_link_preselects_the_instructor_and_lists_the_days_slots(client, maria):
    page = client.get(f"/book/{maria.id}?date=2026-02-05").get_data(as_text=True)
    assert 'aria-current="page"' in page
    assert "Thursday 5 February" in page
    assert "9:00 AM" in page and "4:00 PM" in page
    assert "Times in UTC" in page


def test_month_navigation_stops_at_the_current_month_and_the_horizon(client, maria):
    page = client.get(f"/book/{maria.id}").get_data(as_text=True)
    assert "Previous month (not available)" in page
    assert "Next month (beyond the booking horizon)" in page
    # asking for a month past the horizon shows the last bookable month
    assert "February 2026" in client.get(f"/book/{maria.id}?month=2026-05").get_data(as_text=True)


@pytest.mark.app_config(FROZEN_NOW=NOW)
def test_the_next_month_opens_when_the_horizon_is_end_of_next_month(client, maria):
    from booking_app.services.studio import get_studio

    get_studio().horizon = "end_of_next_month"
    db.session.commit()
    page = client.get(f"/book/{maria.id}").get_data(as_text=True)
    assert "?month=2026-03" in page
    assert "March 2026" in client.get(f"/book/{maria.id}?month=2026-03").get_data(as_text=True)


def test_times_can_be_shown_in_the_instructors_timezone(client, users):
    tokyo = users.make("instructor", name="Kenji Sato", timezone="Asia/Tokyo")
    open_hours(tokyo)
    mine = client.get(f"/book/{tokyo.id}?date=2026-02-05").get_data(as_text=True)
    theirs = client.get(f"/book/{tokyo.id}?date=2026-02-05&tz=instructor").get_data(as_text=True)
    assert "Times in UTC" in mine and "12:00 AM" in mine  # 09:00 Tokyo
    assert "Times in Asia/Tokyo" in theirs and "9:00 AM" in theirs


def test_the_dialog_sentence_names_the_zone_the_slots_are_shown_in(client, auth, users):
    tokyo = users.make("instructor", name="Kenji Sato", timezone="Asia/Tokyo")
    open_hours(tokyo)
    auth.login(users.make("student", timezone="America/New_York"))
    mine = client.get(f"/book/{tokyo.id}?date=2026-02-04").get_data(as_text=True)
    theirs = client.get(f"/book/{tokyo.id}?date=2026-02-05&tz=instructor").get_data(as_text=True)
    # 09:00 in Tokyo on Thu 5 Feb is 7:00 PM in New York on Wed 4 Feb
    assert 'data-sentence="Request a lesson with Kenji on Wed 4 Feb at 7:00 PM (New York time)?"' in mine
    assert 'data-sentence="Request a lesson with Kenji on Thu 5 Feb at 9:00 AM (Tokyo time)?"' in theirs


def test_the_confirm_page_formats_the_time_in_the_zone_the_slot_was_shown_in(client, auth, users):
    tokyo = users.make("instructor", name="Kenji Sato", timezone="Asia/Tokyo")
    open_hours(tokyo)
    auth.login(users.make("student", timezone="America/New_York"))
    theirs = client.get(f"/book/{tokyo.id}?date=2026-02-05&tz=instructor").get_data(as_text=True)
    link = re.findall(r'class="btn btn-outline-primary slot" href="([^"]+)"', theirs)[0].replace("&amp;", "&")
    assert link.endswith("&tz=Asia/Tokyo")
    page = client.get(link).get_data(as_text=True)
    assert "Request a lesson with Kenji on Thu 5 Feb at 9:00 AM (Tokyo time)?" in page
    assert f'href="/book/{tokyo.id}?date=2026-02-05&amp;tz=instructor"' in page
    # no zone, or one that is not a zone, means the viewer's own
    start = "2026-02-05T00:00:00Z"
    for tz in ("", "&tz=Not%2FA_Zone"):
        own = client.get(f"/book/confirm?instructor={tokyo.id}&start={start}{tz}").get_data(as_text=True)
        assert "Request a lesson with Kenji on Wed 4 Feb at 7:00 PM (New York time)?" in own


def test_a_length_filter_appears_when_several_lesson_lengths_are_offered(client, maria):
    one_time(maria, 5, __import__("datetime").time(18), __import__("datetime").time(19), 30)
    page = client.get(f"/book/{maria.id}?date=2026-02-05").get_data(as_text=True)
    assert "Any length" in page and "30 min</a>" in page
    only30 = client.get(f"/book/{maria.id}?date=2026-02-05&length=30").get_data(as_text=True)
    assert "6:00 PM" in only30 and "9:00 AM" not in only30


def test_the_book_panel_region_is_the_block_of_the_full_page(client, maria):
    url = f"/book/{maria.id}?date=2026-02-05"
    fragment = client.get(url + "&region=book_panel").get_data(as_text=True)
    assert "<html" not in fragment and "month-heading" in fragment
    assert fragment.strip() in client.get(url).get_data(as_text=True)


def test_an_unknown_region_is_not_found(client, maria):
    assert client.get(f"/book/{maria.id}?region=nothing_here").status_code == 404


def test_the_confirm_page_asks_the_question_and_creates_a_pending_request(client, auth, maria, sam):
    auth.login(sam)
    url = f"/book/confirm?instructor={maria.id}&start=2026-02-05T14:00:00Z"
    page = client.get(url).get_data(as_text=True)
    assert "Request a lesson with Maria on Thu 5 Feb at 2:00 PM (UTC)?" in page
    response = client.post(url, data={"instructor": maria.id, "start": "2026-02-05T14:00:00Z", "notes": "Hi"})
    booking = db.session.query(Booking).one()
    assert response.status_code == 302 and response.location == f"/bookings/{booking.id}"
    assert (booking.status, booking.notes, booking.starts_at) == ("pending", "Hi", at(5, 14))
    # the slot is gone for everyone
    assert ">2:00 PM<" not in client.get(f"/book/{maria.id}?date=2026-02-05").get_data(as_text=True)
    assert ">3:00 PM<" in client.get(f"/book/{maria.id}?date=2026-02-05").get_data(as_text=True)


def test_the_dialog_post_is_the_plain_form_post_even_when_a_script_asks_for_json(client, auth, maria, sam, users):
    auth.login(sam)
    form = {"instructor": maria.id, "start": "2026-02-05T14:00:00Z"}
    headers = {"Accept": "application/json"}
    first = client.post("/book/confirm", data=form, headers=headers)
    assert first.status_code == 302 and first.location.startswith("/bookings/")
    again = client.post("/book/confirm", data=form, headers=headers, follow_redirects=True)
    assert "You already requested this time. Here is your request." in again.get_data(as_text=True)
    auth.logout()
    auth.login(users.make("student"))
    taken = client.post("/book/confirm", data=form, headers=headers)
    assert taken.status_code == 409 and taken.mimetype == "text/html"
    assert "This time is no longer available. Select another." in taken.get_data(as_text=True)
    assert count(Booking) == 1


def test_without_javascript_a_taken_slot_shows_the_sentence_on_the_confirm_page(client, auth, maria, sam, users):
    service.request_booking(users.make("student"), maria.id, at(5, 14), now=NOW)
    auth.login(sam)
    response = client.post("/book/confirm", data={"instructor": maria.id, "start": "2026-02-05T14:00:00Z"})
    assert response.status_code == 409
    assert "This time is no longer available. Select another." in response.get_data(as_text=True)


def test_the_booking_page_is_not_found_for_anyone_but_its_people(client, auth, maria, sam, users):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    auth.login(users.make("student"))
    assert client.get(f"/bookings/{booking.id}").status_code == 404
    assert client.get(f"/bookings/{booking.id}.ics").status_code == 404


def test_the_instructor_confirms_from_the_booking_page_and_history_shows_who(client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), notes="Bring music", now=NOW).booking
    auth.login(maria)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Pending" in page and "Bring music" in page and "Sam Student" in page
    assert f'action="/bookings/{booking.id}/confirm"' in page and "Decline" in page
    assert client.post(f"/bookings/{booking.id}/confirm").status_code == 302
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Confirmed" in page and "confirmed the lesson" in page and "Lesson confirmed." in page


def test_the_student_sees_the_policy_sentence_inside_the_cancellation_window(app, client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(3, 9), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    app.config["FROZEN_NOW"] = at(2, 12)
    auth.login(sam)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Cannot cancel within 24 hours of start time. Contact your instructor." in page
    assert "Cancel lesson" not in page and "Ask to move" not in page


def test_the_student_withdraws_a_request_with_a_reason(client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    auth.login(sam)
    client.post(f"/bookings/{booking.id}/cancel", data={"reason": "Plans changed"})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert "Request withdrawn" in client.get(f"/bookings/{booking.id}").get_data(as_text=True)


def test_an_overdue_request_reads_as_expired_on_the_booking_page(app, client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=4)
    auth.login(maria)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert 'data-status="expired"' in page and "/confirm" not in page


def test_the_calendar_file_has_a_stable_uid_and_the_lesson_times(client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    auth.login(sam)
    first = client.get(f"/bookings/{booking.id}.ics")
    second = client.get(f"/bookings/{booking.id}.ics").get_data(as_text=True)
    body = first.get_data(as_text=True)
    assert first.mimetype == "text/calendar"
    assert f"UID:booking-{booking.id}@booking-app" in body and f"UID:booking-{booking.id}@booking-app" in second
    assert "DTSTART:20260205T140000Z" in body and "DTEND:20260205T150000Z" in body
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "calendar.google.com" in page and "outlook.live.com" in page


def test_my_bookings_lists_requests_to_answer_first_for_the_instructor(client, auth, maria, sam):
    pending = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    auth.login(maria)
    page = client.get("/bookings").get_data(as_text=True)
    assert page.index("Requests awaiting your answer") < page.index("Upcoming")
    assert f'action="/bookings/{pending.id}/confirm"' in page and "Accept" in page
    response = client.post(f"/bookings/{pending.id}/decline", data={"reason": "Away", "next": "mine"})
    assert response.location == "/bookings"


def _lessons(maria, sam, first, count_, status):  # type: ignore[no-untyped-def]
    """Add hourly lessons directly (fast), the first starting at `first`; return their ids in start order."""
    rows = []
    for i in range(count_):
        starts = first + timedelta(hours=i)
        rows.append(Booking(instructor_id=maria.id, student_id=sam.id, starts_at=starts,
                            ends_at=starts + timedelta(minutes=30), status=status,
                            expires_at=starts, created_at=first - timedelta(days=30)))
    db.session.add_all(rows)
    db.session.commit()
    return [b.id for b in rows]


def _row_ids(page: str, section: str) -> list[int]:
    part = page.split(f'id="{section}-heading"', 1)[1].split("</section>", 1)[0]
    return [int(x) for x in re.findall(r'data-booking-id="(\d+)"', part)]


def test_my_bookings_shows_every_upcoming_lesson_and_pages_the_past_newest_first(client, auth, maria, sam):
    upcoming = _lessons(maria, sam, at(3, 0), 60, "confirmed")
    past = _lessons(maria, sam, at(1, 0, month=1), 110, "completed")
    called_off = _lessons(maria, sam, at(20, 0), 1, "cancelled")
    auth.login(sam)
    first = client.get("/bookings").get_data(as_text=True)
    assert _row_ids(first, "upcoming") == upcoming
    newest_first = called_off + past[::-1]
    assert _row_ids(first, "past") == newest_first[:50]
    assert "Showing 1–50 of 111, newest first." in first and 'href="/bookings?page=2"' in first
    last = client.get("/bookings?page=3").get_data(as_text=True)
    assert _row_ids(last, "past") == newest_first[100:]
    assert _row_ids(last, "upcoming") == upcoming  # every page keeps the upcoming lessons
    assert "Showing 101–111 of 111" in last and 'href="/bookings?page=2"' in last
    region = client.get("/bookings?page=3&region=mine_body").get_data(as_text=True)
    assert "<html" not in region and _row_ids(region, "past") == newest_first[100:]
    assert _row_ids(client.get("/bookings?page=99").get_data(as_text=True), "past") == newest_first[100:]


def test_the_student_asks_to_move_a_lesson_through_the_book_page(client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(10, 14), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    auth.login(sam)
    response = client.get(f"/bookings/{booking.id}/reschedule")
    assert response.location == f"/book/{maria.id}?reschedule={booking.id}"
    page = client.get(response.location + "&date=2026-02-11").get_data(as_text=True)
    assert "Move your lesson with Maria to Wed 11 Feb at 9:00 AM (UTC)?" in page
    client.post("/book/confirm", data={"instructor": maria.id, "start": "2026-02-11T09:00:00Z", "reschedule": booking.id})
    moved = db.session.query(Booking).filter(Booking.reschedule_of_id == booking.id).one()
    assert moved.status == "pending"


def test_the_instructor_moves_a_lesson_from_the_booking_page(client, auth, maria, sam):
    booking = service.request_booking(sam, maria.id, at(10, 14), now=NOW).booking
    auth.login(maria)
    client.post(f"/bookings/{booking.id}/move", data={"on": "2026-02-10", "at": "16:00"})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == at(10, 16)


@pytest.mark.app_config(FROZEN_NOW=NOW, WTF_CSRF_ENABLED=True)
def test_booking_forms_refuse_a_post_without_the_csrf_token(client, auth, maria, sam):
    with client.session_transaction():
        pass
    response = client.post("/book/confirm", data={"instructor": maria.id, "start": "2026-02-05T14:00:00Z"})
    assert response.status_code in (302, 400)
    assert count(Booking) == 0


def test_an_instructor_can_open_their_own_shareable_link_as_a_preview(app, client, auth, users):
    teacher = users.make("instructor", name="Maria Alvarez")
    auth.login(teacher)
    page = client.get(f"/book/{teacher.id}")
    assert page.status_code == 200
    assert "This is your booking page as students see it" in page.get_data(as_text=True)


def test_an_action_form_returns_to_a_safe_next_page_only(app, client, auth, users):
    from booking_app.extensions import db
    from booking_app.models import Booking
    from tests.booking_helpers import NOW, at, open_hours

    app.config["FROZEN_NOW"] = NOW
    teacher = users.make("instructor")
    student = users.make("student")
    open_hours(teacher)
    from booking_app.services import bookings

    first = bookings.request_booking(student, teacher.id, at(5, 10)).booking
    second = bookings.request_booking(student, teacher.id, at(6, 10)).booking
    auth.login(teacher)
    assert client.post(f"/bookings/{first.id}/confirm", data={"next": "/dashboard"}).location == "/dashboard"
    evil = client.post(f"/bookings/{second.id}/confirm", data={"next": "https://evil.example/"})
    assert evil.location == f"/bookings/{second.id}"
    db.session.expire_all()
    assert {b.status for b in db.session.query(Booking)} == {"confirmed"}
