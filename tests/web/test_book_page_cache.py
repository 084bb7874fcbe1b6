"""The book page served from its caches follows every change at once: availability, bookings, messages, the clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from booking_app.extensions import db
from booking_app.models import Block, Booking, OneTimeWindow, StudioSettings, WeeklyWindow
from booking_app.services import bookings
from booking_app.services.messages import send_message
from tests.booking_helpers import NOW, at
from tests.conftest import _make_app

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


def open_days(page: str) -> list[int]:
    """Return the days of the month shown as links with open times."""
    return [int(d) for d in re.findall(r'<a class="day has-slots[^"]*" href="[^"]*"[^>]*>(\d+)<', page)]


def times(page: str) -> list[str]:
    """Return the open times listed for the chosen day."""
    return re.findall(r'<span class="fw-semibold">([^<]+)</span>', page)


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    teacher = users.make("instructor", name="Maria Lopez", min_notice_minutes=60)
    # Tuesdays only, 9:00 to 12:00 UTC: 3, 10, 17 and 24 February.
    db.session.add(WeeklyWindow(instructor_id=teacher.id, weekday=2, start_time=time(9), end_time=time(12),
                                lesson_minutes=60))
    db.session.commit()
    return teacher


@pytest.fixture
def other(test_env: dict[str, str], app: Flask) -> Iterator[Flask]:
    """A second app on the same database and Redis: what another web process serves."""
    second = _make_app(test_env, FROZEN_NOW=NOW)
    yield second
    hub = second.extensions.get("live_hub")
    if hub is not None:
        hub.close()
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


def book(client, maria, day: int = 3) -> str:  # type: ignore[no-untyped-def]
    db.session.commit()  # the test's own transaction ends before the request (SQLite: one writer)
    response = client.get(f"/book/{maria.id}?month=2026-02&date=2026-02-{day:02d}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_window_and_a_block_show_on_the_month_at_once(client, maria):
    assert open_days(book(client, maria)) == [3, 10, 17, 24]
    db.session.add(OneTimeWindow(instructor_id=maria.id, occurs_on=date(2026, 2, 12), start_time=time(15),
                                 end_time=time(16), lesson_minutes=60))
    db.session.commit()
    assert open_days(book(client, maria)) == [3, 10, 12, 17, 24]
    db.session.add(Block(instructor_id=maria.id, start_on=date(2026, 2, 10), end_on=date(2026, 2, 12)))
    db.session.commit()
    assert open_days(book(client, maria)) == [3, 17, 24]
    db.session.execute(sa.delete(WeeklyWindow).where(WeeklyWindow.instructor_id == maria.id))
    db.session.commit()
    page = book(client, maria)
    assert open_days(page) == [] and "No open times this month with Maria Lopez." in page


def test_a_booking_by_someone_else_takes_its_time_and_a_cancellation_gives_it_back(client, auth, maria, users):
    sam = users.make("student", name="Sam Student")
    auth.login(sam)
    assert times(book(client, maria)) == ["9:00 AM", "10:00 AM", "11:00 AM"]
    lee = users.make("student", name="Lee Other")
    made = bookings.request_booking(lee, maria.id, at(3, 10), now=NOW).booking
    assert times(book(client, maria)) == ["9:00 AM", "11:00 AM"]
    db.session.execute(sa.update(Booking).where(Booking.id == made.id).values(status="cancelled"))
    db.session.commit()
    assert times(book(client, maria)) == ["9:00 AM", "10:00 AM", "11:00 AM"]


def test_the_viewers_own_lesson_is_marked_then_glows_then_goes_when_cancelled(client, auth, maria, users):
    sam = users.make("student", name="Sam Student")
    auth.login(sam)
    assert "my-lesson my-" not in book(client, maria)
    made = bookings.request_booking(sam, maria.id, at(10, 9), now=NOW).booking
    page = book(client, maria)
    assert f'class="my-lesson my-pending" data-booking-id="{made.id}"' in page
    assert "Your requested lesson with Maria Lopez at 9:00 AM" in page
    send_message(made, maria, "See you on Tuesday!")
    assert f'class="my-lesson my-pending glow" data-booking-id="{made.id}"' in book(client, maria)
    bookings.confirm(maria, made.id, now=NOW)
    page = book(client, maria)
    assert f'class="my-lesson my-confirmed glow" data-booking-id="{made.id}"' in page
    assert "Your lesson with Maria Lopez at 9:00 AM" in page
    db.session.execute(sa.update(Booking).where(Booking.id == made.id).values(status="cancelled"))
    db.session.commit()
    assert "my-lesson my-" not in book(client, maria)


def test_the_clock_alone_moves_today_closes_times_inside_the_notice_and_frees_an_expired_request(
    app, client, auth, maria, users
):
    lee = users.make("student", name="Lee Other")
    made = bookings.request_booking(lee, maria.id, at(10, 10), now=NOW).booking
    assert times(book(client, maria, 10)) == ["9:00 AM", "11:00 AM"]
    assert 'class="day has-slots today"' not in book(client, maria)
    app.config["FROZEN_NOW"] = at(3, 8, 30)  # Tuesday 3 February, 30 minutes before the first lesson
    page = book(client, maria)
    assert 'class="day has-slots selected today"' in page
    assert times(page) == ["10:00 AM", "11:00 AM"]  # 9:00 is inside the hour's notice
    app.config["FROZEN_NOW"] = at(3, 9, 59)
    assert times(book(client, maria)) == ["11:00 AM"]
    app.config["FROZEN_NOW"] = made.expires_at  # nothing written: the request's hold simply ended
    assert times(book(client, maria, 10)) == ["9:00 AM", "10:00 AM", "11:00 AM"]


def test_the_studio_horizon_shows_at_once(client, maria):
    assert open_days(book(client, maria)) == [3, 10, 17, 24]
    studio = db.session.get(StudioSettings, 1)
    studio.horizon, studio.horizon_days = "days", 10  # up to 12 February, 08:00
    db.session.commit()
    assert open_days(book(client, maria)) == [3, 10]


def test_another_process_serving_the_page_sees_a_change_made_here(maria, other):
    second = other.test_client()
    assert open_days(book(second, maria)) == [3, 10, 17, 24]  # its caches filled
    db.session.add(Block(instructor_id=maria.id, start_on=date(2026, 2, 17), end_on=date(2026, 2, 17)))
    db.session.commit()
    assert open_days(book(second, maria)) == [3, 10, 24]
    db.session.execute(sa.delete(Block))
    db.session.commit()
    assert open_days(book(second, maria)) == [3, 10, 17, 24]


def without_csrf(page: str) -> str:
    """The page without its CSRF token (signed with the second it was made in)."""
    return re.sub(r'(name="csrf-token" content=")[^"]*"', r'\1"', page)


def test_the_same_page_is_served_from_the_kept_month_and_slots(app, client, maria):
    first = without_csrf(book(client, maria))
    kept = dict(app.extensions["fragments"]), dict(app.extensions["shown_slots_cache"])
    assert without_csrf(book(client, maria)) == first
    assert (dict(app.extensions["fragments"]), dict(app.extensions["shown_slots_cache"])) == kept
    assert kept[0] and kept[1]
    app.config["FROZEN_NOW"] = NOW + timedelta(days=1)
    assert without_csrf(book(client, maria)) != first  # another "today": another fragment
