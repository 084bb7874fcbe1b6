"""Students API: an instructor's students with their figures, the note and colour kept about one, lesson notes."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import wording
from ..domain.students import COLOURS, MAX_LESSON_SUMMARY, MAX_PRIVATE_NOTE, MAX_STUDENT_NOTE
from ..services import clock
from ..services import students as student_service
from ..services.lesson_notes import write_lesson_notes
from .booking import BookingSchema, booking_data
from .common import require_user
from .fields import SafeString
from .schemas import ErrorSchema, UtcDateTime

bp = Blueprint("api_students", __name__, url_prefix="/api", description="Students and lesson notes")

COLOUR_CHOICE = validate.OneOf(
    [*COLOURS, ""], error=f"Choose the colour from the palette: {', '.join(COLOURS)} (or null for none)."
)


class StudentSchema(Schema):
    instructor_id = fields.Integer()
    student_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    next_lesson_at = UtcDateTime(
        allow_none=True, metadata={"description": "The next pending or confirmed lesson"}
    )
    last_lesson_at = UtcDateTime(
        allow_none=True, metadata={"description": "The last lesson held (not a no-show)"}
    )
    lessons_last_90_days = fields.Integer()
    no_shows = fields.Integer()
    unread_messages = fields.Integer(
        metadata={"description": "Messages in this student's threads you have not read"}
    )
    note = fields.String(metadata={"description": "The instructor's private note (staff only)"})
    colour = fields.String(allow_none=True, metadata={"enum": [*COLOURS, None]})
    invited_only = fields.Boolean(
        metadata={"description": "Joined from the instructor's invitation, no booking yet"}
    )


class StudentListSchema(Schema):
    students = fields.List(fields.Nested(StudentSchema))


class StudentNoteSchema(Schema):
    note = SafeString(
        load_default="",
        validate=validate.Length(max=MAX_STUDENT_NOTE, error=wording.text_too_long("note", MAX_STUDENT_NOTE)),
    )
    colour = SafeString(
        load_default=None, allow_none=True, validate=COLOUR_CHOICE, metadata={"enum": [*COLOURS, "", None]}
    )


class LessonNotesSchema(Schema):
    summary = SafeString(
        load_default=None,
        allow_none=True,
        validate=validate.Length(
            max=MAX_LESSON_SUMMARY, error=wording.text_too_long("lesson summary", MAX_LESSON_SUMMARY)
        ),
        metadata={"description": "What the student sees and is mailed; absent or null leaves it as it is"},
    )
    private_note = SafeString(
        load_default=None,
        allow_none=True,
        validate=validate.Length(
            max=MAX_PRIVATE_NOTE, error=wording.text_too_long("private note", MAX_PRIVATE_NOTE)
        ),
        metadata={"description": "Staff only; absent or null leaves it as it is"},
    )


def student_data(row: student_service.StudentRow) -> dict[str, Any]:
    """Return one student of an instructor in the API's shape."""
    return {
        "instructor_id": row.instructor_id,
        "student_id": row.student.id,
        "name": row.student.name,
        "email": row.student.email,
        "next_lesson_at": row.next_at,
        "last_lesson_at": row.last_at,
        "lessons_last_90_days": row.recent,
        "no_shows": row.no_shows,
        "unread_messages": row.unread,
        "note": row.note,
        "colour": row.colour,
        "invited_only": row.invited_only,
    }


@bp.route("/instructors/<int:instructor_id>/students")
@bp.response(200, StudentListSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Not this instructor nor the owner")
@bp.alt_response(404, schema=ErrorSchema, description="No such instructor")
def list_students(instructor_id: int):  # type: ignore[no-untyped-def]
    """List an instructor's students (everyone who booked with them, and students they invited), by name."""
    user = require_user()
    instructor = student_service.instructor_for(user, instructor_id)
    return {"students": [student_data(r) for r in student_service.students_of(user, instructor, clock.now())]}


@bp.route("/instructors/<int:instructor_id>/students/<int:student_id>", methods=["PUT"])
@bp.arguments(StudentNoteSchema)
@bp.response(200, StudentSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Not this instructor nor the owner")
@bp.alt_response(404, schema=ErrorSchema, description="Not one of the instructor's students")
def put_student(data: dict[str, Any], instructor_id: int, student_id: int):  # type: ignore[no-untyped-def]
    """Replace the instructor's private note and colour for one of their students."""
    user = require_user()
    student_service.set_student_note(user, instructor_id, student_id, data.get("note"), data.get("colour"))
    instructor = student_service.instructor_for(user, instructor_id)
    row = next(r for r in student_service.students_of(user, instructor) if r.student.id == student_id)
    return student_data(row)


@bp.route("/bookings/<int:booking_id>/lesson-notes", methods=["PUT"])
@bp.arguments(LessonNotesSchema)
@bp.response(200, BookingSchema)
@bp.alt_response(403, schema=ErrorSchema, description="The booking's student")
@bp.alt_response(404, schema=ErrorSchema)
@bp.alt_response(409, schema=ErrorSchema, description="The lesson has not started, or did not take place")
def put_lesson_notes(data: dict[str, Any], booking_id: int):  # type: ignore[no-untyped-def]
    """Write a started lesson's summary (mailed to the student) and private note (the instructor or the owner)."""
    saved = write_lesson_notes(require_user(), booking_id, data.get("summary"), data.get("private_note"))
    return booking_data(saved.booking)
