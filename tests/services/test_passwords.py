"""Passwords: a reset link works once and for one hour, says nothing about unknown addresses, ends other sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app.domain.links import LinkPurpose, LinkState
from booking_app.extensions import db
from booking_app.models import AccessLink, Effect, StudioSettings, UserSession
from booking_app.services import ServiceError, addresses, effects, links, passwords, sessions
from booking_app.services.users import set_active
from tests.conftest import Users, count, utc

NOW = utc(2027, 2, 1, 12, 0)
NEW = "a brand new passphrase"


def reset_secret() -> str:
    """Return the secret of the newest reset link, from the mail queued for it."""
    effect = db.session.scalars(sa.select(Effect).where(Effect.kind == "account_mail").order_by(Effect.id.desc())).first()
    assert effect is not None and effect.payload["template"] == "password_reset"
    return str(effect.payload["context"]["action_url"].rsplit("/", 1)[-1])


@pytest.fixture
def person(app, users):
    app.config["FROZEN_NOW"] = NOW
    return users.make(name="Lena Vogel", email="lena@example.test", timezone="Europe/Berlin")


def test_a_reset_link_sets_a_new_password_once(app, person):
    passwords.request_reset("  Lena@Example.TEST ")
    secret = reset_secret()
    user = passwords.reset_password(secret, NEW)
    assert user.id == person.id and user.check_password(NEW) and not user.check_password(Users.password)
    with pytest.raises(ServiceError) as refused:
        passwords.reset_password(secret, "yet another passphrase")
    assert refused.value.status == 410
    assert refused.value.message == "This link has already been used. Sign in, or ask for a new one."
    db.session.refresh(person)
    assert person.check_password(NEW)


def test_a_reset_link_works_for_one_hour_and_not_after(app, person):
    passwords.request_reset(person.email)
    secret = reset_secret()
    app.config["FROZEN_NOW"] = NOW + timedelta(minutes=59)
    assert passwords.reset_page(secret).works
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=1)
    page = passwords.reset_page(secret)
    assert not page.works and "expired" in page.refusal
    with pytest.raises(ServiceError, match="This link has expired") as refused:
        passwords.reset_password(secret, NEW)
    assert refused.value.status == 410
    db.session.refresh(person)
    assert person.check_password(Users.password)


def test_an_unknown_or_deactivated_address_gets_the_same_answer_and_no_mail(app, users, person):
    owner = users.make("owner")
    closed = users.make(email="closed@example.test")
    set_active(closed, False, acting=owner)
    before = count(Effect), count(AccessLink)
    assert passwords.request_reset("nobody@example.test") is None
    assert passwords.request_reset("closed@example.test") is None
    assert (count(Effect), count(AccessLink)) == before
    assert passwords.request_reset(person.email) is None  # the same answer; this one is mailed
    assert (count(Effect), count(AccessLink)) == (before[0] + 1, before[1] + 1)


def test_a_malformed_address_is_refused_with_a_sentence(app, person):
    for bad in ("not-an-address", "x" * 250 + "@example.test"):
        with pytest.raises(ServiceError, match="Enter a valid email address"):
            passwords.request_reset(bad)


def test_a_new_reset_link_withdraws_the_older_one(app, person):
    passwords.request_reset(person.email)
    first = reset_secret()
    passwords.request_reset(person.email)
    second = reset_secret()
    assert links.look_up(LinkPurpose.PASSWORD_RESET, first)[1] is LinkState.REVOKED
    with pytest.raises(ServiceError, match="withdrawn"):
        passwords.reset_password(first, NEW)
    passwords.reset_password(second, NEW)


def test_at_most_three_reset_mails_an_hour_go_to_one_account(app, person):
    for _ in range(5):
        passwords.request_reset(person.email)
    assert count(Effect, Effect.kind == "account_mail") == passwords.RESET_MAILS_PER_HOUR == 3
    newest = reset_secret()
    assert passwords.reset_page(newest).works  # the answer stayed the same and the last link sent still works
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=1, minutes=1)
    passwords.request_reset(person.email)
    assert count(Effect, Effect.kind == "account_mail") == 4


def test_a_refused_new_password_spends_nothing(app, person):
    passwords.request_reset(person.email)
    secret = reset_secret()
    with pytest.raises(ServiceError, match="at least 8 characters") as refused:
        passwords.reset_password(secret, "short")
    assert refused.value.field == "password"
    with pytest.raises(ServiceError, match="at most 200 characters"):
        passwords.reset_password(secret, "x" * 201)
    assert passwords.reset_page(secret).works


def test_setting_a_new_password_ends_every_session_of_the_account(app, users, person):
    other = users.make()
    for _ in range(3):
        sessions.start_session(person)
    sessions.start_session(other)
    passwords.request_reset(person.email)
    passwords.reset_password(reset_secret(), NEW)
    assert sessions.open_session_count(person) == 0
    assert sessions.open_session_count(other) == 1


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, person):
    here = sessions.start_session(person)
    sessions.start_session(person)
    sessions.start_session(person)
    assert passwords.change_password(person, Users.password, NEW, keep_session=here) == 2
    assert sessions.user_for_session(person.id, here) is not None
    assert count(UserSession, UserSession.ended_at.is_(None)) == 1
    assert person.check_password(NEW)


def test_changing_the_password_needs_the_current_one(app, person):
    here = sessions.start_session(person)
    sessions.start_session(person)
    with pytest.raises(ServiceError) as refused:
        passwords.change_password(person, "not my password", NEW, keep_session=here)
    assert (refused.value.status, refused.value.field) == (403, "current_password")
    assert refused.value.message == "That is not your current password. Check it and try again."
    db.session.rollback()
    assert person.check_password(Users.password)
    assert sessions.open_session_count(person) == 2


def test_a_new_password_withdraws_open_reset_and_address_links(app, person):
    passwords.request_reset(person.email)
    secret = reset_secret()
    addresses.request_change(person, Users.password, "lena.new@example.test")
    passwords.change_password(person, Users.password, NEW, keep_session=None)
    assert passwords.reset_page(secret).works is False
    assert addresses.pending_change(person) is None


def test_the_reset_mail_arrives_with_text_html_the_studio_and_the_deadline_in_the_recipients_zone(app, inbox, person):
    db.session.get(StudioSettings, 1).name = "Harbour Music School"
    db.session.commit()
    passwords.request_reset(person.email)
    secret = reset_secret()
    assert effects.run_due(NOW) == 1
    [received] = inbox.messages
    assert received["To"] == "Lena Vogel <lena@example.test>"
    assert received["Subject"] == "Choose a new password for Harbour Music School"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    link = f"http://127.0.0.1:5000/password/reset/{secret}"
    assert link in text and f'href="{link}"' in html
    # 12:00 UTC + 1 hour is 2:00 PM in Berlin (CET).
    assert "until Mon 1 Feb at 2:00 PM (CET)" in text
    assert "Harbour Music School" in text and "Harbour Music School" in html
    assert "Choose a new password" in html  # the button


def test_a_password_change_is_told_to_the_account_by_mail(app, inbox, person):
    passwords.change_password(person, Users.password, NEW, keep_session=None)
    effects.run_due(NOW)
    [received] = inbox.messages
    assert received["Subject"] == "Your password for The Studio was changed"
    text = received.get_body(("plain",)).get_content()
    assert "was changed on Mon 1 Feb at 1:00 PM (CET)" in text
    assert received.get_body(("html",)) is not None
