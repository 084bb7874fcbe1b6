"""Series API: request or book a weekly lesson, read it, answer it, cancel from a date, renew it."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import wording
from ..domain.bounds import ID_MAX
from ..extensions import limiter
from ..services.bookings import MAX_NOTES
from ..services.bookings import series as service
from ..services.bookings.series import SeriesOutcome
from ..services.studio import SERIES_MAX_WEEKS_MAX
from .booking import BookingSchema, booking_data
from .common import require_user
from .fields import BoundedInt, Id, RuleDate, RuleInstant, SafeString
from .schemas import ErrorSchema

bp = Blueprint("api_series", __name__, url_prefix="/api", description="Weekly lessons (series)")


class SeriesRequestSchema(Schema):
    instructor_id = Id(required=True)
    start = RuleInstant(
        required=True,
        metadata={
            "description": "The first lesson, a UTC instant; every week repeats "
            "its local wall-clock time in the instructor's zone"
        },
    )
    lesson_minutes = BoundedInt(5, 480, required=True)
    weeks = BoundedInt(
        1,
        SERIES_MAX_WEEKS_MAX,
        required=True,
        metadata={"description": "How many weeks, 1 to the studio's series_max_weeks"},
    )
    notes = SafeString(load_default="", validate=validate.Length(max=MAX_NOTES))
    student_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "The instructor or the owner books this student in, confirmed at once"},
    )
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Say what would be booked; write nothing"}
    )


class SkippedSchema(Schema):
    date = fields.Date(metadata={"description": "The week's local date in the instructor's zone"})
    reason = fields.String(metadata={"enum": ["blocked", "taken", "unavailable", "too_soon", "student_busy"]})
    message = fields.String()


class SeriesSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "None for a dry run"})
    instructor_id = fields.Integer()
    student_id = fields.Integer()
    timezone = fields.String(
        metadata={"description": "The instructor's zone the weekday and start time are in"}
    )
    weekday = fields.Integer(metadata={"description": "ISO 1 = Monday … 7 = Sunday"})
    start_time = fields.String(metadata={"description": "Local wall-clock start, HH:MM"})
    lesson_minutes = fields.Integer()
    weeks = fields.Integer()
    bookings = fields.List(fields.Nested(BookingSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))


class SeriesCancelledSchema(SeriesSchema):
    kept = fields.List(
        fields.Nested(BookingSchema),
        metadata={"description": "Lessons the cancellation window protects: they stay booked"},
    )


class ConfirmSchema(Schema):
    booking_ids = fields.List(
        Id(),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=SERIES_MAX_WEEKS_MAX * 4),
        metadata={"description": "The pending lessons to confirm (all when absent); the others are declined"},
    )


class ReasonSchema(Schema):
    reason = SafeString(load_default="", validate=validate.Length(max=500))


class CancelSchema(Schema):
    from_ = RuleDate(
        load_default=None,
        allow_none=True,
        data_key="from",
        metadata={"description": "A local date in the instructor's zone: this and all later lessons"},
    )
    reason = SafeString(load_default="", validate=validate.Length(max=500))


class RenewSchema(Schema):
    weeks = BoundedInt(1, SERIES_MAX_WEEKS_MAX, required=True)


def series_data(outcome: SeriesOutcome, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the series shape: the series, its lessons and the weeks skipped (each with its sentence)."""
    series = outcome.series
    first = outcome.bookings[0] if outcome.bookings else None
    shape: dict[str, Any] = {
        "id": series.id if series else None,
        "bookings": [booking_data(b) for b in outcome.bookings],
        "skipped": [
            {"date": w.on, "reason": str(w.skip), "message": wording.series_skip(str(w.skip), w.on)}
            for w in outcome.skipped
        ],
        "timezone": outcome.tz,
    }
    if series is not None:
        shape.update(
            instructor_id=series.instructor_id,
            student_id=series.student_id,
            weekday=series.weekday,
            start_time=series.start_time.strftime("%H:%M"),
            lesson_minutes=series.lesson_minutes,
            weeks=series.weeks,
        )
    elif request is not None:
        shape.update(
            instructor_id=request["instructor_id"],
            lesson_minutes=request["lesson_minutes"],
            weeks=request["weeks"],
            student_id=first.student_id if first else request.get("student_id"),
        )
    return shape


