"""The fast from_micros used by the slot engine agrees with plain epoch arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_app.domain.timeutil import from_micros, to_micros

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST = to_micros(datetime(1, 1, 2, tzinfo=UTC))
LAST = to_micros(datetime(9999, 12, 30, tzinfo=UTC))


@settings(deadline=None)  # a loaded shared machine must not turn a slow example into a failure
@given(st.integers(min_value=FIRST, max_value=LAST))
def test_from_micros_is_exact_aware_utc_and_round_trips(micros):
    instant = from_micros(micros)
    assert instant == EPOCH + timedelta(microseconds=micros)
    assert instant.tzinfo is UTC
    assert to_micros(instant) == micros
