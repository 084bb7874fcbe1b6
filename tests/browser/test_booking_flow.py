"""A student requests a lesson, another browser sees the slot vanish, the instructor confirms, all live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import WeeklyWindow
from booking_app.services.studio import get_studio
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

LIVE = 2_000  # ms: the spec's promise for live updates


@pytest.fixture
def other_contexts(browser, live_server, browser_context_options) -> Iterator[list]:  # type: ignore[no-untyped-def]
    """Extra browsers (their own cookies), closed after the test."""
    made: list = []

    def make():  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=live_server, **browser_context_options)
        made.append(context)
        return context

    yield make  # type: ignore[misc]
    for context in made:
        for p in context.pages:
            p.close()
        context.close()


def watch(page, problems):  # type: ignore[no-untyped-def]
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: msg.type == "error" and problems.problems.append(f"console: {msg.text}"))
    page.on("pageerror", lambda exc: problems.problems.append(f"page error: {exc}"))
    page.on("response", problems.on_response)
    page.on("requestfailed", problems.on_request_failed)
    return page


def sign_in(page, email: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=re.compile(name))).to_be_visible()


def forgive_reads_cut_by_navigation(problems) -> None:  # type: ignore[no-untyped-def]
    problems.problems[:] = [p for p in problems.problems
                            if not (p.startswith("request failed: GET ") and p.endswith("(net::ERR_ABORTED)"))]


def studio_with_maria(users) -> dict:  # type: ignore[no-untyped-def]
    """Maria teaches every day 08:00-20:00 Berlin time; students may book two weeks ahead."""
    maria = users.make("instructor", name="Maria Lopez", timezone="Europe/Berlin")
    sam = users.make("student", name="Sam Carter", timezone="Europe/Berlin")
    bea = users.make("student", name="Bea Novak", timezone="Europe/Berlin")
    for weekday in range(1, 8):
        db.session.add(WeeklyWindow(instructor_id=maria.id, weekday=weekday, start_time=time(8), end_time=time(20),
                                    lesson_minutes=60))
    studio = get_studio()
    studio.horizon, studio.horizon_days = "days", 14
    db.session.commit()
    people = {"maria": (maria.email, maria.name, maria.id), "sam": (sam.email, sam.name), "bea": (bea.email, bea.name)}
    db.session.close()  # SQLite: an open read here would hold up the server's writes
    return people


def test_a_request_vanishes_for_others_and_the_confirmation_reaches_the_student_live(
    page, other_contexts, page_problems, users
):
    people = studio_with_maria(users)
    maria_email, maria_name, maria_id = people["maria"]

    # Bea is looking at Maria's calendar in another browser.
    bea = watch(other_contexts().new_page(), page_problems)
    sign_in(bea, *people["bea"], users.password)
    bea.goto(f"/book/{maria_id}")
    expect(bea.locator("body[data-live=open]")).to_have_count(1)
    first_slot = bea.locator("a.slot").first
    start = first_slot.get_attribute("data-start")
    screenshot(bea, "book-page")

    # Sam requests that same slot through the dialog.
    sam = page
    sign_in(sam, *people["sam"], users.password)
    sam.goto(f"/book/{maria_id}")
    sam.locator(f'a.slot[data-start="{start}"]').click()
    dialog = sam.locator("dialog#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(re.compile(r"^Request a lesson with Maria on \w{3} \d{1,2} \w{3} at \d{1,2}:\d{2} [AP]M \([^)]+\)\?$"))
    dialog.get_by_label("Note for your instructor (optional)").fill("First lesson — beginner.")
    screenshot(sam, "book-dialog")
    dialog.get_by_role("button", name="Send request").click()
    expect(sam.get_by_role("status")).to_contain_text("Request sent.")
    expect(sam.locator(f'a.slot[data-start="{start}"]')).to_have_count(0)

    # Bea's calendar drops the slot without a reload.
    expect(bea.locator(f'a.slot[data-start="{start}"]')).to_have_count(0, timeout=LIVE)

    # Sam opens the request; it is pending.
    sam.get_by_role("link", name="View your request").click()
    expect(sam.locator("#status-badge")).to_have_text("Pending")
    expect(sam.locator("body[data-live=open]")).to_have_count(1)

    # Maria confirms from her list of bookings.
    maria = watch(other_contexts().new_page(), page_problems)
    sign_in(maria, maria_email, maria_name, users.password)
    maria.goto("/bookings")
    expect(maria.get_by_role("heading", name=re.compile("Requests awaiting your answer"))).to_be_visible()
    screenshot(maria, "my-bookings-instructor")
    maria.get_by_role("button", name=re.compile("^Accept")).click()
    expect(maria.get_by_text("Lesson confirmed.")).to_be_visible()

    # Sam's page shows the confirmation without a reload.
    expect(sam.locator("#status-badge")).to_have_text("Confirmed", timeout=LIVE)
    expect(sam.get_by_role("link", name="Download .ics")).to_be_visible()
    screenshot(sam, "booking-page-confirmed")
    forgive_reads_cut_by_navigation(page_problems)


def test_a_withdrawn_request_frees_the_slot_again_for_others_live(page, other_contexts, page_problems, users):
    people = studio_with_maria(users)
    _, _, maria_id = people["maria"]
    bea = watch(other_contexts().new_page(), page_problems)
    sign_in(bea, *people["bea"], users.password)
    bea.goto(f"/book/{maria_id}")
    expect(bea.locator("body[data-live=open]")).to_have_count(1)
    start = bea.locator("a.slot").first.get_attribute("data-start")

    sam = page
    sign_in(sam, *people["sam"], users.password)
    sam.goto(f"/book/confirm?instructor={maria_id}&start={start}")  # the page without JavaScript's dialog
    sam.get_by_role("button", name="Send request").click()
    expect(sam.locator("#status-badge")).to_have_text("Pending")
    expect(bea.locator(f'a.slot[data-start="{start}"]')).to_have_count(0, timeout=LIVE)

    sam.get_by_text("Withdraw request").first.click()
    sam.get_by_role("button", name="Withdraw request").click()
    expect(sam.locator("#status-badge")).to_have_text("Cancelled")
    expect(bea.locator(f'a.slot[data-start="{start}"]')).to_have_count(1, timeout=LIVE)
    forgive_reads_cut_by_navigation(page_problems)


def test_an_anonymous_visitor_signs_in_and_lands_on_the_same_slot(page, page_problems, users):
    people = studio_with_maria(users)
    _, _, maria_id = people["maria"]
    page.goto(f"/book/{maria_id}")
    slot = page.locator("a.slot").first
    start = slot.get_attribute("data-start")
    screenshot(page, "book-page-anonymous")
    slot.click()
    page.get_by_label("Email").fill(people["sam"][0])
    page.get_by_label("Password").fill(users.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Request a lesson with Maria on"))).to_be_visible()
    assert start and start.replace(":", "%3A") in page.url or start in page.url
    screenshot(page, "book-confirm")
    forgive_reads_cut_by_navigation(page_problems)


def pending_request(people, users) -> int:  # type: ignore[no-untyped-def]
    """Store Sam's pending request with Maria for tomorrow; return its id."""
    from datetime import UTC, datetime, timedelta

    from booking_app.models import Booking, BookingChange, User

    sam = db.session.scalar(db.select(User).where(User.email == people["sam"][0]))
    now = datetime.now(UTC).replace(microsecond=0)
    starts = (now + timedelta(days=1)).replace(minute=0, second=0)
    booking = Booking(instructor_id=people["maria"][2], student_id=sam.id, starts_at=starts,
                      ends_at=starts + timedelta(hours=1), status="pending", created_at=now, expires_at=now + timedelta(hours=4))
    booking.history.append(BookingChange(actor_id=sam.id, to_status="pending", at=now))
    db.session.add(booking)
    db.session.commit()
    booking_id = booking.id
    db.session.close()
    return booking_id


