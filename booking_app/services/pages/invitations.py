"""The invitation pages' models: the invitations a viewer may manage, and the page an invitee opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ... import wording
from ...domain.links import LinkPurpose, LinkState
from ...extensions import db
from ...models import AccessLink, User
from .. import ServiceError, clock
from .. import invitations as invitation_service

LISTED = 500  # the list shows this many, newest first (an import sends at most 500 at once)


@dataclass(frozen=True)
class OpenInvitation:
    """One invitation not accepted or withdrawn yet (it may have expired: it can still be resent)."""

    id: int
    name: str
    email: str
    role: str
    inviter: str
    sent_at: datetime
    expires_at: datetime | None
    expired: bool


@dataclass(frozen=True)
class InvitationsPage:
    """The invite form's choices and the open invitations the viewer may resend or revoke."""

    roles: tuple[str, ...]
    invitations: list[OpenInvitation]


@dataclass(frozen=True)
class AcceptPage:
    """What the invitee sees: who invited them to what, or why the link no longer works."""

    state: LinkState
    name: str = ""
    email: str = ""
    role: str = ""
    timezone: str = ""
    inviter: str = ""
    expires: str = ""  # when the link stops working, in the invitee's zone

    @property
    def gone_sentence(self) -> str:
        return wording.link_gone(self.state)


def open_invitations(viewer: User) -> list[OpenInvitation]:
    """Return the unaccepted, unwithdrawn invitations the viewer may manage (the owner: all), newest first."""
    if not invitation_service.roles_for(viewer):
        raise ServiceError(invitation_service.NOT_STAFF, "forbidden", 403)
    now = clock.now()
    query = sa.select(AccessLink).where(
        AccessLink.purpose == LinkPurpose.INVITATION, AccessLink.used_at.is_(None), AccessLink.revoked_at.is_(None)
    )
    if not viewer.is_owner:
        query = query.where(AccessLink.created_by_id == viewer.id)
    rows = db.session.scalars(query.order_by(AccessLink.created_at.desc(), AccessLink.id.desc()).limit(LISTED))
    return [
        OpenInvitation(
            id=link.id, name=str(link.data.get("name", "")), email=link.email, role=str(link.data.get("role", "")),
            inviter=link.created_by.name if link.created_by else "The studio", sent_at=link.created_at,
            expires_at=link.expires_at, expired=link.expires_at is not None and link.expires_at <= now,
        )
        for link in rows
    ]


def invitations_page(viewer: User) -> InvitationsPage:
    """Return the invitation page's data for a member of staff."""
    return InvitationsPage(invitation_service.roles_for(viewer), open_invitations(viewer))


def accept_page(secret: str | None) -> AcceptPage:
    """Return what an invitation link shows; reading it changes nothing."""
    link, state = invitation_service.look_up(secret)
    if link is None or state is not LinkState.VALID:
        return AcceptPage(state)
    return AcceptPage(
        state, name=str(link.data.get("name", "")), email=link.email, role=str(link.data.get("role", "")),
        timezone=str(link.data.get("timezone", "UTC")),
        inviter=link.created_by.name if link.created_by else "",
        expires=wording.until_with_zone(link.expires_at, str(link.data.get("timezone", "UTC")))
        if link.expires_at else "",
    )
