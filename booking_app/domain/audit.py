"""The audit log's vocabulary: every action a line of it can record (the wording module says each in words)."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """Something a person did to an account that the owner's audit log keeps."""

    ROLE_CHANGED = "role.changed"  # detail: {"from": "student", "to": "instructor"}
    ACCOUNT_DEACTIVATED = "account.deactivated"  # detail: {"released": 2}
    ACCOUNT_REACTIVATED = "account.reactivated"
    ACCOUNT_DELETED = "account.deleted"  # detail: {"role": "student", "cancelled": 3}
    # Invitations and CSV imports (recorded by the invitation service):
    INVITATION_SENT = "invitation.sent"  # detail: {"email": ..., "role": ...}
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"  # actor and subject: the new account
    USERS_IMPORTED = "users.imported"  # detail: {"count": 12}
