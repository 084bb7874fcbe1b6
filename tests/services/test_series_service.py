"""The series service: request a weekly lesson, answer it in one step, cancel from a date, renew, expire."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Block, Booking, BookingChange, Effect, LessonSeries, Notification
from booking_app.services import ServiceError
from booking_app.services.bookings import request_booking
from booking_app.services.bookings import series as service
from booking_app.services.studio import get_studio
from tests.booking_helpers import open_hours
from tests.conftest import count

NY = "America/New_York"
# Monday 2 March 2026, noon in New York; New York springs forward on Sunday 8 March.
NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
FIRST = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)  # Tuesday 3 March, 17:00 EST


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez", timezone=NY)
    instructor.instructor_settings.timezone = NY
    db.session.commit()
    open_hours(instructor, time(9), time(19))
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student", timezone=NY)


def refused(call, *args, **kwargs) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as info:
        call(*args, **kwargs)
    return info.value


def local_times(bookings: list[Booking]) -> set[time]:
    return {b.starts_at.astimezone(ZoneInfo(NY)).time() for b in bookings}


def block(instructor, on: date) -> None:  # type: ignore[no-untyped-def]
    db.session.add(Block(instructor_id=instructor.id, start_on=on, end_on=on))
    db.session.commit()


def test_a_series_request_is_pending_as_one_with_one_expiry_across_the_dst_change(maria, sam):
    outcome = service.request_series(sam, maria.id, FIRST, 60, 4, now=NOW)
    assert outcome.created and outcome.skipped == []
    assert [b.status for b in outcome.bookings] == ["pending"] * 4
    assert local_times(outcome.bookings) == {time(17)}
    assert [b.starts_at.hour for b in outcome.bookings] == [22, 21, 21, 21]
    assert {b.expires_at for b in outcome.bookings} == {NOW + timedelta(hours=4)}
    assert {b.series_id for b in outcome.bookings} == {outcome.series.id}
    # One notification (and one mail) for the instructor, one expiry effect for the whole series.
    assert count(Notification, Notification.user_id == maria.id) == 1
    assert count(Effect, Effect.kind == "mail") == 1
    assert count(Effect, Effect.kind == "series.expire") == 1
    assert count(Effect, Effect.kind == "booking.expire") == 0
    assert count(BookingChange) == 4


def test_a_blocked_week_is_skipped_and_named_and_the_others_are_requested(maria, sam):
    block(maria, date(2026, 3, 17))
    outcome = service.request_series(sam, maria.id, FIRST, 60, 4, now=NOW)
    assert len(outcome.bookings) == 3
    assert [(w.on, w.skip) for w in outcome.skipped] == [(date(2026, 3, 17), "blocked")]
    assert outcome.series.skipped == [{"date": "2026-03-17", "reason": "blocked"}]


def test_a_series_may_reach_past_the_booking_horizon(maria, sam):
    outcome = service.request_series(sam, maria.id, FIRST, 60, 12, now=NOW)
    assert len(outcome.bookings) == 12
    assert outcome.bookings[-1].starts_at > datetime(2026, 4, 1, tzinfo=UTC)


def test_a_dry_run_previews_every_week_and_writes_nothing(maria, sam):
    block(maria, date(2026, 3, 10))
    outcome = service.request_series(sam, maria.id, FIRST, 60, 3, dry_run=True, now=NOW)
    assert outcome.series is None
    assert len(outcome.bookings) == 2 and [w.skip for w in outcome.skipped] == ["blocked"]
    assert count(Booking) == 0 and count(LessonSeries) == 0 and count(Notification) == 0


def test_the_same_request_repeated_returns_the_existing_series(maria, sam):
    first = service.request_series(sam, maria.id, FIRST, 60, 3, now=NOW)
    again = service.request_series(sam, maria.id, FIRST, 60, 3, now=NOW + timedelta(seconds=5))
    assert not again.created and again.series.id == first.series.id
    assert count(Booking) == 3 and count(LessonSeries) == 1


def test_a_series_where_every_week_is_taken_is_refused_and_writes_nothing(maria, sam, users):
    other = users.make("student")
    service.request_series(other, maria.id, FIRST, 60, 2, now=NOW)
    error = refused(service.request_series, sam, maria.id, FIRST, 60, 2, now=NOW)
    assert error.status == 422 and error.code == "nothing_open"
    assert count(LessonSeries) == 1


def test_series_turned_off_and_too_many_weeks_are_refused(maria, sam):
    get_studio().series_max_weeks = 4
    db.session.commit()
    assert refused(service.request_series, sam, maria.id, FIRST, 60, 5, now=NOW).field == "weeks"
    get_studio().series_max_weeks = 0
    db.session.commit()
    assert refused(service.request_series, sam, maria.id, FIRST, 60, 2, now=NOW).status == 403


def test_staff_book_a_student_in_confirmed_at_once_and_a_student_cannot_book_another(maria, sam, users):
    outcome = service.request_series(maria, maria.id, FIRST, 60, 3, student_id=sam.id, now=NOW)
    assert [b.status for b in outcome.bookings] == ["confirmed"] * 3
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "series.booked") == 1
    other = users.make("student")
    assert (
        refused(service.request_series, other, maria.id, FIRST, 60, 3, student_id=sam.id, now=NOW).status
        == 403
    )


def test_staff_may_book_inside_the_notice_but_a_student_may_not(maria, sam):
    soon = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # Monday 16:00 EST, in an hour
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    mine = service.request_series(sam, maria.id, soon, 60, 2, dry_run=True, now=now)
    assert [w.skip for w in mine.skipped] == ["too_soon"]
    staff = service.request_series(maria, maria.id, soon, 60, 2, student_id=sam.id, now=now)
    assert len(staff.bookings) == 2


def test_the_instructor_confirms_some_and_the_rest_are_declined_in_one_step(maria, sam):
    outcome = service.request_series(sam, maria.id, FIRST, 60, 4, now=NOW)
    ids = [b.id for b in outcome.bookings]
    answered = service.answer_series(maria, outcome.series.id, ids[:3], now=NOW + timedelta(minutes=5))
    assert [b.status for b in answered.bookings] == ["confirmed"] * 3 + ["declined"]
    assert count(Notification, Notification.user_id == sam.id) == 1
    assert count(Effect, Effect.kind == "mail") == 2  # the request's, and one for the answer


def test_only_staff_answer_a_series_and_only_with_its_own_pending_lessons(maria, sam):
    outcome = service.request_series(sam, maria.id, FIRST, 60, 2, now=NOW)
    assert refused(service.answer_series, sam, outcome.series.id, now=NOW).status == 403
    assert refused(service.answer_series, maria, outcome.series.id, [999999], now=NOW).status == 422
    service.answer_series(maria, outcome.series.id, decline_all=True, reason="Away", now=NOW)
    assert {b.status for b in service.lessons_of(outcome.series)} == {"declined"}
    assert refused(service.answer_series, maria, outcome.series.id, now=NOW).status == 409


def test_cancelling_from_a_date_keeps_what_the_window_protects(maria, sam):
    outcome = service.request_series(maria, maria.id, FIRST, 60, 4, student_id=sam.id, now=NOW)
    # Two hours before the first lesson: inside the 24-hour window for the student.
    later = FIRST - timedelta(hours=2)
    done = service.cancel_series(sam, outcome.series.id, now=later)
    assert [b.starts_at for b in done.kept] == [FIRST]
    assert len(done.cancelled) == 3
    assert count(Notification, Notification.user_id == maria.id, Notification.kind == "series.cancelled") == 1


def test_cancelling_this_and_later_ones_leaves_the_earlier_lessons(maria, sam):
    outcome = service.request_series(maria, maria.id, FIRST, 60, 4, student_id=sam.id, now=NOW)
    service.cancel_series(sam, outcome.series.id, date(2026, 3, 17), now=NOW)
    assert [b.status for b in service.lessons_of(outcome.series)] == [
        "confirmed",
        "confirmed",
        "cancelled",
        "cancelled",
    ]


def test_renewing_adds_the_next_weeks_at_the_same_local_time(maria, sam):
    outcome = service.request_series(maria, maria.id, FIRST, 60, 2, student_id=sam.id, now=NOW)
    renewed = service.renew_series(maria, outcome.series.id, 3, now=NOW)
    assert [b.starts_at.date() for b in renewed.bookings] == [
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 31),
    ]
    assert local_times(service.lessons_of(outcome.series)) == {time(17)}
    assert outcome.series.weeks == 5


def test_a_whole_series_request_expires_together_with_one_notification(maria, sam):
    outcome = service.request_series(sam, maria.id, FIRST, 60, 3, now=NOW)
    maintenance_now = NOW + timedelta(hours=5)
    expired = service.expire_overdue(Booking.series_id == outcome.series.id, maintenance_now)
    db.session.commit()
    assert expired == 3
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "series.expired") == 1
    assert count(Booking, Booking.status == "expired") == 3


def test_a_series_skips_the_week_the_student_already_has_a_lesson(maria, sam, users):
    other = users.make("instructor", timezone=NY)
    other.instructor_settings.timezone = NY
    db.session.commit()
    open_hours(other, time(9), time(19))
    request_booking(sam, other.id, datetime(2026, 3, 10, 21, 0, tzinfo=UTC), now=NOW)  # 17:00 EDT
    outcome = service.request_series(sam, maria.id, FIRST, 60, 3, now=NOW)
    assert [w.skip for w in outcome.skipped] == ["student_busy"]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Booking).where(Booking.series_id.is_not(None))
        )
        == 2
    )


def test_a_stranger_cannot_see_a_series(maria, sam, users):
    outcome = service.request_series(sam, maria.id, FIRST, 60, 2, now=NOW)
    assert refused(service.get_series_for, users.make("student"), outcome.series.id).status == 404
    assert service.get_series_for(maria, outcome.series.id).id == outcome.series.id


def test_the_sweep_expires_a_whole_series_request_with_one_notification_and_one_mail(maria, sam):
    from booking_app.services.bookings import expire_due

    outcome = service.request_series(sam, maria.id, FIRST, 60, 4, now=NOW)
    mails_before = count(Effect, Effect.kind == "mail")
    assert expire_due(NOW + timedelta(hours=4)) == 4
    assert {b.status for b in service.lessons_of(outcome.series)} == {"expired"}
    assert count(Notification, Notification.user_id == sam.id, Notification.kind == "series.expired") == 1
    assert count(Effect, Effect.kind == "mail") == mails_before + 1


def test_the_series_expiry_effect_expires_only_that_series(maria, sam, users):
    other = users.make("student")
    mine = service.request_series(sam, maria.id, FIRST, 60, 2, now=NOW)
    theirs = service.request_series(
        other, maria.id, FIRST + timedelta(hours=-3), 60, 2, now=NOW + timedelta(hours=1)
    )
    # The worker runs the effect at the expiry (the real clock is later than NOW).
    service.expire_series_effect({"series_id": mine.series.id})
    assert {b.status for b in service.lessons_of(mine.series)} == {"expired"}
    assert {b.status for b in service.lessons_of(theirs.series)} == {"pending"}
