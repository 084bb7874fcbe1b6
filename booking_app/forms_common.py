"""WTForms validators and query-string readers that keep form input within the app's bounds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date
from typing import Any

from wtforms import Field
from wtforms.validators import StopValidation, ValidationError

from .domain import bounds
from .services.clock import now as clock_now


def _label(field: Field) -> str:
    return str(field.label.text).removesuffix(" (optional)").lower()


class SafeText:
    """Refuse text holding a NUL byte or a lone surrogate."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str):
            problem = bounds.text_problem(field.data, self.label or _label(field))
            if problem:
                raise StopValidation(problem)


class RuleDateRange:
    """Keep a rule date within a year back to five years ahead; a stored value sent back unchanged passes."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label

    def __call__(self, form: Any, field: Field) -> None:
        if not isinstance(field.data, date) or field.data == field.object_data:
            return
        # The form does not know the instructor's zone: a day's slack here, the service checks exactly.
        today = clock_now().astimezone(UTC).date()
        problem = bounds.rule_date_problem(field.data, today, self.label or _label(field), lenient=True)
        if problem:
            raise ValidationError(problem)


def parse_id(raw: str | None) -> int | None:
    """Return raw as a row id (1..2^31-1), or None when it is not one."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if bounds.ID_MIN <= value <= bounds.ID_MAX else None


def int_arg(args: Mapping[str, str], name: str, minimum: int = 1, maximum: int = bounds.INT32_MAX) -> int | None:
    """Return a query-string whole number moved into minimum..maximum, or None when it is missing or not a number."""
    raw = (args.get(name) or "").strip()
    digits = raw.removeprefix("-")
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) > 10:  # far outside any range: no need to build the number
        return minimum if raw.startswith("-") else maximum
    return min(max(int(raw), minimum), maximum)
