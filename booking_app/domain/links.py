"""What a link sent to a person is for, how long it lasts and whether one use spends it."""

from __future__ import annotations

import enum
from datetime import timedelta


class LinkPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"
    INVITATION = "invitation"
    BOOKING_PAGE = "booking_page"  # an instructor's personal booking link for one student


LIFETIMES: dict[LinkPurpose, timedelta | None] = {
    LinkPurpose.PASSWORD_RESET: timedelta(hours=1),
    LinkPurpose.EMAIL_CHANGE: timedelta(hours=24),
    LinkPurpose.INVITATION: timedelta(days=7),
    LinkPurpose.BOOKING_PAGE: None,  # until regenerated
}

SINGLE_USE: frozenset[LinkPurpose] = frozenset(
    {LinkPurpose.PASSWORD_RESET, LinkPurpose.EMAIL_CHANGE, LinkPurpose.INVITATION}
)


class LinkState(enum.StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"
