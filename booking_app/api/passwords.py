"""Password API: ask for a reset link, set a new password with one."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from marshmallow.validate import Length

from .. import wording
from ..auth.passwords import forgot_per_address, forgot_per_client, reset_limit
from ..services import passwords as password_service
from ..services.links import MAX_SECRET_LENGTH
from ..services.users import MIN_PASSWORD
from .fields import SafeString
from .schemas import ErrorSchema

bp = Blueprint("api_passwords", __name__, url_prefix="/api", description="Passwords")


class ForgotPasswordSchema(Schema):
    email = SafeString(required=True, validate=Length(
        min=1, max=password_service.MAX_EMAIL,
        error=f"Give an email address of 1 to {password_service.MAX_EMAIL} characters."),
        metadata={"description": "The address the account signs in with."})


class ForgotPasswordAnswerSchema(Schema):
    message = fields.String(required=True, metadata={"description": "The same sentence whatever the address."})


class ResetPasswordSchema(Schema):
    token = SafeString(required=True, validate=Length(
        min=1, max=MAX_SECRET_LENGTH, error=f"Give the token of the link (1 to {MAX_SECRET_LENGTH} characters)."),
        metadata={"description": "The last part of the mailed link /password/reset/<token>."})
    password = SafeString(required=True, validate=Length(
        min=MIN_PASSWORD, max=password_service.MAX_PASSWORD,
        error=f"Choose a password of {MIN_PASSWORD} to {password_service.MAX_PASSWORD} characters."))


@bp.route("/password/forgot")
class ForgotPassword(MethodView):
    decorators = [forgot_per_client, forgot_per_address]

    @bp.arguments(ForgotPasswordSchema)
    @bp.response(202, ForgotPasswordAnswerSchema)
    @bp.alt_response(429, schema=ErrorSchema, description="Too many requests from this client or for this address.")
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Mail a reset link (one hour, single use) if an active account uses the address; answers the same either way."""
        password_service.request_reset(data["email"])
        return {"message": wording.RESET_REQUESTED}


@bp.route("/password/reset")
class ResetPassword(MethodView):
    decorators = [reset_limit]

    @bp.arguments(ResetPasswordSchema)
    @bp.response(204)
    @bp.alt_response(410, schema=ErrorSchema, description="The link is unknown, already used, expired or withdrawn.")
    @bp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this client.")
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Set a new password with a reset link's token; every session of the account ends (sign in again)."""
        password_service.reset_password(data["token"], data["password"])
        return None
