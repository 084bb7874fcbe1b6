"""Forms for the schedule page: windows, blocks, deleting, and instructor settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..domain.zones import common_timezones
from ..forms_common import RuleDateRange, SafeText
from ..wording import day

LESSON_LENGTHS = [15, 20, 30, 45, 60, 75, 90, 120]


def quarter_hours(first: int = 0, last: int = 24 * 60 - 15) -> list[tuple[str, str]]:
    """Return (value, label) choices of wall-clock times in 15-minute steps."""
    return [(f"{m // 60:02d}:{m % 60:02d}", f"{m // 60:02d}:{m % 60:02d}") for m in range(first, last + 1, 15)]


def options(pairs: Sequence[tuple[Any, str]]) -> list[SelectChoice]:
    """Return WTForms select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def parse_time(value: str | None) -> time | None:
    """Return a time from HH:MM, or None when empty or blank (as Optional() reads a blank field)."""
    if not value or not value.strip():
        return None
    hours, minutes = value.split(":")[:2]
    return time(int(hours), int(minutes))


def _valid_time(form: FlaskForm, field: SelectField) -> None:
    try:
        parse_time(field.data)
    except ValueError:
        raise ValidationError("Choose a time like 09:00 or 14:15.") from None


class _Return:
    """Hidden fields that bring the user back to the view they came from."""

    # Several of these forms share a page, so their hidden fields carry no id (ids must be unique).
    instructor = HiddenField(render_kw={"id": False})
    view = HiddenField(render_kw={"id": False})
    back_on = HiddenField(render_kw={"id": False})


class WindowForm(FlaskForm, _Return):
    """Add a window on a date: recurring from that date on, or one time only."""

    occurs_on = DateField("Date", validators=[InputRequired("Choose the date of the window."), RuleDateRange()])
    start_time = SelectField("Start", choices=options(quarter_hours()), validators=[DataRequired("Choose a start time."), _valid_time])
    end_time = SelectField("End", choices=options(quarter_hours(15)), validators=[DataRequired("Choose an end time."), _valid_time])
    lesson_minutes = SelectField(
        "Lesson length",
        coerce=int,
        choices=options([(m, f"{m} minutes") for m in LESSON_LENGTHS]),
        validators=[InputRequired("Choose a lesson length.")],
    )
    repeat = RadioField(
        "Repeat",
        choices=options([("weekly", "Recurring — every weekday from this date on"), ("once", "One time — only on this date")]),
        validators=[InputRequired("Choose recurring (every week) or one time (this date only).")],
    )
    submit = SubmitField("Add window")

    def label_choices(self, on: date | None) -> None:
        """Name the weekday and date in the recurring / one-time choices."""
        if on is None:
            return
        self.repeat.choices = options([
            ("weekly", f"Recurring — every {day(on, 'weekday')} from this date on"),
            ("once", f"One time — only on {day(on, 'day_year')}"),
        ])


class EditWeeklyForm(FlaskForm, _Return):
    """Edit a recurring window."""

    weekday = SelectField(
        "Weekday",
        coerce=int,
        choices=options([(1, "Monday"), (2, "Tuesday"), (3, "Wednesday"), (4, "Thursday"), (5, "Friday"), (6, "Saturday"), (7, "Sunday")]),
    )
    start_time = SelectField("Start", choices=options(quarter_hours()), validators=[DataRequired("Choose a start time."), _valid_time])
    end_time = SelectField("End", choices=options(quarter_hours(15)), validators=[DataRequired("Choose an end time."), _valid_time])
    lesson_minutes = SelectField("Lesson length", coerce=int, choices=options([(m, f"{m} minutes") for m in LESSON_LENGTHS]))
    effective_from = DateField("From (optional)", validators=[Optional(), RuleDateRange("first date")])
    effective_until = DateField("Until (optional)", validators=[Optional(), RuleDateRange("last date")])
    submit = SubmitField("Save window")


class EditOneTimeForm(FlaskForm, _Return):
    """Edit a one-time window."""

    occurs_on = DateField("Date", validators=[InputRequired("Choose the date of the window."), RuleDateRange()])
    start_time = SelectField("Start", choices=options(quarter_hours()), validators=[DataRequired("Choose a start time."), _valid_time])
    end_time = SelectField("End", choices=options(quarter_hours(15)), validators=[DataRequired("Choose an end time."), _valid_time])
    lesson_minutes = SelectField("Lesson length", coerce=int, choices=options([(m, f"{m} minutes") for m in LESSON_LENGTHS]))
    submit = SubmitField("Save window")


class DeleteWindowForm(FlaskForm, _Return):
    """Delete a window; recurring ones from a date on or entirely."""

    scope = RadioField(
        "Delete",
        choices=options([("from", "From this date on"), ("all", "Entirely")]),
        default="all",
    )
    from_on = DateField("From", validators=[Optional(), RuleDateRange("first date to delete from")])
    submit = SubmitField("Delete")


class BlockForm(FlaskForm, _Return):
    """Block a day, a range of days, or part of each day."""

    start_on = DateField("First day", id="block-start-on", validators=[InputRequired("Choose the first day to block."), RuleDateRange()])
    end_on = DateField("Last day (optional)", id="block-end-on", validators=[Optional(), RuleDateRange()])
    start_time = SelectField(
        "From (optional)", id="block-start-time", choices=options([("", "Whole day"), *quarter_hours()]),
        validators=[Optional(), _valid_time],
    )
    end_time = SelectField(
        "Until (optional)", id="block-end-time", choices=options([("", "Whole day"), *quarter_hours(15)]),
        validators=[Optional(), _valid_time],
    )
    reason = StringField(
        "Reason (optional)", id="block-reason", validators=[Length(max=200, message="Keep the reason under 200 characters."), SafeText("reason")]
    )
    submit = SubmitField("Block time")

    def validate_end_on(self, field: DateField) -> None:
        """Refuse a last day before the first (on this field, where the person can fix it)."""
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("The end date must be on or after the start date.")


class DeleteForm(FlaskForm, _Return):
    """A bare confirmation form (delete a block)."""

    submit = SubmitField("Delete")


class SettingsForm(FlaskForm):
    """Instructor settings: timezone, default lesson length, buffer, minimum notice."""

    instructor = HiddenField()
    timezone = SelectField("Timezone", choices=[], validators=[DataRequired("Choose your timezone.")])
    default_lesson_minutes = SelectField(
        "Default lesson length",
        coerce=int,
        choices=options([(30, "30 minutes"), (45, "45 minutes"), (60, "60 minutes"), (90, "90 minutes")]),
        validators=[InputRequired("Choose a default lesson length.")],
    )
    buffer_minutes = IntegerField(
        "Buffer between lessons (minutes)",
        validators=[
            InputRequired("Enter a buffer in minutes (0 for none)."),
            NumberRange(0, 240, "Choose a buffer between 0 and 240 minutes."),
        ],
    )
    # Hours with quarters (1.5 = 90 minutes): the setting is stored in minutes and the API sets any minute.
    min_notice_hours = DecimalField(
        "Minimum notice (hours)",
        places=None,
        validators=[
            InputRequired("Enter the minimum notice in hours, such as 2 or 1.5 (0 for none)."),
            NumberRange(0, 336, "Choose a minimum notice between 0 and 336 hours (two weeks)."),
        ],
        render_kw={"step": "0.25", "inputmode": "decimal"},
    )
    submit = SubmitField("Save settings")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = options([(tz, tz.replace("_", " ")) for tz in common_timezones()])
