"""Booking a student in from the schedule, in a browser: the lesson appears confirmed, live, on the student's dashboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from booking_app.domain.timeutil import utc_to_local
from booking_app.extensions import db
from booking_app.models import Booking
from booking_app.services import clock
from tests.booking_helpers import open_hours
from tests.browser.conftest import screenshot
from tests.browser.test_dashboard_live import LIVE, TRACK_FETCHES, open_live, plain, sign_in, watch

pytestmark = pytest.mark.browser


@pytest.fixture
def second_context(browser, live_server, browser_context_options):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, **browser_context_options)
    yield context
    for p in context.pages:
        p.close()
    context.close()


def test_an_instructor_books_a_student_from_the_schedule_and_the_student_sees_it_confirmed_live(
    page, second_context, page_problems, users
):
    maria = users.make("instructor", name="Maria Lopez", timezone="Europe/Berlin")
    open_hours(maria)
    sam = users.make("student", name="Sam Student", timezone="Europe/Berlin")
    on = utc_to_local(clock.now(), "Europe/Berlin").date() + timedelta(days=2)
    # Sam had a lesson with Maria before, so he is among her students.
    past = clock.now() - timedelta(days=7)
    db.session.add(
        Booking(
            instructor_id=maria.id,
            student_id=sam.id,
            starts_at=past,
            ends_at=past + timedelta(hours=1),
            status="completed",
            created_at=past - timedelta(days=1),
            expires_at=past,
        )
    )
    db.session.commit()
    sam_id = sam.id
    teacher, learner = plain(maria, sam)

    page.context.add_init_script(TRACK_FETCHES)
    second_context.add_init_script(TRACK_FETCHES)  # type: ignore[attr-defined]
    student = watch(second_context.new_page(), page_problems)  # type: ignore[attr-defined]
    sign_in(student, learner, users.password)
    open_live(student, "/dashboard")

    sign_in(page, teacher, users.password)
    open_live(page, f"/schedule?date={on.isoformat()}")
    page.get_by_role(
        "link", name=f"Book a student on {on.strftime('%A')} {on.day} {on.strftime('%B')} from 09:00"
    ).click()
    expect(page.get_by_role("heading", name="Book a student")).to_be_visible()
    expect(page.get_by_label("Start")).to_have_value("09:00")
    page.get_by_label("Start").select_option("10:00")
    page.get_by_label("Student", exact=True).select_option(label=f"Sam Student ({learner['email']})")
    page.get_by_label("Note for the student (optional)").fill("We start with the scales.")
    screenshot(page, "book-student-form")
    page.get_by_role("button", name="Book the lesson").click()
    expect(page.locator(".alert-success")).to_contain_text(
        re.compile(r"Sam Student is booked in for .* 10:00 AM CES?T\.")
    )
    expect(page.get_by_role("heading", name="My schedule")).to_be_visible()

    booking_id = db.session.scalar(
        sa.select(Booking.id).where(Booking.student_id == sam_id, Booking.status == "confirmed")
    )
    db.session.close()
    assert booking_id is not None
    row = student.locator(f'[data-booking-id="{booking_id}"] [data-status]')
    expect(row).to_have_text("Confirmed", timeout=LIVE)
    expect(student.locator("[data-bell-count]")).to_have_text("1", timeout=LIVE)
