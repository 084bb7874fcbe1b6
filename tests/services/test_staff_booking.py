"""Lessons booked by staff: who may book whom, which times, repeats, the student who phoned, and what people are told."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from booking_app import wording
from booking_app.domain.bookings import PAST_START
from booking_app.extensions import db
from booking_app.models import AccessLink, Booking, Notification, User
from booking_app.services import ServiceError, effects, invitations
from booking_app.services import bookings as service
from booking_app.services.availability import add_block
from booking_app.services.bookings import staff
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez", min_notice_minutes=24 * 60)
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student")


def refused(call, *args, **kwargs) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as info:
        call(*args, **kwargs)
    return info.value


def test_an_instructor_books_a_student_into_own_time_confirmed_at_once_with_history_and_a_notification(
    maria, sam
):
    result = staff.book_student(maria, maria.id, sam.id, at(5, 14), None, "Bring the scales", NOW)
    booking = result.booking
    assert result.created
    assert (booking.status, booking.starts_at, booking.ends_at) == ("confirmed", at(5, 14), at(5, 15))
    assert booking.notes == "Bring the scales"
    assert [(h.actor_id, h.from_status, h.to_status, h.note) for h in booking.history] == [
        (maria.id, None, "confirmed", "")
    ]
    [note] = db.session.scalars(sa.select(Notification).where(Notification.user_id == sam.id)).all()
    assert note.kind == "booking.booked"
    assert note.text.startswith("Maria Lopez booked you in for a lesson on Thu 5 Feb at 2:00 PM")
    # The instructor booked it themselves: nobody else to tell.
    assert count(Notification, Notification.user_id == maria.id) == 0


def test_staff_may_ignore_the_minimum_notice_and_the_booking_horizon(maria, sam):
    soon = staff.book_student(maria, maria.id, sam.id, at(2, 9), None, "", NOW).booking  # an hour from NOW
    far = staff.book_student(maria, maria.id, sam.id, at(15, 10, month=4), None, "", NOW).booking
    assert (soon.status, far.status) == ("confirmed", "confirmed")


def test_a_length_the_window_allows_is_accepted_off_the_grid(maria, sam):
    booking = staff.book_student(maria, maria.id, sam.id, at(5, 14, 30), 30, "", NOW).booking
    assert (booking.starts_at, booking.ends_at) == (at(5, 14, 30), at(5, 15))
    longer = staff.book_student(maria, maria.id, sam.id, at(6, 9), 90, "", NOW).booking
    assert longer.ends_at == at(6, 10, 30)


@pytest.mark.parametrize(
    ("starts_at", "minutes"),
    [
        (at(5, 18), None),  # after the window
        (at(5, 16, 30), 60),  # runs past the window's end
        (at(5, 8), 60),  # before it
    ],
)
def test_a_time_outside_the_availability_is_refused_and_nothing_is_written(maria, sam, starts_at, minutes):
    error = refused(staff.book_student, maria, maria.id, sam.id, starts_at, minutes, "", NOW)
    assert (error.status, error.code) == (422, "not_open")
    assert error.message == wording.STAFF_BOOK_OUTSIDE.format(name="Maria Lopez")
    assert count(Booking) == 0


def test_a_blocked_time_is_refused(maria, sam):
    add_block(
        maria,
        maria.id,
        start_on=at(5, 0).date(),
        end_on=at(5, 0).date(),
        start_time=time(13),
        end_time=time(15),
        reason="Dentist",
    )
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14), None, "", NOW)
    assert error.code == "not_open"


def test_a_time_in_the_past_or_under_way_is_refused(maria, sam):
    past = refused(staff.book_student, maria, maria.id, sam.id, NOW - timedelta(hours=1), None, "", NOW)
    assert (past.status, past.message) == (422, PAST_START)
    under_way = refused(staff.book_student, maria, maria.id, sam.id, at(2, 8), None, "", NOW)
    assert under_way.status == 422
    assert count(Booking) == 0


def test_an_overlap_with_another_lesson_of_the_instructor_is_refused_with_409(maria, sam, users):
    other = users.make("student", name="Olga Other")
    staff.book_student(maria, maria.id, other.id, at(5, 14), None, "", NOW)
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14, 30), 30, "", NOW)
    assert (error.status, error.code) == (409, "slot_taken")
    assert error.message == "Maria Lopez already has a lesson or a request at that time. Choose another time."


def test_a_pending_request_of_another_student_blocks_the_time(maria, sam, users):
    other = users.make("student")
    service.request_booking(other, maria.id, at(5, 14), now=NOW - timedelta(hours=1))
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14), None, "", NOW)
    assert error.code == "slot_taken"


def test_the_buffer_around_other_lessons_is_kept(users, sam):
    maria = users.make("instructor", name="Maria", buffer_minutes=15)
    open_hours(maria, minutes=45)
    other = users.make("student")
    staff.book_student(maria, maria.id, other.id, at(5, 9), None, "", NOW)
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 9, 45), 45, "", NOW)
    assert error.code == "slot_taken"
    assert staff.book_student(maria, maria.id, sam.id, at(5, 10), None, "", NOW).created


def test_an_overlap_with_the_students_own_lessons_elsewhere_is_refused(maria, sam, users):
    ben = users.make("instructor", name="Ben")
    open_hours(ben)
    staff.book_student(ben, ben.id, sam.id, at(5, 14), None, "", NOW)
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14), None, "", NOW)
    assert (error.status, error.code) == (409, "student_clash")
    assert error.message == "Sam Student has another lesson at that time. Choose another time."


def test_repeating_the_same_booking_returns_the_existing_lesson(maria, sam):
    first = staff.book_student(maria, maria.id, sam.id, at(5, 14), None, "", NOW)
    again = staff.book_student(maria, maria.id, sam.id, at(5, 14), 60, "", NOW)
    assert not again.created
    assert again.booking.id == first.booking.id
    assert count(Booking) == 1
    assert count(Notification, Notification.user_id == sam.id) == 1


def test_booking_over_the_students_own_request_asks_to_confirm_it_instead(maria, sam):
    service.request_booking(sam, maria.id, at(5, 14), now=NOW - timedelta(hours=1))
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14), None, "", NOW)
    assert (error.status, error.code) == (409, "pending_request")


def test_a_student_may_never_book_anyone_in(maria, sam, users):
    other = users.make("student")
    error = refused(staff.book_student, sam, maria.id, other.id, at(5, 14), None, "", NOW)
    assert (error.status, error.message) == (403, wording.STAFF_BOOK_NOT_STAFF)


def test_an_instructor_may_not_book_into_another_instructors_time(maria, sam, users):
    ben = users.make("instructor")
    error = refused(staff.book_student, ben, maria.id, sam.id, at(5, 14), None, "", NOW)
    assert (error.status, error.message) == (403, wording.STAFF_BOOK_OTHERS)


def test_the_owner_books_for_any_instructor_and_the_instructor_is_told(maria, sam, users):
    olivia = users.make("owner", name="Olivia Owner")
    booking = staff.book_student(olivia, maria.id, sam.id, at(5, 14), None, "", NOW).booking
    assert booking.history[0].actor_id == olivia.id
    [note] = db.session.scalars(sa.select(Notification).where(Notification.user_id == maria.id)).all()
    assert note.text.startswith("Olivia Owner booked Sam Student in for a lesson with you on Thu 5 Feb")
    [told] = db.session.scalars(sa.select(Notification).where(Notification.user_id == sam.id)).all()
    assert told.text.startswith("Olivia Owner booked you in for a lesson with Maria Lopez on Thu 5 Feb")


@pytest.mark.parametrize("who", ["instructor", "owner", "missing", "inactive"])
def test_only_an_active_student_can_be_booked_in(maria, users, who):
    if who == "missing":
        target_id = 999_999
    else:
        target = users.make("student" if who == "inactive" else who)
        if who == "inactive":
            target.active = False
            db.session.commit()
        target_id = target.id
    error = refused(staff.book_student, maria, maria.id, target_id, at(5, 14), None, "", NOW)
    assert (error.status, error.code) == (422, "no_student")


def test_a_note_over_the_limit_is_refused(maria, sam):
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14), None, "x" * 1001, NOW)
    assert (error.status, error.field) == (422, "notes")


# --- the student who phoned -----------------------------------------------------------------------------


def test_a_new_student_gets_an_account_an_invitation_and_the_lesson_in_one_go(maria):
    result = staff.book_new_student(
        maria, maria.id, name="Pat Phoned", email="Pat@Example.test", starts_at=at(5, 14), now=NOW
    )
    student = db.session.scalar(sa.select(User).where(User.email == "pat@example.test"))
    assert student is not None and student.role == "student" and student.password_hash == ""
    assert result.booking.student_id == student.id and result.booking.status == "confirmed"
    assert result.invitation is not None
    link = db.session.get(AccessLink, result.invitation.link.id)
    assert (link.created_by_id, link.email, link.data["user_id"]) == (
        maria.id,
        "pat@example.test",
        student.id,
    )
    # The account cannot be signed into until the invitation sets its password.
    assert not student.check_password("")


def test_accepting_the_invitation_gives_the_booked_account_its_password(maria):
    result = staff.book_new_student(
        maria, maria.id, name="Pat Phoned", email="pat@example.test", starts_at=at(5, 14), now=NOW
    )
    assert result.invitation is not None
    secret = result.invitation.url.rsplit("/", 1)[1]
    user = invitations.accept(secret, name="Pat P.", password="a-good-password")
    assert user.id == result.booking.student_id
    assert user.check_password("a-good-password") and user.name == "Pat P."
    assert count(User, User.email == "pat@example.test") == 1


def test_the_invitation_of_a_booked_account_can_be_resent(maria):
    result = staff.book_new_student(
        maria, maria.id, name="Pat Phoned", email="pat@example.test", starts_at=at(5, 14), now=NOW
    )
    assert result.invitation is not None
    again = invitations.resend(maria, result.invitation.link.id)
    assert again.link.data["user_id"] == result.booking.student_id


def test_a_new_student_at_a_refused_time_leaves_no_account_behind(maria, users):
    other = users.make("student")
    staff.book_student(maria, maria.id, other.id, at(5, 14), None, "", NOW)
    for starts_at in (at(5, 14), at(5, 20)):
        refused(
            staff.book_new_student,
            maria,
            maria.id,
            name="Pat",
            email="pat@example.test",
            starts_at=starts_at,
            now=NOW,
        )
    assert count(User, User.email == "pat@example.test") == 0
    assert count(AccessLink, AccessLink.email == "pat@example.test") == 0


def test_an_email_of_an_existing_student_books_that_student(maria, sam):
    result = staff.book_new_student(
        maria, maria.id, name="Someone", email=sam.email, starts_at=at(5, 14), now=NOW
    )
    assert result.booking.student_id == sam.id and result.invitation is None
    assert count(AccessLink) == 0


def test_an_email_of_a_staff_account_is_refused_clearly(maria, users):
    ben = users.make("instructor", email="ben@example.test")
    error = refused(
        staff.book_new_student, maria, maria.id, name="Ben", email=ben.email, starts_at=at(5, 14), now=NOW
    )
    assert (error.status, error.field) == (409, "email")
    assert error.message == wording.STAFF_BOOK_NOT_A_STUDENT.format(email="ben@example.test")


@pytest.mark.parametrize(
    ("name", "email", "field"), [("", "pat@example.test", "name"), ("Pat", "not-an-address", "email")]
)
def test_a_new_student_needs_a_name_and_a_valid_address(maria, name, email, field):
    error = refused(
        staff.book_new_student, maria, maria.id, name=name, email=email, starts_at=at(5, 14), now=NOW
    )
    assert (error.status, error.field) == (422, field)
    assert count(Booking) == 0 and count(User, User.role == "student") == 0


# --- mail -----------------------------------------------------------------------------------------------


def test_the_student_gets_a_booked_in_mail_with_the_calendar_invitation(app, inbox, users):
    maria = users.make("instructor", name="Maria Lopez", timezone="America/New_York")
    open_hours(maria)
    sam = users.make("student", name="Sam Student", timezone="Europe/Berlin")
    booking = staff.book_student(maria, maria.id, sam.id, at(5, 14), None, "Bring the scales", NOW).booking
    effects.run_due(NOW + timedelta(minutes=1))
    [received] = inbox.messages
    assert received["To"] == f"Sam Student <{sam.email}>"
    assert received["Subject"] == "Booked in: your lesson with Maria Lopez on Thu 5 Feb, 3:00 PM CET"
    text = received.get_body(("plain",)).get_content()
    assert "Maria Lopez booked you in for a lesson. It is confirmed" in text
    assert "Note: Bring the scales" in text
    [attachment] = [p for p in received.iter_attachments() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event.decoded("DTSTART") == booking.starts_at


def test_a_new_student_gets_the_invitation_and_the_booked_in_mail(app, inbox, maria):
    staff.book_new_student(
        maria, maria.id, name="Pat Phoned", email="pat@example.test", starts_at=at(5, 14), now=NOW
    )
    effects.run_due(NOW + timedelta(minutes=1))
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert len(subjects) == 2
    assert any(s.startswith("Maria Lopez invited you to") for s in subjects)
    assert any(s.startswith("Booked in: your lesson with Maria Lopez") for s in subjects)


def test_the_same_student_and_start_with_another_length_is_refused_not_doubled(maria, sam):
    staff.book_student(maria, maria.id, sam.id, at(5, 14), 60, "", NOW)
    error = refused(staff.book_student, maria, maria.id, sam.id, at(5, 14), 30, "", NOW)
    assert (error.status, error.code) == (409, "other_length")
    assert count(Booking) == 1
