"""Deactivating someone frees the slots their pending requests hold and shows the owner their lessons ahead."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Booking, Notification
from booking_app.services.bookings import confirm, request_booking
from booking_app.services.users import INSTRUCTOR_LEFT, STUDENT_LEFT, set_active
from tests.booking_helpers import NOW, at, open_hours

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


def _status(booking_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Booking, booking_id).status)


def _texts(user_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.text).where(Notification.user_id == user_id)))


def test_a_deactivated_students_requests_stop_holding_their_slots(users):
    owner, teacher, sam, priya = users.make("owner"), users.make("instructor"), users.make(), users.make()
    open_hours(teacher)
    pending = request_booking(sam, teacher.id, at(10, 10)).booking
    change = set_active(sam, False, acting=owner)
    assert change.released == 1
    assert _status(pending.id) == "cancelled"
    assert db.session.get(Booking, pending.id).status_reason == STUDENT_LEFT
    assert any("cancelled" in t and STUDENT_LEFT in t for t in _texts(teacher.id))  # the instructor is told
    # the slot is free again for everyone
    assert request_booking(priya, teacher.id, at(10, 10)).created


def test_a_deactivated_instructors_requests_are_declined_and_their_lessons_shown_to_the_owner(users):
    owner, teacher, sam = users.make("owner"), users.make("instructor"), users.make()
    open_hours(teacher)
    pending = request_booking(sam, teacher.id, at(10, 10)).booking
    lesson = request_booking(sam, teacher.id, at(12, 10)).booking
    confirm(teacher, lesson.id)
    change = set_active(teacher, False, acting=owner)
    assert change.released == 1
    assert _status(pending.id) == "declined"
    assert any(INSTRUCTOR_LEFT in t for t in _texts(sam.id))  # the student is told
    assert _status(lesson.id) == "confirmed"  # never cancelled behind anyone's back
    assert [b.id for b in change.lessons_ahead] == [lesson.id]


def test_the_people_page_says_what_deactivation_did_and_opens_the_lessons_to_see_to(client, auth, users):
    owner, teacher, sam = users.make("owner"), users.make("instructor", name="Maria Lopez"), users.make()
    open_hours(teacher)
    confirm(teacher, request_booking(sam, teacher.id, at(12, 10)).booking.id)
    request_booking(sam, teacher.id, at(10, 10))
    auth.login(owner)
    response = client.post(f"/admin/users/{teacher.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert "/dashboard/studio?" in response.headers["Location"]
    assert f"instructor={teacher.id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Maria Lopez is deactivated; 1 pending request was released." in page
    assert "Maria Lopez still has 1 confirmed lesson ahead" in page


def test_reactivating_releases_nothing(users):
    owner, sam = users.make("owner"), users.make()
    set_active(sam, False, acting=owner)
    change = set_active(sam, True, acting=owner)
    assert change.released == 0 and change.lessons_ahead == []
    assert change.user.active
