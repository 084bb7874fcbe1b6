"""Two people talk inside a booking: the banner and glow appear live, clear once read, replies arrive live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange
from tests.browser.conftest import screenshot
from tests.conftest import utc

pytestmark = pytest.mark.browser

QUESTION = "Can we focus on cross-body lead?"
REPLY = "Yes — bring shoes with a smooth sole.\nSee you Tuesday!"
LIVE = 2_000  # ms: the spec's promise for live updates


@pytest.fixture
def second_context(browser, live_server, page_problems, browser_context_options) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A second browser (its own cookies) whose pages are watched for errors like the first."""
    context = browser.new_context(base_url=live_server, **browser_context_options)
    yield context
    for p in context.pages:
        p.close()
    context.close()


def watch(page, problems) -> object:  # type: ignore[no-untyped-def]
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: msg.type == "error" and problems.problems.append(f"console: {msg.text}"))
    page.on("pageerror", lambda exc: problems.problems.append(f"page error: {exc}"))
    page.on("response", problems.on_response)
    page.on("requestfailed", problems.on_request_failed)
    return page


def sign_in(page, person: dict, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email").fill(person["email"])
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=re.compile(person["name"]))).to_be_visible()
    page.wait_for_load_state("load")


def forgive_reads_cut_by_navigation(problems) -> None:  # type: ignore[no-untyped-def]
    # Leaving a page cancels the GETs it started after loading (favicon, live catch-up fetches of other
    # areas); Chromium reports those as ERR_ABORTED. Real failures show as an HTTP status or another error.
    problems.problems[:] = [p for p in problems.problems
                            if not (p.startswith("request failed: GET ") and p.endswith("(net::ERR_ABORTED)"))]


def make_lesson(users, status: str) -> tuple[dict, dict, int]:  # type: ignore[no-untyped-def]
    """Create Maria, Tom and a lesson between them; return plain values so no database read stays open."""
    maria = users.make("student", name="Maria Lopez", timezone="Europe/Berlin")
    tom = users.make("instructor", name="Tom Reyes", timezone="Europe/Berlin")
    starts = utc(2030, 2, 5, 14, 0)
    booking = Booking(instructor_id=tom.id, student_id=maria.id, starts_at=starts, ends_at=starts + timedelta(hours=1),
                      status=status, expires_at=starts, created_at=utc(2030, 2, 1, 9, 0))
    booking.history.append(BookingChange(actor_id=maria.id, to_status="pending", at=utc(2030, 2, 1, 9, 0)))
    db.session.add(booking)
    db.session.commit()
    people = ({"email": maria.email, "name": maria.name}, {"email": tom.email, "name": tom.name}, booking.id)
    db.session.close()  # SQLite: an open read here would hold up the server's writes
    return people


def test_a_student_and_an_instructor_talk_inside_a_booking_live(page, second_context, page_problems, users):
    maria, tom, booking_id = make_lesson(users, "confirmed")

    # The instructor has two pages open: the home page and the list of bookings.
    tom_home = page
    sign_in(tom_home, tom, users.password)
    tom_list = watch(tom_home.context.new_page(), page_problems)
    tom_list.goto("/bookings")
    row = tom_list.locator(f'[data-booking-id="{booking_id}"]').first
    expect(row).not_to_have_class(re.compile(r"\bglow\b"))
    for p in (tom_home, tom_list):
        expect(p.locator("body")).to_have_attribute("data-live", "open")

    # The student writes from her own browser.
    student = watch(second_context.new_page(), page_problems)
    sign_in(student, maria, users.password)
    student.goto(f"/bookings/{booking_id}/messages")
    expect(student.get_by_text("No messages yet.")).to_be_visible()
    expect(student.locator("body")).to_have_attribute("data-live", "open")
    student.get_by_label("Your message").fill(QUESTION)
    student.get_by_role("button", name="Send message").click()
    expect(student.locator(".msg-mine .msg-body")).to_have_text(QUESTION)
    expect(student.get_by_label("Your message")).to_have_value("")

    # Within 2 s the instructor's pages show the banner, and the booking glows in the list.
    banner_text = f"Maria Lopez (Tue 5 Feb, 3:00 PM): {QUESTION}"
    for p in (tom_home, tom_list):
        expect(p.locator(".message-banner-text")).to_contain_text(banner_text, timeout=LIVE)
    expect(row).to_have_class(re.compile(r"\bglow\b"), timeout=LIVE)
    screenshot(tom_home, "messages-banner")
    screenshot(tom_list, "messages-glow")

    # He opens it from the banner: the glow and the banner clear on his other page, live.
    tom_home.get_by_role("link", name="View the message from Maria Lopez").click()
    tom_home.wait_for_load_state("load")
    expect(tom_home.locator(".msg-theirs .msg-body")).to_have_text(QUESTION)
    expect(tom_home.locator(".message-banner")).to_have_count(0)
    expect(row).not_to_have_class(re.compile(r"\bglow\b"), timeout=LIVE)
    expect(tom_list.locator(".message-banner")).to_have_count(0, timeout=LIVE)

    # He replies; her open thread shows it live, line break kept, and her script marks it read through the API.
    tom_home.get_by_label("Your message").fill(REPLY)
    posted_read = student.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/messages/read"))
    with posted_read as read_response:
        tom_home.get_by_role("button", name="Send message").click()
        expect(tom_home.locator(".msg-mine .msg-body")).to_have_text(REPLY)
        expect(student.locator(".msg-theirs .msg-body")).to_have_text(REPLY, timeout=LIVE)
    assert read_response.value.status == 200 and "/api/bookings/" in read_response.value.url
    assert student.locator(".msg-theirs .msg-body").evaluate("el => getComputedStyle(el).whiteSpace") == "pre-wrap"
    expect(student.locator(".message-banner")).to_have_count(0)
    screenshot(student, "messages-thread-student")
    screenshot(tom_home, "messages-thread-instructor")
    student.goto("/bookings")
    expect(student.locator(f'[data-booking-id="{booking_id}"]').first).not_to_have_class(re.compile(r"\bglow\b"))
    forgive_reads_cut_by_navigation(page_problems)


def test_without_javascript_a_message_is_sent_with_the_plain_form(browser, live_server, users):  # type: ignore[no-untyped-def]
    maria, _, booking_id = make_lesson(users, "declined")
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(maria["email"])
        page.get_by_label("Password").fill(users.password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/bookings/{booking_id}/messages")
        page.get_by_label("Your message").fill("<b>bold?</b> no, plain")
        page.get_by_role("button", name="Send message").click()
        assert page.url.endswith(f"/bookings/{booking_id}/messages#latest")
        expect(page.locator(".msg-mine .msg-body")).to_have_text("<b>bold?</b> no, plain")
        page.get_by_label("Your message").fill("   ")
        page.get_by_role("button", name="Send message").click()
        expect(page.get_by_role("alert")).to_have_text("Write a message before sending it.")
        screenshot(page, "messages-no-js-error")
    finally:
        context.close()
