"""A 10-week series across a daylight-saving change: previewed, answered in one step, cancelled from a date.

The student asks for ten Tuesdays at 17:00 New York time, one of them blocked (nine requested, the blocked one shown as
skipped); the instructor accepts eight and declines one from the dashboard; the student cancels the last two. The pages
and the mails agree, and the local time is 5:00 PM in every week although the UTC hour moves with the clocks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import Block, Booking, LessonSeries, WeeklyWindow
from booking_app.services import clock, effects
from booking_app.services.studio import get_studio
from tests.browser.conftest import LIVE_SECRET_KEY, screenshot
from tests.browser.test_booking_flow import forgive_reads_cut_by_navigation, other_contexts, sign_in, watch

__all__ = ["other_contexts"]  # the fixture, shared with the booking flow

pytestmark = pytest.mark.browser

NY = ZoneInfo("America/New_York")
WEEKS = 10


@pytest.fixture
def browser_context_options() -> dict[str, object]:
    return {"timezone_id": "America/New_York", "locale": "en-US", "viewport": {"width": 1280, "height": 900}}


def _next_transition(after: datetime) -> date:
    """Return the local date of New York's next clock change after `after`."""
    day = after.astimezone(NY).date()
    while True:
        day += timedelta(days=1)
        noon_before = datetime.combine(day - timedelta(days=1), time(12), NY).utcoffset()
        if datetime.combine(day, time(12), NY).utcoffset() != noon_before:
            return day


def _plan(now: datetime) -> tuple[date, date]:
    """Return the first Tuesday of a 10-week series whose sixth week is the first after the next clock change, and
    the week to block (the third)."""
    change = _next_transition(now)
    while True:
        first = change + timedelta(days=(2 - change.isoweekday()) % 7) - timedelta(weeks=5)
        if first > now.astimezone(NY).date() + timedelta(days=1):
            return first, first + timedelta(weeks=2)
        change = _next_transition(datetime.combine(change + timedelta(days=1), time(12), NY))


@pytest.fixture
def studio(app, users, live_server):  # type: ignore[no-untyped-def]
    """Maria teaches Tuesdays 09:00–19:00 New York time; the horizon reaches the first week of the series."""
    app.config.update(SECRET_KEY=LIVE_SECRET_KEY, BASE_URL=live_server)
    maria = users.make("instructor", name="Maria Lopez", timezone="America/New_York")
    maria.instructor_settings.timezone = "America/New_York"
    sam = users.make("student", name="Sam Carter", timezone="America/New_York")
    db.session.add(
        WeeklyWindow(
            instructor_id=maria.id, weekday=2, start_time=time(9), end_time=time(19), lesson_minutes=60
        )
    )
    now = clock.now()
    first, blocked = _plan(now)
    db.session.add(Block(instructor_id=maria.id, start_on=blocked, end_on=blocked, reason="Conference"))
    studio = get_studio()
    studio.horizon, studio.horizon_days = "days", min(365, (first - now.date()).days + 7)
    studio.series_max_weeks = 12
    db.session.commit()
    people = {
        "maria": (maria.email, maria.name),
        "sam": (sam.email, sam.name),
        "maria_id": maria.id,
        "first": first,
        "blocked": blocked,
    }
    db.session.close()
    return people


