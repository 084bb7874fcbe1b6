"""Privacy API: download my data, delete my account."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..privacy.routes import TOO_MANY_TRIES, delete_limit
from ..services import privacy as privacy_service
from ..services import users as user_service
from .common import error_response, require_user
from .fields import SafeString
from .schemas import ErrorSchema

bp = Blueprint("api_privacy", __name__, url_prefix="/api", description="Your data and your account")


class ExportSchema(Schema):
    format = fields.Integer(metadata={"description": "The layout's version."})
    exported_at = fields.String(metadata={"description": "ISO 8601 UTC instant with Z."})
    profile = fields.Dict(metadata={"description": "Name, email, role, timezone, email choices, API tokens, sessions."})
    bookings = fields.List(fields.Dict(), metadata={
        "description": "Your bookings (as student or instructor), each with its history; of the other person, "
                       "only the name."})
    messages = fields.List(fields.Dict(), metadata={"description": "Messages in your bookings' threads."})
    notifications = fields.List(fields.Dict())
    teaching = fields.Dict(metadata={"description": "Instructors only: settings, windows and blocks."})


class DeleteAccountSchema(Schema):
    password = SafeString(required=True, metadata={"description": "The password you sign in with."})


@bp.errorhandler(429)
def rate_limited(exc: Exception) -> Any:
    """Answer too many deletion attempts in the API's error shape."""
    return error_response(429, TOO_MANY_TRIES, "rate_limited")


@bp.route("/me/export")
@bp.response(200, ExportSchema)
def export():  # type: ignore[no-untyped-def]
    """Return everything the studio keeps about you (instants are ISO 8601 UTC)."""
    return privacy_service.export_data(require_user())


@bp.route("/me/delete", methods=["POST"])
@bp.arguments(DeleteAccountSchema)
@bp.response(204)
@bp.alt_response(403, schema=ErrorSchema, description="The password is wrong.")
@bp.alt_response(409, schema=ErrorSchema, description="You are the studio's only owner: make someone else owner first.")
@bp.alt_response(429, schema=ErrorSchema, description="Too many attempts (ten an hour, page and API together).")
@delete_limit
def delete(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Delete your account: lessons and requests ahead are cancelled (the other person is told), name and email
    erased, sessions and tokens ended."""
    user_service.delete_account(require_user(), data["password"])
    return None
