"""Links sent to people: issued with a random secret, looked up by its hash, spent once where they are single-use."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .. import wording
from ..domain.links import LIFETIMES, SINGLE_USE, LinkPurpose, LinkState
from ..extensions import db
from ..models import AccessLink, User
from . import ServiceError, clock
from .sessions import hash_secret

TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at of a reusable link is written at most this often
MAX_SECRET_LENGTH = 200



def issue(purpose: LinkPurpose, *, user: User | None = None, email: str = "", data: dict[str, Any] | None = None,
          created_by: User | None = None, lifetime: timedelta | None = None,
          secret: str | None = None) -> tuple[AccessLink, str]:
    """Add a link (flushed, not committed: it belongs to the caller's transaction) and return it with its secret.

    A caller that must show the link again later passes a `secret` it can derive (never one stored as is).
    """
    now = clock.now()
    lifetime = lifetime if lifetime is not None else LIFETIMES[purpose]
    secret = secret or secrets.token_urlsafe(32)
    link = AccessLink(
        purpose=purpose, token_hash=hash_secret(secret), user_id=user.id if user else None,
        email=email or (user.email if user else ""), data=dict(data or {}),
        created_by_id=created_by.id if created_by else None, created_at=now,
        expires_at=now + lifetime if lifetime else None,
    )
    db.session.add(link)
    db.session.flush()
    return link, secret


def state_of(link: AccessLink | None, now: datetime | None = None) -> LinkState:
    """Say whether a link still works, and if not why."""
    now = now or clock.now()
    if link is None:
        return LinkState.UNKNOWN
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.used_at is not None and link.purpose in SINGLE_USE:
        return LinkState.USED
    if link.expires_at is not None and link.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


def look_up(purpose: LinkPurpose, secret: str | None) -> tuple[AccessLink | None, LinkState]:
    """Return the link a secret opens (or None) and its state; reading changes nothing."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None, LinkState.UNKNOWN
    link = db.session.scalar(
        sa.select(AccessLink).where(AccessLink.token_hash == hash_secret(secret), AccessLink.purpose == purpose)
    )
    return link, state_of(link)


def gone(state: LinkState) -> ServiceError:
    """Return the refusal for a link that no longer works (410, with a sentence that offers a way on)."""
    return ServiceError(wording.link_gone(state), code="gone", status=410)


def redeem(purpose: LinkPurpose, secret: str | None) -> AccessLink:
    """Spend a single-use link, or note the use of a reusable one; raise 410 when it no longer works.

    A single-use link is marked used by one conditional UPDATE, so two requests racing with the same secret
    cannot both succeed. Not committed: the caller's change and the spending commit together.
    """
    link, state = look_up(purpose, secret)
    if link is None or state is not LinkState.VALID:
        raise gone(state)
    now = clock.now()
    if purpose in SINGLE_USE:
        result = db.session.execute(
            sa.update(AccessLink)
            .where(AccessLink.id == link.id, AccessLink.used_at.is_(None), AccessLink.revoked_at.is_(None))
            .values(used_at=now, last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise gone(LinkState.USED)
        db.session.refresh(link)
    elif link.last_used_at is None or now - link.last_used_at >= TOUCH_INTERVAL:
        link.last_used_at = now
    return link


def revoke(link: AccessLink) -> None:
    """Withdraw one link (not committed)."""
    if link.revoked_at is None:
        link.revoked_at = clock.now()


def revoke_open(purpose: LinkPurpose, *, user: User | None = None, email: str | None = None,
                data_key: str | None = None, data_value: Any = None) -> int:
    """Withdraw every still-working link of a purpose for a user or an address (not committed); return how many."""
    now = clock.now()
    query = sa.select(AccessLink).where(AccessLink.purpose == purpose, AccessLink.revoked_at.is_(None),
                                        AccessLink.used_at.is_(None))
    if user is not None:
        query = query.where(AccessLink.user_id == user.id)
    if email is not None:
        query = query.where(sa.func.lower(AccessLink.email) == email.lower())
    count = 0
    for link in db.session.scalars(query):
        if data_key is not None and link.data.get(data_key) != data_value:
            continue
        link.revoked_at = now
        count += 1
    return count
