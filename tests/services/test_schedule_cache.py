"""The schedule cache: every change to what slots depend on, and the clock, shows at once, in every process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from booking_app.extensions import db
from booking_app.models import (
    Block,
    Booking,
    InstructorSettings,
    OneTimeWindow,
    StudioSettings,
    User,
    WeeklyWindow,
)
from booking_app.services import bookings
from booking_app.services.availability import get_instructor
from booking_app.services.slots import open_slots
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import _make_app

DAY = date(2026, 2, 10)  # a Tuesday, inside February's horizon


@pytest.fixture
def other(test_env: dict[str, str], app: Flask) -> Iterator[Flask]:
    """A second app on the same database and Redis: what another process sees."""
    second = _make_app(test_env)
    yield second
    hub = second.extensions.get("live_hub")
    if hub is not None:
        hub.close()
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


def starts(flask_app: Flask, instructor_id: int, on: date = DAY) -> list[str]:
    """Return the open slot starts (UTC, HH:MM) on a day, as this app computes them now."""
    db.session.commit()  # the test's own transaction ends first (SQLite lets one writer in at a time)
    with flask_app.app_context():
        flask_app.config["FROZEN_NOW"] = flask_app.config.get("FROZEN_NOW") or NOW
        found = [f"{s.starts_at:%H:%M}" for s in open_slots(get_instructor(instructor_id), on, on)]
        db.session.remove()
        return found


def both(app: Flask, other: Flask, instructor_id: int, on: date = DAY) -> tuple[list[str], list[str]]:
    return starts(app, instructor_id, on), starts(other, instructor_id, on)


@pytest.fixture
def teacher(app: Flask, users) -> int:  # type: ignore[no-untyped-def]
    app.config["FROZEN_NOW"] = NOW
    maria = users.make("instructor", name="Maria", min_notice_minutes=0)
    open_hours(maria, time(9), time(12))
    return int(maria.id)


def _commit(*rows: object) -> None:
    db.session.add_all(rows)
    db.session.commit()


def test_a_window_added_elsewhere_opens_its_slots_in_every_process(app, other, teacher):
    assert both(app, other, teacher) == (["09:00", "10:00", "11:00"],) * 2  # both caches filled
    _commit(OneTimeWindow(instructor_id=teacher, occurs_on=DAY, start_time=time(14), end_time=time(15),
                          lesson_minutes=60))
    assert both(app, other, teacher) == (["09:00", "10:00", "11:00", "14:00"],) * 2


def test_a_changed_or_deleted_weekly_window_shows_at_once(app, other, teacher):
    both(app, other, teacher)
    db.session.execute(sa.update(WeeklyWindow).where(WeeklyWindow.instructor_id == teacher, WeeklyWindow.weekday == 2)
                       .values(end_time=time(10)))
    db.session.commit()
    assert both(app, other, teacher) == (["09:00"],) * 2
    db.session.execute(sa.delete(WeeklyWindow).where(WeeklyWindow.instructor_id == teacher, WeeklyWindow.weekday == 2))
    db.session.commit()
    assert both(app, other, teacher) == ([], [])


def test_a_block_closes_the_day_and_its_removal_opens_it(app, other, teacher):
    both(app, other, teacher)
    _commit(Block(instructor_id=teacher, start_on=DAY, end_on=DAY, start_time=time(10), end_time=time(11)))
    assert both(app, other, teacher) == (["09:00", "11:00"],) * 2
    db.session.execute(sa.delete(Block))
    db.session.commit()
    assert both(app, other, teacher) == (["09:00", "10:00", "11:00"],) * 2


def test_instructor_settings_show_at_once(app, other, teacher):
    both(app, other, teacher)
    settings = db.session.get(InstructorSettings, teacher)
    settings.buffer_minutes = 30
    settings.timezone = "Europe/Berlin"  # the same wall times are now an hour earlier in UTC
    db.session.commit()
    assert both(app, other, teacher) == (["08:00", "09:30"],) * 2  # 60-minute lessons 30 minutes apart


def test_the_studio_horizon_shows_at_once(app, other, teacher):
    march = date(2026, 3, 3)
    assert both(app, other, teacher, march) == ([], [])  # beyond the end of February
    studio = db.session.get(StudioSettings, 1)
    studio.horizon = "end_of_next_month"
    db.session.commit()
    assert both(app, other, teacher, march) == (["09:00", "10:00", "11:00"],) * 2


def test_a_booking_takes_its_slot_everywhere_and_its_cancellation_frees_it(app, other, teacher, users):
    both(app, other, teacher)
    sam = users.make("student", name="Sam")
    made = bookings.request_booking(sam, teacher, at(10, 10), now=NOW)
    assert both(app, other, teacher) == (["09:00", "11:00"],) * 2
    db.session.execute(sa.update(Booking).where(Booking.id == made.booking.id).values(status="cancelled"))
    db.session.commit()
    assert both(app, other, teacher) == (["09:00", "10:00", "11:00"],) * 2


def test_the_clock_alone_frees_an_expired_request_and_closes_slots_inside_the_notice(app, other, teacher, users):
    sam = users.make("student", name="Sam")
    made = bookings.request_booking(sam, teacher, at(10, 10), now=NOW)
    assert both(app, other, teacher) == (["09:00", "11:00"],) * 2
    expires = made.booking.expires_at
    for flask_app in (app, other):
        flask_app.config["FROZEN_NOW"] = expires + timedelta(minutes=1)
    assert both(app, other, teacher) == (["09:00", "10:00", "11:00"],) * 2  # nothing written: the clock moved
    for flask_app in (app, other):
        flask_app.config["FROZEN_NOW"] = at(10, 9, 30)
    assert both(app, other, teacher) == (["10:00", "11:00"],) * 2  # 09:00 has passed


def test_an_instructor_deactivated_or_moved_to_another_zone_is_never_served_from_the_old_entry(app, other, teacher):
    both(app, other, teacher)
    db.session.execute(sa.delete(InstructorSettings).where(InstructorSettings.user_id == teacher))
    db.session.execute(sa.update(User).where(User.id == teacher).values(timezone="Asia/Tokyo"))
    db.session.commit()
    # Without settings the rules are read in the person's own zone: 09:00 in Tokyo is 00:00 UTC.
    assert both(app, other, teacher) == (["00:00", "01:00", "02:00"],) * 2


def test_an_emptied_version_table_never_brings_back_an_old_entry(app, other, teacher):
    both(app, other, teacher)
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM schedule_versions"))
        conn.execute(sa.text("DELETE FROM weekly_windows WHERE weekday = 2"))
    # The windows' delete created the row again, with a new token: the old entries are unreachable.
    assert both(app, other, teacher) == ([], [])


def test_a_write_transaction_reads_its_own_changes_not_the_cache(app, teacher):
    app.extensions.pop("schedule_cache", None)
    maria = get_instructor(teacher)
    assert len(open_slots(maria, DAY, DAY)) == 3
    db.session.add(Block(instructor_id=teacher, start_on=DAY, end_on=DAY))
    db.session.flush()
    assert open_slots(get_instructor(teacher), DAY, DAY) == []  # same transaction, not yet committed
    db.session.rollback()
    assert len(open_slots(get_instructor(teacher), DAY, DAY)) == 3
