"""Forms for inviting people, uploading a CSV of invitations, confirming it, and accepting an invitation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..domain.zones import common_timezones
from ..forms_common import SafeText
from ..services.invitations import MAX_PASSWORD


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class InviteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the person's name."), Length(max=120, message="Keep the name to 120 characters."), SafeText("name")])
    email = EmailField("Email", filters=[_strip], validators=[
        DataRequired("Enter their email address."), SafeText("email address"),
        Length(max=254, message="Keep the address to 254 characters."),
    ])  # the service checks the address's shape (email_validator would refuse the reserved example domains)
    role = SelectField("Role", choices=[], validate_choice=False)  # the service refuses a role not on offer (403)
    timezone = SelectField("Timezone", choices=[], validate_choice=False)

    def __init__(self, *args: object, roles: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(role, role.capitalize()) for role in roles]
        self.timezone.choices = [SelectChoice(tz, tz.replace("_", " ")) for tz in common_timezones()]


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")],
                     render_kw={"accept": ".csv,text/csv,text/plain"})


class ConfirmImportForm(FlaskForm):
    rows = HiddenField(validators=[DataRequired("The preview was empty. Upload the file again.")])


class AcceptForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=120, message="Keep your name to 120 characters."), SafeText("name")])
    password = PasswordField("Choose a password", validators=[
        DataRequired("Choose a password."), SafeText("password"),
        Length(min=8, max=MAX_PASSWORD, message=f"Choose a password of 8 to {MAX_PASSWORD} characters."),
    ])
