"""Forms of the students pages and of the lesson notes on the booking page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .. import wording
from ..domain.students import COLOURS, MAX_LESSON_SUMMARY, MAX_PRIVATE_NOTE, MAX_STUDENT_NOTE
from ..forms_common import SafeText


class StudentNoteForm(FlaskForm):
    """The instructor's private note and colour for one student."""

    instructor = HiddenField()
    note = TextAreaField(
        "Private note",
        validators=[
            Optional(),
            Length(max=MAX_STUDENT_NOTE, message=wording.text_too_long("note", MAX_STUDENT_NOTE)),
            SafeText("note"),
        ],
        render_kw={"rows": 4, "maxlength": MAX_STUDENT_NOTE},
    )
    # The service names the palette in its refusal; a choice from elsewhere is its to refuse.
    colour = SelectField(
        "Colour on the schedule",
        choices=[SelectChoice("", wording.NO_COLOUR)]
        + [SelectChoice(name, label) for name, (label, _accent) in COLOURS.items()],
        validate_choice=False,
        validators=[Length(max=20, message="Choose the colour from the list."), SafeText("colour")],
    )


class LessonNotesForm(FlaskForm):
    """A started lesson's summary (the student sees it) and private note (staff only)."""

    summary = TextAreaField(
        "Summary and homework (the student sees this and gets it by mail)",
        validators=[
            Optional(),
            Length(
                max=MAX_LESSON_SUMMARY, message=wording.text_too_long("lesson summary", MAX_LESSON_SUMMARY)
            ),
            SafeText("lesson summary"),
        ],
        render_kw={"rows": 5, "maxlength": MAX_LESSON_SUMMARY},
    )
    private_note = TextAreaField(
        "Private note (only staff see this)",
        validators=[
            Optional(),
            Length(max=MAX_PRIVATE_NOTE, message=wording.text_too_long("private note", MAX_PRIVATE_NOTE)),
            SafeText("private note"),
        ],
        render_kw={"rows": 3, "maxlength": MAX_PRIVATE_NOTE},
    )
