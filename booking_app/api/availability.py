"""Availability API: instructors, their windows, blocks and settings, and open slots."""

from __future__ import annotations

import json
import re
from datetime import time
from typing import Any

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .. import wording
from ..domain.slots import Slot
from ..domain.timeutil import is_valid_timezone, utc_to_local
from ..models import Block, OneTimeWindow, User, WeeklyWindow
from ..services import ServiceError
from ..services import availability as service
from ..services.clock import now as clock_now
from ..services.pages.listings import instructor_rules, owned_row
from ..services.slots import open_slots
from .common import require_user
from .fields import BoundedInt, RuleDate, SafeString
from .schemas import UtcDateTime

bp = Blueprint("api_availability", __name__, url_prefix="/api", description="Instructors, availability and slots")

MAX_SLOT_RANGE_DAYS = 62
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class WallTime(fields.Field):
    """A wall-clock time as HH:MM."""

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        if not isinstance(value, str) or not _HHMM.match(value):
            raise ValidationError("Use a 24-hour time like 09:00 or 14:15.")
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))


class InstructorSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    initials = fields.String()
    timezone = fields.String()
    default_lesson_minutes = fields.Integer()


class SettingsSchema(Schema):
    timezone = SafeString()
    default_lesson_minutes = BoundedInt(5, 480, strict=False)
    buffer_minutes = BoundedInt(0, service.MAX_BUFFER_MINUTES, strict=False)
    min_notice_minutes = BoundedInt(0, service.MAX_NOTICE_MINUTES, strict=False)


class WeeklyWindowSchema(Schema):
    id = fields.Integer(dump_only=True)
    weekday = BoundedInt(required=True, strict=False, validate=validate.Range(1, 7, error="Use an ISO weekday from 1 (Monday) to 7 (Sunday)."))
    start_time = WallTime(required=True)
    end_time = WallTime(required=True)
    lesson_minutes = BoundedInt(1, 24 * 60, required=True, strict=False)
    effective_from = RuleDate(allow_none=True, load_default=None)
    effective_until = RuleDate(allow_none=True, load_default=None)


class OneTimeWindowSchema(Schema):
    id = fields.Integer(dump_only=True)
    date = RuleDate(required=True, attribute="occurs_on", data_key="date")
    start_time = WallTime(required=True)
    end_time = WallTime(required=True)
    lesson_minutes = BoundedInt(1, 24 * 60, required=True, strict=False)


class BlockSchema(Schema):
    id = fields.Integer(dump_only=True)
    start_date = RuleDate(required=True, attribute="start_on", data_key="start_date")
    end_date = RuleDate(allow_none=True, load_default=None, attribute="end_on", data_key="end_date")
    start_time = WallTime(allow_none=True, load_default=None)
    end_time = WallTime(allow_none=True, load_default=None)
    reason = SafeString(load_default="", validate=validate.Length(max=200))


class AvailabilitySchema(Schema):
    instructor_id = fields.Integer()
    timezone = fields.String()
    weekly = fields.List(fields.Nested(WeeklyWindowSchema))
    one_time = fields.List(fields.Nested(OneTimeWindowSchema))
    blocks = fields.List(fields.Nested(BlockSchema))


class DeleteWeeklyArgs(Schema):
    from_date = RuleDate(data_key="from", load_default=None, metadata={"description": "End the window the day before this date instead of deleting it."})


class SlotQuery(Schema):
    start = RuleDate(required=True, metadata={"description": "First local date (inclusive) in tz."})
    end = RuleDate(required=True, metadata={"description": "Last local date (inclusive) in tz."})
    tz = SafeString(load_default=None, metadata={"description": "IANA timezone of the dates and local times; the instructor's by default."})

    @validates_schema
    def check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["end"] < data["start"]:
            raise ValidationError("The end date must be on or after the start date.", "end")
        if (data["end"] - data["start"]).days >= MAX_SLOT_RANGE_DAYS:
            raise ValidationError(f"Ask for at most {MAX_SLOT_RANGE_DAYS} days at a time.", "end")
        if data["tz"] is not None and not is_valid_timezone(data["tz"]):
            raise ValidationError("Use an IANA timezone like America/New_York.", "tz")


class SlotSchema(Schema):
    start = UtcDateTime()
    end = UtcDateTime()
    local_date = fields.String()
    local_start = fields.String()
    local_end = fields.String()
    lesson_minutes = fields.Integer()


class SlotsSchema(Schema):
    instructor_id = fields.Integer()
    timezone = fields.String()
    slots = fields.List(fields.Nested(SlotSchema))


def _instructor_json(user: User) -> dict[str, Any]:
    settings = user.instructor_settings
    return {
        "id": user.id,
        "name": user.name,
        "initials": user.initials,
        "timezone": service.instructor_timezone(user),
        "default_lesson_minutes": settings.default_lesson_minutes if settings else 60,
    }


_own = owned_row


@bp.route("/instructors")
@bp.response(200, InstructorSchema(many=True))
def list_instructors():  # type: ignore[no-untyped-def]
    """List the studio's instructors (public)."""
    return [_instructor_json(u) for u in service.list_instructors()]


@bp.route("/instructors/<int:instructor_id>")
@bp.response(200, InstructorSchema)
def get_instructor(instructor_id: int):  # type: ignore[no-untyped-def]
    """Return one instructor (public)."""
    return _instructor_json(service.get_instructor(instructor_id))


