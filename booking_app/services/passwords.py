"""Passwords: a reset link mailed on request (one hour, single use), setting a new one, changing it on the profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import wording
from ..domain.links import LinkPurpose, LinkState
from ..extensions import db
from ..models import AccessLink, User
from . import ServiceError, clock, links, mail
from .sessions import end_all_sessions, end_other_sessions
from .users import EMAIL_RE, MIN_PASSWORD, find_user_by_email, normalize_email

MAX_PASSWORD = 200  # long passphrases pass; a megabyte of "password" does not reach the hasher
MAX_EMAIL = 254
# Mails per account per hour, whatever the clients asking: the answer stays the same, the mail stops.
RESET_MAILS_PER_HOUR = 3
RESET_PATH = "/password/reset/{secret}"  # the auth blueprint's reset page


def password_problem(password: str) -> str | None:
    """Return the sentence refusing a new password (the sign-up rules), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"Choose a password of at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Choose a password of at most {MAX_PASSWORD} characters."
    return None


def _check_new_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise ServiceError(problem, field="password")


def request_reset(email: str) -> None:
    """Mail a reset link to the account using this address, if there is an active one; say nothing either way.

    A new link withdraws the account's older open ones. At most RESET_MAILS_PER_HOUR mails go to one account an
    hour; past that the request is answered the same and nothing is sent.
    """
    address = normalize_email(email or "")
    if len(address) > MAX_EMAIL or not EMAIL_RE.match(address):
        raise ServiceError("Enter a valid email address, like name@example.com.", field="email")
    user = find_user_by_email(address)
    if user is None or not user.active:
        return
    now = clock.now()
    recent = db.session.scalar(
        sa.select(sa.func.count()).select_from(AccessLink).where(
            AccessLink.purpose == LinkPurpose.PASSWORD_RESET, AccessLink.user_id == user.id,
            AccessLink.created_at > now - timedelta(hours=1))
    ) or 0
    if recent >= RESET_MAILS_PER_HOUR:
        return
    links.revoke_open(LinkPurpose.PASSWORD_RESET, user=user)
    link, secret = links.issue(LinkPurpose.PASSWORD_RESET, user=user)
    assert link.expires_at is not None
    mail.queue_account_mail(user.email, user.name, "password_reset", {
        "action_url": current_app.config["BASE_URL"] + RESET_PATH.format(secret=secret),
        "action_label": "Choose a new password",
        "expires": wording.link_deadline(link.expires_at, user.timezone),
    })
    db.session.commit()


@dataclass(frozen=True)
class ResetPage:
    """What the reset page shows: the form for a working link, or why the link no longer works."""

    works: bool
    refusal: str = ""
    email: str = ""


def reset_page(secret: str) -> ResetPage:
    """Say whether a reset link still works (reading changes nothing)."""
    link, state = links.look_up(LinkPurpose.PASSWORD_RESET, secret)
    if link is None or state is not LinkState.VALID:
        return ResetPage(False, links.gone(state).message)
    if link.user is None or not link.user.active:
        return ResetPage(False, wording.ACCOUNT_CLOSED)
    return ResetPage(True, email=link.user.email)


def reset_password(secret: str, password: str) -> User:
    """Spend a reset link and set the new password; every session of the account ends (the caller signs in anew).

    Refused with 410 when the link is unknown, used, expired or withdrawn; a refused password spends nothing.
    """
    state = links.look_up(LinkPurpose.PASSWORD_RESET, secret)[1]
    if state is not LinkState.VALID:
        raise links.gone(state)
    _check_new_password(password)
    link = links.redeem(LinkPurpose.PASSWORD_RESET, secret)
    user = link.user
    if user is None or not user.active:
        db.session.rollback()
        raise ServiceError(wording.ACCOUNT_CLOSED, code="gone", status=410)
    user.set_password(password)
    end_all_sessions(user, commit=False)
    _withdraw_open_links(user)
    _queue_changed_notice(user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str, *, keep_session: str | None) -> int:
    """Change the password after checking the current one; end every other session; return how many ended."""
    if not user.check_password(current or ""):
        raise ServiceError(wording.WRONG_PASSWORD, code="wrong_password", status=403, field="current_password")
    _check_new_password(new)
    user.set_password(new)
    ended = end_other_sessions(user, keep_session, commit=False)
    _withdraw_open_links(user)
    _queue_changed_notice(user)
    db.session.commit()
    return ended


def _withdraw_open_links(user: User) -> None:
    # Whoever asked for these may have known the old password: a new one withdraws them.
    links.revoke_open(LinkPurpose.PASSWORD_RESET, user=user)
    links.revoke_open(LinkPurpose.EMAIL_CHANGE, user=user)


def _queue_changed_notice(user: User) -> None:
    mail.queue_account_mail(user.email, user.name, "password_changed", {
        "when": wording.when_abbreviated(clock.now(), user.timezone),
        "action_url": current_app.config["BASE_URL"] + "/password/forgot",
        "action_label": "Reset my password",
    })
