"""The account deletion form: the password again, and a tick that says the person understands."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms_common import SafeText


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[
        DataRequired("Enter your password to delete your account."), Length(max=200), SafeText("password"),
    ])
    understood = BooleanField(
        "I understand that deleting my account cannot be undone.",
        validators=[DataRequired("Tick the box to confirm that you want to delete your account.")],
    )
    submit = SubmitField("Delete my account")
