"""The wording that mails, notifications and refusals say: byte for byte what users have always read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking_app import wording

FEB_5_19H = datetime(2027, 2, 5, 19, 0, tzinfo=UTC)  # 2:00 PM in New York (EST)


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        ("pending", "This booking is still pending."),
        ("confirmed", "This booking is already confirmed."),
        ("declined", "This booking is already declined."),
        ("expired", "This booking is already expired."),
        ("cancelled", "This booking is already cancelled."),
        ("completed", "This booking is already completed."),
        ("no_show", "This booking is already marked as a no-show."),
    ],
)
def test_a_refused_change_says_where_the_booking_already_is(status: str, sentence: str) -> None:
    assert wording.status_refusal(status) == sentence


def test_mail_subjects_and_legacy_patterns_read_in_the_recipients_zone() -> None:
    assert wording.when_with_zone(FEB_5_19H, "America/New_York") == "Fri 5 Feb, 2:00 PM EST"
    assert wording.moment(FEB_5_19H, "America/New_York") == "Fri 5 Feb 2027, 2:00 PM"
    assert wording.moment(FEB_5_19H, "UTC", "short_date_time_24") == "5 Feb, 19:00"
    assert wording.moment(None, "UTC") == ""


def test_notifications_say_the_zone_abbreviation_and_lengths_in_words() -> None:
    assert wording.when_abbreviated(FEB_5_19H, "America/New_York") == "Fri 5 Feb at 2:00 PM (EST)"
    assert [wording.minutes_words(m) for m in (60, 120, 90)] == ["1 hour", "2 hours", "90 minutes"]
