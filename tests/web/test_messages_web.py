"""Thread pages: reading, sending without JavaScript, escaping, refusals with the text kept, banner, rate limit."""

from __future__ import annotations

import re

import pytest

from booking_app.models import Message
from booking_app.services import messages as svc
from tests.conftest import count, sign_in_cookie
from tests.services.test_messages import make_booking

QUESTION = "Can we focus on cross-body lead?"


@pytest.fixture
def people(users):
    maria = users.make("student", name="Maria Lopez")
    tom = users.make("instructor", name="Tom Reyes")
    return maria, tom


@pytest.fixture
def booking(people):
    maria, tom = people
    return make_booking(tom, maria)


def test_a_student_sends_with_a_plain_form_and_is_redirected_back_to_the_thread(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    response = client.post(f"/bookings/{booking.id}/messages", data={"body": QUESTION})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/bookings/{booking.id}/messages#latest"
    page = client.get(f"/bookings/{booking.id}/messages").get_data(as_text=True)
    assert QUESTION in page
    assert "Lesson with Tom Reyes" in page


def test_a_safe_next_sends_the_sender_back_to_the_booking_page(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    ok = client.post(f"/bookings/{booking.id}/messages", data={"body": "hi", "next": f"/bookings/{booking.id}"})
    assert ok.headers["Location"] == f"/bookings/{booking.id}#latest"
    evil = client.post(f"/bookings/{booking.id}/messages", data={"body": "hi", "next": "https://evil.example/"})
    assert evil.headers["Location"] == f"/bookings/{booking.id}/messages#latest"


def test_line_breaks_from_the_browser_are_kept_as_typed(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    client.post(f"/bookings/{booking.id}/messages", data={"body": "line one\r\nline two"})
    assert svc.thread(booking)[0].body == "line one\nline two"


@pytest.mark.parametrize("payload", [
    "<script>alert('x')</script>",
    '<a href="javascript:alert(1)">click me</a>',
    '<img src=x onerror="alert(1)">',
    "{{ 7*7 }} &amp; </div>",
])
def test_bodies_are_shown_escaped_as_text(client, auth, booking, people, payload):
    maria, tom = people
    svc.send_message(booking, maria, payload)
    auth.login(tom)
    page = client.get(f"/bookings/{booking.id}/messages").get_data(as_text=True)
    assert payload not in page
    escaped = (payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
               .replace('"', "&#34;").replace("'", "&#39;"))
    assert escaped in page


def test_an_empty_message_is_refused_with_a_sentence_and_nothing_is_saved(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    response = client.post(f"/bookings/{booking.id}/messages", data={"body": "   \n  "})
    assert response.status_code == 422
    assert "Write a message before sending it." in response.get_data(as_text=True)
    assert count(Message) == 0


def test_a_too_long_message_is_refused_and_the_text_stays_in_the_box(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    text = "Long story " + "x" * 1995
    response = client.post(f"/bookings/{booking.id}/messages", data={"body": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2000 characters or fewer (this one has 2006)" in page
    assert f">{text}</textarea>" in page
    assert count(Message) == 0


def test_a_stranger_gets_404_for_the_thread_and_every_action(client, auth, booking, users):
    svc.send_message(booking, booking.student, "secret plans")
    stranger = users.make("student", name="Sam Stranger")
    auth.login(stranger)
    for response in (
        client.get(f"/bookings/{booking.id}/messages"),
        client.get(f"/bookings/{booking.id}/messages?region=thread"),
        client.post(f"/bookings/{booking.id}/messages", data={"body": "let me in"}),
        client.post(f"/bookings/{booking.id}/messages/read"),
        client.post(f"/bookings/{booking.id}/banner/dismiss", data={"message_id": "1"}),
    ):
        assert response.status_code == 404
        assert "secret plans" not in response.get_data(as_text=True)
        assert "Maria" not in response.get_data(as_text=True)
    assert count(Message) == 1


def test_a_missing_booking_and_a_foreign_booking_look_the_same(client, auth, booking, users):
    auth.login(users.make("student"))
    foreign = client.get(f"/bookings/{booking.id}/messages")
    missing = client.get("/bookings/99999/messages")
    assert foreign.status_code == missing.status_code == 404
    # Identical pages but for the CSRF token, which carries a timestamp.
    def without_tokens(response):
        return re.sub(r'(name="csrf[-_]token" (?:content|value)=")[^"]*"', r"\1", response.get_data(as_text=True))

    assert without_tokens(foreign) == without_tokens(missing)


def test_signed_out_visitors_are_sent_to_sign_in(client, booking):
    response = client.get(f"/bookings/{booking.id}/messages")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_owner_can_read_and_write_any_thread(client, auth, booking, people, users):
    maria, _ = people
    svc.send_message(booking, maria, QUESTION)
    owner = users.make("owner", name="Olga Owner")
    auth.login(owner)
    page = client.get(f"/bookings/{booking.id}/messages").get_data(as_text=True)
    assert QUESTION in page
    assert "as the studio owner" in page
    assert client.post(f"/bookings/{booking.id}/messages", data={"body": "Room 2 today."}).status_code == 302
    assert [m.body for m in svc.thread(booking)] == [QUESTION, "Room 2 today."]


@pytest.mark.parametrize("status", ["declined", "cancelled", "completed", "expired"])
def test_the_thread_stays_open_after_the_lesson_is_over_or_called_off(client, auth, people, status):
    maria, tom = people
    booking = make_booking(tom, maria, status=status)
    auth.login(maria)
    page = client.get(f"/bookings/{booking.id}/messages").get_data(as_text=True)
    assert 'name="body"' in page
    assert client.post(f"/bookings/{booking.id}/messages", data={"body": "Thanks!"}).status_code == 302


def test_opening_the_thread_marks_it_read_and_clears_the_banner(client, auth, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    home = client.get("/").get_data(as_text=True)
    assert "Maria Lopez" in home and QUESTION in home
    assert "Tue 5 Feb, 2:00 PM" in home  # the lesson time, in the viewer's zone
    client.get(f"/bookings/{booking.id}/messages")
    assert svc.unread_counts(tom) == {}
    assert QUESTION not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("page", ["/bookings/{id}/messages", "/bookings/{id}"])
def test_another_site_cannot_mark_messages_read_with_a_cross_site_get(client, auth, booking, people, page):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    for site in ("cross-site", "same-site"):
        assert client.get(page.format(id=booking.id), headers={"Sec-Fetch-Site": site}).status_code == 200
    assert svc.unread_counts(tom) == {booking.id: 1}
    client.get(page.format(id=booking.id), headers={"Sec-Fetch-Site": "same-origin"})
    assert svc.unread_counts(tom) == {}


@pytest.mark.parametrize("page", ["/bookings/{id}/messages", "/bookings/{id}"])
def test_a_typed_address_or_bookmark_marks_the_thread_read(client, auth, booking, people, page):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    client.get(page.format(id=booking.id), headers={"Sec-Fetch-Site": "none"})
    assert svc.unread_counts(tom) == {}


@pytest.mark.parametrize("page", ["/bookings/{id}/messages?region=thread", "/bookings/{id}?region=thread"])
def test_a_scripts_region_refresh_leaves_the_thread_unread(client, auth, booking, people, page):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    response = client.get(page.format(id=booking.id), headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200 and QUESTION in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)
    assert svc.unread_counts(tom) == {booking.id: 1}


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_marking_read_needs_the_csrf_token(client, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    sign_in_cookie(client, tom)
    page = client.get(f"/bookings/{booking.id}", headers={"Sec-Fetch-Site": "cross-site"}).get_data(as_text=True)
    assert f'data-thread-booking-id="{booking.id}"' in page
    assert client.post(f"/bookings/{booking.id}/messages/read").status_code == 400
    assert client.post(f"/api/bookings/{booking.id}/messages/read").status_code == 400
    assert svc.unread_counts(tom) == {booking.id: 1}


def test_the_banner_shows_nothing_when_all_is_read(client, auth, booking, people):
    _, tom = people
    auth.login(tom)
    page = client.get("/").get_data(as_text=True)
    assert 'id="message-banner"' in page
    assert "data-banner-message-id" not in page


def test_dismissing_the_banner_hides_it_and_returns_to_the_page(client, auth, booking, people):
    maria, tom = people
    message = svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    response = client.post(f"/bookings/{booking.id}/banner/dismiss",
                           data={"message_id": str(message.id), "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert QUESTION not in client.get("/").get_data(as_text=True)
    assert svc.unread_counts(tom) == {booking.id: 1}


def test_marking_read_without_opening_the_thread(client, auth, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    response = client.post(f"/bookings/{booking.id}/messages/read", data={"next": "/bookings"})
    assert response.status_code == 302 and response.location == "/bookings"
    assert svc.unread_counts(tom) == {}


def test_the_banner_partial_is_served_for_live_refresh(client, auth, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    partial = client.get("/messages/banner?next=/bookings").get_data(as_text=True)
    assert QUESTION in partial and 'value="/bookings"' in partial
    assert "<html" not in partial


def test_the_thread_page_answers_html_even_when_a_script_asks_for_json(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    headers = {"Accept": "application/json"}
    ok = client.post(f"/bookings/{booking.id}/messages", data={"body": "hi"}, headers=headers)
    assert ok.status_code == 302
    refused = client.post(f"/bookings/{booking.id}/messages", data={"body": " "}, headers=headers)
    assert refused.status_code == 422 and refused.mimetype == "text/html"
    assert "Write a message before sending it." in refused.get_data(as_text=True)


@pytest.mark.app_config(MESSAGE_RATE_LIMIT="2/minute")
def test_sending_too_quickly_is_refused_with_a_sentence_and_the_text_is_kept(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    for n in range(2):
        assert client.post(f"/bookings/{booking.id}/messages", data={"body": f"msg {n}"}).status_code == 302
    response = client.post(f"/bookings/{booking.id}/messages", data={"body": "Please keep this text"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "You are sending messages too quickly. Wait a minute and try again." in page
    assert ">Please keep this text</textarea>" in page
    assert count(Message) == 2


@pytest.mark.app_config(MESSAGE_RATE_LIMIT="2/minute")
def test_the_rate_limit_is_per_user(client, auth, booking, people):
    maria, tom = people
    auth.login(maria)
    for n in range(2):
        client.post(f"/bookings/{booking.id}/messages", data={"body": f"msg {n}"})
    auth.logout()
    auth.login(tom)
    assert client.post(f"/bookings/{booking.id}/messages", data={"body": "Tom can still write"}).status_code == 302


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_sending_needs_a_csrf_token(client, booking, people):
    maria, _ = people
    sign_in_cookie(client, maria)
    response = client.post(f"/bookings/{booking.id}/messages", data={"body": "hi"})
    assert response.status_code == 400
    assert count(Message) == 0


def test_base_pages_load_the_message_script_and_styles(client, auth, people):
    maria, _ = people
    auth.login(maria)
    page = client.get("/").get_data(as_text=True)
    assert "/static/js/messages.js" in page and "/static/css/messages.css" in page


def test_the_booking_page_shows_the_thread_marks_it_read_and_sends_back_to_itself(client, auth, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    auth.login(tom)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert QUESTION in page
    assert f'data-thread-booking-id="{booking.id}"' in page
    assert "data-banner-message-id" not in page  # read before the banner rendered
    assert svc.unread_counts(tom) == {}
    form_next = f'name="next" value="/bookings/{booking.id}"'
    assert form_next in page
    sent = client.post(f"/bookings/{booking.id}/messages", data={"body": "Yes!", "next": f"/bookings/{booking.id}"})
    assert sent.headers["Location"] == f"/bookings/{booking.id}#latest"


def test_templates_can_ask_which_bookings_glow(app, booking, people):
    from flask import render_template_string
    from flask_login import login_user

    maria, tom = people
    svc.send_message(booking, maria, QUESTION)
    snippet = ('{% for id in [' + str(booking.id) + ', 999] %}<i data-booking-id="{{ id }}" '
               'class="{{ "glow" if id in unread_booking_ids() }}"></i>{% endfor %}{{ unread_message_counts() }}')
    with app.test_request_context("/"):
        login_user(tom)
        html = render_template_string(snippet)
    assert f'data-booking-id="{booking.id}" class="glow"' in html
    assert 'data-booking-id="999" class=""' in html
    assert f"{{{booking.id}: 1}}" in html
