"""Invitation API: staff invite a person by email (the owner: any role; an instructor: students)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..domain.bookings import Role
from ..services import invitations as invitation_service
from .common import require_user
from .fields import SafeString
from .schemas import ErrorSchema, UtcDateTime

bp = Blueprint("api_invitations", __name__, url_prefix="/api", description="Invitations")


class NewInvitationSchema(Schema):
    email = SafeString(required=True, validate=validate.Length(min=3, max=254),
                       metadata={"description": "The invitee's address; one that already has an account is refused (409)."})
    name = SafeString(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]),
                         metadata={"description": "Instructors may invite students only (else 403)."})
    timezone = SafeString(validate=validate.Length(min=1, max=64),
                          metadata={"description": "IANA zone for the new account; the inviter's when absent."})


class InvitationSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    expires_at = UtcDateTime()


@bp.route("/invitations", methods=["POST"])
@bp.arguments(NewInvitationSchema)
@bp.response(201, InvitationSchema)
@bp.alt_response(403, schema=ErrorSchema, description="A student, or an instructor giving a role other than student")
@bp.alt_response(409, schema=ErrorSchema, description="The address already has an account, or another instructor's open invitation")
def create_invitation(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Invite a person by email: they get a link (7 days, single use) to set a password; an open invitation to the
    same address is replaced."""
    sent = invitation_service.invite(require_user(), email=data["email"], name=data["name"], role=data["role"],
                                     timezone=data.get("timezone"))
    return {"id": sent.link.id, "email": sent.link.email, "role": sent.link.data["role"],
            "expires_at": sent.link.expires_at}