@bp.route("/series", methods=["POST"])
@bp.arguments(SeriesRequestSchema)
@bp.response(201, SeriesSchema)
@bp.alt_response(
    200, schema=SeriesSchema, description="A dry run, or the same request made before: the existing series"
)
@bp.alt_response(
    403, schema=ErrorSchema, description="Series are turned off, or a student named another student"
)
@bp.alt_response(409, schema=ErrorSchema, description="A week was taken while the request was written")
@bp.alt_response(422, schema=ErrorSchema, description="No week is open, or a field is not valid")
@limiter.limit("30/minute")
def create(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Request the same lesson every week (pending as one), or as staff book a student in (confirmed at once)."""
    outcome = service.request_series(
        require_user(),
        data["instructor_id"],
        data["start"],
        data["lesson_minutes"],
        data["weeks"],
        data.get("notes", ""),
        student_id=data.get("student_id"),
        dry_run=data.get("dry_run", False),
    )
    return series_data(outcome, data), 201 if outcome.created else 200


@bp.route("/series/<int:series_id>")
class SeriesItem(MethodView):
    @bp.response(200, SeriesSchema)
    @bp.alt_response(404, schema=ErrorSchema)
    def get(self, series_id: int):  # type: ignore[no-untyped-def]
        """Return a series with every lesson and the weeks that were skipped."""
        series = service.get_series_for(require_user(), min(series_id, ID_MAX))
        return series_data(service.outcome_of(series))


@bp.route("/series/<int:series_id>/confirm", methods=["POST"])
@bp.arguments(ConfirmSchema)
@bp.response(200, SeriesSchema)
@bp.alt_response(409, schema=ErrorSchema)
def confirm(data: dict[str, Any], series_id: int):  # type: ignore[no-untyped-def]
    """Confirm the named pending lessons (all when none are named) and decline the rest, in one step."""
    return series_data(service.answer_series(require_user(), min(series_id, ID_MAX), data.get("booking_ids")))


@bp.route("/series/<int:series_id>/decline", methods=["POST"])
@bp.arguments(ReasonSchema)
@bp.response(200, SeriesSchema)
@bp.alt_response(409, schema=ErrorSchema)
def decline(data: dict[str, Any], series_id: int):  # type: ignore[no-untyped-def]
    """Decline every pending lesson of the series, with an optional reason."""
    return series_data(
        service.answer_series(
            require_user(), min(series_id, ID_MAX), decline_all=True, reason=data.get("reason", "")
        )
    )


@bp.route("/series/<int:series_id>/cancel", methods=["POST"])
@bp.arguments(CancelSchema)
@bp.response(200, SeriesCancelledSchema)
@bp.alt_response(409, schema=ErrorSchema)
def cancel(data: dict[str, Any], series_id: int):  # type: ignore[no-untyped-def]
    """Cancel this and all later lessons from a date (all ahead when absent); `bookings` are the ones cancelled."""
    outcome = service.cancel_series(
        require_user(), min(series_id, ID_MAX), data.get("from_"), data.get("reason", "")
    )
    return {**series_data(outcome), "kept": [booking_data(b) for b in outcome.kept]}


@bp.route("/series/<int:series_id>/renew", methods=["POST"])
@bp.arguments(RenewSchema)
@bp.response(201, SeriesSchema)
@bp.alt_response(409, schema=ErrorSchema)
@bp.alt_response(422, schema=ErrorSchema)
def renew(data: dict[str, Any], series_id: int):  # type: ignore[no-untyped-def]
    """Add the next weeks at the same local time; `bookings` are the new lessons, `skipped` the weeks not open."""
    return series_data(service.renew_series(require_user(), min(series_id, ID_MAX), data["weeks"])), 201
