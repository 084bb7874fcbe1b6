"""A student downloads their data and deletes their account; the owner reads it in the audit log."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import Booking
from booking_app.services import clock
from booking_app.services.messages import send_message
from booking_app.services.users import change_role
from tests.booking_helpers import open_hours
from tests.browser.conftest import screenshot
from tests.browser.test_messages import sign_in
from tests.conftest import Users

pytestmark = pytest.mark.browser


def test_a_student_downloads_their_data_deletes_the_account_and_the_owner_sees_it(page, users):  # type: ignore[no-untyped-def]
    owner = users.make("owner", name="Olivia Owner")
    ada = users.make("instructor", name="Ada Lovelace")
    sam = users.make("student", name="Sam Student", email="sam@example.test")
    priya = users.make("student", name="Priya Patel")
    open_hours(ada)
    start = (clock.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    lesson = Booking(instructor_id=ada.id, student_id=sam.id, starts_at=start, ends_at=start + timedelta(hours=1),
                     status="confirmed", expires_at=start, notes="Scales")
    db.session.add(lesson)
    db.session.commit()
    send_message(lesson, sam, "See you on Thursday")
    change_role(priya, "instructor", acting=owner)
    people = {"sam": {"email": sam.email, "name": sam.name}, "owner": {"email": owner.email, "name": owner.name}}
    db.session.remove()

    sign_in(page, people["sam"], Users.password)
    page.goto("/profile#privacy")
    expect(page.get_by_role("heading", name="Your data and account")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["profile"]["email"] == "sam@example.test" and len(data["bookings"]) == 1
    page.locator("#privacy").scroll_into_view_if_needed()
    screenshot(page, "privacy-profile")

    page.get_by_role("link", name="Delete my account…").click()
    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    expect(page.get_by_text("1 lesson or request ahead")).to_be_visible()
    screenshot(page, "privacy-delete-confirm")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    page.get_by_label("Your password").fill(Users.password)
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted and you are signed out.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()

    sign_in(page, people["owner"], Users.password)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    log = page.locator("table.audit-log")
    expect(log).to_contain_text("deleted their own account")
    expect(log).to_contain_text("The student deleted their account.")
    expect(log).to_contain_text("changed the role of")
    expect(log).not_to_contain_text("Sam Student")
    screenshot(page, "privacy-audit-log")
