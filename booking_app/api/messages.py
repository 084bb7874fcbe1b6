"""Message API: list and send a booking's messages, mark them read, list unread counts."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..messages.routes import RATE_LIMITED, send_limit
from ..services import messages as message_service
from .common import error_response, require_user
from .fields import SafeString
from .schemas import ErrorSchema, UtcDateTime

bp = Blueprint("api_messages", __name__, url_prefix="/api", description="Messages inside bookings")


class ThreadMessageSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    sender_id = fields.Integer()
    sender_name = fields.Function(lambda m: m.sender.name)
    body = fields.String()
    created_at = UtcDateTime()


class MessageThreadSchema(Schema):
    booking_id = fields.Integer()
    messages = fields.List(fields.Nested(ThreadMessageSchema))
    unread = fields.Integer(metadata={"description": "Messages the caller has not read yet in this thread."})


class NewMessageSchema(Schema):
    body = SafeString(
        required=True,
        metadata={"description": "Plain text, 1–2000 characters, stored exactly as sent."},
    )


class UnreadThreadSchema(Schema):
    booking_id = fields.Integer()
    unread = fields.Integer()


class UnreadMessagesSchema(Schema):
    bookings = fields.List(fields.Nested(UnreadThreadSchema))
    total = fields.Integer()


class ThreadReadSchema(Schema):
    booking_id = fields.Integer()
    last_read_message_id = fields.Integer()


@bp.errorhandler(429)
def rate_limited(exc: Exception) -> Any:
    """Answer a send over the rate limit in the API's error shape."""
    return error_response(429, RATE_LIMITED, "rate_limited")


@bp.route("/bookings/<int:booking_id>/messages")
class BookingMessages(MethodView):
    decorators = [send_limit]

    @bp.response(200, MessageThreadSchema)
    @bp.alt_response(404, schema=ErrorSchema, description="No such booking, or not one of yours.")
    def get(self, booking_id: int):  # type: ignore[no-untyped-def]
        """List a booking's messages, oldest first (does not mark them read)."""
        user = require_user()
        booking = message_service.booking_for(booking_id, user)
        return {
            "booking_id": booking.id,
            "messages": message_service.thread(booking),
            "unread": message_service.unread_counts(user).get(booking.id, 0),
        }

    @bp.arguments(NewMessageSchema)
    @bp.response(201, ThreadMessageSchema)
    @bp.alt_response(404, schema=ErrorSchema, description="No such booking, or not one of yours.")
    @bp.alt_response(422, schema=ErrorSchema, description="Empty, whitespace-only or longer than 2000 characters.")
    @bp.alt_response(429, schema=ErrorSchema, description="Sending too quickly; wait a minute.")
    def post(self, data: dict[str, Any], booking_id: int):  # type: ignore[no-untyped-def]
        """Send a message to the booking's thread (rate-limited per user)."""
        user = require_user()
        booking = message_service.booking_for(booking_id, user)
        return message_service.send_message(booking, user, data["body"])


@bp.route("/bookings/<int:booking_id>/messages/read", methods=["POST"])
@bp.response(200, ThreadReadSchema)
def mark_read(booking_id: int):  # type: ignore[no-untyped-def]
    """Mark the booking's thread read up to its newest message."""
    user = require_user()
    booking = message_service.booking_for(booking_id, user)
    return {"booking_id": booking.id, "last_read_message_id": message_service.mark_read(booking, user)}


@bp.route("/bookings/unread")
@bp.response(200, UnreadMessagesSchema)
def unread():  # type: ignore[no-untyped-def]
    """List the caller's bookings with unread messages and how many each has."""
    user = require_user()
    counts = message_service.unread_counts(user)
    return {
        "bookings": [{"booking_id": bid, "unread": n} for bid, n in sorted(counts.items())],
        "total": sum(counts.values()),
    }
