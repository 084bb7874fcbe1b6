"""From a real mail: the instructor opens the Accept link signed out and accepts; the student's links and pages look right."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from flask import g
from playwright.sync_api import expect

from booking_app.domain.mail_actions import MailAction
from booking_app.extensions import db
from booking_app.models import Booking, WeeklyWindow
from booking_app.services import action_tokens, booking_links, clock, effects
from booking_app.services import bookings as booking_service
from booking_app.services.slots import open_slots
from booking_app.services.studio import get_studio
from tests.browser.conftest import LIVE_SECRET_KEY, screenshot
from tests.browser.test_booking_flow import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def lesson(app, users, live_server):
    """Maria (Berlin) teaches every day 08:00-20:00; Sam (New York) has requested her first open time tomorrow."""
    app.config.update(SECRET_KEY=LIVE_SECRET_KEY, BASE_URL=live_server)  # links made here open on the live server
    maria = users.make("instructor", name="Maria Lopez", timezone="Europe/Berlin")
    sam = users.make("student", name="Sam Carter", timezone="America/New_York")
    for weekday in range(1, 8):
        db.session.add(WeeklyWindow(instructor_id=maria.id, weekday=weekday, start_time=time(8), end_time=time(20),
                                    lesson_minutes=60))
    studio = get_studio()
    studio.horizon, studio.horizon_days = "days", 21
    db.session.commit()
    now = clock.now()
    day = (now + timedelta(days=2)).date()
    first = open_slots(maria, day, day, now=now)[0]
    booking = booking_service.request_booking(sam, maria.id, first.starts_at, None, "Scales, please").booking
    ids = {"maria": maria.id, "sam": sam.id, "booking": booking.id, "email": maria.email, "name": maria.name}
    db.session.close()  # SQLite: an open read here would hold up the server's writes
    return ids


def test_the_instructor_accepts_from_the_mailed_link_without_signing_in(app, page, page_problems, inbox, lesson):
    assert effects.run_due() >= 1
    [request_mail] = [m for m in inbox.messages if m["Subject"].startswith("New lesson request")]
    text = request_mail.get_body(("plain",)).get_content()
    found = re.search(r"^Accept: (\S+)\s*$", text, re.M)
    assert found, text
    accept = found.group(1)
    db.session.close()

    page.goto(accept)
    expect(page.get_by_role("heading", name="Accept this lesson request?")).to_be_visible()
    expect(page.get_by_text("Sam Carter")).to_be_visible()
    expect(page.get_by_text("Pending")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # nobody is signed in
    screenshot(page, "action-accept")
    db.session.expire_all()
    assert db.session.get(Booking, lesson["booking"]).status == "pending"  # opening the page changed nothing
    db.session.close()

    page.get_by_role("button", name="Accept the request").click()
    expect(page.get_by_text("Lesson confirmed. Sam Carter has been told.")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Booking, lesson["booking"]).status == "confirmed"
    db.session.close()

    page_problems.expect_status(410, "/act/accept/")
    again = page.goto(accept)
    assert again is not None and again.status == 410
    expect(page.get_by_text("This booking is already confirmed.")).to_be_visible()
    forgive_gone_console_line(page_problems)


def forgive_gone_console_line(problems) -> None:  # type: ignore[no-untyped-def]
    """Forgive the console line Chromium writes for the 410 page the test expected."""
    problems.problems[:] = [p for p in problems.problems if "status of 410" not in p]


def test_the_student_reschedule_page_and_the_instructors_links_page(app, page, page_problems, lesson, users):
    g.pop("studio", None)  # the fixture closed the session the cached studio row belonged to
    booking = db.session.get(Booking, lesson["booking"])
    maria = booking.instructor
    booking_service.confirm(maria, booking.id)
    booking = db.session.get(Booking, lesson["booking"])
    move = action_tokens.url(MailAction.RESCHEDULE, booking, booking.student)
    cancel = action_tokens.url(MailAction.CANCEL, booking, booking.student)
    booking_links.give_link(maria, student_id=booking.student_id)
    db.session.close()

    page.goto(cancel)
    expect(page.get_by_role("button", name="Cancel the lesson")).to_be_visible()
    screenshot(page, "action-cancel")
    page.goto(move)
    expect(page.get_by_role("heading", name="Move this lesson to another time?")).to_be_visible()
    screenshot(page, "action-reschedule")
    page.locator("label.btn").nth(3).click()
    page.get_by_role("button", name="Ask to move the lesson").click()
    expect(page.get_by_text("Maria Lopez will answer soon")).to_be_visible()

    sign_in(page, lesson["email"], lesson["name"], users.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Student links").click()
    expect(page.get_by_role("heading", name="Personal booking links")).to_be_visible()
    expect(page.get_by_label("Link to copy")).to_have_value(re.compile("/with/"))
    screenshot(page, "booking-links")
    page_problems.expect_status(410, "/act/accept/")
    page.goto("/act/accept/not-a-real-token")
    expect(page.get_by_text("This link is not valid.")).to_be_visible()
    forgive_gone_console_line(page_problems)
