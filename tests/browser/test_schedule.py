"""An instructor builds a week on the schedule grid by dragging and by keyboard, then sees it in the month view."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from booking_app.domain.timeutil import local_to_utc
from booking_app.extensions import db
from booking_app.models import Booking, WeeklyWindow, utcnow
from booking_app.services import availability as service
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def sign_in(page, email: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.locator("main").get_by_label("Email").fill(email)
    page.locator("main").get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=re.compile(name))).to_be_visible()


def week_start_in_new_york():  # type: ignore[no-untyped-def]
    today = datetime.now(ZoneInfo("America/New_York")).date()
    return today - timedelta(days=today.weekday())


def lesson(teacher, student, on, at, status):  # type: ignore[no-untyped-def]
    starts_at = local_to_utc(on, at, "America/New_York")
    db.session.add(Booking(instructor_id=teacher.id, student_id=student.id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
                           status=status, created_at=utcnow(), expires_at=utcnow() + timedelta(hours=4)))
    db.session.commit()


def cell(page, weekday_index: int, at: str):  # type: ignore[no-untyped-def]
    return page.locator(".day-col").nth(weekday_index).locator(f'.cell[data-time="{at}"]')


def test_an_instructor_adds_recurring_windows_by_dragging_and_by_keyboard_and_sees_them_monthly(page, users):
    teacher = users.make("instructor", name="Ines Teacher", timezone="America/New_York")
    email, teacher_id = teacher.email, teacher.id
    monday = week_start_in_new_york()
    # The rest of a realistic week, so the screenshots show every kind of item.
    service.add_one_time_window(teacher, teacher.id, occurs_on=monday + timedelta(days=5), start_time=time(9), end_time=time(12), lesson_minutes=60)
    service.add_block(teacher, teacher.id, start_on=monday + timedelta(days=4), start_time=time(13), end_time=time(17), reason="Dentist")
    lesson(teacher, users.make("student", name="Maria Lopez"), monday + timedelta(days=2), time(15), "pending")
    lesson(teacher, users.make("student", name="Theo Park"), monday, time(10), "confirmed")
    db.session.rollback()  # hold no read transaction: on SQLite it would block the server's writes
    sign_in(page, email, "Ines Teacher", users.password)
    page.get_by_role("link", name="My schedule").click()
    expect(page.get_by_role("heading", name="My schedule")).to_be_visible()
    page.wait_for_load_state("load")  # styles and scripts in place before measuring the grid
    expect(page.get_by_role("link", name="Weekly")).to_have_attribute("aria-current", "page")

    # Drag on Tuesday from 14:00 down to the 17:30 row: 14:00–18:00.
    cell(page, 1, "16:00").evaluate("el => el.scrollIntoView({block: 'center', behavior: 'instant'})")
    start = cell(page, 1, "14:00").bounding_box()
    end = cell(page, 1, "17:30").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=6)
    page.mouse.up()
    dialog = page.locator("#window-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Start")).to_have_value("14:00")
    expect(dialog.get_by_label("End")).to_have_value("18:00")
    expect(dialog.get_by_label("Lesson length")).to_have_value("60")
    dialog.get_by_label(re.compile(r"^Recurring — every Tuesday from this date on$")).check()
    screenshot(page, "schedule-dialog")
    dialog.get_by_role("button", name="Add window").click()
    expect(page.get_by_text(re.compile(r"Added 14:00–18:00 every Tuesday from"))).to_be_visible()
    page.wait_for_load_state("load")

    # Keyboard on Thursday: Enter at 10:00, seven rows down, Enter again: 10:00–14:00.
    cell(page, 3, "10:00").focus()
    page.keyboard.press("Enter")
    for _ in range(7):
        page.keyboard.press("ArrowDown")
    expect(cell(page, 3, "13:30")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Start")).to_have_value("10:00")
    expect(dialog.get_by_label("End")).to_have_value("14:00")
    dialog.get_by_label(re.compile(r"^Recurring — every Thursday")).check()
    dialog.get_by_role("button", name="Add window").click()
    expect(page.get_by_text(re.compile(r"Added 10:00–14:00 every Thursday from"))).to_be_visible()
    page.wait_for_load_state("load")

    windows = db.session.scalars(db.select(WeeklyWindow).order_by(WeeklyWindow.weekday)).all()
    assert [(w.weekday, f"{w.start_time:%H:%M}", f"{w.end_time:%H:%M}", w.lesson_minutes) for w in windows] == [
        (2, "14:00", "18:00", 60), (4, "10:00", "14:00", 60)]
    db.session.rollback()  # end the read: on SQLite an open transaction holds the write lock the server needs

    expect(page.locator(".day-col").nth(1).locator(".ev-weekly")).to_contain_text("14:00–18:00")
    expect(page.locator(".day-col").nth(3).locator(".ev-weekly")).to_contain_text("10:00–14:00")
    expect(page.locator(".day-col").nth(5).locator(".ev-one-time")).to_contain_text("09:00–12:00")
    expect(page.locator(".day-col").nth(4).locator(".ev-block")).to_contain_text("Dentist")
    expect(page.locator(".day-col").nth(2).locator(".ev-pending")).to_have_text("Maria")
    expect(page.locator(".day-col").nth(0).locator(".ev-confirmed")).to_have_text("Theo")
    screenshot(page, "schedule-week")

    # Live: a change made elsewhere (another tab, the owner, the API) redraws the grid without a reload.
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    page.evaluate("window.__sameDocument = true")
    service.add_block(service.get_instructor(teacher_id), teacher_id, start_on=monday + timedelta(days=6), reason="Away")
    db.session.rollback()
    expect(page.locator(".day-col").nth(6).locator(".ev-block")).to_contain_text("Away")
    assert page.evaluate("window.__sameDocument") is True  # redrawn in place, not reloaded

    # Escape drops a keyboard selection without opening anything.
    cell(page, 4, "09:00").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator(".cell.is-selected")).to_have_count(0)
    expect(dialog).to_be_hidden()

    page.get_by_role("link", name="Monthly").click()
    expect(page.get_by_role("link", name="Monthly")).to_have_attribute("aria-current", "page")
    month = page.locator("table.month")
    expect(month.locator(".mini-weekly", has_text="14:00–18:00").first).to_be_visible()
    expect(month.locator(".mini-weekly", has_text="10:00–14:00").first).to_be_visible()
    screenshot(page, "schedule-month")

    # Choosing a day in the month offers recurring / one time windows and blocking it.
    month.locator("a.month-day").nth(10).click()
    expect(page.get_by_role("heading", name="Add a window on this day")).to_be_visible()
    expect(page.get_by_role("heading", name="Block this day")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^One time — only on "))).to_be_visible()

    # A window opens its own page with edit and the two ways to delete a recurring window.
    page.goto("/schedule")
    page.locator(".day-col").nth(1).locator(".ev-weekly a").click()
    expect(page.get_by_role("heading", name="Recurring window")).to_be_visible()
    expect(page.get_by_label("Delete from this date on (earlier weeks stay)")).to_be_visible()
    expect(page.get_by_label("Delete entirely (every week, past and future)")).to_be_visible()
    screenshot(page, "schedule-window")

    page.goto("/schedule/settings")
    expect(page.get_by_label("Timezone")).to_have_value("America/New_York")
    screenshot(page, "schedule-settings")
