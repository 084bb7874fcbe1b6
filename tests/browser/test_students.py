"""An instructor writes lesson notes after a lesson and keeps a note and colour; the student sees only the summary, live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange
from tests.browser.conftest import screenshot
from tests.browser.test_messages import LIVE, forgive_reads_cut_by_navigation, sign_in, watch

pytestmark = pytest.mark.browser

SUMMARY = "Scales: G and D major, two octaves.\nHomework: Minuet 2, bars 1–16."
SECRET = "Staff only: ask the parents about the exam fee."


@pytest.fixture
def second_context(browser, live_server, browser_context_options):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, **browser_context_options)
    yield context
    for p in context.pages:
        p.close()
    context.close()


def make_past_lesson(users) -> tuple[dict, dict, int]:  # type: ignore[no-untyped-def]
    """A lesson of Priya with Tom that started an hour ago (the live server runs on the real clock)."""
    priya = users.make("student", name="Priya Natarajan", timezone="Europe/Berlin")
    tom = users.make("instructor", name="Tom Reyes", timezone="Europe/Berlin")
    starts = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    booking = Booking(
        instructor_id=tom.id,
        student_id=priya.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status="confirmed",
        expires_at=starts,
        created_at=starts - timedelta(days=2),
    )
    booking.history.append(
        BookingChange(actor_id=priya.id, to_status="pending", at=starts - timedelta(days=2))
    )
    db.session.add(booking)
    db.session.commit()
    people = (
        {"email": priya.email, "name": priya.name, "id": priya.id},
        {"email": tom.email, "name": tom.name},
        booking.id,
    )
    db.session.close()  # SQLite: an open read here would hold up the server's writes
    return people


def test_lesson_notes_reach_the_student_live_without_the_private_note(
    page, second_context, page_problems, users
):
    priya, tom, booking_id = make_past_lesson(users)
    student = watch(second_context.new_page(), page_problems)
    sign_in(student, priya, users.password)
    student.goto(f"/bookings/{booking_id}")
    expect(student.locator("body")).to_have_attribute("data-live", "open")
    expect(student.locator("#lesson-notes")).to_have_count(0)

    sign_in(page, tom, users.password)
    page.goto(f"/bookings/{booking_id}")
    page.get_by_label("Summary and homework").fill(SUMMARY)
    page.get_by_label("Private note").fill(SECRET)
    page.get_by_role("button", name="Save lesson notes").click()
    expect(page.get_by_text("Lesson notes saved. Priya Natarajan was sent the summary.")).to_be_visible()
    expect(page.locator(".history")).to_contain_text("updated the private note")
    screenshot(page, "lesson-notes-staff")

    # Her open booking page shows the summary within 2 s, line break kept; the private note never arrives.
    expect(student.locator("#lesson-summary-text")).to_have_text(SUMMARY, timeout=LIVE)
    assert (
        student.locator("#lesson-summary-text").evaluate("el => getComputedStyle(el).whiteSpace")
        == "pre-wrap"
    )
    assert SECRET not in student.content()
    expect(student.locator(".history")).to_contain_text("updated the lesson summary")
    expect(student.locator(".history")).not_to_contain_text("private note")
    screenshot(student, "lesson-notes-student")

    # Tom keeps a note and a colour on Priya's page; her lessons carry it in his list.
    page.goto("/students")
    page.get_by_role("link", name="Priya Natarajan").click()
    page.get_by_label("Private note").fill("Preparing for the grade 5 exam.")
    page.get_by_label("Colour on the schedule").select_option("purple")
    page.get_by_role("button", name="Save note and colour").click()
    expect(page.get_by_text("Saved the note and colour.")).to_be_visible()
    expect(page.locator(f"#lesson-{booking_id}")).to_contain_text(SECRET)
    screenshot(page, "student-page")
    page.goto("/students")
    row = page.locator(".student-row", has_text="Priya Natarajan")
    expect(row).to_have_class("list-group-item student-row has-colour")
    expect(row).to_contain_text("Preparing for the grade 5 exam.")
    screenshot(page, "students-list")
    forgive_reads_cut_by_navigation(page_problems)
