"""A new sign-in address: confirmed from a link mailed there (24 hours, once), the old address told, never taken twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Effect
from booking_app.services import ServiceError, addresses, effects, passwords
from booking_app.services.users import authenticate
from tests.conftest import Users, count, utc

NOW = utc(2027, 2, 1, 12, 0)
NEW = "lena.new@example.test"


def confirm_secret() -> str:
    """Return the secret of the newest confirmation link, from the mail queued for it."""
    queued = db.session.scalars(sa.select(Effect).where(Effect.kind == "account_mail").order_by(Effect.id.desc()))
    mail = next(e for e in queued if e.payload["template"] == "address_confirm")
    return str(mail.payload["context"]["action_url"].rsplit("/", 1)[-1])


@pytest.fixture
def person(app, users):
    app.config["FROZEN_NOW"] = NOW
    return users.make(name="Lena Vogel", email="lena@example.test", timezone="America/New_York")


def test_the_address_changes_only_once_the_link_is_confirmed(app, person):
    assert addresses.request_change(person, Users.password, " Lena.New@Example.TEST ") == NEW
    db.session.refresh(person)
    assert person.email == "lena@example.test"
    pending = addresses.pending_change(person)
    assert pending is not None and pending.email == NEW and pending.expires_at == NOW + timedelta(hours=24)
    secret = confirm_secret()
    page = addresses.confirm_page(secret)
    assert (page.works, page.new_email, page.old_email) == (True, NEW, "lena@example.test")
    assert addresses.confirm_change(secret).email == NEW
    assert authenticate(NEW, Users.password) is not None
    assert authenticate("lena@example.test", Users.password) is None
    assert addresses.pending_change(person) is None


def test_a_confirmation_link_works_once(app, person):
    addresses.request_change(person, Users.password, NEW)
    secret = confirm_secret()
    addresses.confirm_change(secret)
    with pytest.raises(ServiceError, match="already been used") as refused:
        addresses.confirm_change(secret)
    assert refused.value.status == 410


def test_a_confirmation_link_stops_after_24_hours(app, person):
    addresses.request_change(person, Users.password, NEW)
    secret = confirm_secret()
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=23, minutes=59)
    assert addresses.confirm_page(secret).works
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=24)
    assert not addresses.confirm_page(secret).works
    with pytest.raises(ServiceError, match="expired"):
        addresses.confirm_change(secret)
    db.session.refresh(person)
    assert person.email == "lena@example.test"


def test_the_password_is_asked_for(app, person):
    with pytest.raises(ServiceError) as refused:
        addresses.request_change(person, "wrong password", NEW)
    assert (refused.value.status, refused.value.field) == (403, "password")
    assert count(Effect) == 0


def test_an_address_in_use_or_the_same_one_is_refused_with_a_sentence(app, users, person):
    users.make(email="taken@example.test")
    with pytest.raises(ServiceError) as refused:
        addresses.request_change(person, Users.password, "Taken@example.test")
    assert refused.value.status == 409
    assert refused.value.message.startswith("An account already uses this address.")
    with pytest.raises(ServiceError, match="already your sign-in address"):
        addresses.request_change(person, Users.password, "LENA@example.test")
    assert count(Effect) == 0


def test_an_address_taken_meanwhile_is_refused_at_confirmation_and_the_link_stays_unspent(app, users, person):
    addresses.request_change(person, Users.password, NEW)
    secret = confirm_secret()
    users.make(email=NEW)  # someone signed up with it before the link was opened
    page = addresses.confirm_page(secret)
    assert not page.works and page.refusal.startswith("An account already uses this address.")
    with pytest.raises(ServiceError) as refused:
        addresses.confirm_change(secret)
    assert refused.value.status == 409
    db.session.refresh(person)
    assert person.email == "lena@example.test"


def test_a_race_for_the_address_lost_at_the_unique_constraint_is_a_sentence(app, users, person, monkeypatch):
    addresses.request_change(person, Users.password, NEW)
    secret = confirm_secret()
    users.make(email=NEW)
    # The other account commits between the check and this commit: the check sees nothing, the constraint decides.
    monkeypatch.setattr(addresses, "find_user_by_email", lambda email: None)
    with pytest.raises(ServiceError) as refused:
        addresses.confirm_change(secret)
    assert refused.value.status == 409 and refused.value.message.startswith("An account already uses this address.")
    monkeypatch.undo()
    db.session.refresh(person)
    assert person.email == "lena@example.test"
    assert addresses.pending_change(person) is not None  # the link was not spent


def test_a_new_request_withdraws_the_older_link(app, person):
    addresses.request_change(person, Users.password, "first@example.test")
    first = confirm_secret()
    addresses.request_change(person, Users.password, NEW)
    with pytest.raises(ServiceError, match="withdrawn"):
        addresses.confirm_change(first)
    assert addresses.pending_change(person).email == NEW  # type: ignore[union-attr]


def test_confirming_withdraws_reset_links_sent_to_the_old_address(app, person):
    passwords.request_reset(person.email)
    reset = db.session.scalars(sa.select(Effect).order_by(Effect.id.desc())).first()
    assert reset is not None
    reset_secret = reset.payload["context"]["action_url"].rsplit("/", 1)[-1]
    addresses.request_change(person, Users.password, NEW)
    addresses.confirm_change(confirm_secret())
    assert not passwords.reset_page(reset_secret).works


def test_the_new_address_gets_the_link_and_the_old_one_a_notice(app, inbox, person):
    addresses.request_change(person, Users.password, NEW)
    secret = confirm_secret()
    assert effects.run_due(NOW) == 2
    by_recipient = {m["To"]: m for m in inbox.messages}
    confirm = by_recipient[f"Lena Vogel <{NEW}>"]
    notice = by_recipient["Lena Vogel <lena@example.test>"]
    assert confirm["Subject"] == "Confirm your new sign-in address for The Studio"
    assert notice["Subject"] == "Your sign-in address for The Studio is about to change"
    confirm_text = confirm.get_body(("plain",)).get_content()
    assert f"/address/confirm/{secret}" in confirm_text
    assert f'/address/confirm/{secret}"' in confirm.get_body(("html",)).get_content()
    # 12:00 UTC + 24 hours is 7:00 AM in New York (EST).
    assert "until Tue 2 Feb at 7:00 AM (EST)" in confirm_text
    notice_text = notice.get_body(("plain",)).get_content()
    assert secret not in notice_text and NEW in notice_text and "The Studio" in notice_text
    assert "On Mon 1 Feb at 7:00 AM (EST)" in notice_text
    assert notice.get_body(("html",)) is not None
