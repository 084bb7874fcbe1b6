"""Forms for requesting a weekly lesson and acting on one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms_common import RuleDateRange, SafeText


class SeriesRequestForm(FlaskForm):
    instructor = HiddenField(validators=[DataRequired()])
    start = HiddenField(validators=[DataRequired()])
    length = HiddenField()
    tz = HiddenField()
    send = HiddenField()  # "1" once the preview was seen: then the request is sent
    weeks = IntegerField(
        "Repeat weekly for",
        validators=[
            DataRequired("Choose how many weeks."),
            NumberRange(1, 52, "Choose between 1 and 52 weeks."),
        ],
    )
    notes = TextAreaField(
        "Note for your instructor (optional)",
        validators=[
            Optional(),
            Length(max=1000, message="Keep the note under 1,000 characters."),
            SafeText("note"),
        ],
    )


class AnswerForm(FlaskForm):
    """Accept the checked requests of a series and decline the rest (or decline them all)."""

    booking_ids = SelectMultipleField(coerce=int, validate_choice=False)
    decision = HiddenField()  # "accept" or "decline"
    reason = TextAreaField(
        validators=[
            Optional(),
            Length(max=500, message="Keep the reason under 500 characters."),
            SafeText("reason"),
        ]
    )
    next = HiddenField()


class CancelFromForm(FlaskForm):
    from_on = DateField("From", validators=[Optional(), RuleDateRange()])
    reason = TextAreaField(
        validators=[
            Optional(),
            Length(max=500, message="Keep the reason under 500 characters."),
            SafeText("reason"),
        ]
    )


class RenewForm(FlaskForm):
    weeks = IntegerField(
        "More weeks",
        validators=[
            DataRequired("Choose how many weeks."),
            NumberRange(1, 52, "Choose between 1 and 52 weeks."),
        ],
    )
