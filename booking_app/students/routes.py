"""Students pages (an instructor's list, one student) and the lesson notes form of the booking page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import wording
from ..forms_common import int_arg
from ..models import User
from ..services import ServiceError, clock
from ..services.lesson_notes import write_lesson_notes
from ..services.pages.students import student_page, students_page
from ..services.students import set_student_note
from ..views import render_page
from .forms import LessonNotesForm, StudentNoteForm

bp = Blueprint("students", __name__)

def book_a_lesson_url(student_id: int, instructor: User | None) -> str:
    """Return the address of "Book a lesson" for this student (with whose lessons, when one is shown)."""
    if instructor is None or instructor.id == current_user.id:
        return url_for("staff_booking.book_student", student_id=student_id)
    return url_for("staff_booking.book_student", student_id=student_id, instructor=instructor.id)


def _refused(exc: ServiceError) -> None:
    abort(403 if exc.status == 403 else 404)


def _errors(form: LessonNotesForm | StudentNoteForm) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors) or "Reload the page and try again."


@bp.route("/students")
@login_required
def index() -> str:
    """List the viewer's students (the owner: every instructor's, or the one picked), searchable and sortable."""
    try:
        page = students_page(
            current_user._get_current_object(),
            int_arg(request.args, "instructor"),
            request.args.get("q", ""),
            request.args.get("sort", "name"),
            clock.now(),
        )
    except ServiceError as exc:
        _refused(exc)
    return render_page("students/index.html", page=page)


@bp.route("/students/<int:student_id>")
@login_required
def student(student_id: int) -> str:
    """Show one student to staff: their lessons, lesson notes, and the note and colour kept about them."""
    try:
        page = student_page(
            current_user._get_current_object(), student_id, int_arg(request.args, "instructor"), clock.now()
        )
    except ServiceError as exc:
        _refused(exc)
    form = StudentNoteForm(
        instructor=str(page.instructor.id) if page.instructor else "",
        note=page.row.note if page.row else "",
        colour=(page.row.colour or "") if page.row else "",
    )
    return render_page("students/student.html", page=page, form=form, book_url=book_a_lesson_url(student_id, page.instructor))


@bp.route("/students/<int:student_id>/note", methods=["POST"])
@login_required
def save_note(student_id: int) -> Response:
    """Keep the note and colour for one of the instructor's students."""
    form = StudentNoteForm()
    instructor_id = int_arg(request.form, "instructor") or (
        None if current_user.is_owner else current_user.id
    )
    back = url_for("students.student", student_id=student_id, instructor=instructor_id)
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return redirect(back)
    if instructor_id is None:
        flash(wording.CHOOSE_INSTRUCTOR, "danger")
        return redirect(back)
    try:
        set_student_note(
            current_user._get_current_object(), instructor_id, student_id, form.note.data, form.colour.data
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            _refused(exc)
        flash(exc.message, "danger")
    else:
        flash(wording.STUDENT_NOTE_SAVED, "success")
    return redirect(back)


@bp.route("/bookings/<int:booking_id>/lesson-notes", methods=["POST"])
@login_required
def lesson_notes(booking_id: int) -> Response:
    """Write a started lesson's summary and private note (its instructor or the owner)."""
    form = LessonNotesForm()
    back = url_for("booking.detail", booking_id=booking_id) + "#lesson-notes"
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return redirect(back)
    try:
        saved = write_lesson_notes(
            current_user._get_current_object(),
            booking_id,
            form.summary.data or "",
            form.private_note.data or "",
        )
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
        return redirect(back)
    if not saved.changed:
        flash(wording.LESSON_NOTES_UNCHANGED, "info")
    elif saved.mailed:
        flash(wording.LESSON_NOTES_SAVED_MAILED.format(name=saved.booking.student.name), "success")
    else:
        flash(wording.LESSON_NOTES_SAVED, "success")
    return redirect(back)
