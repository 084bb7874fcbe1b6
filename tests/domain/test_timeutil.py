"""Time helpers: wall clock to UTC and back, across gaps, ambiguities and odd timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_app.domain.timeutil import (
    ensure_utc,
    is_valid_timezone,
    local_date_range_to_utc,
    local_to_utc,
    utc_to_local,
)

NY = "America/New_York"
ZONES = [
    NY,
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Europe/London",
    "Asia/Kolkata",
    "America/Santiago",
    "Pacific/Chatham",
    "Pacific/Apia",
    "UTC",
]


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize(
    ("on", "at", "tz", "expected"),
    [
        (date(2026, 1, 15), time(9), NY, "2026-01-15T14:00Z"),
        (date(2026, 7, 15), time(9), NY, "2026-07-15T13:00Z"),
        # Spring forward in New York: 02:00–02:59 does not exist.
        (date(2026, 3, 8), time(1, 59), NY, "2026-03-08T06:59Z"),
        (date(2026, 3, 8), time(2), NY, None),
        (date(2026, 3, 8), time(2, 30), NY, None),
        (date(2026, 3, 8), time(2, 59), NY, None),
        (date(2026, 3, 8), time(3), NY, "2026-03-08T07:00Z"),
        # Fall back: 01:00–01:59 happens twice; the first (EDT) occurrence wins.
        (date(2026, 11, 1), time(0, 59), NY, "2026-11-01T04:59Z"),
        (date(2026, 11, 1), time(1), NY, "2026-11-01T05:00Z"),
        (date(2026, 11, 1), time(1, 30), NY, "2026-11-01T05:30Z"),
        (date(2026, 11, 1), time(2), NY, "2026-11-01T07:00Z"),
        # Lord Howe moves by 30 minutes.
        (date(2026, 10, 4), time(2, 15), "Australia/Lord_Howe", None),
        (date(2026, 10, 4), time(2, 30), "Australia/Lord_Howe", "2026-10-03T15:30Z"),
        (date(2026, 6, 1), time(12), "Asia/Kolkata", "2026-06-01T06:30Z"),
        (date(2026, 6, 1), time(12), "UTC", "2026-06-01T12:00Z"),
    ],
)
def test_local_to_utc_resolves_each_wall_time(on: date, at: time, tz: str, expected: str | None) -> None:
    result = local_to_utc(on, at, tz)
    if expected is None:
        assert result is None
    else:
        assert result == z(expected)
        assert result.tzinfo is UTC


def test_local_to_utc_refuses_a_time_with_a_timezone() -> None:
    with pytest.raises(ValueError):
        local_to_utc(date(2026, 1, 1), time(9, tzinfo=UTC), NY)


def test_local_to_utc_refuses_an_unknown_timezone() -> None:
    with pytest.raises(ValueError, match="Unknown timezone"):
        local_to_utc(date(2026, 1, 1), time(9), "Mars/Olympus_Mons")


def test_utc_to_local_gives_the_wall_clock_in_the_zone() -> None:
    local = utc_to_local(z("2026-11-01T06:30Z"), NY)
    assert (local.hour, local.minute, local.utcoffset()) == (1, 30, timedelta(hours=-5))


def test_utc_to_local_refuses_naive() -> None:
    with pytest.raises(ValueError):
        utc_to_local(datetime(2026, 1, 1, 12), NY)


@pytest.mark.parametrize(
    ("start_on", "end_on", "tz", "expected_start", "expected_end"),
    [
        (date(2026, 1, 15), date(2026, 1, 15), NY, "2026-01-15T05:00Z", "2026-01-16T05:00Z"),
        (date(2026, 1, 1), date(2026, 1, 31), NY, "2026-01-01T05:00Z", "2026-02-01T05:00Z"),
        # A 23-hour and a 25-hour day.
        (date(2026, 3, 8), date(2026, 3, 8), NY, "2026-03-08T05:00Z", "2026-03-09T04:00Z"),
        (date(2026, 11, 1), date(2026, 11, 1), NY, "2026-11-01T04:00Z", "2026-11-02T05:00Z"),
        # Chile springs forward at midnight: the day starts at 01:00 (-03).
        (date(2026, 9, 6), date(2026, 9, 6), "America/Santiago", "2026-09-06T04:00Z", "2026-09-07T03:00Z"),
        # Samoa skipped 30 December 2011 entirely: an empty range.
        (date(2011, 12, 30), date(2011, 12, 30), "Pacific/Apia", "2011-12-30T10:00Z", "2011-12-30T10:00Z"),
    ],
)
def test_local_date_range_to_utc_spans_whole_local_days(
    start_on: date, end_on: date, tz: str, expected_start: str, expected_end: str
) -> None:
    assert local_date_range_to_utc(start_on, end_on, tz) == (z(expected_start), z(expected_end))


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("America/New_York", True),
        ("Australia/Lord_Howe", True),
        ("UTC", True),
        ("", False),
        ("Mars/Olympus_Mons", False),
        ("america/new_york", False),
        ("America/New_York ", False),
        ("localtime", False),
        ("right/UTC", False),
        ("posix/UTC", False),
        ("../../etc/passwd", False),
        ("/usr/share/zoneinfo/UTC", False),
    ],
)
def test_is_valid_timezone(name: str, valid: bool) -> None:
    assert is_valid_timezone(name) is valid


def test_ensure_utc_converts_aware_and_refuses_naive() -> None:
    converted = ensure_utc(datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))))
    assert converted == z("2026-01-01T10:00Z")
    assert converted.tzinfo is UTC
    with pytest.raises(ValueError):
        ensure_utc(datetime(2026, 1, 1, 12))


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(instant=instants, tz=st.sampled_from(ZONES))
def test_local_wall_clock_maps_back_to_its_first_occurrence(instant: datetime, tz: str) -> None:
    local = utc_to_local(instant, tz)
    back = local_to_utc(local.date(), local.time(), tz)
    assert back is not None
    # Equal, or the earlier occurrence of an ambiguous wall time.
    assert back <= instant
    assert utc_to_local(back, tz).replace(tzinfo=None) == local.replace(tzinfo=None)


@settings(max_examples=100, deadline=None, database=None)
@given(instant=instants, tz=st.sampled_from(ZONES), days=st.integers(0, 40))
def test_a_local_date_range_starts_and_ends_at_local_midnights(instant: datetime, tz: str, days: int) -> None:
    start_on = utc_to_local(instant, tz).date()
    end_on = start_on + timedelta(days=days)
    start_at, end_at = local_date_range_to_utc(start_on, end_on, tz)
    assert start_at.tzinfo is UTC and end_at.tzinfo is UTC
    assert start_at <= instant < end_at
    assert utc_to_local(start_at, tz).date() == start_on
    assert utc_to_local(start_at - timedelta(microseconds=1), tz).date() < start_on
    assert utc_to_local(end_at, tz).date() > end_on
    assert utc_to_local(end_at - timedelta(microseconds=1), tz).date() == end_on
