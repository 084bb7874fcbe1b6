"""Links sent to people: a single-use link works once, every link stops at its expiry or when withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_app.domain.links import LinkPurpose, LinkState
from booking_app.extensions import db
from booking_app.services import ServiceError, links
from tests.conftest import utc

NOW = utc(2027, 2, 1, 12, 0)


def test_a_single_use_link_works_once(app, users):
    app.config["FROZEN_NOW"] = NOW
    user = users.make()
    _, secret = links.issue(LinkPurpose.PASSWORD_RESET, user=user)
    db.session.commit()
    assert links.look_up(LinkPurpose.PASSWORD_RESET, secret)[1] is LinkState.VALID
    assert links.redeem(LinkPurpose.PASSWORD_RESET, secret).user_id == user.id
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        links.redeem(LinkPurpose.PASSWORD_RESET, secret)
    assert refused.value.status == 410
    assert "already been used" in refused.value.message


def test_a_link_stops_working_at_its_expiry(app, users):
    app.config["FROZEN_NOW"] = NOW
    _, secret = links.issue(LinkPurpose.PASSWORD_RESET, user=users.make())
    db.session.commit()
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=1)
    assert links.look_up(LinkPurpose.PASSWORD_RESET, secret)[1] is LinkState.EXPIRED
    with pytest.raises(ServiceError, match="expired"):
        links.redeem(LinkPurpose.PASSWORD_RESET, secret)


def test_a_secret_opens_only_links_of_its_own_purpose(app, users):
    _, secret = links.issue(LinkPurpose.EMAIL_CHANGE, user=users.make(), email="new@example.com")
    db.session.commit()
    assert links.look_up(LinkPurpose.PASSWORD_RESET, secret) == (None, LinkState.UNKNOWN)
    assert links.look_up(LinkPurpose.EMAIL_CHANGE, "x" * 500) == (None, LinkState.UNKNOWN)


def test_a_reusable_link_keeps_working_and_notes_its_last_use(app, users):
    app.config["FROZEN_NOW"] = NOW
    student = users.make()
    link, secret = links.issue(LinkPurpose.BOOKING_PAGE, user=student, data={"instructor_id": 1})
    db.session.commit()
    for minutes in (0, 5):
        app.config["FROZEN_NOW"] = NOW + timedelta(minutes=minutes)
        links.redeem(LinkPurpose.BOOKING_PAGE, secret)
        db.session.commit()
    assert link.last_used_at == NOW + timedelta(minutes=5)
    assert link.expires_at is None


def test_withdrawing_open_links_stops_them(app, users):
    user = users.make()
    _, first = links.issue(LinkPurpose.PASSWORD_RESET, user=user)
    _, second = links.issue(LinkPurpose.PASSWORD_RESET, user=user)
    assert links.revoke_open(LinkPurpose.PASSWORD_RESET, user=user) == 2
    db.session.commit()
    assert links.look_up(LinkPurpose.PASSWORD_RESET, first)[1] is LinkState.REVOKED
    assert links.look_up(LinkPurpose.PASSWORD_RESET, second)[1] is LinkState.REVOKED
