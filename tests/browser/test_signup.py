"""A visitor signs up with the browser's timezone, signs out and signs in again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import User
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_visitor_signs_up_out_and_in_again(page):
    page.goto("/signup")
    expect(page.get_by_label("Timezone")).to_have_value("Europe/Berlin")  # pre-filled from the browser
    screenshot(page, "signup")

    page.get_by_label("Your name").fill("Lena Vogel")
    page.get_by_label("Email").fill("lena@example.com")
    page.get_by_label("Password").fill("a-good-password")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("Welcome, Lena Vogel! Your account is ready.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Lena Vogel"))).to_be_visible()
    screenshot(page, "signed-up")
    user = db.session.scalar(db.select(User).where(User.email == "lena@example.com"))
    assert user is not None and user.timezone == "Europe/Berlin" and user.role == "student"
    db.session.rollback()  # end the read: on SQLite an open transaction holds the write lock the server needs

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("lena@example.com")
    page.get_by_label("Password").fill("a-good-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=re.compile("Lena Vogel"))).to_be_visible()
    screenshot(page, "signed-in")


def test_a_wrong_password_is_explained_in_the_page(page):
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That email and password do not match. Check them and try again.")).to_be_visible()
