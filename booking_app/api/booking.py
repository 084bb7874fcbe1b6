"""Booking API: request a lesson, list and read bookings, confirm, decline and cancel them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..domain.bookings import Status
from ..domain.bounds import history_date_problem
from ..extensions import limiter
from ..models import Booking
from ..services import ServiceError, clock
from ..services import bookings as service
from ..services.bookings.staff import book_student
from ..services.lesson_notes import is_staff_of
from .common import require_user
from .fields import BoundedInt, Id, RuleInstant, SafeString
from .schemas import ErrorSchema, UtcDateTime

bp = Blueprint("api_booking", __name__, url_prefix="/api", description="Bookings")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class BookingRequestSchema(Schema):
    instructor_id = Id(required=True)
    start = RuleInstant(required=True, default_timezone=UTC, metadata={"description": "UTC instant, e.g. 2026-02-05T14:00:00Z"})
    lesson_minutes = BoundedInt(1, 24 * 60, load_default=None, allow_none=True, metadata={"description": "When the instructor offers several lengths at that start"})
    notes = SafeString(load_default="", validate=validate.Length(max=service.MAX_NOTES))
    student_id = Id(
        load_default=None, allow_none=True,
        metadata={"description": "Staff only: book this student in (the instructor for their own lessons, the owner "
                                 "for anyone). The lesson is confirmed at once, inside the instructor's availability, "
                                 "ignoring minimum notice and horizon, never in the past or overlapping."},
    )


class BookingReasonSchema(Schema):
    reason = SafeString(load_default="", validate=validate.Length(max=500))


class BookingQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))
    from_ = SafeString(load_default=None, data_key="from", metadata={"description": "Date YYYY-MM-DD (UTC) or instant; bookings starting at or after it"})
    to = SafeString(load_default=None, metadata={"description": "Date YYYY-MM-DD (UTC, exclusive) or instant; bookings starting before it"})
    limit = BoundedInt(
        1, MAX_LIMIT, strict=False, load_default=DEFAULT_LIMIT,
        metadata={"description": f"How many bookings to return (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})"},
    )
    offset = BoundedInt(
        strict=False, load_default=0,
        metadata={"description": "How many matching bookings to skip first, for the next page"},
    )


class BookingHistorySchema(Schema):
    at = UtcDateTime()
    actor_id = fields.Integer(allow_none=True)
    from_status = fields.String(allow_none=True, data_key="from")
    to_status = fields.String(data_key="to")
    note = fields.String()


class BookingSchema(Schema):
    id = fields.Integer()
    instructor_id = fields.Integer()
    student_id = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    lesson_minutes = fields.Integer()
    status = fields.String(metadata={"description": "Effective status: a pending request past its expiry reads as expired"})
    notes = fields.String()
    status_reason = fields.String()
    reschedule_of_id = fields.Integer(allow_none=True)
    series_id = fields.Integer(allow_none=True, metadata={"description": "The weekly lesson (series) this is one week of"})
    created_at = UtcDateTime()
    expires_at = UtcDateTime()
    history = fields.List(fields.Nested(BookingHistorySchema))
    lesson_summary = fields.String(metadata={"description": "The lesson's summary and homework, once it started"})
    private_note = fields.String(metadata={"description": "Staff only: absent in what the booking's student receives"})


class BookingListSchema(Schema):
    bookings = fields.List(fields.Nested(BookingSchema))


def booking_data(booking: Booking, now: datetime | None = None) -> dict[str, Any]:
    """Return the spec's booking shape with its effective status (the private note only for staff)."""
    data: dict[str, Any] = {
        "id": booking.id,
        "instructor_id": booking.instructor_id,
        "student_id": booking.student_id,
        "start": booking.starts_at,
        "end": booking.ends_at,
        "lesson_minutes": booking.lesson_minutes,
        "status": service.status_of(booking, now).value,
        "notes": booking.notes,
        "status_reason": booking.status_reason,
        "reschedule_of_id": booking.reschedule_of_id,
        "series_id": booking.series_id,
        "created_at": booking.created_at,
        "expires_at": booking.expires_at,
        "history": [
            {"at": h.at, "actor_id": h.actor_id, "from_status": h.from_status, "to_status": h.to_status, "note": h.note}
            for h in booking.history
        ],
        "lesson_summary": booking.lesson_summary,
    }
    # The private note is for staff only: never in anything the booking's student (or anyone else) receives.
    if current_user and current_user.is_authenticated and is_staff_of(current_user, booking):
        data["private_note"] = booking.private_note
    return data


