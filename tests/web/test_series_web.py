"""Weekly lesson pages: the repeat choice on the confirm step, the preview, the series page and its one-step actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from booking_app.extensions import db
from booking_app.models import Block, Booking, LessonSeries, User
from booking_app.services.bookings import series as service
from booking_app.services.studio import get_studio
from tests.booking_helpers import open_hours
from tests.conftest import count

NY = "America/New_York"
NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)
FIRST = "2026-03-03T22:00:00Z"  # Tuesday 17:00 EST


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


def test_the_confirm_step_offers_repeat_weekly_only_when_series_are_on(client, auth, maria, sam):
    auth.login(sam)
    page = client.get(f"/book/confirm?instructor={maria.id}&start={FIRST}").get_data(as_text=True)
    assert "Repeat weekly" in page and 'formaction="/series/new"' in page
    get_studio().series_max_weeks = 0
    db.session.commit()
    page = client.get(f"/book/confirm?instructor={maria.id}&start={FIRST}").get_data(as_text=True)
    assert "Repeat weekly" not in page


def test_the_preview_lists_every_week_and_sending_creates_the_series(client, auth, maria, sam):
    db.session.add(Block(instructor_id=maria.id, start_on=date(2026, 3, 17), end_on=date(2026, 3, 17)))
    db.session.commit()
    auth.login(sam)
    form = {"instructor": str(maria.id), "start": FIRST, "weeks": "4", "notes": "Scales", "tz": NY}
    preview = client.post("/series/new", data=form)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert page.count('data-week="open"') == 3 and 'data-reason="blocked"' in page
    assert "Tue 17 Mar 2026: the instructor is away (blocked)." in page
    assert "5:00 PM" in page and count(Booking) == 0
    sent = client.post("/series/new", data={**form, "send": "1"})
    series = db.session.query(LessonSeries).one()
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/series/{series.id}")
    shown = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert shown.count("data-lesson-time") == 3 and 'data-reason="blocked"' in shown


def test_the_instructor_accepts_the_checked_weeks_and_declines_the_rest_from_the_dashboard(
    client, auth, maria, sam
):
    outcome = service.request_series(sam, maria.id, datetime(2026, 3, 3, 22, tzinfo=UTC), 60, 3, now=NOW)
    ids = [b.id for b in outcome.bookings]
    auth.login(maria)
    board = client.get("/dashboard").get_data(as_text=True)
    assert board.count(f'data-series-id="{outcome.series.id}"') == 1
    assert "Accept the checked, decline the rest" in board
    done = client.post(
        f"/series/{outcome.series.id}/answer",
        data={"decision": "accept", "booking_ids": [str(i) for i in ids[:2]], "next": "/dashboard"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")
    assert [b.status for b in service.lessons_of(outcome.series)] == ["confirmed", "confirmed", "declined"]


def test_a_series_lesson_offers_cancel_this_one_and_this_and_all_later_ones(client, auth, maria, sam):
    outcome = service.request_series(
        maria, maria.id, datetime(2026, 3, 3, 22, tzinfo=UTC), 60, 4, student_id=sam.id, now=NOW
    )
    auth.login(sam)
    second = outcome.bookings[1]
    page = client.get(f"/bookings/{second.id}").get_data(as_text=True)
    assert "Cancel this lesson" in page and "Cancel this and all later ones" in page
    assert 'name="from_on" value="2026-03-10"' in page
    client.post(f"/series/{outcome.series.id}/cancel", data={"from_on": "2026-03-10"})
    assert [b.status for b in service.lessons_of(outcome.series)] == [
        "confirmed",
        "cancelled",
        "cancelled",
        "cancelled",
    ]


def test_staff_renew_a_series_from_its_page(client, auth, maria, sam):
    outcome = service.request_series(
        maria, maria.id, datetime(2026, 3, 3, 22, tzinfo=UTC), 60, 2, student_id=sam.id, now=NOW
    )
    auth.login(maria)
    assert 'id="series-renew"' in client.get(f"/series/{outcome.series.id}").get_data(as_text=True)
    client.post(f"/series/{outcome.series.id}/renew", data={"weeks": "2"})
    assert len(service.lessons_of(outcome.series)) == 4


def test_a_stranger_gets_404_for_a_series_page(client, auth, maria, sam, users):
    outcome = service.request_series(sam, maria.id, datetime(2026, 3, 3, 22, tzinfo=UTC), 60, 2, now=NOW)
    auth.login(users.make("student"))
    assert client.get(f"/series/{outcome.series.id}").status_code == 404


def _statements_of(call) -> int:  # type: ignore[no-untyped-def]
    from tests.services.test_dashboard_helpers import counting

    db.session.remove()
    with counting() as counter:
        call()
    return len(counter.queries)


@pytest.mark.parametrize("weeks", [3, 12])
def test_a_series_request_and_its_page_take_as_many_statements_for_twelve_weeks_as_for_three(
    app, client, auth, maria, sam, weeks, backend
):
    start = datetime(2026, 3, 3, 22, tzinfo=UTC)
    ids = (sam.id, maria.id)
    requested = _statements_of(
        lambda: service.request_series(db.session.get(User, ids[0]), ids[1], start, 60, weeks, now=NOW)
    )
    series_id = db.session.query(LessonSeries.id).scalar()
    auth.login(sam)
    assert client.get(f"/series/{series_id}").status_code == 200
    shown = _statements_of(lambda: client.get(f"/series/{series_id}"))
    print(f"\nseries of {weeks} weeks: request {requested} statements, page {shown} statements")
    # PostgreSQL inserts every week in one statement; SQLite takes one INSERT per lesson.
    assert requested <= 21 + (weeks if backend == "sqlite" else 0)
    assert shown <= 4
