"""The shared wording: time formats in a given zone and clock, and the status vocabulary."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from booking_app import wording

FEB_5_19H = datetime(2027, 2, 5, 19, 0, tzinfo=UTC)  # 2:00 PM in New York (EST)


def test_an_instant_is_said_in_the_given_zone_and_clock() -> None:
    assert wording.when(FEB_5_19H, "America/New_York") == "Fri 5 Feb, 2:00 PM"
    assert wording.when(FEB_5_19H, "America/New_York", clock=24) == "Fri 5 Feb, 14:00"
    assert wording.when(FEB_5_19H, "Europe/London", "long_day_year") == "Friday 5 February 2027, 7:00 PM"
    assert wording.when(None, "UTC") == ""


def test_sentences_name_the_zone() -> None:
    assert wording.short_when(FEB_5_19H, "America/New_York") == "Fri 5 Feb at 2:00 PM"
    assert wording.when_in_zone(FEB_5_19H, "America/New_York") == "Fri 5 Feb at 2:00 PM (New York time)"
    assert wording.when_abbreviated(FEB_5_19H, "America/New_York") == "Fri 5 Feb at 2:00 PM (EST)"
    assert wording.zone_label("UTC") == "UTC"


def test_times_of_day_on_both_clocks() -> None:
    assert wording.time_of_day(time(0, 5)) == "12:05 AM"
    assert wording.time_of_day(time(12, 0)) == "12:00 PM"
    assert wording.time_of_day(time(9, 30), clock=24) == "09:30"
    assert wording.time_range(time(14), time(15)) == "2:00 PM – 3:00 PM"
    assert wording.day(date(2027, 2, 5), "month") == "February 2027"


def test_durations_in_words() -> None:
    assert wording.duration_words(30) == "less than a minute"
    assert wording.duration_words(3 * 3600 + 12 * 60) == "3 h 12 min"
    assert wording.duration_words(2 * 86400 + 4 * 3600) == "2 d 4 h"
    assert wording.minutes_words(60) == "1 hour"
    assert wording.minutes_words(120) == "2 hours"
    assert wording.minutes_words(90) == "90 minutes"
    assert wording.plural(1, "lesson") == "1 lesson"
    assert wording.plural(3, "lesson") == "3 lessons"


def test_every_status_has_a_label() -> None:
    assert wording.status_label("no_show") == "No-show"
    assert set(wording.STATUS_LABELS) == {
        "pending", "confirmed", "declined", "expired", "cancelled", "completed", "no_show",
    }
