"""Forms for signing up, signing in and the profile."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..domain.zones import common_timezones
from ..forms_common import SafeText
from ..services.passwords import MAX_PASSWORD
from ..services.users import MIN_PASSWORD


def new_password_rules() -> list[Any]:
    """The rules a new password meets wherever one is chosen: signing up, a reset link, the profile."""
    return [DataRequired("Choose a password."),
            Length(min=MIN_PASSWORD, message=f"Choose a password of at least {MIN_PASSWORD} characters."),
            Length(max=MAX_PASSWORD, message=f"Choose a password of at most {MAX_PASSWORD} characters."),
            SafeText("password")]


class SignUpForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=120), SafeText("name")])
    email = EmailField("Email", filters=[lambda v: v.strip() if v else v], validators=[DataRequired("Enter your email address."), SafeText("email address"), Email("Enter a valid email address, like name@example.com.")])
    password = PasswordField("Password", validators=new_password_rules())
    timezone = SelectField("Timezone", choices=[], validate_choice=False, render_kw={"data-browser-tz": "1"})
    next = HiddenField()
    submit = SubmitField("Create account")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(tz, tz.replace("_", " ")) for tz in common_timezones()]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), SafeText("email address")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), SafeText("password")])
    next = HiddenField()
    submit = SubmitField("Sign in")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter your name."), Length(max=120), SafeText("name")])
    timezone = SelectField("Timezone", choices=[], validate_choice=False)
    submit = SubmitField("Save profile")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(tz, tz.replace("_", " ")) for tz in common_timezones()]


class TokenForm(FlaskForm):
    name = StringField("Label", validators=[DataRequired("Give the token a label you will recognise."), Length(max=80)])
    expires_in_days = IntegerField(
        "Expires after (days)", validators=[
            Optional(), NumberRange(min=1, max=3650, message="Choose an expiry between 1 and 3650 days, or leave it empty."),
        ],
    )
    submit = SubmitField("Create token")
