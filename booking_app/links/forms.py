"""Forms of the action-link pages and of the personal links page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms_common import SafeText


class ActForm(FlaskForm):
    """The one button of an action link's page, with an optional reason for a decline or cancellation."""

    reason = TextAreaField(
        "Reason (optional)",
        validators=[Optional(), Length(max=500, message="Keep the reason under 500 characters."), SafeText("reason")],
        render_kw={"rows": 2, "maxlength": 500},
    )


class MoveForm(FlaskForm):
    """The times a lesson can move to, as a choice."""

    # The choices are the page's open times; the booking service checks the time again when it is sent.
    start = RadioField("New time", choices=[], validate_choice=False,
                       validators=[DataRequired("Choose one of the times shown."), Length(max=40), SafeText("time")])


class StudentEmailForm(FlaskForm):
    email = EmailField(
        "Student's email address",
        validators=[DataRequired("Enter the student's email address."),
                    Length(max=254, message="Keep the address under 254 characters."), SafeText("email address")],
        render_kw={"maxlength": 254, "autocomplete": "off"},
    )


class ButtonForm(FlaskForm):
    """A button with only the CSRF token."""