def test_a_decline_reaches_the_students_booking_page_live(page, other_contexts, page_problems, users):
    people = studio_with_maria(users)
    booking_id = pending_request(people, users)
    sam = page
    sign_in(sam, *people["sam"], users.password)
    sam.goto(f"/bookings/{booking_id}")
    expect(sam.locator("#status-badge")).to_have_text("Pending")
    expect(sam.locator("body[data-live=open]")).to_have_count(1)

    maria = watch(other_contexts().new_page(), page_problems)
    sign_in(maria, people["maria"][0], people["maria"][1], users.password)
    maria.goto(f"/bookings/{booking_id}")
    maria.get_by_text("Decline").first.click()
    maria.get_by_label("Reason for declining (optional)").fill("I am travelling that day.")
    maria.get_by_role("button", name="Decline request").click()
    expect(maria.locator("#status-badge")).to_have_text("Declined")

    expect(sam.locator("#status-badge")).to_have_text("Declined", timeout=LIVE)
    expect(sam.get_by_text("I am travelling that day.").first).to_be_visible()
    forgive_reads_cut_by_navigation(page_problems)


def test_an_expiry_persisted_by_the_worker_reaches_the_students_page_live(app, page, page_problems, users):
    from datetime import timedelta

    from booking_app.models import Booking
    from booking_app.services import bookings as service

    people = studio_with_maria(users)
    booking_id = pending_request(people, users)
    sam = page
    sign_in(sam, *people["sam"], users.password)
    sam.goto(f"/bookings/{booking_id}")
    expect(sam.locator("#status-badge")).to_have_text("Pending")
    expect(sam.locator("body[data-live=open]")).to_have_count(1)

    # Time travel: the worker runs the expiry as if four hours had passed.
    expires_at = db.session.get(Booking, booking_id).expires_at
    assert service.expire_booking(booking_id, now=expires_at + timedelta(seconds=1))
    db.session.close()
    expect(sam.locator("#status-badge")).to_have_text("Expired", timeout=LIVE)
    forgive_reads_cut_by_navigation(page_problems)
