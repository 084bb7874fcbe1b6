"""Forms for requesting a lesson and for changing a booking."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from ..forms_common import RuleDateRange, SafeText


class RequestForm(FlaskForm):
    instructor = HiddenField(validators=[DataRequired()])
    start = HiddenField(validators=[DataRequired()])
    length = HiddenField()
    reschedule = HiddenField()
    notes = TextAreaField(
        "Note for your instructor (optional)",
        validators=[Optional(), Length(max=1000, message="Keep the note under 1,000 characters."), SafeText("note")],
        render_kw={"rows": 3, "maxlength": 1000},
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        validators=[Optional(), Length(max=500, message="Keep the reason under 500 characters."), SafeText("reason")],
        render_kw={"rows": 2, "maxlength": 500},
    )


class ActionForm(FlaskForm):
    """A button with only the CSRF token."""


class MoveForm(FlaskForm):
    on = DateField("New date", validators=[DataRequired("Choose the new date."), RuleDateRange()])
    at = TimeField("New start time", validators=[DataRequired("Choose the new start time.")])