@bp.route("/instructors/<int:instructor_id>/availability")
@bp.response(200, AvailabilitySchema)
def get_availability(instructor_id: int):  # type: ignore[no-untyped-def]
    """Return the instructor's weekly and one-time windows and blocks (block reasons only for staff)."""
    instructor = service.get_instructor(instructor_id)
    staff = service.can_manage(current_user, instructor_id)
    rules = instructor_rules(instructor_id)
    weekly, one_time, blocks = rules.weekly, rules.one_time, rules.blocks
    return {
        "instructor_id": instructor.id,
        "timezone": service.instructor_timezone(instructor),
        "weekly": weekly,
        "one_time": one_time,
        "blocks": [
            {"id": b.id, "start_on": b.start_on, "end_on": b.end_on, "start_time": b.start_time, "end_time": b.end_time,
             "reason": b.reason if staff else ""}
            for b in blocks
        ],
    }


@bp.route("/instructors/<int:instructor_id>/availability/weekly", methods=["POST"])
@bp.arguments(WeeklyWindowSchema)
@bp.response(201, WeeklyWindowSchema)
def add_weekly(data: dict[str, Any], instructor_id: int):  # type: ignore[no-untyped-def]
    """Add a recurring weekly window (wall-clock times in the instructor's timezone)."""
    return service.add_weekly_window(require_user(), instructor_id, **data).item


@bp.route("/instructors/<int:instructor_id>/availability/weekly/<int:window_id>", methods=["DELETE"])
@bp.arguments(DeleteWeeklyArgs, location="query")
@bp.response(204)
def delete_weekly(args: dict[str, Any], instructor_id: int, window_id: int):  # type: ignore[no-untyped-def]
    """Delete a recurring window entirely, or from a date on with ?from=YYYY-MM-DD."""
    actor = require_user()
    service.get_instructor(instructor_id)
    _own(WeeklyWindow, window_id, instructor_id)
    service.delete_weekly_window(actor, window_id, from_on=args["from_date"])


@bp.route("/instructors/<int:instructor_id>/availability/one-time", methods=["POST"])
@bp.arguments(OneTimeWindowSchema)
@bp.response(201, OneTimeWindowSchema)
def add_one_time(data: dict[str, Any], instructor_id: int):  # type: ignore[no-untyped-def]
    """Add a window on one date only."""
    return service.add_one_time_window(require_user(), instructor_id, **data).item


@bp.route("/instructors/<int:instructor_id>/availability/one-time/<int:window_id>", methods=["DELETE"])
@bp.response(204)
def delete_one_time(instructor_id: int, window_id: int):  # type: ignore[no-untyped-def]
    """Delete a one-time window."""
    actor = require_user()
    service.get_instructor(instructor_id)
    _own(OneTimeWindow, window_id, instructor_id)
    service.delete_one_time_window(actor, window_id)


@bp.route("/instructors/<int:instructor_id>/blocks", methods=["POST"])
@bp.arguments(BlockSchema)
@bp.response(201, BlockSchema)
def add_block(data: dict[str, Any], instructor_id: int):  # type: ignore[no-untyped-def]
    """Block a date range (whole days, or the same times on each date)."""
    return service.add_block(require_user(), instructor_id, **data).item


@bp.route("/instructors/<int:instructor_id>/blocks/<int:block_id>", methods=["DELETE"])
@bp.response(204)
def delete_block(instructor_id: int, block_id: int):  # type: ignore[no-untyped-def]
    """Remove a block."""
    actor = require_user()
    service.get_instructor(instructor_id)
    _own(Block, block_id, instructor_id)
    service.delete_block(actor, block_id)


@bp.route("/instructors/<int:instructor_id>/settings", methods=["GET"])
@bp.response(200, SettingsSchema)
def get_settings(instructor_id: int):  # type: ignore[no-untyped-def]
    """Return the instructor's settings (the instructor and the owner only)."""
    actor = require_user()
    instructor = service.get_instructor(instructor_id)
    if not service.can_manage(actor, instructor_id):
        raise ServiceError("You can only see your own settings.", "forbidden", 403)
    return service.settings_for(instructor)


@bp.route("/instructors/<int:instructor_id>/settings", methods=["PATCH"])
@bp.arguments(SettingsSchema(partial=True))
@bp.response(200, SettingsSchema)
def patch_settings(data: dict[str, Any], instructor_id: int):  # type: ignore[no-untyped-def]
    """Change the instructor's timezone, default lesson length, buffer or minimum notice."""
    return service.update_settings(require_user(), instructor_id, **data).item


@bp.route("/instructors/<int:instructor_id>/slots")
@bp.arguments(SlotQuery, location="query")
@bp.response(200, SlotsSchema)
def get_slots(args: dict[str, Any], instructor_id: int):  # type: ignore[no-untyped-def]
    """Return open slots whose start falls on start..end (inclusive local dates in tz)."""
    instructor = service.get_instructor(instructor_id)
    tz = args["tz"] or service.instructor_timezone(instructor)
    slots = open_slots(instructor, args["start"], args["end"], viewer_tz=tz, now=clock_now())
    body = {"instructor_id": instructor.id, "timezone": tz, "slots": [_slot_json(slot, tz) for slot in slots]}
    # Built as plain values and written once: a month holds thousands of slots, and dumping each through the
    # schema (which still documents this answer) cost several times the slot engine itself.
    return current_app.response_class(json.dumps(body, separators=(",", ":")), mimetype="application/json")


def _slot_json(slot: Slot, tz: str) -> dict[str, Any]:
    local_start, local_end = utc_to_local(slot.starts_at, tz), utc_to_local(slot.ends_at, tz)
    return {
        "start": wording.iso_utc(slot.starts_at), "end": wording.iso_utc(slot.ends_at),
        "local_date": local_start.date().isoformat(),
        "local_start": wording.time_of_day(local_start, wording.CLOCK_24),
        "local_end": wording.time_of_day(local_end, wording.CLOCK_24),
        "lesson_minutes": slot.lesson_minutes,
    }

