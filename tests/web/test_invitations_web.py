"""Invitation pages: the invite form and list, CSV preview and import, and the invitee's page (GET changes nothing)."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app.domain.links import LinkState
from booking_app.extensions import db
from booking_app.models import AccessLink, Effect, User, UserSession
from booking_app.services import invitations
from tests.conftest import count, utc

NOW = utc(2026, 12, 3, 15, 0)
HEADER = "name,email,role,timezone\n"


@pytest.fixture
def teacher(app, users, auth):
    app.config["FROZEN_NOW"] = NOW
    person = users.make("instructor", name="Ines Teacher", timezone="America/New_York")
    auth.login(person)
    return person


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _secret(sent: invitations.SentInvitation) -> str:
    return sent.url.rsplit("/", 1)[1]


def _tables() -> tuple[int, ...]:
    return (count(User), count(AccessLink), count(AccessLink, AccessLink.used_at.is_not(None)), count(Effect),
            count(UserSession))


def test_an_instructor_sees_the_invite_page_in_the_nav_with_students_only(client, teacher):
    home = _text(client.get("/dashboard"))
    assert 'href="/invitations"' in home
    page = _text(client.get("/invitations"))
    assert "Invite your students." in page
    assert '<input type="hidden" name="role" value="student">' in page
    assert 'selected value="America/New_York"' in page  # the inviter's zone by default
    assert "No open invitations." in page


def test_an_instructor_invites_a_student_and_sees_it_listed_with_its_expiry(client, teacher):
    response = client.post("/invitations", data={"name": "Sam Lee", "email": "Sam@Example.test", "role": "student",
                                                 "timezone": "Europe/London"})
    assert response.status_code == 302
    page = _text(client.get(response.location))
    assert "Invitation sent to Sam Lee (sam@example.test); the link works for 7 days." in page
    # expires 10 Dec 15:00 UTC, shown in the viewer's (New York) zone
    assert "Expires Thu 10 Dec 2026, 10:00 AM" in page
    link = db.session.scalar(sa.select(AccessLink).where(AccessLink.email == "sam@example.test"))
    assert link is not None and link.data == {"name": "Sam Lee", "role": "student", "timezone": "Europe/London"}
    assert f'action="/invitations/{link.id}/resend"' in page and f'action="/invitations/{link.id}/revoke"' in page


def test_an_instructor_cannot_invite_an_owner_even_by_a_crafted_form(client, teacher):
    response = client.post("/invitations", data={"name": "Boss", "email": "boss@example.test", "role": "owner",
                                                 "timezone": "UTC"})
    assert response.status_code == 403
    assert count(AccessLink) == 0


def test_inviting_an_address_with_an_account_says_so_on_the_page(client, teacher, users):
    users.make("student", email="taken@example.test")
    response = client.post("/invitations", data={"name": "Taken", "email": "taken@example.test", "role": "student",
                                                 "timezone": "UTC"})
    assert response.status_code == 409
    assert "taken@example.test already has an account, so there is nothing to accept" in _text(response)
    assert count(AccessLink) == 0


def test_a_student_is_refused_the_invitation_pages(client, users, auth):
    auth.login(users.make("student"))
    assert client.get("/invitations").status_code == 403
    assert client.post("/invitations", data={"name": "X", "email": "x@example.test", "role": "student"}).status_code == 403
    assert count(AccessLink) == 0


def test_the_owner_sees_every_open_invitation_on_the_people_page_and_revokes_one_there(app, client, users, auth):
    app.config["FROZEN_NOW"] = NOW
    owner = users.make("owner", name="Olga Owner")
    teacher = users.make("instructor", name="Ines Teacher")
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam Lee", role="student")
    auth.login(owner)
    people = _text(client.get("/admin/users"))
    assert "Open invitations" in people and "Sam Lee" in people and "invited by Ines Teacher" in people
    response = client.post(f"/invitations/{sent.link.id}/revoke", data={"back": "people"})
    assert response.status_code == 302 and response.location.endswith("/admin/users#invitations")
    assert "The invitation to sam@example.test is withdrawn" in _text(client.get("/admin/users"))
    assert invitations.look_up(_secret(sent))[1] is LinkState.REVOKED


def test_resend_replaces_the_link_and_stays_on_the_invitations_page(client, teacher):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam Lee", role="student")
    response = client.post(f"/invitations/{sent.link.id}/resend", data={"back": "elsewhere"})
    assert response.status_code == 302 and response.location.endswith("/invitations#invitations")
    assert "A new link replaces the earlier one." in _text(client.get("/invitations"))
    assert invitations.look_up(_secret(sent))[1] is LinkState.REVOKED
    assert count(AccessLink, AccessLink.revoked_at.is_(None)) == 1


# --- CSV --------------------------------------------------------------------------------------------------


def _upload(client, text: str | bytes, name: str = "people.csv"):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return client.post("/invitations/preview", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_preview_shows_every_row_and_its_problems_and_offers_no_confirmation(client, teacher, users):
    users.make("student", email="taken@example.test")
    before = _tables()
    response = _upload(client, HEADER + "Ana,ana@example.test,student,\nBad,nope,student,UTC\n"
                                        "Has,taken@example.test,student,UTC\n")
    page = _text(response)
    assert response.status_code == 200
    assert "2 rows have problems, so nobody was invited." in page
    assert "not a valid email address" in page and "already has an account" in page
    assert "Ready" in page and "America/New York" in page  # the empty zone becomes the inviter's
    assert 'action="/invitations/import"' not in page
    assert _tables() == before


def test_a_clean_preview_carries_its_rows_to_the_confirmation_which_sends_them(client, teacher):
    page = _text(_upload(client, "\ufeff" + HEADER + "Ana Ruiz,ana@example.test,student,Europe/Madrid\n"
                                                    "Bo Li,bo@example.test,student,\n"))
    assert "2 people will be invited when you confirm." in page and "Send 2 invitations" in page
    assert count(AccessLink) == 0
    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', page)
    assert rows is not None
    response = client.post("/invitations/import", data={"rows": html.unescape(rows.group(1))},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "2 invitations sent; each link works for 7 days." in _text(client.get(response.location))
    emails = db.session.scalars(sa.select(AccessLink.email).order_by(AccessLink.id)).all()
    assert emails == ["ana@example.test", "bo@example.test"]


def test_a_confirmation_refused_because_a_row_went_bad_writes_nothing_and_shows_why(client, teacher, users):
    payload = '[[2,"Ana","ana@example.test","student",""],[3,"Bo","bo@example.test","student",""],' \
              '[4,"Cy","cy@example.test","student",""]]'
    users.make("student", email="bo@example.test")
    before = _tables()
    response = client.post("/invitations/import", data={"rows": payload})
    assert response.status_code == 422
    page = _text(response)
    assert "1 row has a problem, so nobody was invited." in page and "already has an account" in page
    assert _tables() == before


def test_an_upload_that_is_not_a_csv_is_refused_with_a_sentence(client, teacher):
    page = _text(_upload(client, b"\x89PNG\r\n\x1a\n\xff\xfe"))
    assert "The file is not UTF-8 text." in page
    response = client.post("/invitations/preview", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file to upload." in _text(response)
    assert count(AccessLink) == 0


# --- the invitee ----------------------------------------------------------------------------------------


def test_opening_the_link_shows_the_inviter_and_the_name_and_changes_nothing(client, teacher):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam Lee", role="student")
    client.post("/logout")
    before = _tables()
    for _ in range(3):  # mail scanners open links; opening is harmless
        response = client.get(f"/invitations/{_secret(sent)}")
        assert response.status_code == 200
    page = _text(response)
    assert "Ines Teacher invited you as a student." in page
    assert 'value="Sam Lee"' in page and "sam@example.test" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert _tables() == before
    assert invitations.look_up(_secret(sent))[1] is LinkState.VALID


def test_setting_a_password_creates_the_account_and_signs_the_invitee_in(client, teacher):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam Lee", role="student",
                              timezone="Europe/London")
    client.post("/logout")
    response = client.post(f"/invitations/{_secret(sent)}", data={"name": "Sam Lee", "password": "a-good-password"})
    assert response.status_code == 302
    profile = client.get("/profile")
    assert profile.status_code == 200 and "sam@example.test" in _text(profile)
    sam = db.session.scalar(sa.select(User).where(User.email == "sam@example.test"))
    assert sam is not None and (sam.role, sam.timezone) == ("student", "Europe/London")
    again = client.get(f"/invitations/{_secret(sent)}")
    assert again.status_code == 410
    assert "This link has already been used." in _text(again) and 'href="/login"' in _text(again)


def test_a_too_short_password_is_refused_on_the_page_and_the_link_still_works(client, teacher):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam Lee", role="student")
    client.post("/logout")
    response = client.post(f"/invitations/{_secret(sent)}", data={"name": "Sam Lee", "password": "short"})
    assert response.status_code == 200 and "Choose a password of 8 to 200 characters." in _text(response)
    assert count(User, User.email == "sam@example.test") == 0
    assert invitations.look_up(_secret(sent))[1] is LinkState.VALID


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown"])
def test_a_dead_link_answers_with_a_sentence_and_a_sign_in_link(app, client, teacher, how):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam Lee", role="student")
    secret = _secret(sent)
    if how == "revoked":
        invitations.revoke(teacher, sent.link.id)
    elif how == "expired":
        app.config["FROZEN_NOW"] = NOW + timedelta(days=7, minutes=1)
    else:
        secret = "not-a-real-secret"
    client.post("/logout")
    for response in (client.get(f"/invitations/{secret}"),
                     client.post(f"/invitations/{secret}", data={"name": "Sam", "password": "a-good-password"})):
        assert response.status_code == 410
        page = _text(response)
        assert {"revoked": "withdrawn", "expired": "expired", "unknown": "not valid"}[how] in page
        assert 'href="/login"' in page
    assert count(User, User.email == "sam@example.test") == 0
