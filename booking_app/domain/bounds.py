"""The bounds every value must keep at the edge: integer ranges, date windows, clean text, JSON depth."""

from __future__ import annotations

import re
from datetime import date, timedelta

# Integer columns are 32-bit signed on PostgreSQL; ids start at 1.
INT32_MAX = 2**31 - 1
ID_MIN = 1
ID_MAX = INT32_MAX

# Rules (windows, blocks) and slot queries: from a year back to five years ahead of today.
RULE_YEARS_BACK = 1
RULE_YEARS_AHEAD = 5
# History filters, reports and exports.
HISTORY_FIRST = date(1970, 1, 1)
HISTORY_LAST = date(2100, 12, 31)

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

# A NUL byte (PostgreSQL refuses it in text) or a lone UTF-16 surrogate (it cannot be encoded as UTF-8).
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


def _years_from(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year + years)
    except ValueError:  # 29 February in a year without one
        return on.replace(year=on.year + years, day=28)


def rule_window(today: date) -> tuple[date, date]:
    """Return the first and last date a rule or a slot query may use, seen from today."""
    return _years_from(today, -RULE_YEARS_BACK), _years_from(today, RULE_YEARS_AHEAD)


def lenient_rule_window(today_utc: date) -> tuple[date, date]:
    """Return the rule window for a date known only in UTC: a day wider each side, for any timezone."""
    first, last = rule_window(today_utc)
    return first - timedelta(days=1), last + timedelta(days=1)


def _day(on: date) -> str:
    return f"{on:%-d %B %Y}"


def rule_date_problem(on: date, today: date, label: str, *, lenient: bool = False) -> str | None:
    """Return a sentence when on lies outside the rule window seen from today, else None."""
    first, last = lenient_rule_window(today) if lenient else rule_window(today)
    if first <= on <= last:
        return None
    return (
        f"The {label} must be between {_day(first)} and {_day(last)} (a year back to five years ahead). "
        "Choose a date in that range."
    )


def history_date_problem(on: date, label: str) -> str | None:
    """Return a sentence when on lies outside the years history filters and reports cover, else None."""
    if HISTORY_FIRST <= on <= HISTORY_LAST:
        return None
    return f"The {label} must be between {HISTORY_FIRST.year} and {HISTORY_LAST.year}. Choose a date in that range."


def int_problem(value: int, label: str, minimum: int = ID_MIN, maximum: int = INT32_MAX) -> str | None:
    """Return a sentence when value lies outside minimum..maximum, else None."""
    if minimum <= value <= maximum:
        return None
    return f"The {label} must be a whole number from {minimum:,} to {maximum:,}. Check the number and try again."


def text_problem(value: str, label: str = "text") -> str | None:
    """Return a sentence when value holds a NUL byte or a lone surrogate, else None."""
    if not _UNSAFE_TEXT.search(value):
        return None
    return f"The {label} contains an invisible control character that cannot be stored. Remove it and try again."


def clamp_date(on: date, first: date, last: date) -> date:
    """Return on moved into first..last."""
    return min(max(on, first), last)


def clip_span(start: date | None, end: date | None, first: date, last: date) -> tuple[date, date] | None:
    """Return the part of start..end (None = open) inside first..last, or None when nothing is left."""
    low = first if start is None else max(start, first)
    high = last if end is None else min(end, last)
    return (low, high) if low <= high else None


def json_depth(body: bytes) -> int:
    """Return how deeply arrays and objects nest in a JSON document, without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest
