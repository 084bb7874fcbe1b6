"""Changing the sign-in address: confirmed from a link mailed to the new address, the old one told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import wording
from ..domain.links import LinkPurpose, LinkState
from ..extensions import db
from ..models import AccessLink, User
from . import ServiceError, clock, links, mail
from .passwords import MAX_EMAIL
from .users import EMAIL_RE, find_user_by_email, normalize_email

CONFIRM_PATH = "/address/confirm/{secret}"  # the auth blueprint's confirmation page


def _taken() -> ServiceError:
    return ServiceError(wording.ADDRESS_TAKEN, code="email_taken", status=409, field="email")


def request_change(user: User, password: str, new_email: str) -> str:
    """Mail a confirmation link to the new address and a notice to the current one; return the new address.

    Nothing changes until the link is opened and confirmed. A new request withdraws the user's older ones.
    """
    if not user.check_password(password or ""):
        raise ServiceError(wording.WRONG_PASSWORD, code="wrong_password", status=403, field="password")
    new = normalize_email(new_email or "")
    if len(new) > MAX_EMAIL or not EMAIL_RE.match(new):
        raise ServiceError("Enter a valid email address, like name@example.com.", field="email")
    if new == user.email:
        raise ServiceError(wording.SAME_ADDRESS, field="email")
    if find_user_by_email(new) is not None:
        raise _taken()
    links.revoke_open(LinkPurpose.EMAIL_CHANGE, user=user)
    link, secret = links.issue(LinkPurpose.EMAIL_CHANGE, user=user, email=new)
    assert link.expires_at is not None
    expires = wording.link_deadline(link.expires_at, user.timezone)
    mail.queue_account_mail(new, user.name, "address_confirm", {
        "action_url": current_app.config["BASE_URL"] + CONFIRM_PATH.format(secret=secret),
        "action_label": "Confirm my new address", "expires": expires, "new_email": new, "old_email": user.email,
    })
    mail.queue_account_mail(user.email, user.name, "address_change_notice", {
        "new_email": new, "old_email": user.email, "expires": expires,
        "when": wording.when_abbreviated(clock.now(), user.timezone),
    })
    db.session.commit()
    return new


@dataclass(frozen=True)
class PendingChange:
    """An address change waiting for its confirmation."""

    email: str
    expires_at: datetime


def pending_change(user: User) -> PendingChange | None:
    """Return the user's address change still waiting to be confirmed, if any."""
    now = clock.now()
    link = db.session.scalars(
        sa.select(AccessLink).where(
            AccessLink.purpose == LinkPurpose.EMAIL_CHANGE, AccessLink.user_id == user.id,
            AccessLink.used_at.is_(None), AccessLink.revoked_at.is_(None), AccessLink.expires_at > now)
        .order_by(AccessLink.created_at.desc(), AccessLink.id.desc()).limit(1)
    ).first()
    if link is None or link.expires_at is None:
        return None
    return PendingChange(link.email, link.expires_at)


@dataclass(frozen=True)
class ConfirmPage:
    """What the confirmation page shows: the change its one button makes, or why the link no longer works."""

    works: bool
    refusal: str = ""
    new_email: str = ""
    old_email: str = ""


def confirm_page(secret: str) -> ConfirmPage:
    """Say what confirming would change, or why it cannot (reading changes nothing)."""
    link, state = links.look_up(LinkPurpose.EMAIL_CHANGE, secret)
    if link is None or state is not LinkState.VALID:
        return ConfirmPage(False, links.gone(state).message)
    if link.user is None or not link.user.active:
        return ConfirmPage(False, wording.ACCOUNT_CLOSED)
    other = find_user_by_email(link.email)
    if other is not None and other.id != link.user_id:
        return ConfirmPage(False, wording.ADDRESS_TAKEN, link.email, link.user.email)
    return ConfirmPage(True, new_email=link.email, old_email=link.user.email)


def confirm_change(secret: str) -> User:
    """Spend the confirmation link and make its address the user's sign-in address.

    An address another account took meanwhile is refused with 409, also when both commit at once (the unique
    constraint decides); the link then stays unspent.
    """
    link = links.redeem(LinkPurpose.EMAIL_CHANGE, secret)
    user = link.user
    if user is None or not user.active:
        db.session.rollback()
        raise ServiceError(wording.ACCOUNT_CLOSED, code="gone", status=410)
    other = find_user_by_email(link.email)
    if other is not None and other.id != user.id:
        db.session.rollback()
        raise _taken()
    try:
        user.email = link.email
        # Reset links went to the old address: they stop working with it.
        links.revoke_open(LinkPurpose.PASSWORD_RESET, user=user)
        links.revoke_open(LinkPurpose.EMAIL_CHANGE, user=user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _taken() from None
    return user
