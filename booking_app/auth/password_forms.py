"""Forms for a forgotten password, a new password and a new sign-in address."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import wording
from ..forms_common import SafeText
from ..services.passwords import MAX_EMAIL, MAX_PASSWORD
from .forms import new_password_rules


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _address_field(label: str) -> EmailField:
    return EmailField(label, filters=[_strip], validators=[
        DataRequired("Enter your email address."), SafeText("email address"),
        Length(max=MAX_EMAIL, message=f"Enter an email address of at most {MAX_EMAIL} characters."),
    ])  # the shape is checked by the service, as for accounts the owner creates


def _current_password_field() -> PasswordField:
    return PasswordField("Current password", validators=[
        DataRequired("Enter your current password."), SafeText("password"),
        Length(max=MAX_PASSWORD * 5, message=wording.WRONG_PASSWORD),  # longer than any password ever set
    ])


class ForgotPasswordForm(FlaskForm):
    email = _address_field("Email")


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=new_password_rules())
    confirm = PasswordField("New password again", validators=[
        DataRequired("Type the new password a second time."), SafeText("password"),
        EqualTo("password", "The two passwords differ. Type the same new password twice."),
    ])


class ChangePasswordForm(NewPasswordForm):
    current_password = _current_password_field()


class ChangeAddressForm(FlaskForm):
    email = _address_field("New email address")
    password = _current_password_field()
