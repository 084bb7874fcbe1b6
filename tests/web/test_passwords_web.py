"""Password and address pages: the same answer for any address, nothing changes on GET, other browsers signed out."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from booking_app import wording
from booking_app.extensions import db
from booking_app.models import AccessLink, Effect, User
from booking_app.services.users import set_active
from tests.conftest import Users, count, utc

NOW = utc(2027, 2, 1, 12, 0)
NEW = "a brand new passphrase"


def mailed_secret(template: str) -> str:
    """Return the secret in the newest queued account mail of this template."""
    queued = db.session.scalars(sa.select(Effect).where(Effect.kind == "account_mail").order_by(Effect.id.desc()))
    mail = next(e for e in queued if e.payload["template"] == template)
    return str(mail.payload["context"]["action_url"].rsplit("/", 1)[-1])


def rows() -> tuple[int, int, list[str]]:
    """Return what a GET must leave alone: links, effects, and every password hash."""
    hashes = list(db.session.scalars(sa.select(User.password_hash).order_by(User.id)))
    used = count(AccessLink, AccessLink.used_at.is_not(None))
    db.session.rollback()
    return count(Effect), used, hashes


def alert_text(html: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(r'role="alert">(.*?)<button', html, re.S)]


@pytest.fixture
def person(app, users):
    app.config["FROZEN_NOW"] = NOW
    return users.make(name="Lena Vogel", email="lena@example.test")


def test_the_sign_in_page_links_to_the_forgot_page(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html and "Forgot your password?" in html
    assert "Send me a link" in client.get("/password/forgot").get_data(as_text=True)


def test_the_forgot_page_answers_the_same_for_any_address(app, users, person):
    owner = users.make("owner")
    closed = users.make(email="closed@example.test")
    set_active(closed, False, acting=owner)
    answers = []
    for address in (person.email, "nobody@example.test", closed.email):
        browser = app.test_client()
        response = browser.post("/password/forgot", data={"email": address})
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
        answers.append((response.status_code, response.headers["Location"], response.data, alert_text(page)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][3] == [wording.RESET_REQUESTED]
    assert count(Effect, Effect.kind == "account_mail") == 1  # only the active account's mail


def test_the_forgot_page_refuses_a_malformed_address_in_the_form(client, person):
    html = client.post("/password/forgot", data={"email": "not-an-address"}).get_data(as_text=True)
    assert "Enter a valid email address, like name@example.com." in html
    assert count(Effect) == 0


def test_opening_a_reset_link_changes_nothing(client, person):
    client.post("/password/forgot", data={"email": person.email})
    secret = mailed_secret("password_reset")
    before = rows()
    for _ in range(2):  # a mail scanner's prefetch, then the person
        response = client.get(f"/password/reset/{secret}")
        assert response.status_code == 200
        assert "Choose a new password" in response.get_data(as_text=True)
    assert rows() == before


def test_a_new_password_signs_in_here_and_out_everywhere_else(app, client, person):
    phone = app.test_client()
    phone.post("/login", data={"email": person.email, "password": Users.password})
    assert phone.get("/profile").status_code == 200
    client.post("/password/forgot", data={"email": person.email})
    secret = mailed_secret("password_reset")
    response = client.post(f"/password/reset/{secret}", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert wording.RESET_DONE in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/profile").status_code == 200  # signed in here
    assert phone.get("/profile").status_code == 302  # signed out there
    stranger = app.test_client()
    refused = stranger.post("/login", data={"email": person.email, "password": Users.password})
    assert b"do not match" in refused.data
    assert stranger.post("/login", data={"email": person.email, "password": NEW}).status_code == 302


def test_a_used_reset_link_is_refused_with_a_sentence(client, person):
    client.post("/password/forgot", data={"email": person.email})
    secret = mailed_secret("password_reset")
    client.post(f"/password/reset/{secret}", data={"password": NEW, "confirm": NEW})
    for method in (client.get, client.post):
        response = method(f"/password/reset/{secret}", data={"password": "other passphrase", "confirm": "other passphrase"})
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert "This link has already been used. Sign in, or ask for a new one." in html
        assert 'href="/password/forgot"' in html
    assert client.get("/password/reset/made-up").status_code == 410


def test_two_different_new_passwords_are_refused_and_the_link_still_works(client, person):
    client.post("/password/forgot", data={"email": person.email})
    secret = mailed_secret("password_reset")
    html = client.post(f"/password/reset/{secret}", data={"password": NEW, "confirm": NEW + "!"}).get_data(as_text=True)
    assert "The two passwords differ." in html
    html = client.post(f"/password/reset/{secret}", data={"password": "short", "confirm": "short"}).get_data(as_text=True)
    assert "Choose a password of at least 8 characters." in html
    assert client.get(f"/password/reset/{secret}").status_code == 200


def test_the_forgot_page_is_limited_per_client_and_per_address(app, person):
    one = app.test_client()
    statuses = [one.post("/password/forgot", data={"email": f"n{i}@example.test"}).status_code for i in range(6)]
    assert statuses == [302] * 5 + [429]
    # Five requests for one address from five clients, then a sixth client is refused for that address only.
    for i in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        assert client.post("/password/forgot", data={"email": person.email.upper()}).status_code == 302
    sixth = app.test_client()
    sixth.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    assert sixth.post("/password/forgot", data={"email": person.email}).status_code == 429
    assert sixth.post("/password/forgot", data={"email": "other@example.test"}).status_code == 302


def test_the_profile_shows_the_password_and_address_section(client, auth, person):
    auth.login(person)
    html = client.get("/profile").get_data(as_text=True)
    assert 'id="security"' in html and 'href="/profile/password"' in html and 'href="/profile/address"' in html


def test_changing_the_password_keeps_this_browser_and_signs_out_the_others(app, client, auth, person):
    phone = app.test_client()
    phone.post("/login", data={"email": person.email, "password": Users.password})
    auth.login(person)
    wrong = client.post("/profile/password", data={"current_password": "nope nope", "password": NEW, "confirm": NEW})
    assert "That is not your current password." in wrong.get_data(as_text=True)
    assert phone.get("/profile").status_code == 200
    response = client.post("/profile/password", data={"current_password": Users.password, "password": NEW,
                                                      "confirm": NEW}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert wording.password_changed(1) in html
    assert "1 other browser signed in to your account was signed out. This browser stays signed in." in html
    assert client.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302


def test_an_address_change_is_asked_on_the_profile_and_confirmed_from_the_link(app, client, auth, person):
    auth.login(person)
    assert "Change your sign-in address" in client.get("/profile/address").get_data(as_text=True)
    response = client.post("/profile/address", data={"email": "lena.new@example.test", "password": Users.password},
                           follow_redirects=True)
    assert wording.address_change_sent("lena.new@example.test", "lena@example.test") in response.get_data(as_text=True)
    assert "lena.new@example.test" in client.get("/profile/address").get_data(as_text=True)  # waiting for the link
    secret = mailed_secret("address_confirm")
    elsewhere = app.test_client()  # the mail is opened on another device, signed in nowhere
    before = rows()
    page = elsewhere.get(f"/address/confirm/{secret}")
    assert page.status_code == 200 and "Use lena.new@example.test" in page.get_data(as_text=True)
    assert rows() == before
    db.session.refresh(person)
    assert person.email == "lena@example.test"
    done = elsewhere.post(f"/address/confirm/{secret}", follow_redirects=True)
    assert wording.address_changed("lena.new@example.test") in done.get_data(as_text=True)
    db.session.refresh(person)
    assert person.email == "lena.new@example.test"
    again = elsewhere.post(f"/address/confirm/{secret}")
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_an_address_in_use_is_refused_on_the_form_and_at_confirmation(app, client, auth, users, person):
    users.make(email="taken@example.test")
    auth.login(person)
    html = client.post("/profile/address", data={"email": "taken@example.test", "password": Users.password})
    assert wording.ADDRESS_TAKEN in html.get_data(as_text=True)
    client.post("/profile/address", data={"email": "free@example.test", "password": Users.password})
    secret = mailed_secret("address_confirm")
    users.make(email="free@example.test")
    response = client.post(f"/address/confirm/{secret}")
    assert response.status_code == 409 and wording.ADDRESS_TAKEN in response.get_data(as_text=True)
