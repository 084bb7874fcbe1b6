"""Availability service: validation, delete-from-date, auto-decline, conflict warnings and live events."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange, Effect, Notification, OneTimeWindow, WeeklyWindow
from booking_app.services import ServiceError, effects
from booking_app.services import availability as service
from tests.conftest import count, utc

NOW = utc(2027, 3, 1, 12, 0)  # Monday; America/New_York is on EST (UTC-5) until 2027-03-14
frozen = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def teacher(users):
    return users.make("instructor", name="Ines Teacher", timezone="America/New_York")


def book(instructor, student, starts_at, *, minutes=60, status="pending", created_at=NOW):
    """Store a booking row directly (setup only; the booking service is another area)."""
    booking = Booking(
        instructor_id=instructor.id,
        student_id=student.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
        created_at=created_at,
        expires_at=min(created_at + timedelta(hours=240), starts_at),
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def events(redis_client, channel):
    return [json.loads(raw) for raw in reversed(redis_client.lrange(f"ev:log:{channel}", 0, -1))]


# --- validation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "minutes", "message"),
    [
        (time(14), time(14), 60, "end time must be after the start time"),
        (time(14), time(13), 60, "end time must be after the start time"),
        (time(14), time(14, 45), 60, "shorter than one 60-minute lesson"),
        (time(14), time(18), 0, "lesson length must be between"),
    ],
)
def test_an_invalid_window_is_refused_with_a_sentence_and_nothing_is_stored(teacher, start, end, minutes, message):
    with pytest.raises(ServiceError) as caught:
        service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=start, end_time=end, lesson_minutes=minutes)
    assert message in caught.value.message and caught.value.status == 422
    with pytest.raises(ServiceError):
        service.add_one_time_window(teacher, teacher.id, occurs_on=date(2027, 3, 6), start_time=start, end_time=end, lesson_minutes=minutes)
    assert count(WeeklyWindow) == 0 and count(OneTimeWindow) == 0


def test_a_bad_weekday_and_a_reversed_effective_range_are_refused(teacher):
    with pytest.raises(ServiceError, match="weekday"):
        service.add_weekly_window(teacher, teacher.id, weekday=8, start_time=time(9), end_time=time(10), lesson_minutes=60)
    with pytest.raises(ServiceError, match="on or after the first date"):
        service.add_weekly_window(
            teacher, teacher.id, weekday=2, start_time=time(9), end_time=time(10), lesson_minutes=60,
            effective_from=date(2027, 3, 9), effective_until=date(2027, 3, 1),
        )


def test_a_block_whose_end_date_is_before_its_start_is_refused(teacher):
    with pytest.raises(ServiceError, match="end date must be on or after the start date"):
        service.add_block(teacher, teacher.id, start_on=date(2027, 3, 10), end_on=date(2027, 3, 9))
    with pytest.raises(ServiceError, match="both a start and an end time"):
        service.add_block(teacher, teacher.id, start_on=date(2027, 3, 10), start_time=time(9))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"buffer_minutes": -5}, "buffer_minutes"),
        ({"min_notice_minutes": 999999}, "min_notice_minutes"),
        ({"default_lesson_minutes": 1}, "default_lesson_minutes"),
    ],
)
def test_bad_settings_are_refused_field_by_field(teacher, changes, field):
    with pytest.raises(ServiceError) as caught:
        service.update_settings(teacher, teacher.id, **changes)
    assert caught.value.field == field
    db.session.refresh(teacher.instructor_settings)
    assert teacher.instructor_settings.timezone == "America/New_York"


def test_settings_change_only_the_given_values(teacher):
    service.update_settings(teacher, teacher.id, buffer_minutes=15, min_notice_minutes=60)
    settings = teacher.instructor_settings
    assert (settings.timezone, settings.buffer_minutes, settings.min_notice_minutes, settings.default_lesson_minutes) == (
        "America/New_York", 15, 60, 60,
    )


# --- permission -----------------------------------------------------------------------------------------


def test_only_the_instructor_themselves_or_the_owner_may_change_a_schedule(users, teacher):
    other = users.make("instructor")
    student = users.make("student")
    owner = users.make("owner")
    for outsider in (other, student):
        with pytest.raises(ServiceError) as caught:
            service.add_block(outsider, teacher.id, start_on=date(2027, 3, 9))
        assert caught.value.status == 403
    service.add_block(owner, teacher.id, start_on=date(2027, 3, 9))
    assert count(service.Block) == 1


def test_an_unknown_or_student_instructor_id_is_not_found(users, teacher):
    student = users.make("student")
    for missing in (9999, student.id):
        with pytest.raises(ServiceError) as caught:
            service.add_block(teacher, missing, start_on=date(2027, 3, 9))
        assert caught.value.status == 404


# --- delete from a date on ---------------------------------------------------------------------------------


def test_deleting_a_recurring_window_from_a_date_keeps_the_weeks_before(teacher):
    window = service.add_weekly_window(
        teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60, effective_from=date(2027, 3, 2)
    ).item
    service.delete_weekly_window(teacher, window.id, from_on=date(2027, 3, 16))
    db.session.refresh(window)
    assert (window.effective_from, window.effective_until) == (date(2027, 3, 2), date(2027, 3, 15))


def test_deleting_from_a_date_never_extends_an_earlier_end(teacher):
    window = service.add_weekly_window(
        teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60,
        effective_until=date(2027, 3, 9),
    ).item
    service.delete_weekly_window(teacher, window.id, from_on=date(2027, 3, 30))
    db.session.refresh(window)
    assert window.effective_until == date(2027, 3, 9)


def test_deleting_from_the_first_date_or_entirely_removes_the_window(teacher):
    first = service.add_weekly_window(
        teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60, effective_from=date(2027, 3, 9)
    ).item
    second = service.add_weekly_window(teacher, teacher.id, weekday=4, start_time=time(10), end_time=time(14), lesson_minutes=60).item
    assert service.delete_weekly_window(teacher, first.id, from_on=date(2027, 3, 9)).item is None
    service.delete_weekly_window(teacher, second.id)
    assert count(WeeklyWindow) == 0


# --- auto-decline and warnings ------------------------------------------------------------------------------


@frozen
def test_removing_availability_declines_uncovered_pending_requests_and_only_warns_about_confirmed_lessons(
    users, teacher, redis_client
):
    maria = users.make("student", name="Maria Lopez")
    theo = users.make("student", name="Theo Park")
    owner = users.make("owner")
    tuesday = service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60).item
    service.add_weekly_window(teacher, teacher.id, weekday=4, start_time=time(10), end_time=time(14), lesson_minutes=60)
    pending_tue = book(teacher, maria, utc(2027, 3, 9, 19, 0))  # Tue 14:00 EST
    confirmed_tue = book(teacher, theo, utc(2027, 3, 9, 21, 0), status="confirmed")  # Tue 16:00 EST
    pending_thu = book(teacher, theo, utc(2027, 3, 11, 15, 0))  # Thu 10:00 EST — stays covered
    redis_client.delete(f"ev:log:user:{maria.id}", "ev:log:studio", f"ev:log:calendar:{teacher.id}")

    change = service.delete_weekly_window(owner, tuesday.id)

    assert [b.id for b in change.conflicts] == [confirmed_tue.id]
    assert count(Effect, Effect.kind == "auto_decline", Effect.done_at.is_(None)) == 1
    assert db.session.get(Booking, pending_tue.id).status == "pending"  # only the worker declines

    assert effects.run_due() == 1
    db.session.expire_all()
    declined = db.session.get(Booking, pending_tue.id)
    assert (declined.status, declined.status_reason, declined.decided_at) == ("declined", "Instructor availability changed", NOW)
    assert [(h.actor_id, h.from_status, h.to_status) for h in declined.history] == [(None, "pending", "declined")]
    assert db.session.get(Booking, confirmed_tue.id).status == "confirmed"
    assert db.session.get(Booking, pending_thu.id).status == "pending"
    note = db.session.scalars(db.select(Notification).where(Notification.user_id == maria.id)).one()
    assert (note.kind, note.booking_id) == ("booking.declined", pending_tue.id)
    assert "Instructor availability changed" in note.text
    mail = db.session.scalars(db.select(Effect).where(Effect.kind == "mail")).one()
    assert mail.payload == {"user_id": maria.id, "template": "booking_declined", "booking_id": pending_tue.id}
    live_notes = [e for e in events(redis_client, f"user:{maria.id}") if e["type"] == "notification.created"]
    assert live_notes and "Instructor availability changed" in live_notes[-1]["data"]["text"]
    assert "declined" in {e["type"].split(".")[-1] for e in events(redis_client, f"user:{maria.id}")}
    assert any(e["type"] == "booking.declined" for e in events(redis_client, "studio"))
    calendar = events(redis_client, f"calendar:{teacher.id}")
    assert [e["type"] for e in calendar] == ["availability.changed", "booking.declined"]
    assert "Maria" not in json.dumps(calendar) and set(calendar[1]["data"]) == {"instructor_id"}

    # Idempotent: a second run finds nothing more to decline.
    assert service.auto_decline(teacher.id) == []
    assert count(BookingChange) == 1 and count(Notification) == 1 and count(Effect, Effect.kind == "mail") == 1


@frozen
def test_a_vacation_block_declines_pending_requests_in_it(users, teacher):
    student = users.make("student")
    service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60)
    pending = book(teacher, student, utc(2027, 3, 23, 18, 0))  # Tue 14:00 EDT
    service.add_block(teacher, teacher.id, start_on=date(2027, 3, 22), end_on=date(2027, 3, 28), reason="Vacation")
    effects.run_due()
    db.session.expire_all()
    assert db.session.get(Booking, pending.id).status == "declined"


@frozen
def test_an_expired_request_is_left_alone_by_the_auto_decline(users, teacher):
    student = users.make("student")
    stale = book(teacher, student, utc(2027, 3, 9, 19, 0), created_at=NOW - timedelta(days=30))
    assert stale.expires_at < NOW
    service.add_block(teacher, teacher.id, start_on=date(2027, 3, 9))
    effects.run_due()
    db.session.expire_all()
    assert db.session.get(Booking, stale.id).status == "pending" and count(BookingChange) == 0


@frozen
def test_adding_availability_schedules_no_auto_decline(teacher):
    service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60)
    service.add_one_time_window(teacher, teacher.id, occurs_on=date(2027, 3, 13), start_time=time(9), end_time=time(12), lesson_minutes=60)
    assert count(Effect) == 0


def test_every_change_publishes_availability_changed_without_personal_data(teacher, redis_client):
    window = service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60).item
    block = service.add_block(teacher, teacher.id, start_on=date(2027, 3, 9), reason="Dentist").item
    service.delete_block(teacher, block.id)
    service.delete_weekly_window(teacher, window.id)
    service.update_settings(teacher, teacher.id, buffer_minutes=10)
    published = events(redis_client, f"calendar:{teacher.id}")
    assert [e["type"] for e in published] == ["availability.changed"] * 5
    assert all(e["data"] == {"instructor_id": teacher.id} for e in published)


def test_a_refused_change_publishes_nothing(teacher, redis_client):
    with pytest.raises(ServiceError):
        service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(18), end_time=time(14), lesson_minutes=60)
    assert events(redis_client, f"calendar:{teacher.id}") == []
