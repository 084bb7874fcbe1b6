"""The booking service: requests, guards, the confirmation workflow, expiry, completion and moves."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from booking_app.domain.bookings import SLOT_TAKEN, STUDENT_CLASH
from booking_app.extensions import db
from booking_app.models import Booking, BookingChange, Effect, Notification
from booking_app.services import ServiceError, effects, maintenance
from booking_app.services import bookings as service
from booking_app.services.slots import open_slots
from booking_app.services.studio import get_studio
from tests.booking_helpers import NOW, at, one_time, open_hours
from tests.conftest import count


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez")
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student")


def refused(call, *args, **kwargs) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as info:
        call(*args, **kwargs)
    return info.value


def test_a_request_is_created_pending_with_history_expiry_and_a_notification(maria, sam):
    result = service.request_booking(sam, maria.id, at(5, 14), notes="Scales please", now=NOW)
    booking = result.booking
    assert result.created
    assert booking.status == "pending"
    assert booking.ends_at == at(5, 15)
    assert booking.notes == "Scales please"
    assert booking.expires_at == NOW + timedelta(hours=4)
    assert [(h.actor_id, h.from_status, h.to_status) for h in booking.history] == [(sam.id, None, "pending")]
    assert count(Notification, Notification.user_id == maria.id, Notification.kind == "booking.requested") == 1
    assert count(Effect, Effect.kind == "booking.expire", Effect.due_at == booking.expires_at) == 1


def test_a_request_expires_at_the_lesson_start_when_that_comes_first(maria, sam):
    booking = service.request_booking(sam, maria.id, at(2, 11), now=NOW).booking
    assert booking.expires_at == at(2, 11)


def test_a_pending_request_removes_its_slot_for_everyone(maria, sam):
    service.request_booking(sam, maria.id, at(5, 14), now=NOW)
    starts = [s.starts_at for s in open_slots(maria, at(5, 0).date(), at(5, 0).date(), now=NOW)]
    assert at(5, 14) not in starts
    assert at(5, 13) in starts and at(5, 15) in starts


def test_a_repeated_identical_request_returns_the_existing_booking(maria, sam):
    first = service.request_booking(sam, maria.id, at(5, 14), now=NOW)
    again = service.request_booking(sam, maria.id, at(5, 14), now=NOW + timedelta(seconds=1))
    assert not again.created
    assert again.booking.id == first.booking.id
    assert count(Booking) == 1



def test_a_repeat_at_the_same_start_with_another_lesson_length_is_refused_with_a_sentence(maria, sam):
    one_time(maria, 6, time(18), time(20), 90)
    one_time(maria, 6, time(18), time(19), 60)
    first = service.request_booking(sam, maria.id, at(6, 18), lesson_minutes=90, now=NOW)
    again = service.request_booking(sam, maria.id, at(6, 18), lesson_minutes=90, now=NOW)
    assert (again.created, again.booking.id) == (False, first.booking.id)
    assert service.request_booking(sam, maria.id, at(6, 18), now=NOW).booking.id == first.booking.id
    error = refused(service.request_booking, sam, maria.id, at(6, 18), lesson_minutes=60, now=NOW)
    assert (error.status, error.code) == (409, "other_length")
    assert error.message.startswith("You already asked for this time with a different lesson length.")
    assert count(Booking) == 1

def test_a_slot_taken_by_another_student_is_refused_with_the_slot_taken_sentence(maria, sam, users):
    other = users.make("student")
    service.request_booking(sam, maria.id, at(5, 14), now=NOW)
    error = refused(service.request_booking, other, maria.id, at(5, 14), now=NOW)
    assert (error.status, error.message) == (409, SLOT_TAKEN)
    assert count(Booking) == 1


def test_a_student_cannot_hold_two_overlapping_lessons_with_different_instructors(maria, sam, users):
    ana = users.make("instructor", name="Ana")
    open_hours(ana)
    service.request_booking(sam, maria.id, at(5, 14), now=NOW)
    error = refused(service.request_booking, sam, ana.id, at(5, 14), now=NOW)
    assert (error.status, error.message) == (409, STUDENT_CLASH)


def test_overlapping_slots_of_different_lengths_cannot_both_be_booked(maria, sam, users):
    one_time(maria, 6, time(18), time(20), 90)  # 18:00-19:30 beside the 60-minute grid ending 17:00
    one_time(maria, 6, time(18, 30), time(19, 30), 30)
    other = users.make("student")
    service.request_booking(sam, maria.id, at(6, 18), lesson_minutes=90, now=NOW)
    error = refused(service.request_booking, other, maria.id, at(6, 18, 30), lesson_minutes=30, now=NOW)
    assert error.status == 409
    assert error.message == SLOT_TAKEN


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (at(1, 14), "past"),
        (at(2, 9), "too_soon"),  # 1 hour away, notice is 2 hours
        (at(2, 8, 30), "too_soon"),
        (at(2, 14, 0, month=3), "beyond_horizon"),
        (at(5, 14, 30), "not_open"),  # off the grid
        (at(5, 20), "not_open"),  # outside the window
    ],
)
def test_requests_outside_the_open_slots_are_refused_with_422(maria, sam, start, code):
    error = refused(service.request_booking, sam, maria.id, start, now=NOW)
    assert (error.status, error.code) == (422, code)
    assert error.message.endswith(".")
    assert count(Booking) == 0


def test_nobody_can_book_a_lesson_with_themselves(maria):
    error = refused(service.request_booking, maria, maria.id, at(5, 14), now=NOW)
    assert (error.status, error.code) == (422, "self_booking")


def test_an_expired_request_frees_its_slot_and_is_persisted_when_someone_else_books_it(maria, sam, users):
    first = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    later = NOW + timedelta(hours=5)
    assert service.status_of(first, later).value == "expired"
    other = users.make("student")
    second = service.request_booking(other, maria.id, at(5, 14), now=later)
    assert second.created
    db.session.refresh(first)
    assert first.status == "expired"
    assert [(h.actor_id, h.to_status) for h in first.history][-1] == (None, "expired")
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "booking.expired") == 1


def test_the_instructor_confirms_and_the_student_is_told(maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW + timedelta(minutes=5))
    db.session.refresh(booking)
    assert booking.status == "confirmed"
    assert [(h.actor_id, h.from_status, h.to_status) for h in booking.history][-1] == (maria.id, "pending", "confirmed")
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "booking.confirmed") == 1


def test_a_student_cannot_confirm_their_own_request(maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    error = refused(service.confirm, sam, booking.id, now=NOW)
    assert error.status == 403


def test_another_student_gets_not_found_for_a_booking_that_is_not_theirs(maria, sam, users):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    error = refused(service.cancel, users.make("student"), booking.id, now=NOW)
    assert error.status == 404


def test_the_owner_may_confirm_any_instructors_request(maria, sam, users):
    owner = users.make("owner")
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    service.confirm(owner, booking.id, now=NOW)
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_declining_keeps_the_reason_and_frees_the_slot(maria, sam, users):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    service.decline(maria, booking.id, "I am away that day", now=NOW)
    db.session.refresh(booking)
    assert (booking.status, booking.status_reason) == ("declined", "I am away that day")
    assert booking.history[-1].note == "I am away that day"
    assert service.request_booking(users.make("student"), maria.id, at(5, 14), now=NOW).created


def test_a_student_can_withdraw_a_pending_request(maria, sam):
    booking = service.request_booking(sam, maria.id, at(2, 11), now=NOW).booking
    service.cancel(sam, booking.id, now=NOW + timedelta(minutes=1))
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert count(Notification, Notification.user_id == maria.id, Notification.text.like("%withdrew%")) == 1


def test_a_student_cannot_cancel_a_confirmed_lesson_within_the_cancellation_window(maria, sam):
    booking = service.request_booking(sam, maria.id, at(3, 9), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    error = refused(service.cancel, sam, booking.id, now=at(2, 10))
    assert error.message == "Cannot cancel within 24 hours of start time. Contact your instructor."
    assert service.cancel_refusal(sam, booking, at(2, 10)) == error.message
    # exactly 24 hours before is still inside the (strict) window; a minute earlier is outside
    assert refused(service.cancel, sam, booking.id, now=at(2, 9)).code == "cancellation_window"
    service.cancel(sam, booking.id, now=at(2, 8, 59))
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_the_instructor_can_cancel_a_confirmed_lesson_any_time_before_it_starts(maria, sam):
    booking = service.request_booking(sam, maria.id, at(2, 11), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    assert refused(service.cancel, maria, booking.id, now=at(2, 11)).code == "already_started"
    service.cancel(maria, booking.id, "Ill today", now=at(2, 10, 59))
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_a_no_show_can_be_marked_only_once_the_lesson_has_started(maria, sam):
    booking = service.request_booking(sam, maria.id, at(2, 11), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    assert refused(service.mark_no_show, maria, booking.id, now=at(2, 10)).code == "too_early"
    service.mark_no_show(maria, booking.id, now=at(2, 11, 10))
    assert db.session.get(Booking, booking.id).status == "no_show"



def test_the_instructor_can_mark_a_no_show_after_the_sweep_completed_the_lesson(maria, sam):
    booking = service.request_booking(sam, maria.id, at(2, 11), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    assert service.complete_due(at(2, 12, 1)) == 1
    assert service.actions_for(maria, db.session.get(Booking, booking.id), now=at(2, 13)) == [service.Action.NO_SHOW]
    assert refused(service.mark_no_show, sam, booking.id, now=at(2, 13)).status == 403
    service.mark_no_show(maria, booking.id, now=at(2, 13))
    db.session.refresh(booking)
    assert booking.status == "no_show"
    assert (booking.history[-1].from_status, booking.history[-1].to_status) == ("completed", "no_show")

def test_confirming_an_expired_request_is_refused(maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    error = refused(service.confirm, maria, booking.id, now=NOW + timedelta(hours=4))
    assert error.message == "This request has expired."


def test_the_sweep_persists_expiry_once_and_tells_the_student(app, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    later = NOW + timedelta(hours=4)
    assert service.expire_due(later - timedelta(seconds=1)) == 0
    assert service.expire_due(later) == 1
    assert service.expire_due(later) == 0
    assert db.session.get(Booking, booking.id).status == "expired"
    assert count(BookingChange, BookingChange.booking_id == booking.id, BookingChange.to_status == "expired") == 1
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "booking.expired") == 1


def test_the_scheduled_expiry_effect_persists_the_expiry_at_its_due_time(app, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    assert effects.run_due(NOW + timedelta(hours=3)) == 0
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=4)
    assert effects.run_due(NOW + timedelta(hours=4)) == 1
    assert db.session.get(Booking, booking.id).status == "expired"
    # the sweep afterwards finds nothing left to do
    assert maintenance.sweep(NOW + timedelta(hours=5))["expire_pending"] == 0


def test_the_expiry_effect_does_nothing_once_the_request_was_confirmed(app, maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=4)
    effects.run_due(NOW + timedelta(hours=4))
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_the_sweep_completes_confirmed_lessons_after_they_end(maria, sam):
    booking = service.request_booking(sam, maria.id, at(2, 11), now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    assert service.complete_due(at(2, 11, 59)) == 0
    assert service.complete_due(at(2, 12)) == 1
    assert service.complete_due(at(2, 12)) == 0
    db.session.refresh(booking)
    assert booking.status == "completed"
    assert booking.history[-1].actor_id is None


def _confirmed(maria, sam, start):  # type: ignore[no-untyped-def]
    booking = service.request_booking(sam, maria.id, start, now=NOW).booking
    service.confirm(maria, booking.id, now=NOW)
    return booking


def test_a_confirmed_move_request_cancels_the_original_lesson_in_the_same_step(maria, sam):
    original = _confirmed(maria, sam, at(10, 14))
    moved = service.request_booking(sam, maria.id, at(11, 10), now=NOW, reschedule_of_id=original.id).booking
    assert moved.reschedule_of_id == original.id
    assert db.session.get(Booking, original.id).status == "confirmed"  # keeps its slot meanwhile
    service.confirm(maria, moved.id, now=NOW)
    db.session.refresh(original)
    assert original.status == "cancelled"
    assert (original.history[-1].actor_id, original.history[-1].to_status) == (maria.id, "cancelled")
    assert "Moved to" in original.history[-1].note
    assert db.session.get(Booking, moved.id).status == "confirmed"



def test_confirming_a_move_tells_both_people_the_original_was_cancelled_and_mails_the_cancellation(maria, sam):
    original = _confirmed(maria, sam, at(10, 14))
    moved = service.request_booking(sam, maria.id, at(11, 10), now=NOW, reschedule_of_id=original.id).booking
    service.confirm(maria, moved.id, now=NOW)
    for person in (sam, maria):
        notes = db.session.scalars(sa.select(Notification).where(
            Notification.user_id == person.id, Notification.booking_id == original.id,
            Notification.kind == "booking.cancelled",
        )).all()
        assert len(notes) == 1 and "moved to" in notes[0].text
    mails = db.session.scalars(sa.select(Effect).where(Effect.kind == "mail")).all()
    cancelled = {m.payload["user_id"] for m in mails if m.payload["template"] == "booking_cancelled"}
    assert cancelled == {sam.id, maria.id}
    assert all(m.payload["booking_id"] == original.id for m in mails if m.payload["template"] == "booking_cancelled")


def test_a_move_cannot_be_confirmed_once_the_original_lesson_has_started(maria, sam):
    get_studio().pending_expiry_hours = 72
    db.session.commit()
    original = _confirmed(maria, sam, at(3, 9))
    moved = service.request_booking(sam, maria.id, at(10, 14), now=NOW, reschedule_of_id=original.id).booking
    error = refused(service.confirm, maria, moved.id, now=at(3, 9, 30))
    assert (error.status, error.code) == (409, "original_not_cancellable")
    assert error.message.startswith("The lesson this request would move can no longer be cancelled")
    assert error.message.endswith("Decline the request instead.")
    assert db.session.get(Booking, moved.id).status == "pending"
    assert db.session.get(Booking, original.id).status == "confirmed"

def test_a_declined_move_request_leaves_the_original_lesson_alone(maria, sam):
    original = _confirmed(maria, sam, at(10, 14))
    moved = service.request_booking(sam, maria.id, at(11, 10), now=NOW, reschedule_of_id=original.id).booking
    service.decline(maria, moved.id, now=NOW)
    assert db.session.get(Booking, original.id).status == "confirmed"


def test_a_lesson_inside_the_cancellation_window_cannot_be_moved_by_the_student(maria, sam):
    original = _confirmed(maria, sam, at(3, 9))
    error = refused(service.request_booking, sam, maria.id, at(4, 10), now=at(2, 10), reschedule_of_id=original.id)
    assert error.code == "cancellation_window"


def test_only_one_move_request_per_lesson_is_open_at_a_time(maria, sam):
    original = _confirmed(maria, sam, at(10, 14))
    service.request_booking(sam, maria.id, at(11, 10), now=NOW, reschedule_of_id=original.id)
    error = refused(service.request_booking, sam, maria.id, at(12, 10), now=NOW, reschedule_of_id=original.id)
    assert error.code == "reschedule_pending"


def test_the_instructor_moves_a_lesson_directly_and_the_student_is_told(maria, sam):
    booking = _confirmed(maria, sam, at(10, 14))
    service.move(maria, booking.id, at(10, 16), now=NOW)
    db.session.refresh(booking)
    assert (booking.starts_at, booking.ends_at, booking.status) == (at(10, 16), at(10, 17), "confirmed")
    assert booking.history[-1].note.startswith("Moved from")
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "booking.changed") == 1


def test_a_direct_move_onto_a_taken_slot_is_refused(maria, sam, users):
    booking = _confirmed(maria, sam, at(10, 14))
    service.request_booking(users.make("student"), maria.id, at(10, 16), now=NOW)
    error = refused(service.move, maria, booking.id, at(10, 16), now=NOW)
    assert error.status in (409, 422)
    assert db.session.get(Booking, booking.id).starts_at == at(10, 14)



def test_a_direct_move_onto_a_slot_held_only_by_an_overdue_request_succeeds_and_persists_its_expiry(maria, sam, users):
    other = users.make("student")
    booking = _confirmed(maria, sam, at(10, 14))
    stale = service.request_booking(other, maria.id, at(10, 16), now=NOW).booking
    later = NOW + timedelta(hours=5)
    assert db.session.scalar(sa.select(Booking.status).where(Booking.id == stale.id)) == "pending"
    service.move(maria, booking.id, at(10, 16), now=later)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == at(10, 16)
    assert db.session.get(Booking, stale.id).status == "expired"
    assert count(Notification, Notification.user_id == other.id, Notification.kind == "booking.expired") == 1

def test_a_student_cannot_move_a_lesson_directly(maria, sam):
    booking = _confirmed(maria, sam, at(10, 14))
    assert refused(service.move, sam, booking.id, at(10, 16), now=NOW).status == 403


def test_reads_treat_an_overdue_request_as_expired_before_anything_is_persisted(maria, sam):
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    later = NOW + timedelta(hours=4)
    assert [b.id for b in service.list_for(sam, status=service.Status.EXPIRED, now=later)] == [booking.id]
    assert service.list_for(sam, status=service.Status.PENDING, now=later) == []
    assert db.session.scalar(sa.select(Booking.status)) == "pending"



def test_list_for_returns_every_row_unless_limited_and_can_keep_only_upcoming_active_lessons(maria, sam, users):
    past = _confirmed(maria, sam, at(2, 11))
    service.complete_due(at(2, 12))
    confirmed = _confirmed(maria, sam, at(9, 10))
    pending = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    withdrawn = service.request_booking(sam, maria.id, at(6, 14), now=NOW).booking
    service.cancel(sam, withdrawn.id, now=NOW)
    later = at(3, 9)
    assert [b.id for b in service.list_for(sam, now=later)] == [past.id, pending.id, withdrawn.id, confirmed.id]
    assert [b.id for b in service.list_for(sam, now=later, limit=2, offset=1)] == [pending.id, withdrawn.id]
    assert [b.id for b in service.list_for(sam, upcoming_only=True, now=at(2, 9))] == [pending.id, confirmed.id]
    # An overdue request no longer counts as upcoming.
    assert [b.id for b in service.list_for(sam, upcoming_only=True, now=NOW + timedelta(hours=5))] == [confirmed.id]

def test_the_studio_expiry_setting_changes_when_requests_expire(maria, sam):
    get_studio().pending_expiry_hours = 1
    db.session.commit()
    booking = service.request_booking(sam, maria.id, at(5, 14), now=NOW).booking
    assert booking.expires_at == NOW + timedelta(hours=1)
