"""Action links in mails: signed single-purpose tokens, pages that change nothing on GET, one POST that acts signed out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app import wording
from booking_app.domain.mail_actions import MailAction
from booking_app.extensions import db
from booking_app.models import Booking, BookingChange
from booking_app.services import action_tokens, mail
from booking_app.services import bookings as booking_service
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW, RATELIMIT_ENABLED=False)


@pytest.fixture
def lessons(app, users):
    """Instructor in New York with open hours; a Berlin student with a pending request and a confirmed lesson."""
    teacher = users.make("instructor", name="Maria Alvarez", timezone="America/New_York")
    student = users.make("student", name="Sam Lee", timezone="Europe/Berlin")
    open_hours(teacher)
    pending = booking_service.request_booking(student, teacher.id, at(10, 15), None, "First lesson").booking
    confirmed = booking_service.request_booking(student, teacher.id, at(11, 15), None, "").booking
    booking_service.confirm(teacher, confirmed.id)
    return {"teacher": teacher, "student": student, "pending": pending, "confirmed": confirmed}


def _path(action: MailAction, booking: Booking, user) -> str:
    return action_tokens.link_path(action, action_tokens.sign(action, booking, user))


def _state(booking_id: int) -> tuple[str, list[tuple]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(BookingChange.booking_id, BookingChange.from_status, BookingChange.to_status, BookingChange.at)
        .order_by(BookingChange.id)
    ).all()
    return db.session.get(Booking, booking_id).status, [tuple(r) for r in rows]


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


# --- tokens ------------------------------------------------------------------------------------------


def test_a_token_opens_only_its_own_action(app, lessons):
    token = action_tokens.sign(MailAction.ACCEPT, lessons["pending"], lessons["teacher"])
    assert action_tokens.read(MailAction.ACCEPT, token).booking_id == lessons["pending"].id
    for other in (MailAction.DECLINE, MailAction.CANCEL, MailAction.RESCHEDULE):
        assert action_tokens.read(other, token) is None


def test_an_accept_token_used_as_a_decline_link_is_refused_and_changes_nothing(app, client, lessons):
    pending = lessons["pending"]
    token = action_tokens.sign(MailAction.ACCEPT, pending, lessons["teacher"])
    before = _state(pending.id)
    for method in ("get", "post"):
        response = getattr(client, method)(f"/act/decline/{token}")
        assert response.status_code == 410
        assert wording.ACTION_LINK_INVALID in response.get_data(as_text=True)
    assert _state(pending.id) == before


def test_a_tampered_token_is_refused(app, client, lessons):
    token = action_tokens.sign(MailAction.ACCEPT, lessons["pending"], lessons["teacher"])
    payload, signature = token.split(".")
    # Point the payload at the confirmed booking: the signature no longer fits.
    forged = action_tokens._serializer(MailAction.ACCEPT).dump_payload(
        {"a": "accept", "b": lessons["confirmed"].id, "u": lessons["teacher"].id, "x": 2**31})
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged.decode() + "." + signature,
                "x" * 401, "not-a-token"):
        response = client.post(f"/act/accept/{bad}")
        assert response.status_code in (404, 410), bad
    assert _state(lessons["pending"].id)[0] == "pending"


def test_a_token_for_another_person_or_another_booking_does_nothing_there(app, client, lessons):
    # The student's name on an instructor's action: refused.
    as_student = _path(MailAction.ACCEPT, lessons["pending"], lessons["student"])
    assert client.post(as_student).status_code == 410
    # A cancel link for the confirmed lesson names that lesson and cancels only it.
    cancel = _path(MailAction.CANCEL, lessons["confirmed"], lessons["student"])
    assert client.post(cancel).status_code == 200
    db.session.expire_all()
    assert db.session.get(Booking, lessons["confirmed"].id).status == "cancelled"
    assert db.session.get(Booking, lessons["pending"].id).status == "pending"


def test_expired_tokens_are_refused_with_a_sentence_and_a_sign_in_link(app, client, lessons):
    accept = _path(MailAction.ACCEPT, lessons["pending"], lessons["teacher"])
    cancel = _path(MailAction.CANCEL, lessons["confirmed"], lessons["student"])
    move = _path(MailAction.RESCHEDULE, lessons["confirmed"], lessons["student"])
    app.config["FROZEN_NOW"] = lessons["pending"].expires_at + timedelta(seconds=1)
    response = client.get(accept)
    assert response.status_code == 410
    assert "This booking is already expired." in response.get_data(as_text=True)
    app.config["FROZEN_NOW"] = lessons["confirmed"].starts_at + timedelta(minutes=1)
    for path in (cancel, move):
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            body = response.get_data(as_text=True)
            assert response.status_code == 410, path
            assert wording.ACTION_LINK_EXPIRED in body
            assert "/login?next=" in body
    assert _state(lessons["confirmed"].id)[0] == "confirmed"


# --- GET changes nothing -------------------------------------------------------------------------------


def test_opening_any_action_link_changes_nothing(app, client, lessons):
    links = [
        _path(MailAction.ACCEPT, lessons["pending"], lessons["teacher"]),
        _path(MailAction.DECLINE, lessons["pending"], lessons["teacher"]),
        _path(MailAction.CANCEL, lessons["confirmed"], lessons["student"]),
        _path(MailAction.RESCHEDULE, lessons["confirmed"], lessons["student"]),
    ]
    before = (_state(lessons["pending"].id), _state(lessons["confirmed"].id), count(Booking))
    for path in links * 2:  # a scanner may fetch a link more than once
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.get_data(as_text=True).count('type="submit"') >= 1
    assert (_state(lessons["pending"].id), _state(lessons["confirmed"].id), count(Booking)) == before


def test_the_page_names_the_lesson_in_the_recipients_zone(app, client, lessons):
    page = client.get(_path(MailAction.ACCEPT, lessons["pending"], lessons["teacher"])).get_data(as_text=True)
    # 15:00 UTC on 10 Feb 2026 is 10:00 AM in New York and 4:00 PM in Berlin.
    assert "Tue 10 Feb at 10:00 AM (New York time)" in page and "1 hour" in page
    assert "Sam Lee" in page and "Pending" in page and "Accept the request" in page
    page = client.get(_path(MailAction.CANCEL, lessons["confirmed"], lessons["student"])).get_data(as_text=True)
    assert "Wed 11 Feb at 4:00 PM (Berlin time)" in page
    assert "Maria Alvarez" in page and "Confirmed" in page


# --- POST acts, signed out ---------------------------------------------------------------------------


def test_accepting_signed_out_confirms_and_a_second_use_answers_gone(app, client, lessons):
    path = _path(MailAction.ACCEPT, lessons["pending"], lessons["teacher"])
    response = client.post(path)
    assert response.status_code == 200
    assert "Lesson confirmed. Sam Lee has been told." in response.get_data(as_text=True)
    assert f"/bookings/{lessons['pending'].id}" in response.get_data(as_text=True)
    status, history = _state(lessons["pending"].id)
    assert status == "confirmed"
    assert history[-1][1:3] == ("pending", "confirmed")
    db.session.expire_all()
    assert db.session.get(BookingChange, count(BookingChange)).actor_id == lessons["teacher"].id
    for method in ("get", "post"):
        again = getattr(client, method)(path)
        assert again.status_code == 410
        assert "This booking is already confirmed." in again.get_data(as_text=True)
    # The decline link of the same mail no longer applies either.
    assert client.get(_path(MailAction.DECLINE, lessons["pending"], lessons["teacher"])).status_code == 410
    assert _state(lessons["pending"].id)[1] == history


def test_declining_signed_out_keeps_the_reason(app, client, lessons):
    response = client.post(_path(MailAction.DECLINE, lessons["pending"], lessons["teacher"]), data={"reason": "Away"})
    assert response.status_code == 200
    db.session.expire_all()
    booking = db.session.get(Booking, lessons["pending"].id)
    assert (booking.status, booking.status_reason) == ("declined", "Away")


def test_cancelling_signed_out_cancels_as_the_student(app, client, lessons):
    path = _path(MailAction.CANCEL, lessons["confirmed"], lessons["student"])
    response = client.post(path, data={"reason": "Ill"})
    assert response.status_code == 200
    assert "Lesson cancelled. Maria Alvarez has been told." in response.get_data(as_text=True)
    db.session.expire_all()
    change = db.session.scalars(sa.select(BookingChange).order_by(BookingChange.id.desc())).first()
    assert (change.to_status, change.actor_id) == ("cancelled", lessons["student"].id)
    assert client.post(path).status_code == 410


def test_inside_the_window_the_cancel_page_shows_the_policy_and_refuses(app, client, lessons):
    path = _path(MailAction.CANCEL, lessons["confirmed"], lessons["student"])
    app.config["FROZEN_NOW"] = lessons["confirmed"].starts_at - timedelta(hours=20)
    policy = "Cannot cancel within 24 hours of start time. Contact your instructor."
    page = client.get(path)
    assert page.status_code == 200
    assert policy in page.get_data(as_text=True)
    assert 'type="submit">Cancel the lesson' not in page.get_data(as_text=True)
    refused = client.post(path)
    assert refused.status_code == 409
    assert policy in refused.get_data(as_text=True)
    assert _state(lessons["confirmed"].id)[0] == "confirmed"


@pytest.mark.app_config(FROZEN_NOW=NOW, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=True)
def test_the_post_needs_the_csrf_token_the_page_gave_a_signed_out_visitor(app, client, lessons):
    path = _path(MailAction.ACCEPT, lessons["pending"], lessons["teacher"])
    assert client.post(path).status_code == 400  # no token: refused, nothing done
    assert _state(lessons["pending"].id)[0] == "pending"
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    assert _state(lessons["pending"].id)[0] == "confirmed"


# --- reschedule ------------------------------------------------------------------------------------


def test_the_reschedule_link_offers_open_times_and_asks_to_move(app, client, lessons):
    confirmed = lessons["confirmed"]
    path = _path(MailAction.RESCHEDULE, confirmed, lessons["student"])
    page = client.get(path).get_data(as_text=True)
    assert 'type="radio"' in page and 'value="2026-02-12T15:00:00Z"' in page
    # Its own time and the pending request's are taken, so not offered.
    assert 'value="2026-02-11T15:00:00Z"' not in page and 'value="2026-02-10T15:00:00Z"' not in page
    assert client.post(path, data={}).status_code == 422
    response = client.post(path, data={"start": "2026-02-12T15:00:00Z"})
    assert response.status_code == 200
    assert "Maria Alvarez will answer soon" in response.get_data(as_text=True)
    moved = db.session.scalar(sa.select(Booking).where(Booking.reschedule_of_id == confirmed.id))
    assert (moved.status, moved.starts_at) == ("pending", at(12, 15))
    assert _state(confirmed.id)[0] == "confirmed"  # the lesson keeps its slot until the move is confirmed
    again = client.get(path)
    assert again.status_code == 410
    assert wording.ACTION_MOVE_ASKED in again.get_data(as_text=True)


def test_the_reschedule_page_says_so_when_the_lesson_can_no_longer_move(app, client, lessons):
    path = _path(MailAction.RESCHEDULE, lessons["confirmed"], lessons["student"])
    app.config["FROZEN_NOW"] = lessons["confirmed"].starts_at - timedelta(hours=3)
    page = client.get(path).get_data(as_text=True)
    assert "Cannot cancel within 24 hours of start time." in page
    assert 'type="radio"' not in page
    assert client.post(path, data={"start": "2026-02-12T15:00:00Z"}).status_code == 409
    assert count(Booking) == 2


# --- the mails ---------------------------------------------------------------------------------------


def test_the_request_mail_carries_accept_and_decline_links_that_open_the_page(app, client, lessons):
    message = mail.compose(lessons["teacher"], "request_received", lessons["pending"])
    text = _text(message)
    accept = re.search(r"^Accept: (\S+)$", text, re.M).group(1)
    assert re.search(r"^Decline: \S+/act/decline/\S+$", text, re.M)
    html = message.get_body(("html",)).get_content()
    assert ">Accept</a>" in html and ">Decline</a>" in html and "Accept: http" not in html
    assert client.get(accept.removeprefix(app.config["BASE_URL"])).status_code == 200


def test_the_confirmation_carries_reschedule_and_cancel_links(app, lessons):
    text = _text(mail.compose(lessons["student"], "booking_confirmed", lessons["confirmed"]))
    assert re.search(r"^Reschedule: \S+/act/reschedule/\S+$", text, re.M)
    assert re.search(r"^Cancel the lesson: \S+/act/cancel/\S+$", text, re.M)


def test_inside_the_window_the_reminder_carries_the_policy_instead_of_cancel(app, lessons):
    app.config["FROZEN_NOW"] = lessons["confirmed"].starts_at - timedelta(hours=20)
    message = mail.compose(lessons["student"], "reminder_24h", lessons["confirmed"])
    text = _text(message)
    assert "Cannot cancel within 24 hours of start time. Contact your instructor." in text
    assert "/act/" not in text
    assert "Cannot cancel within 24 hours" in message.get_body(("html",)).get_content()


def test_other_mails_and_recipients_carry_no_action_links(app, lessons):
    app.config["FROZEN_NOW"] = lessons["confirmed"].starts_at - timedelta(hours=20)
    for user, template, booking in ((lessons["teacher"], "reminder_24h", lessons["confirmed"]),
                                    (lessons["student"], "booking_moved", lessons["confirmed"])):
        message = mail.compose(user, template, booking)
        assert "/act/" not in _text(message)
        assert "/act/" not in message.get_body(("html",)).get_content()
