"""The book page's month of slots kept free of the clock: always what the engine gives at that moment."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from booking_app.domain.timeutil import utc_to_local
from booking_app.extensions import db
from booking_app.models import Block, Booking, InstructorSettings, StudioSettings, User
from booking_app.services import bookings
from booking_app.services.availability import get_instructor
from booking_app.services.slots import open_slots, shown_slots
from tests.booking_helpers import NOW, at, one_time, open_hours

FEBRUARY = (date(2026, 2, 1), date(2026, 2, 28))
ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")


def same_as_engine(flask_app: Flask, instructor_id: int, now, zone: str = "UTC") -> list:  # type: ignore[no-untyped-def]
    """Assert shown_slots equals open_slots at `now` (twice: filled, then from the cache); return the slots."""
    flask_app.config["FROZEN_NOW"] = now
    db.session.commit()
    person = get_instructor(instructor_id)
    expected = open_slots(person, *FEBRUARY, viewer_tz=zone, now=now)
    for _ in range(2):
        slots, local_starts = shown_slots(person, *FEBRUARY, viewer_tz=zone, now=now)
        assert slots == expected
        assert local_starts == [utc_to_local(s.starts_at, zone) for s in expected]
    return expected


@pytest.fixture
def teacher(app: Flask, users) -> int:  # type: ignore[no-untyped-def]
    app.config["FROZEN_NOW"] = NOW
    maria = users.make("instructor", name="Maria", timezone="Europe/Berlin", min_notice_minutes=90)
    open_hours(maria, time(9), time(17))
    one_time(maria, 14, time(18), time(20), 45)
    return int(maria.id)


def test_the_clock_moving_over_the_month_never_shows_a_passed_or_expired_slot(app, teacher, users):
    sam = users.make("student", name="Sam")
    held = [bookings.request_booking(sam, teacher, at(day, 10), now=NOW).booking for day in (2, 3, 9, 16)]
    expiries = sorted(b.expires_at for b in held)
    rng = random.Random(11)
    moments = [NOW + timedelta(minutes=rng.randrange(0, 28 * 24 * 60)) for _ in range(25)]
    # Just before and at each expiry, and at the notice edge of a slot, in order and out of order.
    moments += [e + timedelta(microseconds=d) for e in expiries for d in (-1, 0, 1)]
    moments += [at(5, 10) - timedelta(minutes=90, microseconds=d) for d in (1, 0, -1)]
    for now in sorted(moments) + moments:
        for zone in ZONES[:2]:
            same_as_engine(app, teacher, now, zone)


def test_an_expired_request_frees_its_time_without_any_write(app, teacher, users):
    sam = users.make("student", name="Sam")
    made = bookings.request_booking(sam, teacher, at(3, 10), now=NOW).booking
    before = same_as_engine(app, teacher, NOW)
    assert at(3, 10) not in [s.starts_at for s in before]
    after = same_as_engine(app, teacher, made.expires_at)
    assert at(3, 10) in [s.starts_at for s in after]


def test_changes_to_windows_blocks_settings_bookings_and_the_horizon_show_at_once(app, teacher, users):
    for zone in ZONES:
        same_as_engine(app, teacher, NOW, zone)
    db.session.add(Block(instructor_id=teacher, start_on=date(2026, 2, 10), end_on=date(2026, 2, 12)))
    db.session.commit()
    for zone in ZONES:
        assert not [
            s for s in same_as_engine(app, teacher, NOW, zone) if s.starts_at.date() == date(2026, 2, 11)
        ]
    settings = db.session.get(InstructorSettings, teacher)
    settings.buffer_minutes = 15
    settings.timezone = "Asia/Tokyo"
    db.session.commit()
    for zone in ZONES:
        same_as_engine(app, teacher, NOW, zone)
    sam = users.make("student", name="Sam")
    made = bookings.request_booking(sam, teacher, at(20, 0), now=NOW).booking
    assert at(20, 0) not in [s.starts_at for s in same_as_engine(app, teacher, NOW)]
    db.session.execute(sa.update(Booking).where(Booking.id == made.id).values(status="cancelled"))
    db.session.commit()
    assert at(20, 0) in [s.starts_at for s in same_as_engine(app, teacher, NOW)]
    studio = db.session.get(StudioSettings, 1)
    studio.horizon, studio.horizon_days = "days", 5
    db.session.commit()
    assert max(s.starts_at for s in same_as_engine(app, teacher, NOW)) < NOW + timedelta(days=5)
    db.session.execute(sa.delete(InstructorSettings).where(InstructorSettings.user_id == teacher))
    db.session.execute(sa.update(User).where(User.id == teacher).values(timezone="America/New_York"))
    db.session.commit()
    for zone in ZONES:
        same_as_engine(app, teacher, NOW, zone)


def test_a_write_transaction_reads_its_own_changes_not_the_cache(app, teacher):
    person = get_instructor(teacher)
    assert shown_slots(person, *FEBRUARY, viewer_tz="UTC", now=NOW)[0]
    db.session.add(Block(instructor_id=teacher, start_on=FEBRUARY[0], end_on=FEBRUARY[1]))
    db.session.flush()
    assert shown_slots(get_instructor(teacher), *FEBRUARY, viewer_tz="UTC", now=NOW) == ([], [])
    db.session.rollback()
