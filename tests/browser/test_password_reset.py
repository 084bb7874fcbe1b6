"""A person who forgot the password asks for a link, reads the mail, chooses a new password and is signed in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from booking_app import wording
from booking_app.extensions import db
from booking_app.services import effects
from tests.browser.conftest import screenshot
from tests.conftest import Users

pytestmark = pytest.mark.browser

NEW = "a brand new passphrase"


def _sign_in(page, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_forgotten_password_is_reset_from_the_mailed_link_once(page, page_problems, users, inbox):
    users.make(name="Lena Vogel", email="lena@example.test", timezone="Europe/Berlin")
    db.session.remove()  # end the read: on SQLite an open transaction holds the write lock the server needs

    page.goto("/login")
    screenshot(page, "login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    screenshot(page, "password-forgot")
    page.get_by_label("Email").fill("Lena@Example.test")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text(wording.RESET_REQUESTED)).to_be_visible()

    assert effects.run_due() == 1  # what the worker does after the commit
    db.session.remove()
    [mail] = inbox.messages
    assert mail["Subject"] == "Choose a new password for The Studio"
    text = mail.get_body(("plain",)).get_content()
    assert mail.get_body(("html",)) is not None
    match = re.search(r"http://127\.0\.0\.1:\d+/password/reset/\S+", text)
    assert match is not None, text
    link = match.group(0)

    page.goto(link)
    expect(page.get_by_text("lena@example.test")).to_be_visible()
    screenshot(page, "password-reset")
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_text(wording.RESET_DONE)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Lena Vogel"))).to_be_visible()

    page.goto("/profile")
    expect(page.get_by_role("heading", name="Password and sign-in address")).to_be_visible()
    screenshot(page, "profile-security")
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    screenshot(page, "password-change")
    page.goto("/profile")
    page.get_by_role("link", name="Change sign-in address").click()
    expect(page.get_by_role("heading", name="Change your sign-in address")).to_be_visible()
    screenshot(page, "address-change")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    _sign_in(page, "lena@example.test", Users.password)
    expect(page.get_by_text("That email and password do not match. Check them and try again.")).to_be_visible()
    _sign_in(page, "lena@example.test", NEW)
    expect(page.get_by_role("link", name=re.compile("Lena Vogel"))).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page_problems.expect_status(410, "/password/reset/")
    page.goto(link)
    expect(page.get_by_text("This link has already been used. Sign in, or ask for a new one.")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    screenshot(page, "password-reset-used")
