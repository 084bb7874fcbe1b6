"""The "Book a student" form: whose lessons, which student (or a new one), when, how long, a note."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .. import wording
from ..availability.forms import LESSON_LENGTHS, options, quarter_hours
from ..forms_common import RuleDateRange, SafeText
from ..services.bookings.requesting import MAX_NOTES

NEW_STUDENT = "new"


class BookStudentForm(FlaskForm):
    """Book a student into an instructor's open time; the lesson is confirmed at once."""

    # Whose lessons: checked by the view (the owner picks the instructor above the form; others book their own).
    instructor = HiddenField()
    student = SelectField("Student", choices=[], validators=[DataRequired(wording.STAFF_BOOK_CHOOSE_STUDENT)])
    new_name = StringField("New student's name", validators=[Optional(), Length(max=120), SafeText()])
    new_email = EmailField("New student's email", validators=[Optional(), Length(max=254), SafeText()])
    on = DateField("Date", validators=[InputRequired("Choose the date of the lesson."), RuleDateRange()])
    at = SelectField(
        "Start", choices=options(quarter_hours()), validators=[DataRequired("Choose a start time.")]
    )
    lesson_minutes = SelectField(
        "Lesson length",
        coerce=int,
        choices=options([(0, "Window's length"), *((m, f"{m} minutes") for m in LESSON_LENGTHS)]),
        validators=[InputRequired("Choose a lesson length.")],
    )
    # Choices 1 (one lesson) to the studio's series maximum, set by the view.
    weeks = SelectField("Repeat", coerce=int, choices=options([(1, wording.SERIES_REPEAT_ONCE)]), default=1,
                        validators=[Optional()])
    notes = TextAreaField(
        "Note for the student (optional)", validators=[Optional(), Length(max=MAX_NOTES), SafeText()]
    )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def,override]
        """Check the fields, then that a new student comes with a name and an address."""
        valid = super().validate(extra_validators)
        if self.student.data == NEW_STUDENT:
            if not (self.new_name.data or "").strip():
                self.new_name.errors = [*self.new_name.errors, wording.STAFF_BOOK_NEW_NAME]
                valid = False
            if not (self.new_email.data or "").strip():
                self.new_email.errors = [*self.new_email.errors, wording.STAFF_BOOK_NEW_EMAIL]
                valid = False
            if (self.weeks.data or 1) > 1:
                self.weeks.errors = [*self.weeks.errors, wording.STAFF_BOOK_SERIES_NEW_STUDENT]
                valid = False
        return valid