def _instant(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        if len(raw) == 10:
            parsed = datetime.combine(date.fromisoformat(raw), time(0), tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(f"Give '{name}' as a date (YYYY-MM-DD) or an ISO 8601 instant.", "invalid", 422) from None
    problem = history_date_problem(parsed.date(), f"'{name}' date")
    if problem:
        raise ServiceError(problem, "invalid", 422, field=name)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@bp.route("/bookings")
class Bookings(MethodView):
    @bp.arguments(BookingQuerySchema, location="query")
    @bp.response(200, BookingListSchema)
    def get(self, query: dict[str, Any]):  # type: ignore[no-untyped-def]
        """List the bookings you may see (your own; the owner sees all), by start time, a page at a time."""
        user = require_user()
        now = clock.now()
        rows = service.list_for(
            user,
            status=Status(query["status"]) if query.get("status") else None,
            starts_from=_instant(query.get("from_"), "from"),
            starts_before=_instant(query.get("to"), "to"),
            now=now,
            limit=query["limit"],
            offset=query["offset"],
        )
        return {"bookings": [booking_data(b, now) for b in rows]}

    @bp.arguments(BookingRequestSchema)
    @bp.response(201, BookingSchema)
    @bp.alt_response(200, schema=BookingSchema, description="The same request was already made; the existing booking")
    @bp.alt_response(403, schema=ErrorSchema, description="`student_id` given by a student, or by an instructor for another instructor's lessons")
    @bp.alt_response(409, schema=ErrorSchema, description="The slot was taken, you have another session then, or you asked for this start with another lesson length")
    @bp.alt_response(422, schema=ErrorSchema, description="Not an open slot (past, too soon, beyond the horizon, ...), or `student_id` is not an active student")
    @limiter.limit("30/minute")
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Request an open slot (pending, holds the slot); with `student_id`, staff book that student in (confirmed)."""
        user = require_user()
        if data.get("student_id") is not None:
            booked = book_student(user, data["instructor_id"], data["student_id"], data["start"],
                                  data.get("lesson_minutes"), data.get("notes", ""))
            return booking_data(booked.booking), 201 if booked.created else 200
        result = service.request_booking(
            user, data["instructor_id"], data["start"], data.get("lesson_minutes"), data.get("notes", "")
        )
        return booking_data(result.booking), 201 if result.created else 200


@bp.route("/bookings/<int:booking_id>")
class BookingItem(MethodView):
    @bp.response(200, BookingSchema)
    @bp.alt_response(404, schema=ErrorSchema)
    def get(self, booking_id: int):  # type: ignore[no-untyped-def]
        """Return one booking with its history."""
        return booking_data(service.get_for(require_user(), booking_id))


@bp.route("/bookings/<int:booking_id>/confirm", methods=["POST"])
@bp.response(200, BookingSchema)
@bp.alt_response(409, schema=ErrorSchema)
def confirm(booking_id: int):  # type: ignore[no-untyped-def]
    """Confirm a pending request (the booking's instructor or the owner)."""
    return booking_data(service.confirm(require_user(), booking_id))


@bp.route("/bookings/<int:booking_id>/decline", methods=["POST"])
@bp.arguments(BookingReasonSchema)
@bp.response(200, BookingSchema)
@bp.alt_response(409, schema=ErrorSchema)
def decline(data: dict[str, Any], booking_id: int):  # type: ignore[no-untyped-def]
    """Decline a pending request with an optional reason (the booking's instructor or the owner)."""
    return booking_data(service.decline(require_user(), booking_id, data.get("reason", "")))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@bp.arguments(BookingReasonSchema)
@bp.response(200, BookingSchema)
@bp.alt_response(409, schema=ErrorSchema)
def cancel(data: dict[str, Any], booking_id: int):  # type: ignore[no-untyped-def]
    """Withdraw a request, or cancel a lesson as the cancellation policy allows."""
    return booking_data(service.cancel(require_user(), booking_id, data.get("reason", "")))