def _lesson_times(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#series-lessons [data-lesson-time]").all_inner_texts()


def test_a_ten_week_series_across_a_clock_change_is_previewed_answered_and_cancelled_from_a_date(
    app, page, other_contexts, page_problems, inbox, users, studio
):
    first, blocked = studio["first"], studio["blocked"]
    start = datetime.combine(first, time(17), NY).astimezone(UTC)

    # Sam picks the first Tuesday at 5 PM on the book page and chooses "Repeat weekly…" in the dialog.
    sam = page
    sign_in(sam, *studio["sam"], users.password)
    sam.goto(f"/book/{studio['maria_id']}?month={first:%Y-%m}&date={first.isoformat()}")
    sam.locator(f'a.slot[data-start="{start.strftime("%Y-%m-%dT%H:%M:%SZ")}"]').click()
    sam.locator("#repeat-weekly-link").click()
    expect(sam.locator("#repeat-weekly")).to_be_visible()
    screenshot(sam, "series-confirm-step")
    sam.get_by_label("The same time every week for").select_option(str(WEEKS))
    sam.get_by_label("Note for your instructor (optional)").fill("Spring term")
    sam.locator("#preview-weekly").click()

    # The preview names every week: nine open, the blocked one skipped with its reason.
    expect(sam.locator('#series-preview [data-week="open"]')).to_have_count(WEEKS - 1)
    skipped = sam.locator('#series-preview [data-week="skipped"]')
    expect(skipped).to_have_count(1)
    expect(skipped).to_contain_text(
        f"{blocked:%a} {blocked.day} {blocked:%b %Y}: the instructor is away (blocked)."
    )
    screenshot(sam, "series-preview")
    sam.locator("#send-weekly").click()
    expect(sam.get_by_role("status").or_(sam.locator(".alert-success")).first).to_contain_text(
        "Weekly request sent."
    )
    times = _lesson_times(sam)
    assert len(times) == WEEKS - 1
    assert all(t.endswith("5:00 PM") for t in times), times
    expect(sam.locator('#series-lessons [data-week="skipped"]')).to_have_count(1)
    series_id = int(sam.locator("#series-body").get_attribute("data-series-id") or 0)

    with app.app_context():
        lessons = db.session.query(Booking).filter_by(series_id=series_id).order_by(Booking.starts_at).all()
        hours = {b.starts_at.hour for b in lessons}
        assert len(hours) == 2, "the UTC hour moves with the clock change while the local time stays"
        assert {b.expires_at for b in lessons} == {lessons[0].expires_at}  # one expiry for the whole request
        ids = [b.id for b in lessons]
        db.session.close()

    # Maria sees one request with nine weeks on her dashboard, unchecks the fourth and answers in one step.
    maria = watch(other_contexts().new_page(), page_problems)
    sign_in(maria, *studio["maria"], users.password)
    maria.goto("/dashboard")
    row = maria.locator(f'[data-series-id="{series_id}"]')
    expect(row).to_have_count(1)
    expect(row.locator('input[name="booking_ids"]')).to_have_count(WEEKS - 1)
    row.locator(f"#series-week-{ids[3]}").uncheck()
    screenshot(maria, "series-dashboard")
    row.get_by_role("button", name="Accept the checked, decline the rest").click()
    expect(maria.get_by_text("Answer saved.")).to_be_visible()

    # Sam's series page shows the answer live.
    expect(sam.locator('#series-lessons [data-status="confirmed"]')).to_have_count(WEEKS - 2, timeout=4_000)
    expect(sam.locator('#series-lessons [data-status="declined"]')).to_have_count(1)

    # Sam opens the eighth lesson and cancels it and all later ones: the last two lessons.
    sam.goto(f"/bookings/{ids[7]}")
    expect(sam.get_by_text("Cancel this lesson").first).to_be_visible()
    sam.locator("#act-cancel-later summary").click()
    sam.get_by_role("button", name="Cancel this and all later lessons").click()
    expect(sam.get_by_text("2 lessons cancelled.")).to_be_visible()
    sam.goto(f"/series/{series_id}")
    statuses = sam.locator("#series-lessons [data-status]").evaluate_all(
        "els => els.map(e => e.dataset.status)"
    )
    assert statuses == ["confirmed"] * 3 + ["declined"] + ["confirmed"] * 3 + ["cancelled"] * 2
    assert all(t.endswith("5:00 PM") for t in _lesson_times(sam))
    screenshot(sam, "series-page")

    # One mail per series action: the request (to Maria), the answer (to Sam), the cancellation (to Maria), each listing
    # every week at the same local time and agreeing with the pages.
    with app.app_context():
        effects.run_due()
        db.session.close()
    subjects = sorted(str(m["Subject"]).strip() for m in inbox.messages)
    assert len(subjects) == 3, subjects
    assert sum(s.startswith("New weekly lesson request from Sam Carter") for s in subjects) == 1, subjects
    assert sum(s.startswith("Answered: your weekly lesson request") for s in subjects) == 1
    assert sum(s.startswith("Cancelled: lessons of your weekly lesson") for s in subjects) == 1
    last = next(m for m in inbox.messages if str(m["Subject"]).strip().startswith("Cancelled"))
    text = last.get_body(("plain",)).get_content()
    listed = re.findall(r"^- (.+): (\w+)\s*$", text, re.M)
    assert [status for _, status in listed] == (
        ["Confirmed"] * 3 + ["Declined"] + ["Confirmed"] * 3 + ["Cancelled"] * 2
    ), text
    assert all(re.search(r"5:00 PM", when) for when, _ in listed), text
    with app.app_context():
        assert db.session.get(LessonSeries, series_id).skipped == [
            {"date": blocked.isoformat(), "reason": "blocked"}
        ]
        db.session.close()
    forgive_reads_cut_by_navigation(page_problems)
