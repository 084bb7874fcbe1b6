"""The owner invites a student, the student opens the mailed link, sets a password, is signed in and books a lesson."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from booking_app.extensions import db
from booking_app.models import User
from booking_app.services import effects
from tests.browser.conftest import screenshot
from tests.browser.test_booking_flow import forgive_reads_cut_by_navigation, sign_in, studio_with_maria

pytestmark = pytest.mark.browser

CSV = (b"name,email,role,timezone\n"
       b"Ana Ruiz,ana@example.test,instructor,Europe/Madrid\n"
       b"Bo Li,not-an-address,student,\n"
       b"Cy Park,cy@example.test,teacher,Mars/Olympus\n"
       b"Dee Ray,ana@example.test,student,UTC\n")


def test_an_invited_student_sets_a_password_is_signed_in_and_books_a_lesson(page, page_problems, users, inbox):
    people = studio_with_maria(users)
    _, _, maria_id = people["maria"]
    owner = users.make("owner", name="Olga Owner", timezone="Europe/Berlin")
    owner_email = owner.email
    db.session.close()

    # The owner goes from People to the invitation page and invites Lena.
    sign_in(page, owner_email, "Olga Owner", users.password)
    page.goto("/admin/users")
    page.get_by_role("link", name="Invite people").click()
    expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()
    screenshot(page, "invitations-page")
    page.get_by_label("Name").fill("Lena Vogel")
    page.get_by_label("Email").fill("lena@example.test")
    page.get_by_label("Role").select_option("student")
    expect(page.get_by_label("Timezone")).to_have_value("Europe/Berlin")  # the owner's zone by default
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to Lena Vogel (lena@example.test)")).to_be_visible()
    expect(page.get_by_role("button", name="Resend the invitation to lena@example.test")).to_be_visible()
    screenshot(page, "invitations-listed")

    # A CSV with problems is previewed row by row, and nothing is offered for sending.
    page.get_by_label("CSV file").set_input_files({"name": "people.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Preview the file").click()
    expect(page.get_by_role("heading", name="Check the invitations")).to_be_visible()
    expect(page.get_by_text("3 rows have problems, so nobody was invited.")).to_be_visible()
    expect(page.get_by_text("This address is also on row 2; invite each person once.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Send"))).to_have_count(0)
    screenshot(page, "invitations-csv-preview")
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name=re.compile("^Open invitations"))).to_be_visible()
    screenshot(page, "people-with-invitations")
    page.get_by_role("button", name="Sign out").click()

    # The invitation mail arrives (run as the worker would) with the link.
    assert effects.run_due() == 1
    db.session.close()
    [mail] = [m for m in inbox.messages if "lena@example.test" in str(m["To"])]
    assert str(mail["Subject"]) == "Olga Owner invited you to The Studio"
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/invitations/\S+", text)
    assert link is not None, text

    # Lena opens it, sees who invited her, chooses a password and is signed in.
    page.goto(link.group(0))
    expect(page.get_by_text("Olga Owner invited you as a student.")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Lena Vogel")
    screenshot(page, "invitation-accept")
    page.get_by_label("Choose a password").fill("a-good-password")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Welcome, Lena Vogel! Your account is ready.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Lena Vogel"))).to_be_visible()

    # She books a lesson with Maria.
    page.goto(f"/book/{maria_id}")
    page.locator("a.slot").first.click()
    dialog = page.locator("dialog#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("Request sent.")
    lena = db.session.scalar(db.select(User).where(User.email == "lena@example.test"))
    assert lena is not None and (lena.role, lena.timezone) == ("student", "Europe/Berlin")
    db.session.close()

    # The link does not work twice.
    page.get_by_role("button", name="Sign out").click()
    page_problems.expect_status(410, "/invitations/")
    page.goto(link.group(0))
    expect(page.get_by_text("This link has already been used. Sign in, or ask for a new one.")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Sign in")).to_be_visible()
    forgive_reads_cut_by_navigation(page_problems)
