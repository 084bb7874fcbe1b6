"""Marshmallow fields that keep API input within the app's bounds (booking_app.domain.bounds)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields

from ..domain import bounds
from ..services.clock import now as clock_now


def _label(field: fields.Field, attr: str | None) -> str:
    return (field.data_key or attr or field.name or "value").replace("_", " ")


class BoundedInt(fields.Integer):
    """A whole number within minimum..maximum (by default 0..2^31-1, the database column's range)."""

    def __init__(self, minimum: int = 0, maximum: int = bounds.INT32_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.metadata = {"minimum": minimum, "maximum": maximum, **self.metadata}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        label = _label(self, attr)
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValidationError(f"Give the {label} as a whole number.")
        try:
            number = super()._deserialize(value, attr, data, **kwargs)
        except OverflowError:  # 1e400 arrives from JSON as infinity
            raise ValidationError(f"Give the {label} as a whole number.") from None
        except ValidationError:
            raise ValidationError(f"Give the {label} as a whole number.") from None
        problem = bounds.int_problem(number, label, self.minimum, self.maximum)
        if problem:
            raise ValidationError(problem)
        return int(number)


class Id(BoundedInt):
    """A row id: 1..2^31-1."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(bounds.ID_MIN, bounds.ID_MAX, **kwargs)


class SafeString(fields.String):
    """Text without NUL bytes or lone surrogates."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        problem = bounds.text_problem(text, _label(self, attr))
        if problem:
            raise ValidationError(problem)
        return text


def _today_utc() -> date:
    return clock_now().astimezone(UTC).date()


class RuleDate(fields.Date):
    """A date for a rule or a slot query: a year back to five years ahead (services check the exact zone)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        on: date = super()._deserialize(value, attr, data, **kwargs)
        problem = bounds.rule_date_problem(on, _today_utc(), _label(self, attr), lenient=True)
        if problem:
            raise ValidationError(problem)
        return on


class HistoryDate(fields.Date):
    """A date for history filters and reports: 1970 to 2100."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        on: date = super()._deserialize(value, attr, data, **kwargs)
        problem = bounds.history_date_problem(on, _label(self, attr))
        if problem:
            raise ValidationError(problem)
        return on


class RuleInstant(fields.AwareDateTime):
    """An instant on a rule date (a lesson start): a year back to five years ahead."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            instant: datetime = super()._deserialize(value, attr, data, **kwargs)
            on = instant.astimezone(UTC).date()
        except OverflowError:
            raise ValidationError(f"Give the {_label(self, attr)} as an ISO 8601 instant.") from None
        problem = bounds.rule_date_problem(on, _today_utc(), _label(self, attr), lenient=True)
        if problem:
            raise ValidationError(problem)
        return instant
